#pragma once
// One connection to one memcached server: the transport. A socket, a
// reusable request buffer, a read buffer, deadlines and busy-polling; no
// protocol. Replies are cut out of the read buffer by the decoder of the
// wire the caller names (next_reply<Wire>): a reply that arrived whole is
// viewed where it lies, one split across reads is gathered in a stash that
// grows only with bytes actually received. Any I/O or protocol error marks
// the connection broken; a broken connection is closed, never reused.
//
// With CACHEKIT_OPENSSL a connection may carry a TLS session (net/tls.hpp):
// every read and write then goes through it, behind one predictable branch
// per call; without the macro there is no branch at all.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sys/uio.h>

#include "../detail/byte_buffer.hpp"
#include "../error.hpp"
#include "../net/socket.hpp"
#include "../net/tls.hpp"
#include "../protocol/reply.hpp"
#include "../protocol/wire.hpp"

CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// Copies v into s, reusing its buffer; a value of the same size as
/// before (the common case when a key is read again) is one copy, with no
/// library call to check sizes or aliasing.
CACHEKIT_HOT_INLINE void assign_bytes(std::string& s, std::string_view v) {
  if (s.size() == v.size()) {
    if (!v.empty()) std::memcpy(&s[0], v.data(), v.size());
  } else {
    s.assign(v.data(), v.size());
  }
}

template <class = void>  // compiled where it is used
class BasicConnection {
 public:
  using Deadline = net::Deadline;

  /// Connects, bounded by connect_deadline. owner_pid is the process the
  /// connection belongs to (see ConnectionPool). A login, when the server
  /// needs one, is the caller's first exchange.
  static Result<std::unique_ptr<BasicConnection>> open(std::string_view host, std::uint16_t port,
                                                       Deadline connect_deadline, int owner_pid) {
    auto sock = net::connect_to(host, port, connect_deadline);
    if (!sock) return std::move(sock).error();
    return std::unique_ptr<BasicConnection>(new BasicConnection(std::move(*sock), owner_pid));
  }

#ifdef CACHEKIT_OPENSSL
  /// Connects and runs the TLS handshake, both bounded by connect_deadline.
  /// tls_name is what the certificate must match; server names the server
  /// in messages.
  static Result<std::unique_ptr<BasicConnection>> open_tls(std::string_view host, std::uint16_t port,
                                                           Deadline connect_deadline, int owner_pid,
                                                           net::TlsContext& tls, const std::string& tls_name,
                                                           const std::string& server) {
    auto sock = net::connect_to(host, port, connect_deadline);
    if (!sock) return std::move(sock).error();
    auto session = net::TlsSession::handshake(tls, sock->fd(), tls_name, server, connect_deadline);
    if (!session) return std::move(session).error();
    std::unique_ptr<BasicConnection> c(new BasicConnection(std::move(*sock), owner_pid));
    c->tls_ = std::move(*session);
    return c;
  }
#endif
  /// Whether the connection runs over TLS.
  bool tls() const noexcept {
#ifdef CACHEKIT_OPENSSL
    return tls_ != nullptr;
#else
    return false;
#endif
  }
  /// Whether bytes are already readable without the socket becoming ready
  /// (decrypted inside the TLS session): check before polling fd().
  bool tls_buffered() const noexcept {
#ifdef CACHEKIT_OPENSSL
    return tls_ != nullptr && tls_->pending();
#else
    return false;
#endif
  }
  /// Whether an idle connection was closed by the server or got bytes
  /// nobody asked for (either makes it unusable). Never blocks.
  bool idle_broken() {
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_->idle_broken();
#endif
    return net::idle_connection_broken(sock_.fd());
  }

  BasicConnection(const BasicConnection&) = delete;
  BasicConnection& operator=(const BasicConnection&) = delete;

  int fd() const noexcept { return sock_.fd(); }
  int pid() const noexcept { return pid_; }
  bool broken() const noexcept { return broken_; }
  void mark_broken() noexcept {
    broken_ = true;
#ifdef CACHEKIT_OPENSSL
    tls_.reset();  // never reused: no close_notify, like a plaintext close
#endif
    sock_.close();
  }
  net::Clock::time_point last_used() const noexcept { return last_used_; }
  void touch_used(net::Clock::time_point t) noexcept { last_used_ = t; }
  /// Whether a whole reply ever came on this connection (a server that
  /// never answered may not speak the protocol at all).
  bool answered() const noexcept { return answered_; }
  /// Whether the server answered a command of the connection's protocol
  /// with ERROR (it does not know the command: an older server).
  bool protocol_refused() const noexcept { return protocol_refused_; }
  void set_protocol_refused() noexcept { protocol_refused_ = true; }

