// The bad-input table of the README, row by row: what the user gets for
// each bad input, and that nothing reaches a server when the input is
// refused on the client.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/protocol_under_test.hpp"

#include "support/call_bound.hpp"
#include "support/fake_memcached.hpp"
#include "support/memcached_process.hpp"

using namespace std::chrono_literals;
using cachekit::ErrorKind;
using cachekit::MemcachedBackend;
using cachekit::MemcachedBackendConfig;
using Clock = std::chrono::steady_clock;

namespace {

// A fake server that records every request it is sent.
struct RecordingServer {
  std::mutex mu;
  std::vector<cktest::FakeRequest> requests;
  cktest::FakeMemcached server{[this](cktest::FakeConnection& c) {
    cktest::serve_healthy(c, "v", [this](const cktest::FakeRequest& r) {
      std::lock_guard<std::mutex> lock(mu);
      requests.push_back(r);
    });
  }};
  std::size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return requests.size();
  }
  cktest::FakeRequest last() {
    std::lock_guard<std::mutex> lock(mu);
    return requests.back();
  }
};

std::uint32_t be32(const std::string& s, std::size_t at) {
  return (std::uint32_t{static_cast<unsigned char>(s[at])} << 24) |
         (std::uint32_t{static_cast<unsigned char>(s[at + 1])} << 16) |
         (std::uint32_t{static_cast<unsigned char>(s[at + 2])} << 8) | static_cast<unsigned char>(s[at + 3]);
}

struct EnvVar {
  std::string name;
  EnvVar(std::string n, const char* value) : name(std::move(n)) { ::setenv(name.c_str(), value, 1); }
  ~EnvVar() { ::unsetenv(name.c_str()); }
};

}  // namespace

TEST_CASE("bad input: keys that memcached or a text-protocol client would choke on are refused before sending") {
  RecordingServer rec;
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = {rec.server.spec()};
  cfg.protocol = cachekit::Protocol::binary;  // the fake server speaks binary
  cfg.key_prefix = "app:";  // 4 bytes: counts toward the 250-byte limit
  MemcachedBackend backend(cfg);

  const std::vector<std::string> bad_keys = {
      "",                               // empty
      std::string(247, 'k'),            // 4 + 247 = 251 bytes with the prefix
      "has space", "cr\rkey", "lf\nkey", "crlf\r\n", std::string("nul\0key", 7), "tab\tkey",
      "bell\akey", "del\x7fkey",
  };
  for (const auto& key : bad_keys) {
    CAPTURE(key);
    auto g = backend.get(key);
    REQUIRE_FALSE(g);
    CHECK(g.error().kind() == ErrorKind::permanent);
    auto s = backend.set(key, "value");
    REQUIRE_FALSE(s);
    CHECK(s.error().kind() == ErrorKind::permanent);
    auto m = backend.get_many(std::vector<std::string>{"fine", key});
    CHECK_FALSE(m);
  }
  CHECK(rec.count() == 0);
  CHECK(rec.server.accepted() == 0);

  // The boundary itself is accepted: 4 + 246 = 250 bytes.
  const std::string longest(246, 'k');
  REQUIRE(backend.set(longest, "value"));
  CHECK(rec.last().key == "app:" + longest);
}

TEST_CASE("bad input: a value over max_item_size_bytes is refused before sending") {
  RecordingServer rec;
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = {rec.server.spec()};
  cfg.protocol = cachekit::Protocol::binary;  // the fake server speaks binary
  MemcachedBackend backend(cfg);
  // memcached counts the key ("big": 3 bytes) and a 59-byte item header.
  const std::size_t fits = cfg.max_item_size_bytes - 3 - 59;
  auto r = backend.set("big", std::string(fits + 1, 'x'));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::permanent);
  CHECK(r.error().key() == "big");
  CHECK(r.error().message() == "value of 1048515 bytes does not fit max_item_size_bytes (1048576): memcached's item "
                               "size limit also counts the 3-byte key and 59 bytes of item header, so at most "
                               "1048514 bytes fit");
  CHECK(rec.count() == 0);
  REQUIRE(backend.set("big", std::string(fits, 'x')));
  CHECK(rec.count() == 1);
  // Non-zero flags take four bytes more.
  auto flagged = backend.set("big", std::string(fits, 'x'), {}, 7);
  REQUIRE_FALSE(flagged);
  CHECK(flagged.error().message().find("63 bytes of item header, so at most 1048510 bytes fit") != std::string::npos);
  CHECK(rec.count() == 1);
}

