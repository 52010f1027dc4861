// The buffer-reusing reads: get(key, std::string&) and
// get_many(keys, std::vector<std::optional<std::string>>&) give the same
// answers as the allocating ones, whatever the buffers held before.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/memcached_process.hpp"
#include "support/test_backends.hpp"

using namespace std::chrono_literals;
using cachekit::ErrorKind;
using cachekit::MemcachedBackend;
using cachekit::MemcachedBackendConfig;

namespace {
std::string value_of(int i) { return std::string(static_cast<std::size_t>(i % 90), 'a' + static_cast<char>(i % 26)) + std::to_string(i); }
}  // namespace

TEST_CASE("reuse: get into a caller's string") {
  cktest::MemcachedCluster cluster(2);
  MemcachedBackend b(cktest::prefixed_config(cluster, "ri:"));
  REQUIRE(b.set("long", std::string(300, 'L')));
  REQUIRE(b.set("short", "s"));
  REQUIRE(b.set("empty", ""));

  std::string v = "stale contents";
  auto r = b.get("long", v);
  REQUIRE(r);
  CHECK(*r);
  CHECK(v == std::string(300, 'L'));
  const auto cap = v.capacity();
  const char* buf = v.data();

  r = b.get("short", v);  // shorter: same buffer, no new allocation
  REQUIRE(r);
  CHECK(*r);
  CHECK(v == "s");
  CHECK(v.capacity() == cap);
  CHECK(v.data() == buf);

  r = b.get("empty", v);
  REQUIRE(r);
  CHECK(*r);
  CHECK(v.empty());

  v = "left over";
  r = b.get("missing", v);
  REQUIRE(r);
  CHECK_FALSE(*r);
  CHECK(v.empty());  // a miss clears

  v = "kept";
  r = b.get("bad key", v);  // refused before anything is sent
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::permanent);
  CHECK(r.error().operation() == "get");
  CHECK(v == "kept");  // untouched on an error

  // Same answers as the allocating get, for many keys and sizes.
  for (int i = 0; i < 200; ++i) REQUIRE(b.set("k" + std::to_string(i), value_of(i)));
  for (int i = 0; i < 220; ++i) {
    const std::string k = "k" + std::to_string(i);
    auto a = b.get(k);
    auto into = b.get(k, v);
    REQUIRE(a);
    REQUIRE(into);
    CHECK(a->has_value() == *into);
    if (*into) {
      CHECK(**a == v);
    } else {
      CHECK(v.empty());
    }
  }
}

TEST_CASE("reuse: get_many into a caller's vector") {
  cktest::MemcachedCluster cluster(3);
  MemcachedBackend b(cktest::prefixed_config(cluster, "rm:"));
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < 300; ++i) items.emplace_back("key-" + std::to_string(i), value_of(i));
  auto failed = b.set_many(items);
  REQUIRE(failed);
  REQUIRE(failed->empty());

  std::vector<std::string> keys;
  for (int i = 0; i < 400; ++i) keys.push_back("key-" + std::to_string((i * 7) % 350));  // some misses, repeats
  auto expected = b.get_many(keys);
  REQUIRE(expected);

  // Start from slots full of stale strings of every size, more slots than keys.
  std::vector<std::optional<std::string>> values(keys.size() + 50, std::optional<std::string>(std::string(120, '?')));
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    REQUIRE(b.get_many(keys, values));
    REQUIRE(values.size() == keys.size());
    CHECK(values == *expected);
  }

  // A shorter list after a longer one; then the empty list.
  const std::vector<std::string> few{"key-1", "nope", "key-2"};
  REQUIRE(b.get_many(few, values));
  REQUIRE(values.size() == 3);
  CHECK(values[0] == value_of(1));
  CHECK_FALSE(values[1].has_value());
  CHECK(values[2] == value_of(2));
  REQUIRE(b.get_many(std::vector<std::string>{}, values));
  CHECK(values.empty());

  // A bad key: nothing sent, a permanent error, the vector emptied.
  values.assign(4, std::optional<std::string>("x"));
  auto bad = b.get_many(std::vector<std::string>{"key-1", "bad key"}, values);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind() == ErrorKind::permanent);
  CHECK(values.empty());

  // Array and initializer-list forms of the allocating call agree.
  auto il = b.get_many({std::string_view("key-3"), std::string_view("nope")});
  REQUIRE(il);
  REQUIRE(il->size() == 2);
  CHECK((*il)[0] == value_of(3));
  CHECK_FALSE((*il)[1].has_value());
}

TEST_CASE("reuse: after failover, keys that moved read as misses, never as stale values") {
  cktest::MemcachedCluster cluster(3);
  MemcachedBackendConfig cfg = cktest::prefixed_config(cluster, "");
  cfg.timeout = 500ms;
  cfg.connect_timeout = 500ms;
  cfg.server_failure_limit = 1;
  cfg.retry_attempts = 2;
  cfg.dead_timeout = 60000ms;  // stays out for the whole test
  MemcachedBackend b(cfg);
  std::vector<std::string> keys;
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < 60; ++i) {
    keys.push_back("fo-" + std::to_string(i));
    items.emplace_back(keys.back(), value_of(i));
  }
  auto failed = b.set_many(items);
  REQUIRE(failed);
  REQUIRE(failed->empty());
  std::vector<bool> on_victim;
  for (const auto& k : keys) on_victim.push_back(b.server_for(k).value() == 1);
  REQUIRE(std::count(on_victim.begin(), on_victim.end(), true) > 0);

  std::vector<std::optional<std::string>> values;
  REQUIRE(b.get_many(keys, values));
  for (std::size_t i = 0; i < keys.size(); ++i) REQUIRE(values[i] == value_of(static_cast<int>(i)));

  cluster.kill(1);
  // The call that meets the dead server retries its keys on the others.
  REQUIRE(cktest::wait_until([&] { return b.get_many(keys, values).ok(); }, 10s));
  REQUIRE(values.size() == keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    CAPTURE(keys[i]);
    if (on_victim[i]) {
      CHECK_FALSE(values[i].has_value());
    } else {
      CHECK(values[i] == value_of(static_cast<int>(i)));
    }
  }
}
