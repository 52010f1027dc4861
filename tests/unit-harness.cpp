// The test harness itself: servers start, answer, die on demand, restart.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "support/memcached_process.hpp"

TEST_CASE("harness starts, kills and restarts memcached on free loopback ports") {
  cktest::MemcachedCluster cluster(2);
  REQUIRE(cluster.size() == 2);
  CHECK(cluster.port(0) != 11211);
  CHECK(cluster.port(0) != cluster.port(1));
  CHECK(cktest::port_accepts(cluster.port(0)));
  CHECK(cktest::port_accepts(cluster.port(1)));

  cluster.kill(1);
  CHECK_FALSE(cluster.running(1));
  CHECK(cktest::wait_until([&] { return !cktest::port_accepts(cluster.port(1)); },
                           std::chrono::seconds(5)));
  CHECK(cktest::port_accepts(cluster.port(0)));

  cluster.restart(1);
  CHECK(cluster.running(1));
  CHECK(cktest::port_accepts(cluster.port(1)));
}

// Suites run two at a time (tests/CMakeLists.txt): a port one process was
// handed stays locked against the others until that process exits.
TEST_CASE("harness: a port handed out is reserved against the other test processes") {
  const std::string path = cktest::port_reservations_path();
  REQUIRE_MESSAGE(!path.empty(), "the port reservations file could not be opened");
  const std::uint16_t port = cktest::free_port();
  const pid_t self = ::getpid();
  // A second process asks who holds byte <port>: only async-signal-safe
  // calls between fork and _exit.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) ::_exit(2);
    struct flock probe{};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    probe.l_start = port;
    probe.l_len = 1;
    if (::fcntl(fd, F_GETLK, &probe) != 0) ::_exit(3);
    ::_exit(probe.l_type == F_WRLCK && probe.l_pid == self ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK_MESSAGE(WEXITSTATUS(status) == 0, "exit status " << WEXITSTATUS(status) << " (1: the port is not locked by this process)");
  CHECK(cktest::free_port() != port);  // never handed out twice in one process
}