  /// The request buffer; callers append encoded requests, then flush().
  ByteBuffer& out() noexcept { return out_; }
  /// Room for one request head (a command and its key).
  char* head() noexcept { return head_; }
  static constexpr std::size_t head_room() noexcept { return kHeadRoom; }
  /// Fresh opaque values for requests on this connection.
  std::uint32_t take_opaques(std::uint32_t n = 1) noexcept {
    const std::uint32_t first = next_opaque_;
    next_opaque_ += n;
    if (next_opaque_ > 0x7fffffffu) next_opaque_ = 1;  // keep clear of wrap-around
    return first;
  }

  /// Sends the whole request buffer before the deadline.
  Result<void> flush(Deadline deadline) {
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_flush(deadline);
#endif
    // A request normally fits the socket buffer: try once without waiting
    // (and without setting a kernel timeout) first.
    auto first = net::try_send(sock_.fd(), out_.data(), out_.size());
    if (!first) return io_failure(std::move(first).error());
    if (*first < out_.size()) {
      auto rest = send_rest(out_.data() + *first, out_.size() - *first, deadline);
      if (!rest) return rest;
    }
    out_.clear();
    return {};
  }

  /// Sends n bytes of head (this connection's head() or any buffer).
  CACHEKIT_HOT_INLINE Result<void> send_head(const char* data, std::size_t n, Deadline deadline) {
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_write(data, n, deadline);
#endif
    auto sent = net::try_send(sock_.fd(), data, n);
    if (!sent) return io_failure(std::move(sent).error());
    if (*sent < n) return send_rest(data + *sent, n - *sent, deadline);
    return {};
  }

  /// Sends head, then value from the caller's memory (no copy), then tail.
  Result<void> send_parts(const char* head, std::size_t head_size, std::string_view value, std::string_view tail,
                          Deadline deadline) {
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_send_parts(head, head_size, value, tail, deadline);
#endif
    iovec iov[3];
    std::size_t parts = 0;
    auto add = [&](const char* p, std::size_t n) {
      if (n == 0) return;
      iov[parts].iov_base = const_cast<char*>(p);
      iov[parts++].iov_len = n;
    };
    add(head, head_size);
    add(value.data(), value.size());
    add(tail.data(), tail.size());
    std::size_t total = 0;
    for (std::size_t i = 0; i < parts; ++i) total += iov[i].iov_len;
    // Normally the whole request fits the socket buffer at once.
    auto first = net::send_iov(sock_.fd(), iov, parts, MSG_DONTWAIT);
    if (!first) return io_failure(std::move(first).error());
    std::size_t sent = *first;
    while (sent < total) {
      if (!arm(SO_SNDTIMEO, snd_timeout_, deadline, net::Clock::now())) {
        return io_failure(Error(ErrorKind::timeout, "send timed out"));
      }
      // The parts not yet sent, the first of them cut where sending stopped.
      iovec rest[3];
      std::size_t n = 0, skip = sent;
      for (std::size_t i = 0; i < parts; ++i) {
        if (skip >= iov[i].iov_len) {
          skip -= iov[i].iov_len;
          continue;
        }
        rest[n].iov_base = static_cast<char*>(iov[i].iov_base) + skip;
        rest[n++].iov_len = iov[i].iov_len - skip;
        skip = 0;
      }
      auto more = net::send_iov(sock_.fd(), rest, n, 0);
      if (!more) return io_failure(std::move(more).error());
      sent += *more;
    }
    return {};
  }

  /// The next complete reply of Wire among the buffered bytes: 1 when r
  /// holds it (call reply_done() once it is used, before reading more), 0
  /// when more bytes are needed (every buffered byte is then consumed), -1
  /// when the stream is corrupt (why says why).
  template <class Wire>
  int next_reply(typename Wire::Reply& r, const char*& why) {
    std::size_t used = 0;
    const auto step = stash_.feed<Wire>(in_.data() + in_pos_, in_end_ - in_pos_, r, limits_, used);
    in_pos_ += used;
    if (step == protocol::ReplyStash::Step::complete) {
      answered_ = true;
      return 1;
    }
    if (step == protocol::ReplyStash::Step::malformed) {
      why = stash_.why();
      return -1;
    }
    return 0;
  }

  /// Done with the reply next_reply() gave.
  CACHEKIT_HOT_INLINE void reply_done() noexcept {
    if (stash_.holds_reply()) stash_.next();
  }

  /// Reads until one whole reply of Wire is in r (call reply_done() after
  /// using it). now is a recent clock reading.
  template <class Wire>
  Result<void> read_reply(typename Wire::Reply& r, Deadline deadline, net::Clock::time_point now) {
    const char* why = nullptr;
    for (bool first = true;; first = false) {
      const int have = next_reply<Wire>(r, why);
      if (have > 0) return {};
      if (have < 0) return protocol_failure(why);
      auto got = fill(deadline, first ? now : net::Clock::now());
      if (!got) return got;
    }
  }