TEST_CASE("bad input: the value size check matches what a stock memcached (-I 1m) accepts") {
  cktest::MemcachedCluster cluster(1);
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  MemcachedBackend backend(cfg);
  MemcachedBackendConfig unchecked_cfg = cfg;
  unchecked_cfg.max_item_size_bytes = 0;
  MemcachedBackend unchecked(unchecked_cfg);
  struct Case {
    std::string key;
    std::uint32_t flags;
  };
  for (const Case& c : {Case{"k", 0}, Case{"k", 9}, Case{std::string(250, 'w'), 0}, Case{std::string(250, 'w'), 9}}) {
    CAPTURE(c.key.size());
    CAPTURE(c.flags);
    const std::size_t fits = 1048576 - c.key.size() - 59 - (c.flags != 0 ? 4 : 0);
    const std::string largest(fits, 'x');
    REQUIRE(backend.set(c.key, largest, {}, c.flags));
    auto back = backend.get(c.key);
    REQUIRE(back);
    CHECK(back->value() == largest);
    // One byte more: refused by the client, and by the server too.
    auto over = backend.set(c.key, largest + "x", {}, c.flags);
    REQUIRE_FALSE(over);
    CHECK(over.error().message().find("does not fit max_item_size_bytes") != std::string::npos);
    auto server_says = unchecked.set(c.key, largest + "x", {}, c.flags);
    REQUIRE_FALSE(server_says);
    CHECK(server_says.error().kind() == ErrorKind::permanent);
    CHECK(server_says.error().message().find("too large") != std::string::npos);
  }
}

TEST_CASE("bad input: an over-long key error states the length and shows at most 64 bytes of the key") {
  RecordingServer rec;
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = {rec.server.spec()};
  cfg.protocol = cachekit::Protocol::binary;  // the fake server speaks binary
  MemcachedBackend backend(cfg);
  std::string key(300, 'a');
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>('a' + i % 26);
  auto r = backend.get(key);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::permanent);
  CHECK(r.error().key() == key.substr(0, 64));
  CHECK(r.error().to_string() == "permanent: key of 300 bytes is longer than the 250-byte limit (key= shows its first 64 "
                                 "bytes) (op=get, key=" + key.substr(0, 64) + ")");
  auto many = backend.get_many(std::vector<std::string>{"ok", key});
  REQUIRE_FALSE(many);
  CHECK(many.error().key() == key.substr(0, 64));
  CHECK(many.error().message().find("300 bytes") != std::string::npos);
  // With a prefix the length counts it.
  cfg.key_prefix = "app:";
  MemcachedBackend prefixed(cfg);
  auto p = prefixed.set(std::string(248, 'k'), "v");
  REQUIRE_FALSE(p);
  CHECK(p.error().message() == "key_prefix + key of 252 bytes is longer than the 250-byte limit (key= shows its first 64 bytes)");
  CHECK(p.error().key() == std::string(64, 'k'));
  CHECK(rec.count() == 0);
}

