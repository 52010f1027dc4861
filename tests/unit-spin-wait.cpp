// Busy-polling before a wait sleeps (MemcachedBackendConfig::spin_wait):
// the back-off policy of a connection, and replies slower than the spin
// budget, which must still arrive through the sleeping wait.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/protocol_under_test.hpp"

#include "support/fake_memcached.hpp"
#include "support/memcached_process.hpp"

using namespace std::chrono_literals;
using cachekit::MemcachedBackend;
using cachekit::MemcachedBackendConfig;
using cktest::FakeConnection;
using cktest::FakeRequest;

TEST_CASE("spin: after spins that found nothing a connection sleeps for 1, 3, 7 .. 63 waits; a hit resets it") {
  cktest::FakeMemcached fake([](FakeConnection& c) { c.hold(); });
  const auto now = std::chrono::steady_clock::now();
  auto opened = cachekit::detail::Connection::open("127.0.0.1", fake.port(), now + 2s, ::getpid());
  REQUIRE(opened);
  cachekit::detail::Connection& c = **opened;
  CHECK_FALSE(c.spin_now());  // no budget set: never spins
  c.set_spin(100us);
  CHECK(c.spin_now());
  auto sleeps_before_next_spin = [&] {
    int sleeps = 0;
    while (!c.spin_now()) {
      ++sleeps;
      REQUIRE(sleeps < 1000);
    }
    return sleeps;
  };
  std::vector<int> seen;
  for (int i = 0; i < 8; ++i) {
    c.spin_outcome(false);
    seen.push_back(sleeps_before_next_spin());
  }
  CHECK(seen == std::vector<int>{1, 3, 7, 15, 31, 63, 63, 63});
  c.spin_outcome(true);
  CHECK(c.spin_now());
  CHECK(c.spin_now());
  c.spin_outcome(false);
  CHECK(sleeps_before_next_spin() == 1);
}

TEST_CASE("spin: replies slower than the spin budget still arrive, value intact") {
  // Each reply comes 3 ms after its request: every spin (200 us) misses.
  cktest::FakeMemcached fake([](FakeConnection& c) {
    FakeRequest r;
    while (c.read_request(r)) {
      std::this_thread::sleep_for(3ms);
      if (!c.send(cktest::make_get_hit(r, "slow-" + r.key))) return;
    }
  });
  MemcachedBackendConfig cfg;
  cfg.servers = {fake.spec()};
  cfg.protocol = cachekit::Protocol::binary;  // the fake server speaks binary
  cfg.spin_wait = 200us;
  MemcachedBackend b(cfg);
  for (int i = 0; i < 20; ++i) {
    const std::string key = "k" + std::to_string(i);
    auto r = b.get(key);
    REQUIRE(r);
    REQUIRE(r->has_value());
    CHECK(**r == "slow-" + key);
  }
}

TEST_CASE("spin: every budget gives the same answers on a real server, single and batched") {
  cktest::MemcachedCluster cluster(2);
  for (int budget : {0, 50, 1000}) {
    CAPTURE(budget);
    MemcachedBackendConfig cfg = cktest::backend_config();
    cfg.servers = cluster.specs();
    cfg.spin_wait = std::chrono::microseconds(budget);
    MemcachedBackend b(cfg);
    std::vector<std::string> keys;
    for (int i = 0; i < 300; ++i) {
      keys.push_back("spin:" + std::to_string(budget) + ":" + std::to_string(i));
      if (i % 3 != 0) REQUIRE(b.set(keys.back(), std::string(static_cast<std::size_t>(i * 7), 'v') + keys.back()));
    }
    auto many = b.get_many(keys);
    REQUIRE(many);
    REQUIRE(many->size() == keys.size());
    for (int i = 0; i < 300; ++i) {
      const auto& v = (*many)[static_cast<std::size_t>(i)];
      if (i % 3 == 0) {
        CHECK_FALSE(v.has_value());
      } else {
        REQUIRE(v.has_value());
        CHECK(*v == std::string(static_cast<std::size_t>(i * 7), 'v') + keys[static_cast<std::size_t>(i)]);
      }
      auto one = b.get(keys[static_cast<std::size_t>(i)]);
      REQUIRE(one);
      CHECK(*one == v);
    }
  }
}
