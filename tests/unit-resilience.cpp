// Real memcached servers under failure and load: kill -9 mid-run, restart
// empty, evictions, idle connections closed by the server, pool exhaustion.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/protocol_under_test.hpp"

#include "support/call_bound.hpp"
#include "support/memcached_process.hpp"

using namespace std::chrono_literals;
using cachekit::ErrorKind;
using cachekit::MemcachedBackend;
using cachekit::MemcachedBackendConfig;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kResilienceMargin = 500ms;

using cktest::call_bound;

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// A value names its key and carries a checksum, so a value read under the
// wrong key or corrupted in transit is detected.
std::string resilience_value_for(const std::string& key, std::uint64_t seq) {
  std::string body = key + "#" + std::to_string(seq) + "#" + std::string(seq % 200, 'x');
  return body + "#" + std::to_string(fnv1a(body));
}

bool resilience_value_ok(const std::string& key, const std::string& v) {
  const auto last = v.rfind('#');
  if (last == std::string::npos) return false;
  const std::string body = v.substr(0, last);
  return body.rfind(key + "#", 0) == 0 && v.substr(last + 1) == std::to_string(fnv1a(body));
}

// The first key of the form prefix-N that a ring over specs puts on server want.
std::string resilience_key_on(const std::vector<std::string>& specs, std::size_t want, const std::string& prefix) {
  std::vector<cachekit::ServerSpec> servers;
  for (const auto& s : specs) servers.push_back(*cachekit::ServerSpec::parse(s));
  auto ring = cachekit::Ring::build(servers);
  REQUIRE(ring);
  for (int i = 0;; ++i) {
    std::string k = prefix + "-" + std::to_string(i);
    if (ring->server_for(k) == want) return k;
  }
}

}  // namespace

TEST_CASE("resilience: kill -9 one of three servers under 8 threads, restart it, no wrong value" *
          doctest::test_suite("concurrency")) {
  cktest::MemcachedCluster cluster(3);
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  cfg.timeout = 300ms;
  cfg.connect_timeout = 300ms;
  cfg.retry_attempts = 2;
  cfg.server_failure_limit = 2;
  cfg.dead_timeout = 1500ms;
  MemcachedBackend backend(cfg);

  std::atomic<bool> stop{false};
  std::atomic<long> ops{0}, errors{0}, wrong{0}, slow{0};
  std::atomic<long> max_us{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(t) * 7919u + 1);
      std::uint64_t seq = 0;
      while (!stop.load()) {
        const std::string key = "t" + std::to_string(t) + "-k" + std::to_string(rng() % 300);
        const auto t0 = Clock::now();
        bool failed = false;
        switch (rng() % 4) {
          case 0:
          case 1: {
            auto r = backend.get(key);
            if (!r) failed = true;
            else if (r->has_value() && !resilience_value_ok(key, **r)) wrong.fetch_add(1);
            break;
          }
          case 2: failed = !backend.set(key, resilience_value_for(key, ++seq), 60s); break;
          default: failed = !backend.remove(key); break;
        }
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
        long prev = max_us.load();
        while (us > prev && !max_us.compare_exchange_weak(prev, us)) {
        }
        if (Clock::now() - t0 > call_bound(cfg) + kResilienceMargin) slow.fetch_add(1);
        if (failed) errors.fetch_add(1);
        ops.fetch_add(1);
      }
    });
  }
  auto progress = [&](long more) {
    const long target = ops.load() + more;
    return cktest::wait_until([&] { return ops.load() >= target; }, 30s);
  };
  REQUIRE(progress(3000));

  const std::string moved = resilience_key_on(cluster.specs(), 1, "moved");
  cluster.kill(1);
  // The dead server's keys go to the others: a write and read of a key that
  // lived on it succeed again once the server is taken out of the ring.
  CHECK(cktest::wait_until(
      [&] {
        if (!backend.set(moved, resilience_value_for(moved, 1))) return false;
        auto r = backend.get(moved);
        return r && r->has_value() && resilience_value_ok(moved, **r);
      },
      10s));
  CHECK(backend.server_marked_dead(1));
  REQUIRE(progress(3000));

  cluster.restart(1);
  // After the dead timeout the server is tried again and rejoins: the key
  // routes back to it, and a write lands on that very server.
  CHECK(cktest::wait_until(
      [&] {
        auto where = backend.server_for(moved);
        return where && *where == 1 && backend.set(moved, resilience_value_for(moved, 2));
      },
      cfg.dead_timeout + 10s));
  MemcachedBackendConfig direct_cfg = cktest::backend_config();
  direct_cfg.servers = {cluster.spec(1)};
  MemcachedBackend direct(direct_cfg);
  auto on_1 = direct.get(moved);
  REQUIRE(on_1);
  REQUIRE(on_1->has_value());
  CHECK(**on_1 == resilience_value_for(moved, 2));
  REQUIRE(progress(3000));

  stop.store(true);
  for (auto& th : threads) th.join();
  MESSAGE("ops=" << ops.load() << " errors=" << errors.load() << " max_ms=" << max_us.load() / 1000);
  CHECK(wrong.load() == 0);
  CHECK(slow.load() == 0);
  CHECK(max_us.load() <= std::chrono::duration_cast<std::chrono::microseconds>(call_bound(cfg) + kResilienceMargin).count());
}

