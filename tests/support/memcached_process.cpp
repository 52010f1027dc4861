#include "support/memcached_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <doctest/doctest.h>

namespace cktest {

std::string memcached_binary() {
  if (const char* env = std::getenv("CACHEKIT_TEST_MEMCACHED")) return env;
  for (const char* p : {"/usr/bin/memcached", "/usr/local/bin/memcached", "/usr/sbin/memcached"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return {};
}

namespace {

// Test processes that run at the same time (ctest -j runs the backend suite
// over two protocols at once) reserve their ports in one shared file: a
// write lock on byte <port> of it, held by the process until it exits (the
// kernel drops such locks with the process, so a crash leaves none behind).
// A port a test stops and restarts a server on stays its own in between.
class PortReservations {
 public:
  PortReservations() {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/cachekit-test-ports.lock";
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd_ >= 0) {
      ::fchmod(fd_, 0666);  // whoever runs the next suite may lock it too
    } else {
      path_.clear();
    }
  }
  const std::string& path() const { return path_; }
  PortReservations(const PortReservations&) = delete;
  PortReservations& operator=(const PortReservations&) = delete;

  /// True when this process now holds port (or no other test process can
  /// be checked: the file could not be opened).
  bool take(std::uint16_t port) const {
    if (fd_ < 0) return true;
    struct flock lock{};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = port;
    lock.l_len = 1;
    return ::fcntl(fd_, F_SETLK, &lock) == 0;
  }

 private:
  std::string path_;
  int fd_ = -1;  // kept open for the life of the process: closing it would drop every lock
};

const PortReservations& reservations() {
  static const PortReservations r;
  return r;
}

}  // namespace

std::string port_reservations_path() { return reservations().path(); }

// The kernel may hand the same ephemeral port to two probes in a row, so
// a port is handed out once per test process: a test that takes several
// (servers, a proxy's pools) never gets one twice. It is also reserved
// against the other test processes (PortReservations).
std::uint16_t free_port() {
  static std::mutex given_mutex;
  static std::set<std::uint16_t> given;
  for (int attempt = 0; attempt < 200; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
              ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    ::close(fd);
    const std::uint16_t port = ntohs(addr.sin_port);
    if (ok && port != 11211 && port != 0) {
      std::lock_guard<std::mutex> lock(given_mutex);
      if (given.count(port) == 0 && reservations().take(port)) {
        given.insert(port);
        return port;
      }
    }
  }
  FAIL("no free loopback port");
  return 0;
}

bool port_accepts(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::map<std::string, std::string> server_stats(std::uint16_t port) {
  std::map<std::string, std::string> out;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return out;
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  std::string text;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, "stats\r\n", 7, MSG_NOSIGNAL) == 7) {
    char buf[4096];
    while (text.find("END\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      text.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  std::size_t pos = 0;
  while ((pos = text.find("STAT ", pos)) != std::string::npos) {
    const std::size_t name_end = text.find(' ', pos + 5);
    const std::size_t line_end = text.find("\r\n", pos);
    if (name_end == std::string::npos || line_end == std::string::npos || name_end > line_end) break;
    out[text.substr(pos + 5, name_end - pos - 5)] = text.substr(name_end + 1, line_end - name_end - 1);
    pos = line_end;
  }
  return out;
}

bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= end) return cond();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

MemcachedCluster::MemcachedCluster(std::size_t n, std::vector<std::string> extra_args,
                                   std::vector<std::string> env)
    : extra_args_(std::move(extra_args)), env_(std::move(env)), servers_(n) {
  if (memcached_binary().empty()) {
    FAIL("memcached is not installed; install it with: apt-get install memcached "
         "(or set CACHEKIT_TEST_MEMCACHED to its path)");
  }
  for (std::size_t i = 0; i < n; ++i) {
    servers_[i].port = free_port();
    start(i);
  }
}

MemcachedCluster::~MemcachedCluster() {
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    if (servers_[i].pid > 0) kill(i, SIGKILL);
  }
}

std::string MemcachedCluster::spec(std::size_t i) const {
  return "127.0.0.1:" + std::to_string(servers_[i].port);
}

std::vector<std::string> MemcachedCluster::specs() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < servers_.size(); ++i) out.push_back(spec(i));
  return out;
}

void MemcachedCluster::start(std::size_t i) {
  const std::string bin = memcached_binary();
  const std::string port = std::to_string(servers_[i].port);
  std::vector<std::string> args{bin, "-l", "127.0.0.1", "-p", port, "-U", "0", "-m", "64", "-t", "2"};
  // memcached refuses to run as root. Rather than its -u (whose setuid
  // clears the parent-death signal, leaving orphans when a test aborts),
  // the child drops to nobody itself before the death signal is armed.
  const bool drop_root = ::geteuid() == 0;
  uid_t run_uid = 65534;
  gid_t run_gid = 65534;
  if (drop_root) {
    if (const passwd* pw = ::getpwnam("nobody")) {
      run_uid = pw->pw_uid;
      run_gid = pw->pw_gid;
    }
  }
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = env_;  // copied before fork: the child must not allocate

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (drop_root && (::setgroups(0, nullptr) != 0 || ::setgid(run_gid) != 0 || ::setuid(run_uid) != 0)) {
      ::_exit(126);
    }
    // The server dies with the test process, even if the test crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
    }
    for (auto& e : env) ::putenv(e.data());
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  servers_[i].pid = pid;
  const bool up = wait_until(
      [&] {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          servers_[i].pid = -1;
          return true;  // exited: stop waiting, reported below
        }
        return port_accepts(servers_[i].port);
      },
      std::chrono::seconds(10));
  REQUIRE_MESSAGE(servers_[i].pid > 0, "memcached exited at start on port " << port);
  REQUIRE_MESSAGE(up, "memcached did not accept connections on port " << port);
}

void MemcachedCluster::kill(std::size_t i, int sig) {
  const pid_t pid = servers_[i].pid;
  if (pid <= 0) return;
  ::kill(pid, sig);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  servers_[i].pid = -1;
}

void MemcachedCluster::restart(std::size_t i) {
  if (servers_[i].pid > 0) kill(i);
  start(i);
}

}  // namespace cktest
