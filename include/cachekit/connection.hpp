#pragma once
// One connection to one memcached server: a socket, a reusable request
// buffer, a read buffer and a response parser. Any I/O or protocol error
// marks it broken; a broken connection is closed, never reused.

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/uio.h>

#include "config.hpp"
#include "detail/byte_buffer.hpp"
#include "error.hpp"
#include "net/socket.hpp"
#include "protocol/binary.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// Copies v into s, reusing its buffer; a value of the same size as
/// before (the common case when a key is read again) is one copy, with no
/// library call to check sizes or aliasing.
inline void assign_bytes(std::string& s, std::string_view v) {
  if (s.size() == v.size()) {
    if (!v.empty()) std::memcpy(&s[0], v.data(), v.size());
  } else {
    s.assign(v.data(), v.size());
  }
}

class Connection {
 public:
  using Deadline = net::Deadline;

  /// Connects (bounded by connect_deadline) and, when user is set,
  /// authenticates with SASL PLAIN (bounded by io_deadline).
  /// owner_pid is the process the connection belongs to (see ConnectionPool);
  /// server_name ("host:port") is used in messages.
  static Result<std::unique_ptr<Connection>> open(std::string_view host, std::uint16_t port,
                                                  Deadline connect_deadline, Deadline io_deadline,
                                                  std::string_view user, std::string_view password, int owner_pid,
                                                  std::string_view server_name = {}) {
    auto sock = net::connect_to(host, port, connect_deadline);
    if (!sock) return std::move(sock).error();
    std::unique_ptr<Connection> c(new Connection(std::move(*sock), owner_pid));
    if (!user.empty()) {
      std::string name(server_name);
      if (name.empty()) name = std::string(host) + ":" + std::to_string(port);
      auto ok = c->authenticate(user, password, io_deadline, name);
      if (!ok) return std::move(ok).error();
    }
    return c;
  }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const noexcept { return sock_.fd(); }
  int pid() const noexcept { return pid_; }
  bool broken() const noexcept { return broken_; }
  void mark_broken() noexcept {
    broken_ = true;
    sock_.close();
  }
  net::Clock::time_point last_used() const noexcept { return last_used_; }
  void touch_used(net::Clock::time_point t) noexcept { last_used_ = t; }

  /// The request buffer; callers append encoded requests, then flush().
  ByteBuffer& out() noexcept { return out_; }
  /// Fresh opaque values for requests on this connection.
  std::uint32_t take_opaques(std::uint32_t n = 1) noexcept {
    const std::uint32_t first = next_opaque_;
    next_opaque_ += n;
    if (next_opaque_ > 0x7fffffffu) next_opaque_ = 1;  // keep clear of wrap-around
    return first;
  }
  protocol::ResponseParser& parser() noexcept { return parser_; }

  /// Sends the whole request buffer before the deadline.
  Result<void> flush(Deadline deadline) {
    // A request normally fits the socket buffer: try once without waiting
    // (and without setting a kernel timeout) first.
    auto first = net::try_send(sock_.fd(), out_.data(), out_.size());
    if (!first) return io_failure(std::move(first).error());
    std::size_t off = *first;
    while (off < out_.size()) {
      if (!arm(SO_SNDTIMEO, snd_timeout_us_, deadline, net::Clock::now())) {
        return io_failure(Error(ErrorKind::timeout, "send timed out"));
      }
      auto n = net::send_wait(sock_.fd(), out_.data() + off, out_.size() - off);
      if (!n) return io_failure(std::move(n).error());
      off += *n;
    }
    out_.clear();
    return {};
  }

  /// Reads until the parser holds one complete response (call
  /// parser().next() after using it).
  Result<void> read_response(Deadline deadline) {
    for (;;) {
      if (in_pos_ < in_end_) {
        in_pos_ += parser_.feed(in_.data() + in_pos_, in_end_ - in_pos_);
        if (parser_.failed()) return protocol_failure(parser_.failure());
        if (parser_.complete()) return {};
      }
      auto got = fill(deadline, net::Clock::now());
      if (!got) return got;
    }
  }