TEST_CASE("resilience: a server restarted with an empty cache gives misses, not errors") {
  cktest::MemcachedCluster cluster(1);
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  MemcachedBackend backend(cfg);
  for (int i = 0; i < 20; ++i) REQUIRE(backend.set("k" + std::to_string(i), "v"));
  cluster.restart(0);  // kill -9 and start empty on the same port
  for (int i = 0; i < 20; ++i) {
    auto r = backend.get("k" + std::to_string(i));
    REQUIRE_MESSAGE(r, r.error().to_string());
    CHECK_FALSE(r->has_value());
  }
}

TEST_CASE("resilience: a small server filled past capacity evicts; evictions are misses, not errors") {
  cktest::MemcachedCluster cluster(1, {"-m", "8"});
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  MemcachedBackend backend(cfg);
  const std::string big(100 * 1024, 'v');
  const int n = 300;  // ~30 MB into an 8 MB cache
  for (int i = 0; i < n; ++i) {
    auto r = backend.set("fill-" + std::to_string(i), big);
    REQUIRE_MESSAGE(r, r.error().to_string());
  }
  int misses = 0, hits = 0;
  for (int i = 0; i < n; ++i) {
    auto r = backend.get("fill-" + std::to_string(i));
    REQUIRE_MESSAGE(r, r.error().to_string());
    if (r->has_value()) {
      CHECK(**r == big);
      ++hits;
    } else {
      ++misses;
    }
  }
  CHECK(misses > 0);
  CHECK(hits > 0);
  CHECK(std::stol(cktest::server_stats(cluster.port(0))["evictions"]) > 0);
}

TEST_CASE("resilience: idle connections closed by the server are replaced without a user-visible error") {
  cktest::MemcachedCluster cluster(1, {"-o", "idle_timeout=1"});
  for (int retries : {2, 0}) {
    CAPTURE(retries);
    MemcachedBackendConfig cfg = cktest::backend_config();
    cfg.servers = cluster.specs();
    cfg.retry_attempts = retries;
    MemcachedBackend backend(cfg);
    REQUIRE(backend.set("idle", "v"));
    REQUIRE(backend.open_connections(0) >= 1);
    const long kicks = std::stol(cktest::server_stats(cluster.port(0))["idle_kicks"]);
    // Wait until the server has closed our idle pooled connection.
    REQUIRE(cktest::wait_until(
        [&] { return std::stol(cktest::server_stats(cluster.port(0))["idle_kicks"]) > kicks; }, 15s));
    auto r = backend.get("idle");
    REQUIRE_MESSAGE(r, r.error().to_string());
    REQUIRE(r->has_value());
    CHECK(**r == "v");
  }
}

TEST_CASE("resilience: 64 threads on a pool of 2 get a value or a timeout within the bound" *
          doctest::test_suite("concurrency")) {
  cktest::MemcachedCluster cluster(1);
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  cfg.max_pool_size = 2;
  cfg.timeout = 200ms;
  MemcachedBackend backend(cfg);
  REQUIRE(backend.set("shared", std::string(1000, 's')));
  std::atomic<long> values{0}, timeouts{0}, other{0}, slow{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 64; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        const auto t0 = Clock::now();
        auto r = backend.get("shared");
        if (Clock::now() - t0 > call_bound(cfg) + kResilienceMargin) slow.fetch_add(1);
        if (r && r->has_value() && (*r)->size() == 1000) values.fetch_add(1);
        else if (!r && r.error().kind() == ErrorKind::timeout) timeouts.fetch_add(1);
        else other.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();  // a deadlock would hang here (ctest timeout)
  MESSAGE("values=" << values.load() << " timeouts=" << timeouts.load());
  CHECK(values.load() + timeouts.load() == 64 * 50);
  CHECK(values.load() > 0);
  CHECK(other.load() == 0);
  CHECK(slow.load() == 0);
  CHECK(backend.open_connections(0) <= 2);
}
