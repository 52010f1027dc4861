#pragma once
// A memcached process for benchmarks and the callgrind driver: started on a
// free loopback port, killed by PID when destroyed. (The test harness in
// tests/support uses doctest assertions; benchmarks have no doctest.)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace ckbench {

inline std::uint16_t free_port() {
  for (;;) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    ::close(fd);
    const std::uint16_t p = ntohs(a.sin_port);
    if (ok && p != 11211 && p != 0) return p;
  }
}

inline bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

/// One memcached on 127.0.0.1 (memcached's default 4 worker threads).
class MemcachedServer {
 public:
  explicit MemcachedServer(std::vector<std::string> extra = {}) : port_(free_port()) {
    std::vector<std::string> args{"memcached", "-l", "127.0.0.1", "-p", std::to_string(port_), "-U", "0", "-m", "256"};
    if (::geteuid() == 0) {
      args.push_back("-u");
      args.push_back("nobody");
    }
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp("memcached", argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 1000 && !accepts(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!accepts(port_)) {
      std::fprintf(stderr, "memcached did not start (apt-get install memcached)\n");
      std::exit(1);
    }
  }
  ~MemcachedServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }
  MemcachedServer(const MemcachedServer&) = delete;
  MemcachedServer& operator=(const MemcachedServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string spec() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::uint16_t port_;
  pid_t pid_ = -1;
};

}  // namespace ckbench
