#pragma once
// A scripted memcached stand-in for what a real server will not do: hang,
// close mid-reply, send garbage, answer slowly. Each accepted connection
// runs the scenario handler on its own thread. Replies are built by hand
// here, independently of the library's codec.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cktest {

/// One binary-protocol request as the fake server read it.
struct FakeRequest {
  std::uint8_t magic = 0;
  std::uint8_t opcode = 0;
  std::uint32_t opaque = 0;
  std::uint64_t cas = 0;
  std::string extras;
  std::string key;
  std::string value;
};

/// Builds a binary-protocol response packet byte by byte.
std::string make_response(std::uint8_t opcode, std::uint16_t status, std::uint32_t opaque,
                          std::string_view extras = {}, std::string_view key = {},
                          std::string_view value = {}, std::uint64_t cas = 0,
                          std::uint8_t magic = 0x81);

/// A 24-byte response header with explicit lengths (for lying headers).
std::string make_header(std::uint8_t magic, std::uint8_t opcode, std::uint16_t key_len,
                        std::uint8_t extras_len, std::uint16_t status, std::uint32_t body_len,
                        std::uint32_t opaque, std::uint64_t cas = 0);

/// Standard GET hit reply: flags extras + value.
std::string make_get_hit(const FakeRequest& req, std::string_view value, std::uint32_t flags = 0);

class FakeConnection {
 public:
  FakeConnection(int fd, const std::atomic<bool>& stopping) : fd_(fd), stopping_(stopping) {}
  /// Reads one whole request; false on EOF, error or server shutdown.
  bool read_request(FakeRequest& out);
  /// Sends all bytes; false when the peer is gone.
  bool send(std::string_view bytes);
  /// Sends one byte at a time with a pause between bytes.
  bool send_slowly(std::string_view bytes, std::chrono::milliseconds pause);
  /// Blocks without answering until the peer closes or the server stops.
  void hold();
  /// Closes the connection now.
  void close();

 private:
  bool read_exact(char* buf, std::size_t n);
  int fd_;
  const std::atomic<bool>& stopping_;
};

/// A fake server on 127.0.0.1 at a free port; stops and joins on destruction.
class FakeMemcached {
 public:
  using Handler = std::function<void(FakeConnection&)>;
  explicit FakeMemcached(Handler handler);
  ~FakeMemcached();
  FakeMemcached(const FakeMemcached&) = delete;
  FakeMemcached& operator=(const FakeMemcached&) = delete;

  std::uint16_t port() const { return port_; }
  /// "127.0.0.1:<port>"
  std::string spec() const;
  /// Connections accepted so far.
  int accepted() const { return accepted_.load(); }

 private:
  void accept_loop();
  Handler handler_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<int> fds_;
};

}  // namespace cktest

namespace cktest {
/// Behaves like a tiny healthy memcached until the peer closes: GET-family
/// requests hit with value, NOOP/VERSION/SET/DELETE succeed. on_request,
/// when set, sees every request first.
void serve_healthy(FakeConnection& conn, std::string_view value,
                   const std::function<void(const FakeRequest&)>& on_request = nullptr);
}  // namespace cktest
