// SASL PLAIN against memcached -S: right credentials work, a wrong password
// is an authentication error (not retried), and no password in messages.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <cachekit/cachekit.hpp>

#include "support/memcached_process.hpp"
#include "support/sasl_db.hpp"

TEST_CASE("sasl: PLAIN authentication against memcached -S") {
  cktest::SaslDb db;
  ::setenv("SASL_CONF_PATH", db.dir.c_str(), 1);
  cktest::MemcachedCluster cluster(1, {"-S"});
  ::unsetenv("SASL_CONF_PATH");

  cachekit::MemcachedBackendConfig cfg;
  cfg.servers = cluster.specs();
  cfg.protocol = cachekit::Protocol::binary;  // SASL is binary-only
  cfg.username = "alice";
  cfg.password = "secret-pw";
  cachekit::MemcachedBackend good(cfg);
  REQUIRE(good.set("k", "v"));
  CHECK(good.get("k")->value() == "v");
  auto h = good.health_check();
  CHECK(h[0].up);

  cfg.password = "wrong-pw";
  cachekit::MemcachedBackend bad(cfg);
  auto r = bad.get("k");
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == cachekit::ErrorKind::authentication);
  CHECK(r.error().to_string().find("wrong-pw") == std::string::npos);
  CHECK_FALSE(bad.server_marked_dead(0));  // credentials are not a server failure

  // A refused password is tried once per call, never in a retry loop: the
  // server counts exactly one failed authentication per call.
  auto auth_errors = [&]() -> long {
    for (const auto& s : good.stats()) {
      for (const auto& kv : s.stats) {
        if (kv.first == "auth_errors") return std::stol(kv.second);
      }
    }
    return -1;
  };
  const long before = auth_errors();
  REQUIRE(before >= 1);
  for (int i = 0; i < 3; ++i) {
    auto again = bad.get("k");
    REQUIRE_FALSE(again);
    CHECK(again.error().kind() == cachekit::ErrorKind::authentication);
    CHECK(again.error().message().find("wrong-pw") == std::string::npos);
  }
  CHECK(auth_errors() == before + 3);

  cachekit::MemcachedBackendConfig anon;
  anon.servers = cluster.specs();
  anon.protocol = cachekit::Protocol::binary;
  cachekit::MemcachedBackend none(anon);
  auto n = none.get("k");
  REQUIRE_FALSE(n);
  CHECK(n.error().kind() == cachekit::ErrorKind::authentication);
}