TEST_CASE("bad input: credentials sent to a server without authentication") {
  cktest::MemcachedCluster cluster(1);
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  cfg.username = "user";
  cfg.password = "secret";
  MemcachedBackend backend(cfg);
  auto r = backend.get("a");
  if (cfg.protocol == cachekit::Protocol::binary) {
    // SASL: the server names the missing support, and the hint the fix.
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == ErrorKind::authentication);
    const std::string prefix = "server " + cluster.spec(0) + " does not support SASL authentication (";
    CHECK(r.error().message().rfind(prefix, 0) == 0);
    CHECK(r.error().message().find("set protocol = meta or text") != std::string::npos);
    CHECK(r.error().to_string().find("(op=get, key=a, server=" + cluster.spec(0) + ")") != std::string::npos);
  } else {
    // The authfile login is an ordinary set to a server without -Y; it is
    // stored already expired, so the call goes on and nothing is left.
    REQUIRE(r);
    CHECK_FALSE(r->has_value());
    auto login_item = backend.get("cachekit:login");
    REQUIRE(login_item);
    CHECK_FALSE(login_item->has_value());
  }
  CHECK_FALSE(backend.server_marked_dead(0));
}

TEST_CASE("bad input: negative TTLs never expire, 40-day TTLs are clamped to 30 days") {
  RecordingServer rec;
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = {rec.server.spec()};
  cfg.protocol = cachekit::Protocol::binary;  // the fake server speaks binary
  MemcachedBackend backend(cfg);
  REQUIRE(backend.set("neg", "v", std::chrono::seconds(-5)));
  auto neg = rec.last();
  REQUIRE(neg.extras.size() == 8);  // flags, expiration
  CHECK(be32(neg.extras, 4) == 0);
  REQUIRE(backend.set("long", "v", std::chrono::hours(24 * 40)));
  CHECK(be32(rec.last().extras, 4) == 2592000u);
  REQUIRE(backend.touch("long", std::chrono::seconds(-1)));
  CHECK(be32(rec.last().extras, 0) == 0);
}

TEST_CASE("bad input: server specs and configuration values are rejected with the field and its range") {
  auto check_spec = [](const std::string& spec, const std::string& why) {
    CAPTURE(spec);
    auto parsed = cachekit::ServerSpec::parse(spec);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().kind() == ErrorKind::permanent);
    CHECK(parsed.error().message().find(why) != std::string::npos);
    MemcachedBackendConfig cfg = cktest::backend_config();
    cfg.servers = {spec};
    MemcachedBackend backend(cfg);
    auto r = backend.get("k");  // no connection attempt: the config is refused
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == ErrorKind::permanent);
  };
  check_spec("host:port", "port");
  check_spec("host:0", "port");
  check_spec("host:65536", "port");
  check_spec("host:11211:0", "weight");
  check_spec(":11211", "host");

  {
    MemcachedBackendConfig cfg = cktest::backend_config();
    cfg.servers = {"host:port"};
    auto v = cfg.validate();
    REQUIRE_FALSE(v);
    CHECK(v.error().message() == "servers: invalid server spec 'host:port': port 'port' is not a number (expected 1..65535)");
  }

  MemcachedBackendConfig dup = cktest::backend_config();
  dup.servers = {"127.0.0.1:11300", "127.0.0.1:11300"};
  CHECK_FALSE(dup.validate());
  MemcachedBackendConfig none = cktest::backend_config();
  none.servers = {};
  CHECK_FALSE(none.validate());

  MemcachedBackendConfig t = cktest::backend_config();
  t.timeout = 50ms;
  auto tv = t.validate();
  REQUIRE_FALSE(tv);
  CHECK(tv.error().message() == "timeout: 0.05 s is out of range (must be 0.1 .. 30 seconds)");
  t.timeout = 1000ms;
  t.connect_timeout = 31s;
  auto cv = t.validate();
  REQUIRE_FALSE(cv);
  CHECK(cv.error().message() == "connect_timeout: 31 s is out of range (must be 0.1 .. 30 seconds)");
  t.connect_timeout = 1s;
  t.max_pool_size = 0;
  auto pv = t.validate();
  REQUIRE_FALSE(pv);
  CHECK(pv.error().message() == "max_pool_size: 0 is out of range (must be 1 .. 100)");
}