  /// The unparsed bytes of the read buffer, for a caller that decodes
  /// whole replies in place itself: valid while no reply is half-gathered
  /// (between_replies()); skip(n) marks n of them used.
  bool between_replies() const noexcept { return stash_.empty(); }
  const char* buffered() const noexcept { return in_.data() + in_pos_; }
  std::size_t buffered_size() const noexcept { return in_end_ - in_pos_; }
  void skip(std::size_t n) noexcept {  // n > 0: whole replies taken
    in_pos_ += n;
    answered_ = true;
  }
  /// The largest value a reply may carry.
  std::size_t max_value() const noexcept { return limits_.max_value; }
  /// Whether unparsed bytes remain in the read buffer.
  bool has_buffered() const noexcept { return in_pos_ < in_end_; }
  /// Whether the connection is between replies with nothing left over.
  bool idle_clean() const noexcept {
    return !broken_ && in_pos_ == in_end_ && stash_.empty() && out_.empty() && !tls_buffered();
  }

  /// Blocks until some bytes are in the read buffer (it must be empty) or
  /// the deadline passes. now is a recent clock reading.
  CACHEKIT_HOT_INLINE Result<void> fill(Deadline deadline, net::Clock::time_point now) {
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_fill(deadline, now);
#endif
    // Common case without busy-polling, inline: the kernel timeout already
    // fits the deadline and one blocking read brings bytes.
    if (spin_.count() <= 0 && arm(SO_RCVTIMEO, rcv_timeout_, deadline, now)) {
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
      if (!arm(SO_RCVTIMEO, rcv_timeout_, deadline, now)) {
        return io_failure(Error(ErrorKind::timeout, "no reply before the timeout"));
      }
      auto got = net::recv_wait(sock_.fd(), in_.data(), in_.size());
      if (!got) return io_failure(std::move(got).error());
      if (took(*got)) return {};
    }
  }

  /// Marks the connection broken and describes a protocol violation.
  Error protocol_failure(const char* why) {
    mark_broken();
    return Error(ErrorKind::unknown, std::string("protocol error: ") + why);
  }
  /// Marks the connection broken and returns e (an error reply, or a reply
  /// the request did not expect: the stream can no longer be trusted).
  Error fail_with(Error e) {
    mark_broken();
    return e;
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
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_send_some();
#endif
    auto n = net::try_send(sock_.fd(), out_.data() + out_sent_, out_.size() - out_sent_);
    if (!n) return io_failure(std::move(n).error());
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
#ifdef CACHEKIT_OPENSSL
    if (tls_) return tls_recv_available();
#endif
    auto n = net::try_recv(sock_.fd(), in_.data(), in_.size());
    if (!n) return io_failure(std::move(n).error());
    in_pos_ = 0;
    in_end_ = *n;
    return *n > 0;
  }
  /// Scrubs the request buffer (it held a password).
  void scrub_out() noexcept { out_.scrub(); }

 private:
  static constexpr std::size_t kReadBuffer = 32 * 1024;
  static constexpr std::size_t kHeadRoom = 512 + CACHEKIT_MAX_KEY_LENGTH;
  static constexpr long long kSlackUs = 2000;

  BasicConnection(net::Socket s, int owner_pid) : sock_(std::move(s)), in_(kReadBuffer), pid_(owner_pid) {
    out_.reserve(1024);
    limits_.max_value = CACHEKIT_MAX_RESPONSE_BODY;
  }

  /// The read buffer now holds n fresh bytes, if n > 0.
  bool took(std::size_t n) noexcept {
    if (n == 0) return false;
    in_pos_ = 0;
    in_end_ = n;
    return true;
  }

