// MemcachedBackendConfig: validate() and from_env() with CACHEKIT_MEMCACHED_*.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include <cachekit/cachekit.hpp>

using namespace std::chrono_literals;
using cachekit::MemcachedBackendConfig;

namespace {
const char* const kVars[] = {
    "CACHEKIT_MEMCACHED_SERVERS", "CACHEKIT_MEMCACHED_CONNECT_TIMEOUT", "CACHEKIT_MEMCACHED_TIMEOUT",
    "CACHEKIT_MEMCACHED_MAX_POOL_SIZE", "CACHEKIT_MEMCACHED_RETRY_ATTEMPTS", "CACHEKIT_MEMCACHED_KEY_PREFIX",
    "CACHEKIT_MEMCACHED_MAX_ITEM_SIZE_BYTES", "CACHEKIT_MEMCACHED_DISTRIBUTION", "CACHEKIT_MEMCACHED_DEAD_TIMEOUT",
    "CACHEKIT_MEMCACHED_SERVER_FAILURE_LIMIT", "CACHEKIT_MEMCACHED_REMOVE_FAILED_SERVERS",
    "CACHEKIT_MEMCACHED_USERNAME", "CACHEKIT_MEMCACHED_PASSWORD", "CACHEKIT_MEMCACHED_SPIN_WAIT_US",
    "CACHEKIT_MEMCACHED_PROTOCOL", "CACHEKIT_MEMCACHED_TLS", "CACHEKIT_MEMCACHED_TLS_CA_FILE",
    "CACHEKIT_MEMCACHED_TLS_CERT_FILE", "CACHEKIT_MEMCACHED_TLS_KEY_FILE", "CACHEKIT_MEMCACHED_TLS_SERVER_NAME",
    "CACHEKIT_MEMCACHED_TLS_VERIFY"};

// Clears every variable on entry and exit.
struct CleanEnv {
  CleanEnv() { clear(); }
  ~CleanEnv() { clear(); }
  static void clear() {
    for (const char* v : kVars) ::unsetenv(v);
  }
};

void expect_env_error(const char* var, const char* value, const char* range_text) {
  CleanEnv env;
  ::setenv(var, value, 1);
  auto c = MemcachedBackendConfig::from_env();
  CAPTURE(var);
  CAPTURE(value);
  REQUIRE_FALSE(c);
  CHECK(c.error().kind() == cachekit::ErrorKind::permanent);
  CHECK(c.error().message().find(var) != std::string::npos);
  CHECK(c.error().message().find(range_text) != std::string::npos);
}
}  // namespace

TEST_CASE("config: defaults validate; unset variables keep them") {
  CleanEnv env;
  MemcachedBackendConfig d;
  CHECK(d.validate());
  auto c = MemcachedBackendConfig::from_env();
  REQUIRE(c);
  CHECK(c->servers == std::vector<std::string>{"127.0.0.1:11211"});
  CHECK(c->connect_timeout == 2000ms);
  CHECK(c->timeout == 1000ms);
  CHECK(c->max_pool_size == 10);
  CHECK(c->retry_attempts == 2);
  CHECK(c->key_prefix.empty());
  CHECK(c->max_item_size_bytes == 1048576);
  CHECK(c->distribution == cachekit::Distribution::ketama);
  CHECK(c->spin_wait == 50us);
  CHECK(c->protocol == cachekit::Protocol::meta);
}

TEST_CASE("config: CACHEKIT_MEMCACHED_PROTOCOL picks the protocol; anything else names the choices") {
  for (const auto& [name, want] : {std::pair<const char*, cachekit::Protocol>{"meta", cachekit::Protocol::meta},
                                   {"text", cachekit::Protocol::text},
                                   {"binary", cachekit::Protocol::binary}}) {
    CleanEnv env;
    ::setenv("CACHEKIT_MEMCACHED_PROTOCOL", name, 1);
    auto c = MemcachedBackendConfig::from_env();
    REQUIRE(c);
    CHECK(c->protocol == want);
    CHECK(std::string(cachekit::to_string(want)) == name);
    cachekit::MemcachedBackend b(*c);
    CHECK(b.protocol() == want);
  }
  expect_env_error("CACHEKIT_MEMCACHED_PROTOCOL", "ascii", "expected meta, text or binary");
  expect_env_error("CACHEKIT_MEMCACHED_PROTOCOL", "META", "unknown protocol 'META'");
}

