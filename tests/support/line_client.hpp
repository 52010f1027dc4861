#pragma once
// Test helper: a blocking loopback connection that sends encoded requests
// and decodes replies with a wire's ReplyReader, reading in small pieces so
// that replies arrive split. Replies are copied out (the reader's views do
// not outlive the next read). Header-only; tests may make system calls.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>

#include <cachekit/cachekit.hpp>

namespace cktest {

/// A decoded reply with its bytes owned.
struct OwnedReply {
  cachekit::protocol::ReplyKind kind = cachekit::protocol::ReplyKind::end;
  std::uint32_t fields = 0;
  std::uint32_t flags = 0;
  std::uint64_t cas = 0;
  std::uint64_t number = 0;
  std::uint64_t size = 0;
  std::int64_t ttl = 0;
  std::string value, key, opaque, text;
  bool failed = false;  ///< malformed reply, timeout or close
  std::string failure;

  bool has(cachekit::protocol::Field f) const { return (fields & static_cast<std::uint32_t>(f)) != 0; }
  bool won() const { return has(cachekit::protocol::Field::won); }
  bool stale() const { return has(cachekit::protocol::Field::stale); }
  bool winner_sent() const { return has(cachekit::protocol::Field::winner_sent); }
};

template <class Wire>
class LineClient {
 public:
  /// Connects to 127.0.0.1:port; replies are read chunk bytes at a time.
  explicit LineClient(std::uint16_t port, std::size_t chunk = 7) : chunk_(chunk) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~LineClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  LineClient(const LineClient&) = delete;
  LineClient& operator=(const LineClient&) = delete;

  bool connected() const { return connected_; }

  /// Sends all of bytes.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  /// Sends a command head written by encode(char*) -> length.
  template <class Encode>
  bool send_head(Encode&& encode) {
    char buf[1024];
    return send(std::string_view(buf, encode(buf)));
  }

  /// Reads the next whole reply (5 s receive timeout).
  OwnedReply next() {
    OwnedReply out;
    for (;;) {
      if (pos_ < in_.size()) {
        pos_ += reader_.feed(in_.data() + pos_, in_.size() - pos_);
        if (reader_.failed()) {
          out.failed = true;
          out.failure = reader_.failure();
          return out;
        }
        if (reader_.complete()) {
          copy(reader_.reply(), out);
          reader_.next();
          return out;
        }
      }
      if (pos_ == in_.size()) {
        in_.clear();
        pos_ = 0;
      }
      char buf[4096];
      const std::size_t want = chunk_ < sizeof buf ? chunk_ : sizeof buf;
      const ssize_t n = ::recv(fd_, buf, want, 0);
      if (n <= 0) {
        out.failed = true;
        out.failure = n == 0 ? "connection closed" : "receive failed or timed out";
        return out;
      }
      in_.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  static void copy(const cachekit::protocol::ServerReply& r, OwnedReply& out) {
    out.kind = r.kind;
    out.fields = r.fields;
    out.flags = r.flags;
    out.cas = r.cas;
    out.number = r.number;
    out.size = r.size;
    out.ttl = r.ttl;
    out.value.assign(r.value.data(), r.value.size());
    out.key.assign(r.key.data(), r.key.size());
    out.opaque.assign(r.opaque.data(), r.opaque.size());
    out.text.assign(r.text.data(), r.text.size());
  }

  int fd_ = -1;
  bool connected_ = false;
  std::size_t chunk_;
  std::string in_;
  std::size_t pos_ = 0;
  cachekit::protocol::ReplyReader<Wire> reader_;
};

}  // namespace cktest