  // The rest of a request the socket did not take at once.
  Result<void> send_rest(const char* data, std::size_t n, Deadline deadline) {
    while (n > 0) {
      if (!arm(SO_SNDTIMEO, snd_timeout_, deadline, net::Clock::now())) {
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

#ifdef CACHEKIT_OPENSSL
  // The TLS counterparts of the plaintext paths above (kept out of line
  // so the plaintext callers stay small).
  CACHEKIT_COLD_NOINLINE Result<void> tls_write(const char* data, std::size_t n, Deadline deadline) {
    auto ok = tls_->write_all(data, n, deadline);
    if (!ok) return io_failure(std::move(ok).error());
    return {};
  }
  CACHEKIT_COLD_NOINLINE Result<void> tls_flush(Deadline deadline) {
    auto ok = tls_write(out_.data(), out_.size(), deadline);
    if (ok) out_.clear();
    return ok;
  }
  CACHEKIT_COLD_NOINLINE Result<void> tls_send_parts(const char* head, std::size_t head_size, std::string_view value,
                                                     std::string_view tail, Deadline deadline) {
    // One TLS record for a request that fits one: gathered in the request
    // buffer (TLS copies the bytes to encrypt them anyway).
    if (head_size + value.size() + tail.size() <= 16384 && out_.empty()) {
      out_.append(head, head_size);
      out_.append(value.data(), value.size());
      out_.append(tail.data(), tail.size());
      return tls_flush(deadline);
    }
    auto ok = tls_write(head, head_size, deadline);
    if (ok && !value.empty()) ok = tls_write(value.data(), value.size(), deadline);
    if (ok && !tail.empty()) ok = tls_write(tail.data(), tail.size(), deadline);
    return ok;
  }
  CACHEKIT_COLD_NOINLINE Result<void> tls_fill(Deadline deadline, net::Clock::time_point now) {
    if (!tls_->pending() && spin_now()) {
      bool spun = false;
      auto got = tls_->read_spin(in_.data(), in_.size(), std::min(now + spin_, deadline), spun);
      if (!got) return io_failure(std::move(got).error());
      if (spun) spin_outcome(*got > 0);
      if (took(*got)) return {};
    }
    for (;; now = net::Clock::now()) {
      if (!arm(SO_RCVTIMEO, rcv_timeout_, deadline, now)) {
        return io_failure(Error(ErrorKind::timeout, "no reply before the timeout"));
      }
      auto got = tls_->read_blocking(in_.data(), in_.size(), deadline);
      if (!got) return io_failure(std::move(got).error());
      if (took(*got)) return {};
    }
  }
  CACHEKIT_COLD_NOINLINE Result<void> tls_send_some() {
    auto n = tls_->try_write(out_.data() + out_sent_, out_.size() - out_sent_);
    if (!n) return io_failure(std::move(n).error());
    out_sent_ += *n;
    if (out_sent_ == out_.size()) {
      out_.clear();
      out_sent_ = 0;
    }
    return {};
  }
  CACHEKIT_COLD_NOINLINE Result<bool> tls_recv_available() {
    auto n = tls_->try_read(in_.data(), in_.size());
    if (!n) return io_failure(std::move(n).error());
    in_pos_ = 0;
    in_end_ = *n;
    return *n > 0;
  }
#endif

  // The kernel timeout (SO_SNDTIMEO or SO_RCVTIMEO) last set, as the range
  // of remaining times it serves: from the setting less kSlack (at least
  // 1 ns, so a passed deadline is never in it) to twice the setting.
  // Empty until first set.
  struct ArmedTimeout {
    long long lo_ns = std::numeric_limits<long long>::max();
    long long hi_ns = 0;
  };
  // Sets the kernel timeout of the next blocking send/recv so that it ends
  // by the deadline (overshoot at most kSlack). Costs a system call only
  // when the remaining time falls outside the range the current setting
  // serves (two comparisons, no division, on the usual path); false when
  // the deadline has passed.
  CACHEKIT_HOT_INLINE bool arm(int option, ArmedTimeout& armed, Deadline deadline, net::Clock::time_point now) {
    const long long remaining_ns = std::chrono::nanoseconds(deadline - now).count();
    if (remaining_ns >= armed.lo_ns && remaining_ns <= armed.hi_ns) return true;
    if (remaining_ns <= 0) return false;
    return rearm(option, armed, remaining_ns / 1000);
  }
  bool rearm(int option, ArmedTimeout& armed, long long remaining_us) {
    const long long want = remaining_us > 0 ? remaining_us : 1;
    if (!net::set_io_timeout(sock_.fd(), option, want)) return false;
    constexpr long long kMax = std::numeric_limits<long long>::max();
    // want * 1000 cannot overflow: it is at most remaining_ns.
    armed.lo_ns = std::max(1LL, want * 1000 - kSlackUs * 1000);
    armed.hi_ns = want > kMax / 2000 ? kMax : want * 2000;
    return true;
  }

  net::Socket sock_;
#ifdef CACHEKIT_OPENSSL
  std::unique_ptr<net::TlsSession> tls_;  // null: plaintext
#endif
  ByteBuffer out_;
  std::size_t out_sent_ = 0;
  std::vector<char> in_;
  std::size_t in_pos_ = 0, in_end_ = 0;
  protocol::ReplyStash stash_;  // a reply split across reads
  protocol::Limits limits_;
  char head_[kHeadRoom];
  std::uint32_t next_opaque_ = 1;
  int pid_;
  bool broken_ = false;
  bool answered_ = false;
  bool protocol_refused_ = false;
  ArmedTimeout snd_timeout_;
  ArmedTimeout rcv_timeout_;
  net::Clock::time_point last_used_{};
  std::chrono::microseconds spin_{0};
  unsigned spin_skip_ = 0, spin_backoff_ = 0;
};
using Connection = BasicConnection<>;

}  // namespace detail
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
