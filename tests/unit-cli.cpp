// cachekit-cli memcached subcommands against a memcached the test starts:
// output and exit codes a script can rely on.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "support/memcached_process.hpp"

#ifdef CACHEKIT_CLI_PATH
namespace {
struct Run {
  int code;
  std::string out;
};

Run shell(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  int ch;
  while ((ch = std::fgetc(p)) != EOF) out += static_cast<char>(ch);
  const int status = ::pclose(p);
  return Run{WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

Run cli(const std::string& args) {
  return shell(std::string("env -u CACHEKIT_MEMCACHED_SERVERS ") + CACHEKIT_CLI_PATH + " " + args + " 2>/dev/null");
}
}  // namespace

TEST_CASE("cli: get, set, delete, touch, stats, version, health") {
  cktest::MemcachedCluster cluster(2);
  const std::string servers = " --servers " + cluster.spec(0) + "," + cluster.spec(1);

  CHECK(cli("get nokey" + servers).code == 1);
  CHECK(cli("set greeting hello" + servers).code == 0);
  auto g = cli("get greeting" + servers);
  CHECK(g.code == 0);
  CHECK(g.out == "hello\n");
  CHECK(cli("set 'bad key' v" + servers).code == 2);
  CHECK(cli("set k" + servers).code == 2);
  CHECK(shell("printf piped | " + std::string(CACHEKIT_CLI_PATH) + " set piped -" + servers).code == 0);
  CHECK(cli("get piped" + servers).out == "piped\n");
  CHECK(cli("touch greeting --ttl 100" + servers).code == 0);
  CHECK(cli("touch absent --ttl 100" + servers).code == 1);
  CHECK(cli("touch greeting" + servers).code == 2);
  CHECK(cli("delete greeting" + servers).code == 0);
  CHECK(cli("delete greeting" + servers).code == 1);
  CHECK(cli("set short v --ttl 1" + servers).code == 0);
  CHECK(cktest::wait_until([&] { return cli("get short" + servers).code == 1; }, std::chrono::seconds(4)));

  auto v = cli("version" + servers);
  CHECK(v.code == 0);
  CHECK(v.out.find(cluster.spec(0) + " 1.") != std::string::npos);
  CHECK(v.out.find(cluster.spec(1) + " 1.") != std::string::npos);
  auto s = cli("stats" + servers);
  CHECK(s.code == 0);
  CHECK(s.out.find(cluster.spec(1) + " pid ") != std::string::npos);
  auto h = cli("health" + servers);
  CHECK(h.code == 0);
  CHECK(h.out.find(cluster.spec(0) + " up ") != std::string::npos);

  // The environment works instead of --servers.
  const std::string env = "CACHEKIT_MEMCACHED_SERVERS='[\"" + cluster.spec(0) + "\",\"" + cluster.spec(1) + "\"]' ";
  CHECK(cli("--version").code == 0);
  Run envrun = shell(env + CACHEKIT_CLI_PATH + " get piped");
  CHECK(envrun.code == 0);
  CHECK(envrun.out == "piped\n");

  // A server down: health and version say so with exit code 3.
  cluster.kill(1);
  auto h2 = cli("health --timeout 0.5 --connect-timeout 0.5" + servers);
  CHECK(h2.code == 3);
  CHECK(h2.out.find(cluster.spec(1) + " down ") != std::string::npos);
  CHECK(cli("version --timeout 0.5 --connect-timeout 0.5" + servers).code == 3);
  // Bad configuration: usage error.
  CHECK(cli("get k --servers host:0").code == 2);
  CHECK(cli("nosuchcommand").code == 2);
}
#endif
