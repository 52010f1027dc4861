#include "support/nutcracker_process.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <doctest/doctest.h>

#include "support/memcached_process.hpp"

namespace cktest {

NutcrackerProcess::NutcrackerProcess(const std::string& yaml, const std::vector<std::uint16_t>& listen_ports) {
  REQUIRE_MESSAGE(::access(kNutcrackerBinary, X_OK) == 0, "nutcracker not found; install it with: apt-get install nutcracker");
  char tmpl[] = "/tmp/cachekit-nutcracker-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  dir_ = tmpl;
  conf_ = dir_ + "/nutcracker.yml";
  log_ = dir_ + "/nutcracker.log";
  {
    std::ofstream out(conf_);
    out << yaml;
    REQUIRE(out.good());
  }
  // Everything the child needs is built before fork: it must not allocate.
  const std::string stats_port = std::to_string(free_port());
  std::vector<std::string> args{kNutcrackerBinary, "-c", conf_, "-o", log_, "-a", "127.0.0.1", "-s", stats_port};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    // The proxy dies with the test process, even if the test crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  bool exited = false;
  const bool up = wait_until(
      [&] {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          exited = true;
          return true;  // stop waiting, reported below
        }
        for (std::uint16_t p : listen_ports) {
          if (!port_accepts(p)) return false;
        }
        return true;
      },
      std::chrono::milliseconds(10000));
  if (exited) pid_ = -1;
  if (!up && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  REQUIRE_MESSAGE(!exited, "nutcracker exited at start; see ", log_);
  REQUIRE_MESSAGE(up, "nutcracker did not listen on every pool port; see ", log_);
}

NutcrackerProcess::~NutcrackerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::remove(conf_.c_str());
  std::remove(log_.c_str());
  ::rmdir(dir_.c_str());
}

}  // namespace cktest