TEST_CASE("config: every variable is read") {
  CleanEnv env;
  ::setenv("CACHEKIT_MEMCACHED_SERVERS", R"(["mc1:11211", "mc2:11212:3", "[::1]:11213"])", 1);
  ::setenv("CACHEKIT_MEMCACHED_CONNECT_TIMEOUT", "0.25", 1);
  ::setenv("CACHEKIT_MEMCACHED_TIMEOUT", "1.5", 1);
  ::setenv("CACHEKIT_MEMCACHED_MAX_POOL_SIZE", "100", 1);
  ::setenv("CACHEKIT_MEMCACHED_RETRY_ATTEMPTS", "0", 1);
  ::setenv("CACHEKIT_MEMCACHED_KEY_PREFIX", "app:", 1);
  ::setenv("CACHEKIT_MEMCACHED_MAX_ITEM_SIZE_BYTES", "0", 1);
  ::setenv("CACHEKIT_MEMCACHED_DISTRIBUTION", "rendezvous", 1);
  ::setenv("CACHEKIT_MEMCACHED_DEAD_TIMEOUT", "30", 1);
  ::setenv("CACHEKIT_MEMCACHED_SERVER_FAILURE_LIMIT", "5", 1);
  ::setenv("CACHEKIT_MEMCACHED_REMOVE_FAILED_SERVERS", "false", 1);
  ::setenv("CACHEKIT_MEMCACHED_USERNAME", "user", 1);
  ::setenv("CACHEKIT_MEMCACHED_PASSWORD", "secret", 1);
  ::setenv("CACHEKIT_MEMCACHED_SPIN_WAIT_US", "0", 1);
  auto c = MemcachedBackendConfig::from_env();
  REQUIRE(c);
  CHECK(c->servers == std::vector<std::string>{"mc1:11211", "mc2:11212:3", "[::1]:11213"});
  CHECK(c->connect_timeout == 250ms);
  CHECK(c->timeout == 1500ms);
  CHECK(c->max_pool_size == 100);
  CHECK(c->retry_attempts == 0);
  CHECK(c->key_prefix == "app:");
  CHECK(c->max_item_size_bytes == 0);
  CHECK(c->distribution == cachekit::Distribution::rendezvous);
  CHECK(c->dead_timeout == 30000ms);
  CHECK(c->server_failure_limit == 5);
  CHECK_FALSE(c->remove_failed_servers);
  CHECK(c->username == "user");
  CHECK(c->password == "secret");
  CHECK(c->spin_wait == 0us);
}

TEST_CASE("config: malformed and out-of-range variables name the variable and the range") {
  expect_env_error("CACHEKIT_MEMCACHED_SERVERS", "mc1:11211", "JSON array");
  expect_env_error("CACHEKIT_MEMCACHED_SERVERS", R"(["mc1:11211",])", "JSON");
  expect_env_error("CACHEKIT_MEMCACHED_SERVERS", "[]", "at least one");
  expect_env_error("CACHEKIT_MEMCACHED_SERVERS", R"(["mc1:0"])", "mc1:0");
  expect_env_error("CACHEKIT_MEMCACHED_SERVERS", R"(["mc1:11211:0"])", "mc1:11211:0");
  expect_env_error("CACHEKIT_MEMCACHED_SERVERS", R"(["a:1", "a:1"])", "CACHEKIT_MEMCACHED_SERVERS");
  expect_env_error("CACHEKIT_MEMCACHED_CONNECT_TIMEOUT", "0.05", "0.1 .. 30 seconds");
  expect_env_error("CACHEKIT_MEMCACHED_CONNECT_TIMEOUT", "31", "0.1 .. 30 seconds");
  expect_env_error("CACHEKIT_MEMCACHED_TIMEOUT", "abc", "0.1 .. 30 seconds");
  expect_env_error("CACHEKIT_MEMCACHED_TIMEOUT", "-1", "0.1 .. 30 seconds");
  expect_env_error("CACHEKIT_MEMCACHED_TIMEOUT", "1e3", "0.1 .. 30 seconds");
  expect_env_error("CACHEKIT_MEMCACHED_TIMEOUT", "1.", "0.1 .. 30 seconds");
  expect_env_error("CACHEKIT_MEMCACHED_MAX_POOL_SIZE", "0", "1 .. 100");
  expect_env_error("CACHEKIT_MEMCACHED_MAX_POOL_SIZE", "101", "1 .. 100");
  expect_env_error("CACHEKIT_MEMCACHED_MAX_POOL_SIZE", "ten", "1 .. 100");
  expect_env_error("CACHEKIT_MEMCACHED_RETRY_ATTEMPTS", "11", "0 .. 10");
  expect_env_error("CACHEKIT_MEMCACHED_RETRY_ATTEMPTS", "-1", "0 .. 10");
  expect_env_error("CACHEKIT_MEMCACHED_MAX_ITEM_SIZE_BYTES", "99999999999999999999999", "0 ..");
  expect_env_error("CACHEKIT_MEMCACHED_DISTRIBUTION", "consistent", "ketama");
  expect_env_error("CACHEKIT_MEMCACHED_DEAD_TIMEOUT", "0", "0.1 .. 3600 seconds");
  expect_env_error("CACHEKIT_MEMCACHED_SERVER_FAILURE_LIMIT", "0", "1 .. 100");
  expect_env_error("CACHEKIT_MEMCACHED_REMOVE_FAILED_SERVERS", "maybe", "true, false");
  expect_env_error("CACHEKIT_MEMCACHED_KEY_PREFIX", "has space", "whitespace");
  expect_env_error("CACHEKIT_MEMCACHED_PASSWORD", "pw", "CACHEKIT_MEMCACHED_USERNAME");
  expect_env_error("CACHEKIT_MEMCACHED_SPIN_WAIT_US", "1001", "0 .. 1000");
  expect_env_error("CACHEKIT_MEMCACHED_SPIN_WAIT_US", "0.5", "0 .. 1000");
}

