// MemoryBackend: LRU by bytes, TTLs on an injected clock, add() for leases,
// and concurrent use.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using cachekit::MemoryBackend;
using cachekit::MemoryBackendOptions;
using namespace std::chrono_literals;

namespace {
// A clock the test moves by hand.
struct ManualClock {
  std::shared_ptr<std::atomic<std::int64_t>> ns = std::make_shared<std::atomic<std::int64_t>>(1'000'000'000);
  std::chrono::steady_clock::time_point operator()() const {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns->load()));
  }
  void advance(std::chrono::nanoseconds d) { ns->fetch_add(d.count()); }
};

MemoryBackendOptions with_clock(const ManualClock& clock, std::size_t max_bytes = 1 << 20) {
  MemoryBackendOptions o;
  o.max_bytes = max_bytes;
  o.clock = clock;
  return o;
}

std::optional<std::string> get(MemoryBackend& b, std::string_view key) {
  auto r = b.get(key);
  REQUIRE(r);
  return *r;
}
}  // namespace

TEST_CASE("memory backend: set, get, remove, exists") {
  MemoryBackend b;
  CHECK_FALSE(get(b, "k"));
  REQUIRE(b.set("k", "v1", 0s));
  CHECK(get(b, "k") == "v1");
  REQUIRE(b.set("k", "value2", 0s));
  CHECK(get(b, "k") == "value2");
  CHECK(b.bytes() == 1 + 6);
  CHECK(*b.exists("k"));
  CHECK(*b.remove("k"));
  CHECK_FALSE(*b.remove("k"));
  CHECK_FALSE(*b.exists("k"));
  CHECK(b.bytes() == 0);
  CHECK(b.size() == 0);

  std::string binary("a\0b\xff", 4);
  REQUIRE(b.set(binary, binary, 0s));
  CHECK(get(b, binary) == binary);
  REQUIRE(b.set("empty", "", 0s));
  CHECK(get(b, "empty") == std::string());
}

TEST_CASE("memory backend: add stores only when absent (leases)") {
  ManualClock clock;
  MemoryBackend b(with_clock(clock));
  CHECK(*b.add("lock", "1", 5s));
  CHECK_FALSE(*b.add("lock", "2", 5s));
  CHECK(get(b, "lock") == "1");
  clock.advance(5s);  // the lease expired: the next add wins
  CHECK(*b.add("lock", "3", 5s));
  CHECK(get(b, "lock") == "3");
  CHECK(*b.remove("lock"));
  CHECK(*b.add("lock", "4", 5s));
}

TEST_CASE("memory backend: TTLs expire on the injected clock and are reclaimed") {
  ManualClock clock;
  MemoryBackend b(with_clock(clock));
  REQUIRE(b.set("short", "x", 10s));
  REQUIRE(b.set("forever", "y", 0s));
  REQUIRE(b.set("negative", "z", -5s));
  clock.advance(9999ms);
  CHECK(get(b, "short") == "x");
  clock.advance(1ms);
  CHECK_FALSE(get(b, "short"));           // expired exactly at the TTL
  CHECK(b.size() == 2);                   // and reclaimed by the read
  CHECK(b.bytes() == 2 + 7 + 1 + 8 - 1);  // forever+y, negative+z
  clock.advance(std::chrono::hours(24 * 365));
  CHECK(get(b, "forever") == "y");
  CHECK(get(b, "negative") == "z");

  SUBCASE("exists and remove see expiry") {
    REQUIRE(b.set("e", "1", 1s));
    clock.advance(1s);
    CHECK_FALSE(*b.exists("e"));
    REQUIRE(b.set("r", "1", 1s));
    clock.advance(1s);
    CHECK_FALSE(*b.remove("r"));
  }
  SUBCASE("touch extends and can clear the TTL") {
    REQUIRE(b.set("t", "1", 2s));
    clock.advance(1s);
    CHECK(*b.touch("t", 10s));
    clock.advance(5s);
    CHECK(get(b, "t") == "1");
    CHECK(*b.touch("t", 0s));
    clock.advance(std::chrono::hours(1000));
    CHECK(get(b, "t") == "1");
    CHECK_FALSE(*b.touch("missing", 1s));
  }
  SUBCASE("sub-second TTLs") {
    REQUIRE(b.set_for("ms", "1", 250ms));
    clock.advance(249ms);
    CHECK(get(b, "ms") == "1");
    clock.advance(1ms);
    CHECK_FALSE(get(b, "ms"));
    CHECK(*b.add_for("ms", "2", 10ms));
  }
  SUBCASE("TTLs longer than 30 days are clamped like memcached") {
    REQUIRE(b.set("long", "1", std::chrono::hours(24 * 40)));
    clock.advance(std::chrono::hours(24 * 30));
    CHECK_FALSE(get(b, "long"));
  }
}

