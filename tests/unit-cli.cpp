// cachekit-cli memcached subcommands against a memcached the test starts:
// output and exit codes a script can rely on.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "support/memcached_process.hpp"
#ifdef CACHEKIT_OPENSSL
#include "support/tls_certs.hpp"
#endif

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

// stderr only (stdout discarded).
Run cli_err(const std::string& args) {
  return shell(std::string("env -u CACHEKIT_MEMCACHED_SERVERS ") + CACHEKIT_CLI_PATH + " " + args +
               " 2>&1 >/dev/null");
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const char* const kSubcommands[] = {"get", "set", "delete", "touch", "stats", "version", "health", "config", "ring"};
}  // namespace

TEST_CASE("cli: get, set, delete, touch, stats, version, health") {
  cktest::MemcachedCluster cluster(2);
  const std::string servers = " --servers " + cluster.spec(0) + "," + cluster.spec(1);

  CHECK(cli("get nokey" + servers).code == 1);
  // --servers also takes the JSON array of CACHEKIT_MEMCACHED_SERVERS.
  const std::string json = " --servers '[\"" + cluster.spec(0) + "\", \"" + cluster.spec(1) + "\"]'";
  CHECK(cli("set viajson 1" + json).code == 0);
  CHECK(cli("get viajson" + servers).out == "1\n");
  CHECK(cli("get viajson --servers=" + cluster.spec(0) + "," + cluster.spec(1)).out == "1\n");
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

TEST_CASE("cli: help for the tool and every subcommand") {
  for (const char* how : {"help", "--help", "-h"}) {
    CAPTURE(how);
    const Run r = cli(how);
    CHECK(r.code == 0);
    for (const char* c : kSubcommands) CHECK(has(r.out, std::string("\n  ") + c));
    CHECK(has(r.out, "--servers LIST"));
    CHECK(has(r.out, "127.0.0.1:11211"));  // the default is stated
    CHECK(has(r.out, "exit codes"));
  }
  for (const char* c : kSubcommands) {
    CAPTURE(c);
    for (const std::string& how : {std::string(c) + " --help", std::string(c) + " -h", std::string("help ") + c,
                                   std::string(c) + " KEY --help"}) {
      const Run r = cli(how);
      CHECK(r.code == 0);
      CHECK(has(r.out, std::string("usage: cachekit-cli ") + c));
      CHECK(has(r.out, "exit codes"));
      CHECK(has(r.out, "--servers"));
    }
  }
  CHECK(has(cli("set --help").out, "--ttl S"));
  CHECK(has(cli("ring --help").out, "--describe"));
  const Run bad = cli_err("help nosuch");
  CHECK(bad.code == 2);
  CHECK(has(bad.out, "unknown command 'nosuch'"));
  CHECK(cli("--version").out.rfind("cachekit-cli ", 0) == 0);
}

// None of these reach a server: options are checked before any backend is
// made (the address used is port 1, which nothing serves, in case one did).
TEST_CASE("cli: an unknown option or a missing value is named in the error") {
  for (const char* c : kSubcommands) {
    CAPTURE(c);
    const Run r = cli_err(std::string(c) + " k --servers 127.0.0.1:1 --bogus");
    CHECK(r.code == 2);
    CHECK(has(r.out, "unknown option '--bogus'"));
    const Run eq = cli_err(std::string(c) + " k --servers 127.0.0.1:1 --no-such=3");
    CHECK(eq.code == 2);
    CHECK(has(eq.out, "unknown option '--no-such=3'"));
  }
  // --ttl belongs to set and touch only.
  CHECK(has(cli_err("get k --servers 127.0.0.1:1 --ttl 5").out, "unknown option '--ttl'"));
  CHECK(has(cli_err("get k --servers 127.0.0.1:1 -x").out, "unknown option '-x'"));
  const Run missing = cli_err("get k --servers");
  CHECK(missing.code == 2);
  CHECK(has(missing.out, "'--servers' needs a value"));
  const Run retries = cli_err("get k --servers 127.0.0.1:1 --retries many");
  CHECK(retries.code == 2);
  CHECK(has(retries.out, "--retries"));
  const Run json = cli_err("config --servers '[\"a:1\", 2]'");
  CHECK(json.code == 2);
  CHECK(has(json.out, "JSON array"));
}

TEST_CASE("cli: --servers in both forms; with nothing configured, the default is named") {
  // config prints what the other commands would use, connecting nowhere.
  const Run list = cli("config --servers 10.0.0.1:11211,10.0.0.2:11212");
  const Run json = cli("config --servers '[\"10.0.0.1:11211\", \"10.0.0.2:11212\"]'");
  CHECK(list.code == 0);
  CHECK(json.code == 0);
  CHECK(has(list.out, "servers 10.0.0.1:11211,10.0.0.2:11212 (from --servers)"));
  CHECK(json.out == list.out);
  // An IPv6 spec also starts with '[': not taken for JSON.
  CHECK(has(cli("config --servers [::1]:11300,[::1]:11301").out, "servers [::1]:11300,[::1]:11301 (from --servers)"));
  CHECK(has(cli("config --servers '[\"[::1]:11300\"]'").out, "servers [::1]:11300 (from --servers)"));
  const Run env = shell(std::string("CACHEKIT_MEMCACHED_SERVERS='[\"10.0.0.3:1\"]' ") + CACHEKIT_CLI_PATH + " config");
  CHECK(has(env.out, "servers 10.0.0.3:1 (from CACHEKIT_MEMCACHED_SERVERS)"));
  const Run fallback = cli("config");
  CHECK(fallback.code == 0);
  CHECK(has(fallback.out, "servers 127.0.0.1:11211 (the default"));
  const Run empty_env = shell(std::string("CACHEKIT_MEMCACHED_SERVERS= ") + CACHEKIT_CLI_PATH + " config");
  CHECK(has(empty_env.out, "servers 127.0.0.1:11211 (the default"));

  // An error with nothing configured says the default was used. The
  // configuration is refused (timeout out of range) before any backend
  // exists, so nothing connects anywhere.
  const Run defaulted = cli_err("get k --timeout 99");
  CHECK(defaulted.code == 2);
  CHECK(has(defaulted.out, "timeout"));
  CHECK(has(defaulted.out, "used the default 127.0.0.1:11211"));
  // With servers named, no such note.
  const Run named = cli_err("get k --timeout 99 --servers 127.0.0.1:1");
  CHECK(named.code == 2);
  CHECK_FALSE(has(named.out, "default"));
}

TEST_CASE("cli: --protocol picks the protocol, from the option or the environment") {
  CHECK(has(cli("config").out, "protocol meta"));
  CHECK(has(cli("config --protocol text").out, "protocol text"));
  CHECK(has(cli("config --protocol=binary").out, "protocol binary"));
  CHECK(has(shell(std::string("CACHEKIT_MEMCACHED_PROTOCOL=text ") + CACHEKIT_CLI_PATH + " config").out, "protocol text"));
  const Run bad = cli_err("config --protocol ascii");
  CHECK(bad.code == 2);
  CHECK(has(bad.out, "--protocol: unknown protocol 'ascii' (expected meta, text or binary)"));
  CHECK(has(cli("help get").out, "--protocol NAME"));
}

TEST_CASE("cli: --tls and the TLS options") {
  CHECK(has(cli("config").out, "tls off"));
  CHECK(has(cli("help get").out, "--tls-ca-file F"));
#ifdef CACHEKIT_OPENSSL
  CHECK(has(cli("config --tls --tls-ca-file /etc/ca.crt").out, "tls on (ca /etc/ca.crt, client certificate none, verify on)"));
  CHECK(has(shell(std::string("CACHEKIT_MEMCACHED_TLS=true CACHEKIT_MEMCACHED_TLS_VERIFY=0 ") + CACHEKIT_CLI_PATH +
                  " config")
                .out,
            "verify OFF (unsafe)"));
  cktest::TlsCerts certs;
  cktest::MemcachedCluster server(1, certs.server_args());
  const std::string tls = " --servers " + server.spec(0) + " --tls --tls-ca-file " + certs.path("ca.crt");
  CHECK(cli("set cli-tls-key tls-value" + tls).code == 0);
  const Run got = cli("get cli-tls-key" + tls);
  CHECK(got.code == 0);
  CHECK(got.out == "tls-value\n");
  // Without --tls the TLS server drops the plaintext client: a server error.
  CHECK(cli("get cli-tls-key --servers " + server.spec(0) + " --retries 0 --timeout 0.3 --connect-timeout 0.3").code == 3);
#else
  const Run off = cli_err("config --tls");
  CHECK(off.code == 2);
  CHECK(has(off.out, "CACHEKIT_OPENSSL"));
#endif
}
#endif
