// A MemcachedBackend with a key_prefix under the facade: cache() and
// Cache<T> cache with no extra option, and the keys on the server are
// prefix + ns:op:hash, as cachekit's other SDKs write them.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "support/memcached_process.hpp"
#include "support/test_backends.hpp"

using namespace std::chrono_literals;


TEST_CASE("cache: a prefixed memcached backend caches, keys are prefix + ns:op:hash") {
  // One server: an unprefixed client finds "myapp:..." where the prefixed one
  // put it (with several, the prefixed one routes by the key without prefix).
  cktest::MemcachedCluster cluster(1);
  auto backend = std::make_shared<cachekit::MemcachedBackend>(cktest::prefixed_config(cluster, "myapp:"));
  REQUIRE(backend->status());
  cachekit::MemcachedBackend unprefixed(cktest::prefixed_config(cluster, ""));

  int calls = 0;
  auto errors = std::make_shared<int>(0);
  cachekit::CacheOptions o = cktest::users_get_user();
  o.on_error = [errors](const cachekit::Error&) { ++*errors; };
  auto get_user = cachekit::cache(backend, o, [&](std::int64_t id) {
    ++calls;
    return "user" + std::to_string(id);
  });
  CHECK(get_user(42) == "user42");
  CHECK(get_user(42) == "user42");
  CHECK(calls == 1);
  CHECK(get_user.stats().hits == 1);
  CHECK(get_user.stats().errors == 0);
  CHECK(*errors == 0);

  // The facade's key is the interop key; the backend puts its prefix in front.
  const std::string interop = cachekit::interop_key("users", "get_user", 42).value();
  CHECK(get_user.key(42).value() == interop);
  auto stored = unprefixed.get("myapp:" + interop);
  REQUIRE(stored);
  REQUIRE(stored->has_value());
  CHECK(cachekit::from_msgpack<std::string>(**stored).value() == "user42");
  CHECK_FALSE(unprefixed.get(interop)->has_value());

  // By reference too.
  auto by_ref = cachekit::cache(*backend, o, [&](std::int64_t id) {
    ++calls;
    return "other" + std::to_string(id);
  });
  CHECK(by_ref(42) == "user42");  // the same entry
  CHECK(calls == 1);

  // Cache<T> over the same backend: myapp: + ns:key.
  cachekit::CacheOptions so;
  so.ns = "sessions";
  so.on_error = o.on_error;
  cachekit::Cache<std::vector<std::string>> sessions(backend, so);
  CHECK(sessions.set("alice", {"home"}));
  CHECK(sessions.get("alice") == std::vector<std::string>{"home"});
  auto raw = unprefixed.get("myapp:sessions:alice");
  REQUIRE(raw);
  CHECK(raw->has_value());
  CHECK(*errors == 0);
}

TEST_CASE("cache: CACHEKIT_MEMCACHED_KEY_PREFIX applies to the facade's keys") {
  cktest::MemcachedCluster cluster(1);
  ::setenv("CACHEKIT_MEMCACHED_SERVERS", ("[\"" + cluster.spec(0) + "\"]").c_str(), 1);
  ::setenv("CACHEKIT_MEMCACHED_KEY_PREFIX", "myapp:", 1);
  auto made = cachekit::make_default_backend();
  ::unsetenv("CACHEKIT_MEMCACHED_SERVERS");
  ::unsetenv("CACHEKIT_MEMCACHED_KEY_PREFIX");
  REQUIRE(made);
  int calls = 0;
  auto square = cachekit::cache(*made, cktest::users_get_user(), [&](int x) {
    ++calls;
    return x * x;
  });
  CHECK(square(9) == 81);
  CHECK(square(9) == 81);
  CHECK(calls == 1);
  CHECK(square.stats().errors == 0);
  cachekit::MemcachedBackend unprefixed(cktest::prefixed_config(cluster, ""));
  CHECK(unprefixed.get("myapp:" + square.key(9).value())->has_value());
}

TEST_CASE("memcached backend: set_many takes a braced list of pairs, as get_many does") {
  cktest::MemcachedCluster cluster(2);
  cachekit::MemcachedBackend mc(cktest::prefixed_config(cluster, "sm:"));
  auto failed = mc.set_many({{"a", "1"}, {"b", "2"}});
  REQUIRE(failed);
  CHECK(failed->empty());
  auto got = mc.get_many({"a", "b", "c"});
  REQUIRE(got);
  REQUIRE(got->size() == 3);
  CHECK((*got)[0] == std::optional<std::string>("1"));
  CHECK((*got)[1] == std::optional<std::string>("2"));
  CHECK_FALSE((*got)[2].has_value());
  // With a TTL and flags, and a bad key reported by index.
  auto some = mc.set_many({{"c", "3"}, {"bad key", "4"}}, 60s, 7u);
  REQUIRE(some);
  REQUIRE(some->size() == 1);
  CHECK((*some)[0].index == 1);
  auto item = mc.gets("c");
  REQUIRE(item);
  REQUIRE(item->has_value());
  CHECK((*item)->value == "3");
  CHECK((*item)->flags == 7u);
}