TEST_CASE("memory backend: expired entries nobody reads are reclaimed") {
  ManualClock clock;
  MemoryBackend b(with_clock(clock));
  for (int i = 0; i < 100; ++i) REQUIRE(b.set("old" + std::to_string(i), "v", 1s));
  clock.advance(2s);
  CHECK(b.purge_expired() == 100);
  CHECK(b.size() == 0);
  CHECK(b.bytes() == 0);

  for (int i = 0; i < 100; ++i) REQUIRE(b.set("old" + std::to_string(i), "v", 1s));
  clock.advance(2s);
  // Writes alone reclaim them, amortised (one sweep per size() writes).
  for (int i = 0; i < 200; ++i) REQUIRE(b.set("new" + std::to_string(i), "v", 0s));
  CHECK(b.size() <= 200 + 1);
  for (int i = 0; i < 200; ++i) CHECK(get(b, "new" + std::to_string(i)) == "v");
}

TEST_CASE("memory backend: LRU eviction bounded by key + value bytes") {
  MemoryBackend b(100);
  // Each entry costs 2 (key) + 18 (value) = 20 bytes: five fit.
  const std::string v(18, 'x');
  for (int i = 0; i < 5; ++i) REQUIRE(b.set("k" + std::to_string(i), v, 0s));
  CHECK(b.bytes() == 100);
  CHECK(b.evictions() == 0);
  CHECK(get(b, "k0") == v);  // k0 is now the most recently used
  REQUIRE(b.set("k5", v, 0s));
  CHECK(b.bytes() == 100);
  CHECK(b.evictions() == 1);
  CHECK_FALSE(get(b, "k1"));  // the least recently used went
  CHECK(get(b, "k0") == v);
  CHECK(get(b, "k5") == v);

  // Growing a value evicts others, never the one just written.
  REQUIRE(b.set("k0", std::string(78, 'y'), 0s));
  CHECK(get(b, "k0") == std::string(78, 'y'));
  CHECK(b.bytes() <= 100);

  // An entry larger than the whole budget is refused, and the old value dropped.
  auto too_big = b.set("k0", std::string(99, 'z'), 0s);
  REQUIRE_FALSE(too_big);
  CHECK(too_big.error().kind() == cachekit::ErrorKind::permanent);
  CHECK_FALSE(get(b, "k0"));
  REQUIRE(b.set("k0", std::string(98, 'z'), 0s));  // exactly the budget fits
  CHECK(b.size() == 1);
  CHECK(b.bytes() == 100);
}

TEST_CASE("memory backend: visit reads without copying") {
  MemoryBackend b;
  REQUIRE(b.set("k", "hello", 0s));
  std::size_t seen = 0;
  CHECK(b.visit("k", [&](std::string_view v) { seen = v.size(); }));
  CHECK(seen == 5);
  CHECK_FALSE(b.visit("nope", [&](std::string_view) { seen = 0; }));
  CHECK(seen == 5);
}

TEST_CASE("memory backend: works through the Backend interface") {
  std::unique_ptr<cachekit::Backend> b = std::make_unique<MemoryBackend>();
  REQUIRE(b->set("k", "v", 60s));
  auto r = b->get("k");
  REQUIRE(r);
  CHECK(r->value() == "v");
}

TEST_CASE("memory backend: concurrent readers, writers and lease takers" * doctest::test_suite("concurrency")) {
  MemoryBackend b(64 * 1024);
  constexpr int kThreads = 8;
  constexpr int kOps = 20000;
  std::atomic<int> wrong{0};
  std::atomic<int> lease_winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOps; ++i) {
        const std::string key = "key" + std::to_string((i * 7 + t) % 500);
        switch (i % 4) {
          case 0:
          case 1: {
            auto r = b.get(key);
            // Every value written for a key starts with that key.
            if (!r || (r->has_value() && (*r)->compare(0, key.size(), key) != 0)) ++wrong;
            break;
          }
          case 2:
            if (!b.set(key, key + ":" + std::string(static_cast<std::size_t>(i % 200), 'v'), 60s)) ++wrong;
            break;
          default:
            if (!b.remove(key)) ++wrong;
        }
      }
      auto won = b.add("the-lease", std::to_string(t), 10s);
      if (!won) ++wrong;
      else if (*won) ++lease_winners;
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong.load() == 0);
  CHECK(lease_winners.load() == 1);
  CHECK(b.bytes() <= 64 * 1024);
}
