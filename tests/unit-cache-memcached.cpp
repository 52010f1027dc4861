// The facade over real memcached servers: hits and misses, stampede
// protection with a memcached lease, a server going away mid-run.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include "support/protocol_under_test.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "support/memcached_process.hpp"
#include "support/stampede_run.hpp"

using namespace std::chrono_literals;

namespace {
std::shared_ptr<cachekit::MemcachedBackend> backend_for(const cktest::MemcachedCluster& c) {
  cachekit::MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = c.specs();
  cfg.timeout = 500ms;
  cfg.connect_timeout = 500ms;
  cfg.retry_attempts = 0;
  auto b = std::make_shared<cachekit::MemcachedBackend>(cfg);
  REQUIRE(b->status());
  return b;
}
}  // namespace

TEST_CASE("cache over memcached: miss, hit, invalidate, L1") {
  cktest::MemcachedCluster cluster(2);
  auto backend = backend_for(cluster);
  cachekit::CacheOptions o;
  o.ns = "tests";
  o.operation = "memcached";
  o.ttl = 60s;
  int calls = 0;
  auto f = cachekit::cache(backend, o, [&](std::int64_t x) { ++calls; return std::to_string(x * x); });
  for (std::int64_t x = 0; x < 20; ++x) CHECK(f(x) == std::to_string(x * x));
  for (std::int64_t x = 0; x < 20; ++x) CHECK(f(x) == std::to_string(x * x));
  CHECK(calls == 20);
  CHECK(f.stats().hits == 20);
  CHECK(f.stats().errors == 0);
  CHECK(f.invalidate(3));
  CHECK(f(3) == "9");
  CHECK(calls == 21);

  o.l1.enabled = true;
  auto g = cachekit::cache(backend, o, [&](std::int64_t x) { ++calls; return std::to_string(x * x); });
  CHECK(g(5) == "25");  // from memcached, then kept in L1
  CHECK(g(5) == "25");
  CHECK(g.stats().l1_hits == 1);
  CHECK(calls == 21);
}

TEST_CASE("cache over memcached: a dead server never fails the call") {
  cktest::MemcachedCluster cluster(1);
  auto backend = backend_for(cluster);
  cachekit::CacheOptions o;
  o.ns = "tests";
  o.operation = "dead";
  int reported = 0;
  o.on_error = [&](const cachekit::Error&) { ++reported; };
  int calls = 0;
  auto f = cachekit::cache(backend, o, [&](int x) { ++calls; return x + 1; });
  CHECK(f(1) == 2);
  CHECK(f(1) == 2);
  CHECK(calls == 1);
  cluster.kill(0);
  const auto start = std::chrono::steady_clock::now();
  CHECK(f(1) == 2);
  CHECK(f(2) == 3);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(calls == 3);
  CHECK(f.stats().errors >= 2);
  CHECK(reported == static_cast<int>(f.stats().errors));
  cluster.restart(0);
  CHECK(cktest::wait_until([&] { return f(7) == 8 && f.stats().hits >= 2; }, 15s));
}

TEST_CASE("cache over memcached: stampede of 16 threads computes once" * doctest::test_suite("concurrency")) {
  cktest::MemcachedCluster cluster(2);
  auto backend = backend_for(cluster);
  cktest::StampedeSettings s;
  s.compute_time = 300ms;
  s.max_wait = 3000ms;
  s.operation = "stampede-memcached";
  const auto r = cktest::run_stampede(backend, s);
  CHECK(r.calls == 1);
  CHECK(r.wrong_values == 0);
  CHECK(r.stats.errors == 0);
  CHECK(r.stats.stampede_waits == 15);
  CHECK(r.longest_wait <= s.max_wait + 300ms);
  auto lock = backend->get(r.key + ":lock");
  REQUIRE(lock);
  CHECK_FALSE(lock->has_value());

  SUBCASE("waiters stop at the bound") {
    cktest::StampedeSettings slow;
    slow.compute_time = 1500ms;
    slow.max_wait = 250ms;
    slow.operation = "stampede-memcached-slow";
    const auto r2 = cktest::run_stampede(backend, slow);
    CHECK(r2.wrong_values == 0);
    CHECK(r2.calls == 1 + static_cast<int>(r2.stats.stampede_timeouts));
    CHECK(r2.longest_wait <= slow.max_wait + 300ms);
  }
}
