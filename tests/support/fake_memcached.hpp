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
#include <string_view>
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
  /// Reads one text/meta line and strips its "\r\n"; false on EOF, error,
  /// server shutdown or a line longer than 64 KiB.
  bool read_line(std::string& line);
  /// Reads exactly n bytes (a value's data, with or without its "\r\n").
  bool read_bytes(std::size_t n, std::string& out);
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

namespace cktest {
/// The space-separated words of a text/meta command line.
std::vector<std::string> line_words(std::string_view line);

/// The length a storage command line announces: "set k <flags> <exptime>
/// <bytes> ..." (word 4, also add/replace/append/prepend/cas) or "ms k
/// <datalen> ..." (word 2); -1 when the line is not a storage command or
/// the length is not a number.
long long storage_data_length(const std::vector<std::string>& words);

/// A meta hit for the mg request line: "VA <size> <flags>\r\n<data>\r\n"
/// with the return flags the request asked for (f as flags, k, O, c, s,
/// t) in request order; "HD <flags>\r\n" when no value (v) was asked.
std::string meta_hit(std::string_view request_line, std::string_view value, std::uint32_t flags = 0);

/// A text hit: "VALUE <key> <flags> <bytes>\r\n<data>\r\n" (no END).
std::string text_hit(std::string_view key, std::string_view value, std::uint32_t flags = 0);

/// Reads the next command line, answering "version" (which the meta
/// backend sends on a new connection) with "VERSION <version>" on the way.
/// False when the connection ends first.
bool next_command(FakeConnection& conn, std::string& line, std::string_view version = "1.6.18");

/// Behaves like a tiny healthy memcached speaking text and meta until the
/// peer closes: get/gets/mg hit every key with value, storage commands
/// (their data read) store nothing and succeed, delete/touch/md succeed,
/// mn answers MN, version answers VERSION 1.6.18. on_line, when set, sees
/// every command line first.
/// Connects to 127.0.0.1:port, sends request and reads until reply_size
/// bytes arrived, the peer closed or 5 s passed; returns what was read.
/// For checking scripted servers byte for byte.
std::string exchange_bytes(std::uint16_t port, std::string_view request, std::size_t reply_size);

void serve_healthy_ascii(FakeConnection& conn, std::string_view value,
                         const std::function<void(const std::string&)>& on_line = nullptr);
}  // namespace cktest