  /// Blocks until some bytes are in the read buffer (it must be empty) or
  /// the deadline passes. now is a recent clock reading.
  CACHEKIT_HOT_INLINE Result<void> fill(Deadline deadline, net::Clock::time_point now) {
    // Common case without busy-polling, inline: the kernel timeout already
    // fits the deadline and one blocking read brings bytes.
    if (spin_.count() <= 0 && arm(SO_RCVTIMEO, rcv_timeout_us_, deadline, now)) {
      auto got = net::recv_wait(sock_.fd(), in_.data(), in_.size());
      if (!got) return io_failure(std::move(got).error());
      if (took(*got)) return {};
      now = net::Clock::now();
    }
    return fill_slow(deadline, now);
  }
  /// fill() beyond its inline case: busy-polling first, and waits that end
  /// without bytes before the deadline.
  Result<void> fill_slow(Deadline deadline, net::Clock::time_point now) {
    if (spin_now()) {
      bool spun = false;
      auto got = net::recv_spin(sock_.fd(), in_.data(), in_.size(), std::min(now + spin_, deadline), spun);
      if (!got) return io_failure(std::move(got).error());
      if (spun) spin_outcome(*got > 0);
      if (took(*got)) return {};
      now = net::Clock::now();
    }
    for (;; now = net::Clock::now()) {
      if (!arm(SO_RCVTIMEO, rcv_timeout_us_, deadline, now)) {
        return io_failure(Error(ErrorKind::timeout, "no reply before the timeout"));
      }
      auto got = net::recv_wait(sock_.fd(), in_.data(), in_.size());
      if (!got) return io_failure(std::move(got).error());
      if (took(*got)) return {};
    }
  }
  /// The read buffer now holds n fresh bytes, if n > 0.
  bool took(std::size_t n) noexcept {
    if (n == 0) return false;
    in_pos_ = 0;
    in_end_ = n;
    return true;
  }

  /// One request (header, extras and key built here; the value sent from
  /// the caller's memory without a copy), then its reply, checked for
  /// opcode and opaque. now is a recent clock reading.
  Result<void> request(protocol::Opcode op, std::string_view key, std::string_view extras, std::string_view value,
                       std::uint64_t cas, Deadline deadline, net::Clock::time_point now) {
    const std::uint32_t opaque = take_opaques();
    iovec iov[2];
    iov[0].iov_base = head_;
    iov[0].iov_len = protocol::encode_head(head_, op, key, extras, value.size(), opaque, cas);
    iov[1].iov_base = const_cast<char*>(value.data());
    iov[1].iov_len = value.size();
    const std::size_t total = iov[0].iov_len + iov[1].iov_len;
    std::size_t sent = 0;
    // Normally the whole request fits the socket buffer at once.
    auto first = net::send_iov(sock_.fd(), iov, value.empty() ? 1 : 2, MSG_DONTWAIT);
    if (!first) return io_failure(std::move(first).error());
    sent = *first;
    while (sent < total) {
      if (!arm(SO_SNDTIMEO, snd_timeout_us_, deadline, net::Clock::now())) {
        return io_failure(Error(ErrorKind::timeout, "send timed out"));
      }
      iovec rest[2];
      std::size_t n = 0;
      if (sent < iov[0].iov_len) {
        rest[n].iov_base = head_ + sent;
        rest[n++].iov_len = iov[0].iov_len - sent;
        rest[n].iov_base = iov[1].iov_base;
        rest[n++].iov_len = iov[1].iov_len;
      } else {
        const std::size_t off = sent - iov[0].iov_len;
        rest[n].iov_base = const_cast<char*>(value.data()) + off;
        rest[n++].iov_len = value.size() - off;
      }
      auto more = net::send_iov(sock_.fd(), rest, n, 0);
      if (!more) return io_failure(std::move(more).error());
      sent += *more;
    }
    for (bool first_read = true;; first_read = false) {
      if (in_pos_ < in_end_) {
        in_pos_ += parser_.feed(in_.data() + in_pos_, in_end_ - in_pos_);
        if (parser_.failed()) return protocol_failure(parser_.failure());
        if (parser_.complete()) return check_reply(op, opaque);
      }
      auto got = fill(deadline, first_read ? now : net::Clock::now());
      if (!got) return got;
    }
  }

