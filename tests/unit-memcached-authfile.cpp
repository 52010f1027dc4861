// Authfile login (memcached -Y) over text and meta: the right password
// works, a wrong or missing one is an authentication error. A client whose
// protocol cannot log in to the server (text or meta against SASL, binary
// against an authfile) gets an authentication error that names the fix.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <cachekit/cachekit.hpp>

#include "support/call_bound.hpp"
#include "support/fake_memcached.hpp"
#include "support/memcached_process.hpp"
#include "support/sasl_db.hpp"

using namespace std::chrono_literals;
using cachekit::ErrorKind;
using cachekit::MemcachedBackend;
using cachekit::MemcachedBackendConfig;
using cachekit::Protocol;

namespace {

using AuthClock = std::chrono::steady_clock;
constexpr auto kAuthMargin = 400ms;

// An authfile with one user in a temporary directory memcached (running as
// nobody) can read.
struct AuthFile {
  std::string dir, path;
  AuthFile() {
    char tmpl[] = "/tmp/cachekit-authfile-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    ::chmod(dir.c_str(), 0755);
    path = dir + "/authfile";
    FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("alice:secret-pw\nbob:other-pw\n", f);
    std::fclose(f);
    ::chmod(path.c_str(), 0644);
  }
  ~AuthFile() {
    std::remove(path.c_str());
    ::rmdir(dir.c_str());
  }
  AuthFile(const AuthFile&) = delete;
  AuthFile& operator=(const AuthFile&) = delete;
};


MemcachedBackendConfig authfile_config(const cktest::MemcachedCluster& cluster, Protocol protocol,
                                       const std::string& user, const std::string& password) {
  MemcachedBackendConfig cfg;
  cfg.servers = cluster.specs();
  cfg.protocol = protocol;
  cfg.username = user;
  cfg.password = password;
  cfg.timeout = 500ms;
  cfg.connect_timeout = 500ms;
  return cfg;
}

// A call that must fail with an authentication error, in time, without the
// password in its message; returns the message.
template <class Call>
std::string expect_auth_error(const MemcachedBackendConfig& cfg, const std::string& password, Call&& call) {
  MemcachedBackend backend(cfg);
  REQUIRE(backend.status());
  const auto t0 = AuthClock::now();
  auto r = call(backend);
  CHECK(AuthClock::now() - t0 <= cktest::call_bound(cfg) + kAuthMargin);
  REQUIRE_FALSE(r);
  const std::string message = r.error().to_string();
  CAPTURE(message);
  CHECK(r.error().kind() == ErrorKind::authentication);
  if (!password.empty()) CHECK(message.find(password) == std::string::npos);
  CHECK_FALSE(backend.server_marked_dead(0));  // credentials are not a server failure
  return message;
}

}  // namespace

TEST_CASE("authfile: memcached -Y starts and takes the text login (harness)") {
  AuthFile file;
  cktest::MemcachedCluster cluster(1, {"-Y", file.path});
  const std::string ok = "STORED\r\nVERSION ";
  CHECK(cktest::exchange_bytes(cluster.port(0), "set x 0 0 15\r\nalice secret-pw\r\nversion\r\n", ok.size()) == ok);
  const std::string refused = "CLIENT_ERROR authentication failure\r\n";
  CHECK(cktest::exchange_bytes(cluster.port(0), "set x 0 0 14\r\nalice wrong-pw\r\n", refused.size()) == refused);
  const std::string anonymous = "CLIENT_ERROR unauthenticated\r\n";
  CHECK(cktest::exchange_bytes(cluster.port(0), "version\r\n", anonymous.size()) == anonymous);
}

TEST_CASE("authfile: text and meta log in with the right password, refuse a wrong or missing one") {
  AuthFile file;
  cktest::MemcachedCluster cluster(1, {"-Y", file.path});
  for (Protocol protocol : {Protocol::text, Protocol::meta}) {
    const std::string name = cachekit::to_string(protocol);
    CAPTURE(name);
    {
      MemcachedBackend good(authfile_config(cluster, protocol, "alice", "secret-pw"));
      REQUIRE(good.status());
      const std::string key = "auth-" + name;
      auto stored = good.set(key, "value-" + name, 0s, 3);
      REQUIRE_MESSAGE(stored, stored.error().to_string());
      auto got = good.gets(key);
      REQUIRE_MESSAGE(got, got.error().to_string());
      REQUIRE(got->has_value());
      CHECK((*got)->value == "value-" + name);
      CHECK((*got)->flags == 3);
      auto many = good.get_many(std::vector<std::string>{key, "auth-absent"});
      REQUIRE(many);
      REQUIRE(many->size() == 2);
      CHECK(((*many)[0] && *(*many)[0] == "value-" + name));
      CHECK_FALSE((*many)[1].has_value());
      // A second user of the same file logs in on its own connections.
      MemcachedBackend other(authfile_config(cluster, protocol, "bob", "other-pw"));
      auto seen = other.get(key);
      REQUIRE_MESSAGE(seen, seen.error().to_string());
      CHECK((seen->has_value() && **seen == "value-" + name));
    }
    expect_auth_error(authfile_config(cluster, protocol, "alice", "wrong-pw"), "wrong-pw",
                      [](MemcachedBackend& b) { return b.get("auth-k"); });
    expect_auth_error(authfile_config(cluster, protocol, "nobody-here", "secret-pw"), "secret-pw",
                      [](MemcachedBackend& b) { return b.set("auth-k", "v"); });
    expect_auth_error(authfile_config(cluster, protocol, "", ""), "",
                      [](MemcachedBackend& b) { return b.get("auth-k"); });
  }
}

TEST_CASE("authfile: binary against memcached -Y is an authentication error naming the protocol") {
  AuthFile file;
  cktest::MemcachedCluster cluster(1, {"-Y", file.path});
  const std::string message =
      expect_auth_error(authfile_config(cluster, Protocol::binary, "alice", "secret-pw"), "secret-pw",
                        [](MemcachedBackend& b) { return b.get("auth-k"); });
  CHECK(message.find("protocol") != std::string::npos);
}

TEST_CASE("authfile: text or meta with a username against SASL (memcached -S) names the protocol") {
  cktest::SaslDb db;
  ::setenv("SASL_CONF_PATH", db.dir.c_str(), 1);
  cktest::MemcachedCluster cluster(1, {"-S"});
  ::unsetenv("SASL_CONF_PATH");
  for (Protocol protocol : {Protocol::meta, Protocol::text}) {
    const std::string name = cachekit::to_string(protocol);
    CAPTURE(name);
    const std::string message =
        expect_auth_error(authfile_config(cluster, protocol, "alice", "secret-pw"), "secret-pw",
                          [](MemcachedBackend& b) { return b.get("auth-k"); });
    CHECK(message.find("protocol") != std::string::npos);
  }
  // The same credentials over binary log in: the server and its users are fine.
  MemcachedBackend binary(authfile_config(cluster, Protocol::binary, "alice", "secret-pw"));
  REQUIRE(binary.set("auth-k", "v"));
  auto got = binary.get("auth-k");
  REQUIRE(got);
  CHECK((got->has_value() && **got == "v"));
}
