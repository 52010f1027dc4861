// Transports: a unix socket, IPv6 loopback and a host name.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/protocol_under_test.hpp"

#include "support/memcached_process.hpp"

namespace {
// memcached on a unix socket in a fresh directory; killed by PID.
struct UnixMemcached {
  std::string dir, path;
  pid_t pid = -1;
  UnixMemcached() {
    char tmpl[] = "/tmp/cachekit-unix-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    ::chmod(dir.c_str(), 0777);  // memcached may run as nobody
    path = dir + "/mc.sock";
    std::vector<std::string> args{cktest::memcached_binary(), "-s", path, "-a", "0777", "-U", "0"};
    if (::geteuid() == 0) {
      args.push_back("-u");
      args.push_back("nobody");
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~UnixMemcached() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      int st = 0;
      ::waitpid(pid, &st, 0);
    }
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
};
}  // namespace

TEST_CASE("transports: unix socket") {
  REQUIRE_FALSE(cktest::memcached_binary().empty());
  UnixMemcached mc;
  for (const std::string& spec : {mc.path, "unix:" + mc.path}) {
    cachekit::MemcachedBackendConfig cfg = cktest::backend_config();
    cfg.servers = {spec};
    cfg.server_failure_limit = 100;  // the server may still be starting: keep trying it
    cachekit::MemcachedBackend b(cfg);
    REQUIRE(b.status());
    CHECK(cktest::wait_until([&] { return b.set("unix-key", "via-socket").ok(); }, std::chrono::seconds(5)));
    CHECK(b.get("unix-key")->value() == "via-socket");
    auto many = b.get_many(std::vector<std::string>{"unix-key", "nope"});
    REQUIRE(many);
    CHECK((*many)[0].value() == "via-socket");
    CHECK(b.health_check()[0].up);
  }
}

TEST_CASE("transports: IPv6 loopback and a host name") {
  cktest::MemcachedCluster cluster(1, {"-l", "[::1]"});
  const std::string port = std::to_string(cluster.port(0));
  for (const std::string& spec : {"[::1]:" + port, "localhost:" + port, "127.0.0.1:" + port}) {
    CAPTURE(spec);
    cachekit::MemcachedBackendConfig cfg = cktest::backend_config();
    cfg.servers = {spec};
    cfg.server_failure_limit = 100;  // the [::1] listener may come up after 127.0.0.1's: keep trying it
    cachekit::MemcachedBackend b(cfg);
    REQUIRE(cktest::wait_until([&] { return b.set("addr-key", spec).ok(); }, std::chrono::seconds(5)));
    CHECK(b.get("addr-key")->value() == spec);
  }
  cachekit::MemcachedBackendConfig v6 = cktest::backend_config();
  v6.servers = {"[::1]:" + port};
  cachekit::MemcachedBackend b(v6);
  CHECK(b.server_names()[0] == "[::1]:" + port);
  auto r = b.get("k");
  CHECK(r);
}