  /// A get of key: the request, then its reply; on a hit, store(value)
  /// is called with a view of the value (valid during the call). now is a
  /// recent clock reading.
  template <class Store>
  Result<void> get_value(std::string_view key, Deadline deadline, net::Clock::time_point now, Store&& store) {
    const std::uint32_t opaque = take_opaques();
    const std::size_t n = protocol::encode_head(head_, protocol::Opcode::get, key, {}, 0, opaque);
    auto sent = net::try_send(sock_.fd(), head_, n);
    if (!sent) return io_failure(std::move(sent).error());
    if (*sent < n) {
      auto rest = send_rest(head_ + *sent, n - *sent, deadline);
      if (!rest) return rest;
    }
    protocol::Reply r;
    const char* why = nullptr;
    for (bool first_read = true;; first_read = false) {
      auto got = fill(deadline, first_read ? now : net::Clock::now());
      if (!got) return got;
      if (between_replies()) {  // the usual hit, whole in the buffer
        const std::size_t len = protocol::decode_hit(buffered(), buffered_size(), protocol::Opcode::get, r);
        if (len != 0) {
          skip(len);
          break;
        }
      }
      const int have = next_reply(r, why);
      if (have < 0) return protocol_failure(why);
      if (have > 0) break;
    }
    const auto& h = r.header;
    if (h.opcode != static_cast<std::uint8_t>(protocol::Opcode::get)) return protocol_failure("reply opcode does not match the request");
    if (h.opaque != opaque) return protocol_failure("reply opaque does not match the request");
    if (h.status == 0) {
      store(r.value());
    } else if (h.status != static_cast<std::uint16_t>(protocol::Status::key_not_found)) {
      reply_done();
      return protocol::status_error(h.status);
    }
    reply_done();
    return {};
  }

  /// The next complete reply among the buffered bytes: 1 when r holds it
  /// (call reply_done() once it is used, before reading more), 0 when more
  /// bytes are needed, -1 when the stream is corrupt (why says why).
  int next_reply(protocol::Reply& r, const char*& why) noexcept {
    if (parser_.idle()) {
      // Common case: the whole reply is in the read buffer; decode it in place.
      const std::size_t used = protocol::decode_whole(in_.data() + in_pos_, in_end_ - in_pos_, r, why);
      if (used != 0) {
        in_pos_ += used;
        return 1;
      }
      if (why != nullptr) return -1;
    }
    if (in_pos_ < in_end_) in_pos_ += parser_.feed(in_.data() + in_pos_, in_end_ - in_pos_);
    if (parser_.failed()) {
      why = parser_.failure();
      return -1;
    }
    if (!parser_.complete()) return 0;
    r = parser_.reply();
    return 1;
  }
  /// Done with the reply next_reply() gave.
  void reply_done() noexcept {
    if (parser_.complete()) parser_.next();
  }
  /// The unparsed bytes of the read buffer, for a caller that decodes
  /// whole replies in place itself: valid while no reply is half-parsed
  /// (between_replies()); skip(n) marks n of them used.
  bool between_replies() const noexcept { return parser_.idle(); }
  const char* buffered() const noexcept { return in_.data() + in_pos_; }
  std::size_t buffered_size() const noexcept { return in_end_ - in_pos_; }
  void skip(std::size_t n) noexcept { in_pos_ += n; }

  /// One request already in out(): sends it and reads its reply, checking
  /// opcode and opaque.
  Result<void> round_trip(protocol::Opcode op, std::uint32_t opaque, Deadline deadline) {
    auto sent = flush(deadline);
    if (!sent) return sent;
    auto got = read_response(deadline);
    if (!got) return got;
    return check_reply(op, opaque);
  }

  /// The completed reply must answer op/opaque, else the stream is out of step.
  Result<void> check_reply(protocol::Opcode op, std::uint32_t opaque) {
    const auto& h = parser_.header();
    if (h.opcode != static_cast<std::uint8_t>(op)) return protocol_failure("reply opcode does not match the request");
    if (h.opaque != opaque) return protocol_failure("reply opaque does not match the request");
    return {};
  }

  /// Marks the connection broken and describes a protocol violation.
  Error protocol_failure(const char* why) {
    mark_broken();
    return Error(ErrorKind::unknown, std::string("protocol error: ") + why);
  }

  /// Busy-poll budget before a wait sleeps (see MemcachedBackendConfig::spin_wait).
  void set_spin(std::chrono::microseconds budget) noexcept { spin_ = budget; }
  /// Whether the next wait should busy-poll first. After spins that found
  /// nothing, the next 1, 3, 7 .. 63 waits sleep right away.
  bool spin_now() noexcept {
    if (spin_.count() <= 0) return false;
    if (spin_skip_ == 0) return true;
    --spin_skip_;
    return false;
  }
  std::chrono::microseconds spin_budget() const noexcept { return spin_; }
  /// Records whether a spin found the reply in time.
  void spin_outcome(bool hit) noexcept {
    if (hit) {
      spin_backoff_ = 0;
      return;
    }
    spin_backoff_ = spin_backoff_ >= 31 ? 63 : spin_backoff_ * 2 + 1;
    spin_skip_ = spin_backoff_;
  }

  // --- non-blocking pieces for pipelines over several connections ---