TEST_CASE("bad input: malformed CACHEKIT_MEMCACHED_* variables name the variable and the accepted range") {
  {
    EnvVar v("CACHEKIT_MEMCACHED_SERVERS", "[\"mc1:11211\",");
    auto c = MemcachedBackendConfig::from_env();
    REQUIRE_FALSE(c);
    CHECK(c.error().message().find("CACHEKIT_MEMCACHED_SERVERS") != std::string::npos);
  }
  {
    EnvVar v("CACHEKIT_MEMCACHED_SERVERS", "mc1:11211");  // not JSON
    auto c = MemcachedBackendConfig::from_env();
    REQUIRE_FALSE(c);
    CHECK(c.error().message().find("CACHEKIT_MEMCACHED_SERVERS") != std::string::npos);
  }
  {
    EnvVar v("CACHEKIT_MEMCACHED_TIMEOUT", "0.01");
    auto c = MemcachedBackendConfig::from_env();
    REQUIRE_FALSE(c);
    CHECK(c.error().message().find("CACHEKIT_MEMCACHED_TIMEOUT") != std::string::npos);
    CHECK(c.error().message().find("0.1 .. 30") != std::string::npos);
  }
  {
    EnvVar v("CACHEKIT_MEMCACHED_MAX_POOL_SIZE", "0");
    auto c = MemcachedBackendConfig::from_env();
    REQUIRE_FALSE(c);
    CHECK(c.error().message().find("CACHEKIT_MEMCACHED_MAX_POOL_SIZE") != std::string::npos);
  }
  // Out of range says so; not a number says that.
  struct Case {
    const char* var;
    const char* value;
    const char* message;
  };
  const Case cases[] = {
      {"CACHEKIT_MEMCACHED_TIMEOUT", "45", "CACHEKIT_MEMCACHED_TIMEOUT: '45' is out of range (must be 0.1 .. 30 seconds)"},
      {"CACHEKIT_MEMCACHED_TIMEOUT", "99999999999999",
       "CACHEKIT_MEMCACHED_TIMEOUT: '99999999999999' is out of range (must be 0.1 .. 30 seconds)"},
      {"CACHEKIT_MEMCACHED_TIMEOUT", "1s", "CACHEKIT_MEMCACHED_TIMEOUT: '1s' is not a number of seconds (must be 0.1 .. 30 seconds)"},
      {"CACHEKIT_MEMCACHED_DEAD_TIMEOUT", "7200",
       "CACHEKIT_MEMCACHED_DEAD_TIMEOUT: '7200' is out of range (must be 0.1 .. 3600 seconds)"},
      {"CACHEKIT_MEMCACHED_MAX_POOL_SIZE", "500", "CACHEKIT_MEMCACHED_MAX_POOL_SIZE: '500' is out of range (must be 1 .. 100)"},
      {"CACHEKIT_MEMCACHED_MAX_POOL_SIZE", "ten", "CACHEKIT_MEMCACHED_MAX_POOL_SIZE: 'ten' is not an integer (must be 1 .. 100)"},
      {"CACHEKIT_MEMCACHED_RETRY_ATTEMPTS", "99999999999999999999999",
       "CACHEKIT_MEMCACHED_RETRY_ATTEMPTS: '99999999999999999999999' is out of range (must be 0 .. 10)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.var);
    CAPTURE(c.value);
    EnvVar v(c.var, c.value);
    auto r = MemcachedBackendConfig::from_env();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == ErrorKind::permanent);
    CHECK(r.error().message() == c.message);
  }
}

TEST_CASE("bad input: no server reachable is a transient error within the bound") {
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = {"127.0.0.1:" + std::to_string(cktest::free_port()),
                 "127.0.0.1:" + std::to_string(cktest::free_port())};
  cfg.connect_timeout = 200ms;
  cfg.timeout = 200ms;
  MemcachedBackend backend(cfg);
  for (int i = 0; i < 5; ++i) {
    const auto t0 = Clock::now();
    auto r = backend.get("k" + std::to_string(i));
    CHECK(Clock::now() - t0 <= cktest::call_bound(cfg) + 500ms);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == ErrorKind::transient);
  }
}
