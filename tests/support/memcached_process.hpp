#pragma once
// Test harness: real memcached servers on free loopback ports, started and
// stopped by the tests themselves (never port 11211, never a process the
// test did not start).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace cktest {

/// Path of the memcached binary, or "" when it is not installed.
std::string memcached_binary();

/// A loopback TCP port that was free a moment ago (never 11211), handed
/// out once per process and reserved against the other test processes
/// until this one exits (see port_reservations_path()).
std::uint16_t free_port();

/// The file whose byte <port> a test process holding that port keeps
/// write-locked (fcntl); "" when it could not be opened.
std::string port_reservations_path();

/// True once something accepts TCP connections on 127.0.0.1:port.
bool port_accepts(std::uint16_t port);

/// The server's "stats" over a fresh text-protocol connection (empty on
/// failure); used to observe the server side of a test.
std::map<std::string, std::string> server_stats(std::uint16_t port);

/// Polls cond until it holds or the deadline passes; returns the last value.
bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds deadline);

/// N memcached processes on 127.0.0.1; stopped by PID when destroyed.
/// A test that constructs one fails (with install instructions) when
/// memcached is missing; it never skips.
class MemcachedCluster {
 public:
  /// env holds "NAME=VALUE" entries added to each server's environment.
  explicit MemcachedCluster(std::size_t n, std::vector<std::string> extra_args = {},
                            std::vector<std::string> env = {});
  ~MemcachedCluster();
  MemcachedCluster(const MemcachedCluster&) = delete;
  MemcachedCluster& operator=(const MemcachedCluster&) = delete;

  std::size_t size() const { return servers_.size(); }
  std::uint16_t port(std::size_t i) const { return servers_[i].port; }
  pid_t pid(std::size_t i) const { return servers_[i].pid; }
  /// "127.0.0.1:<port>"
  std::string spec(std::size_t i) const;
  std::vector<std::string> specs() const;
  bool running(std::size_t i) const { return servers_[i].pid > 0; }

  /// Sends sig to server i and waits for it to exit.
  void kill(std::size_t i, int sig = 9);
  /// Starts server i again on the same port (after kill), empty.
  void restart(std::size_t i);

 private:
  struct Server {
    std::uint16_t port = 0;
    pid_t pid = -1;
  };
  void start(std::size_t i);
  std::vector<std::string> extra_args_;
  std::vector<std::string> env_;
  std::vector<Server> servers_;
};

}  // namespace cktest