  /// Bytes of out() not yet sent.
  std::size_t pending() const noexcept { return out_.size() - out_sent_; }
  /// Sends what the socket takes now.
  Result<void> send_some() {
    auto n = net::try_send(sock_.fd(), out_.data() + out_sent_, out_.size() - out_sent_);
    if (!n) {
      mark_broken();
      return std::move(n).error();
    }
    out_sent_ += *n;
    if (out_sent_ == out_.size()) {
      out_.clear();
      out_sent_ = 0;
    }
    return {};
  }
  /// Reads what is available into the read buffer (false when nothing).
  Result<bool> recv_available() {
    if (in_pos_ < in_end_) return true;
    auto n = net::try_recv(sock_.fd(), in_.data(), in_.size());
    if (!n) {
      mark_broken();
      return std::move(n).error();
    }
    in_pos_ = 0;
    in_end_ = *n;
    return *n > 0;
  }
  /// Whether unparsed bytes remain in the read buffer.
  bool has_buffered() const noexcept { return in_pos_ < in_end_; }
  /// Whether the connection is between replies with nothing left over.
  bool idle_clean() const noexcept { return !broken_ && in_pos_ == in_end_ && !parser_.in_progress() && out_.empty(); }

 private:
  static constexpr std::size_t kReadBuffer = 32 * 1024;
  static constexpr long long kSlackUs = 2000;

  Connection(net::Socket s, int owner_pid) : sock_(std::move(s)), in_(kReadBuffer), pid_(owner_pid) {
    out_.reserve(1024);
  }

  // The rest of a request the socket did not take at once.
  Result<void> send_rest(const char* data, std::size_t n, Deadline deadline) {
    while (n > 0) {
      if (!arm(SO_SNDTIMEO, snd_timeout_us_, deadline, net::Clock::now())) {
        return io_failure(Error(ErrorKind::timeout, "send timed out"));
      }
      auto more = net::send_wait(sock_.fd(), data, n);
      if (!more) return io_failure(std::move(more).error());
      data += *more;
      n -= *more;
    }
    return {};
  }

  Error io_failure(Error e) {
    mark_broken();
    return e;
  }

  // Sets the kernel timeout of the next blocking send/recv so that it ends
  // by the deadline (overshoot at most kSlack). Costs a system call only
  // when the remaining time differs from the current setting; false when
  // the deadline has passed.
  bool arm(int option, long long& current_us, Deadline deadline, net::Clock::time_point now) {
    if (now >= deadline) return false;
    const long long remaining = std::chrono::duration_cast<std::chrono::microseconds>(deadline - now).count();
    if (current_us > 0 && current_us <= remaining + kSlackUs && current_us * 2 >= remaining) return true;
    const long long want = remaining > 0 ? remaining : 1;
    if (!net::set_io_timeout(sock_.fd(), option, want)) return false;
    current_us = want;
    return true;
  }

  Result<void> authenticate(std::string_view user, std::string_view password, Deadline deadline,
                            const std::string& server_name) {
    const std::uint32_t opaque = take_opaques();
    protocol::encode_sasl_plain(out_, user, password, opaque);
    auto ok = round_trip(protocol::Opcode::sasl_auth, opaque, deadline);
    // The request buffer held the password; scrub it.
    out_.scrub();
    if (!ok) return ok;
    const std::uint16_t status = parser_.header().status;
    parser_.next();
    if (status != 0) {
      mark_broken();
      if (status == static_cast<std::uint16_t>(protocol::Status::auth_error) ||
          status == static_cast<std::uint16_t>(protocol::Status::auth_continue)) {
        return Error(ErrorKind::authentication, "SASL PLAIN authentication refused");
      }
      // A server started without -S does not know the SASL commands.
      if (status == static_cast<std::uint16_t>(protocol::Status::unknown_command)) {
        return Error(ErrorKind::authentication, "server " + server_name + " does not support SASL authentication");
      }
      return protocol::status_error(status);
    }
    return {};
  }

  net::Socket sock_;
  ByteBuffer out_;
  std::size_t out_sent_ = 0;
  std::vector<char> in_;
  char head_[protocol::kHeaderSize + 32 + CACHEKIT_MAX_KEY_LENGTH];  // single-key request header
  std::size_t in_pos_ = 0, in_end_ = 0;
  protocol::ResponseParser parser_;
  std::uint32_t next_opaque_ = 1;
  int pid_;
  bool broken_ = false;
  long long snd_timeout_us_ = 0;
  long long rcv_timeout_us_ = 0;
  net::Clock::time_point last_used_{};
  std::chrono::microseconds spin_{0};
  unsigned spin_skip_ = 0, spin_backoff_ = 0;
};

}  // namespace detail
CACHEKIT_END_NAMESPACE