TEST_CASE("config: validate() names the field and range") {
  MemcachedBackendConfig c;
  c.timeout = 50ms;
  auto r = c.validate();
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("timeout") != std::string::npos);
  CHECK(r.error().message().find("0.1 .. 30") != std::string::npos);
  c = MemcachedBackendConfig{};
  c.servers.clear();
  CHECK_FALSE(c.validate());
  c = MemcachedBackendConfig{};
  c.max_pool_size = 0;
  CHECK(c.validate().error().message().find("max_pool_size") != std::string::npos);
  c = MemcachedBackendConfig{};
  c.key_prefix = std::string(250, 'p');
  CHECK_FALSE(c.validate());
  c = MemcachedBackendConfig{};
  c.spin_wait = std::chrono::microseconds(1001);
  CHECK(c.validate().error().message().find("spin_wait") != std::string::npos);
  c.spin_wait = std::chrono::microseconds(-1);
  CHECK_FALSE(c.validate());
  c = MemcachedBackendConfig{};
  c.servers = {"/tmp/mc.sock", "unix:/tmp/mc2.sock", "[::1]:11211", "localhost"};
  CHECK(c.validate());
}

TEST_CASE("config: a password never appears in errors") {
  CleanEnv env;
  ::setenv("CACHEKIT_MEMCACHED_PASSWORD", "hunter2-secret", 1);
  auto c = MemcachedBackendConfig::from_env();
  REQUIRE_FALSE(c);
  CHECK(c.error().to_string().find("hunter2") == std::string::npos);
}

TEST_CASE("config: the TLS variables and fields; tls without OpenSSL names CACHEKIT_OPENSSL") {
  expect_env_error("CACHEKIT_MEMCACHED_TLS", "yes", "true, false, 1, 0");
  expect_env_error("CACHEKIT_MEMCACHED_TLS_VERIFY", "off", "true, false, 1, 0");
  // A TLS setting without tls is refused, never ignored.
  expect_env_error("CACHEKIT_MEMCACHED_TLS_CA_FILE", "/etc/ca.crt", "tls is off");
  expect_env_error("CACHEKIT_MEMCACHED_TLS_SERVER_NAME", "cache.example.org", "tls is off");
  CleanEnv env;
  ::setenv("CACHEKIT_MEMCACHED_TLS", "true", 1);
  ::setenv("CACHEKIT_MEMCACHED_TLS_CA_FILE", "/etc/ca.crt", 1);
  ::setenv("CACHEKIT_MEMCACHED_TLS_CERT_FILE", "/etc/client.crt", 1);
  ::setenv("CACHEKIT_MEMCACHED_TLS_KEY_FILE", "/etc/client.key", 1);
  ::setenv("CACHEKIT_MEMCACHED_TLS_SERVER_NAME", "cache.example.org", 1);
  ::setenv("CACHEKIT_MEMCACHED_TLS_VERIFY", "0", 1);
  auto c = MemcachedBackendConfig::from_env();
  MemcachedBackendConfig unix_tls;
  unix_tls.servers = {"/tmp/memcached.sock"};
  unix_tls.tls = true;
  MemcachedBackendConfig half;
  half.tls = true;
  half.tls_cert_file = "/etc/client.crt";
#ifdef CACHEKIT_OPENSSL
  REQUIRE_MESSAGE(c, c.error().message());
  CHECK(c->tls);
  CHECK(c->tls_ca_file == "/etc/ca.crt");
  CHECK(c->tls_cert_file == "/etc/client.crt");
  CHECK(c->tls_key_file == "/etc/client.key");
  CHECK(c->tls_server_name == "cache.example.org");
  CHECK_FALSE(c->tls_verify);
  auto u = unix_tls.validate();
  REQUIRE_FALSE(u);
  CHECK(u.error().kind() == cachekit::ErrorKind::permanent);
  CHECK(u.error().message() == "tls: server '/tmp/memcached.sock' is a unix socket; TLS needs TCP servers");
  auto h = half.validate();
  REQUIRE_FALSE(h);
  CHECK(h.error().message().find("tls_key_file") == 0);
#else
  REQUIRE_FALSE(c);
  CHECK(c.error().kind() == cachekit::ErrorKind::permanent);
  CHECK(c.error().message().find("CACHEKIT_MEMCACHED_TLS: tls: this build has no TLS support") == 0);
  CHECK(c.error().message().find("CACHEKIT_OPENSSL") != std::string::npos);
  for (const auto* cfg : {&unix_tls, &half}) {
    auto r = cfg->validate();
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("CACHEKIT_OPENSSL") != std::string::npos);
  }
#endif
  MemcachedBackendConfig defaults;
  CHECK_FALSE(defaults.tls);
  CHECK(defaults.tls_verify);
}
