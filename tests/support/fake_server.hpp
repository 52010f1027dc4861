#pragma once
// A fake memcached on a free loopback port for what a real server will
// not do. Each accepted connection is handled by the chosen behaviour.

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace cktest {

class FakeServer {
 public:
  /// Called on each accepted connection (blocking socket fd); it returns
  /// when it is done with the connection, which is then closed. It must
  /// return once stopping() turns true (poll with short timeouts).
  using Handler = std::function<void(int fd, FakeServer& self)>;

  explicit FakeServer(Handler handler);
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  std::uint16_t port() const { return port_; }
  /// "127.0.0.1:<port>"
  std::string spec() const;
  bool stopping() const { return stop_.load(); }
  /// Connections accepted so far.
  int accepted() const { return accepted_.load(); }
  /// Bytes received over all connections (by handlers that count them).
  std::atomic<long> bytes_received{0};

  /// Handler: reads and discards everything, never answers.
  static Handler never_answer();

 private:
  void run();
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  Handler handler_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

}  // namespace cktest
