// TTL inspection and leases (Backend::ttl, get_with_ttl, lease_get,
// lease_set, invalidate): every scenario runs over MemoryBackend (a manual
// clock) and over MemcachedBackend speaking meta to a real memcached 1.6.18,
// and must read the same on both.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <cachekit/cachekit.hpp>

#include "support/memcached_process.hpp"

using cachekit::Backend;
using cachekit::ErrorKind;
using cachekit::LeaseOptions;
using cachekit::LeaseRead;
using cachekit::Ttl;
using namespace std::chrono_literals;

namespace {

// A store under test and a way to let time pass: the memory backend's clock
// moves by hand; memcached's moves by itself (the caller polls).
struct LeaseStore {
  std::string name;
  std::shared_ptr<Backend> backend;
  std::function<void()> tick;  // lets about a second pass
};

struct LeaseClock {
  std::shared_ptr<std::atomic<std::int64_t>> ns = std::make_shared<std::atomic<std::int64_t>>(5'000'000'000);
  std::chrono::steady_clock::time_point operator()() const {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns->load()));
  }
};

LeaseStore memory_store() {
  LeaseClock clock;
  cachekit::MemoryBackendOptions o;
  o.clock = clock;
  return {"memory", std::make_shared<cachekit::MemoryBackend>(o),
          [clock] { clock.ns->fetch_add(std::chrono::nanoseconds(1s).count()); }};
}

LeaseStore memcached_store(const cktest::MemcachedCluster& servers, cachekit::Protocol protocol = cachekit::Protocol::meta) {
  cachekit::MemcachedBackendConfig cfg;
  cfg.servers = servers.specs();
  cfg.protocol = protocol;
  return {std::string("memcached ") + cachekit::to_string(protocol), std::make_shared<cachekit::MemcachedBackend>(cfg),
          [] { std::this_thread::sleep_for(100ms); }};
}

// Runs body over both stores.
void over_both(const std::function<void(LeaseStore&)>& body) {
  cktest::MemcachedCluster servers(1);
  LeaseStore stores[] = {memory_store(), memcached_store(servers)};
  for (auto& s : stores) {
    CAPTURE(s.name);
    REQUIRE(s.backend->has_leases());
    body(s);
  }
}

LeaseRead lease(Backend& b, std::string_view key, std::chrono::seconds lease_ttl, std::chrono::seconds recache = 0s) {
  LeaseOptions o;
  o.lease_ttl = lease_ttl;
  o.recache = recache;
  auto r = b.lease_get(key, o);
  REQUIRE_MESSAGE(r, r.error().message());
  return *r;
}

bool ttl_near(const Ttl& t, std::chrono::seconds want) {
  return t.expires && t.left <= want && t.left >= want - 2s;
}

}  // namespace

TEST_CASE("leases: ttl and get_with_ttl read the remaining lifetime") {
  over_both([](LeaseStore& s) {
    Backend& b = *s.backend;
    auto miss = b.ttl("ttl:absent");
    REQUIRE(miss);
    CHECK_FALSE(miss->has_value());
    auto miss2 = b.get_with_ttl("ttl:absent");
    REQUIRE(miss2);
    CHECK_FALSE(miss2->has_value());

    REQUIRE(b.set("ttl:sixty", "v60", 60s));
    auto t = b.ttl("ttl:sixty");
    REQUIRE(t);
    REQUIRE(t->has_value());
    CHECK(ttl_near(**t, 60s));
    auto vt = b.get_with_ttl("ttl:sixty");
    REQUIRE(vt);
    REQUIRE(vt->has_value());
    CHECK((*vt)->value == "v60");
    CHECK(ttl_near((*vt)->ttl, 60s));

    REQUIRE(b.set("ttl:forever", "v", 0s));
    auto never = b.ttl("ttl:forever");
    REQUIRE(never);
    REQUIRE(never->has_value());
    CHECK(**never == Ttl::never());
    CHECK_FALSE((*never)->expires);
  });
}

TEST_CASE("leases: a miss elects one winner; the others are pending until it stores") {
  over_both([](LeaseStore& s) {
    Backend& b = *s.backend;
    const LeaseRead first = lease(b, "lease:miss", 30s);
    CHECK(first.won);
    CHECK_FALSE(first.pending);
    CHECK_FALSE(first.value.has_value());
    CHECK(first.token != 0);
    // N before t: the TTL read back is the placeholder's, not -1.
    CHECK(ttl_near(first.ttl, 30s));
    const LeaseRead second = lease(b, "lease:miss", 30s);
    CHECK_FALSE(second.won);
    CHECK(second.pending);
    CHECK_FALSE(second.value.has_value());

    auto stored = b.lease_set("lease:miss", "computed", 60s, first.token);
    REQUIRE(stored);
    CHECK(*stored);
    const LeaseRead after = lease(b, "lease:miss", 30s);
    REQUIRE(after.value.has_value());
    CHECK(*after.value == "computed");
    CHECK_FALSE(after.won);
    CHECK_FALSE(after.pending);
    CHECK_FALSE(after.stale);
    CHECK(ttl_near(after.ttl, 60s));
    // The placeholder's version is gone: a late store with it is refused.
    auto late = b.lease_set("lease:miss", "late", 60s, first.token);
    REQUIRE(late);
    CHECK_FALSE(*late);
    auto value = b.get("lease:miss");
    REQUIRE(value);
    CHECK(**value == "computed");
    // Without a lease_ttl a miss is only a miss.
    const LeaseRead plain = lease(b, "lease:plain-miss", 0s);
    CHECK_FALSE(plain.won);
    CHECK_FALSE(plain.pending);
    CHECK_FALSE(plain.value.has_value());
  });
}

TEST_CASE("leases: the winner dies; its placeholder expires and a new winner is chosen") {
  over_both([](LeaseStore& s) {
    Backend& b = *s.backend;
    const LeaseRead dead = lease(b, "lease:dies", 1s);
    REQUIRE(dead.won);
    CHECK(lease(b, "lease:dies", 1s).pending);
    // The winner never stores. Within a few seconds another reader wins.
    LeaseRead next;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      s.tick();
      next = lease(b, "lease:dies", 1s);
      if (next.won || std::chrono::steady_clock::now() > deadline) break;
      CHECK(next.pending);
    }
    REQUIRE(next.won);
    CHECK(next.token != dead.token);
    // The dead winner coming back late cannot overwrite the new one's value.
    auto stored = b.lease_set("lease:dies", "new winner", 60s, next.token);
    REQUIRE(stored);
    CHECK(*stored);
    auto late = b.lease_set("lease:dies", "dead winner", 60s, dead.token);
    REQUIRE(late);
    CHECK_FALSE(*late);
    auto value = b.get("lease:dies");
    REQUIRE(value);
    CHECK(**value == "new winner");
  });
}

TEST_CASE("leases: recache hands one reader an early recompute while every reader gets the value") {
  over_both([](LeaseStore& s) {
    Backend& b = *s.backend;
    REQUIRE(b.set("lease:recache", "v1", 60s));
    const LeaseRead fresh = lease(b, "lease:recache", 0s, 30s);  // 60 s left: nobody wins
    REQUIRE(fresh.value.has_value());
    CHECK(*fresh.value == "v1");
    CHECK_FALSE(fresh.won);
    CHECK_FALSE(fresh.pending);
    const LeaseRead early = lease(b, "lease:recache", 0s, 120s);  // under 120 s left: one winner
    REQUIRE(early.value.has_value());
    CHECK(*early.value == "v1");
    CHECK(early.won);
    const LeaseRead other = lease(b, "lease:recache", 0s, 120s);
    REQUIRE(other.value.has_value());
    CHECK(*other.value == "v1");
    CHECK_FALSE(other.won);
    CHECK(other.pending);
    auto stored = b.lease_set("lease:recache", "v2", 300s, early.token);
    REQUIRE(stored);
    CHECK(*stored);
    const LeaseRead after = lease(b, "lease:recache", 0s, 120s);  // 300 s left
    REQUIRE(after.value.has_value());
    CHECK(*after.value == "v2");
    CHECK_FALSE(after.won);
    CHECK_FALSE(after.pending);
  });
}

TEST_CASE("leases: invalidate serves the old value flagged stale while one reader recomputes") {
  over_both([](LeaseStore& s) {
    Backend& b = *s.backend;
    auto absent = b.invalidate("lease:stale-absent", 30s);
    REQUIRE(absent);
    CHECK_FALSE(*absent);

    REQUIRE(b.set("lease:stale", "old", 600s));
    auto marked = b.invalidate("lease:stale", 30s);
    REQUIRE(marked);
    CHECK(*marked);
    const LeaseRead winner = lease(b, "lease:stale", 30s);
    REQUIRE(winner.value.has_value());
    CHECK(*winner.value == "old");
    CHECK(winner.stale);
    CHECK(winner.won);
    CHECK(ttl_near(winner.ttl, 30s));  // T30 of the invalidation
    const LeaseRead reader = lease(b, "lease:stale", 30s);
    REQUIRE(reader.value.has_value());
    CHECK(*reader.value == "old");
    CHECK(reader.stale);
    CHECK(reader.pending);
    CHECK_FALSE(reader.won);
    auto stored = b.lease_set("lease:stale", "new", 600s, winner.token);
    REQUIRE(stored);
    CHECK(*stored);
    const LeaseRead after = lease(b, "lease:stale", 30s);
    REQUIRE(after.value.has_value());
    CHECK(*after.value == "new");
    CHECK_FALSE(after.stale);
    CHECK_FALSE(after.won);
    CHECK_FALSE(after.pending);
  });
}

TEST_CASE("leases: two invalidations race a recompute; the older winner's store is refused") {
  over_both([](LeaseStore& s) {
    Backend& b = *s.backend;
    REQUIRE(b.set("lease:race", "v0", 600s));
    REQUIRE(b.invalidate("lease:race", 30s));
    const LeaseRead a = lease(b, "lease:race", 30s);
    REQUIRE(a.won);
    // The data changes again while a computes: a second invalidation.
    REQUIRE(b.invalidate("lease:race", 30s));
    const LeaseRead c = lease(b, "lease:race", 30s);
    CHECK(c.won);  // the new invalidation elects a new winner
    CHECK(c.stale);
    CHECK(c.token != a.token);
    auto from_a = b.lease_set("lease:race", "computed before the second change", 600s, a.token);
    REQUIRE(from_a);
    CHECK_FALSE(*from_a);
    auto from_c = b.lease_set("lease:race", "computed after it", 600s, c.token);
    REQUIRE(from_c);
    CHECK(*from_c);
    auto value = b.get("lease:race");
    REQUIRE(value);
    CHECK(**value == "computed after it");
  });
}

TEST_CASE("leases: text and binary cannot, and say that meta can") {
  cktest::MemcachedCluster servers(1);
  for (auto protocol : {cachekit::Protocol::text, cachekit::Protocol::binary}) {
    LeaseStore s = memcached_store(servers, protocol);
    CAPTURE(s.name);
    Backend& b = *s.backend;
    CHECK_FALSE(b.has_leases());
    REQUIRE(b.set("k", "v", 60s));
    auto check = [](const cachekit::Error& e, const char* op) {
      CHECK(e.kind() == ErrorKind::permanent);
      CHECK(e.message().find("meta protocol") != std::string::npos);
      CHECK(e.operation() == op);
    };
    auto t = b.ttl("k");
    REQUIRE_FALSE(t);
    check(t.error(), "ttl");
    auto vt = b.get_with_ttl("k");
    REQUIRE_FALSE(vt);
    check(vt.error(), "get_with_ttl");
    auto l = b.lease_get("k", LeaseOptions{30s, 0s});
    REQUIRE_FALSE(l);
    check(l.error(), "lease_get");
    auto ls = b.lease_set("k", "v", 60s, 1);
    REQUIRE_FALSE(ls);
    check(ls.error(), "lease_set");
    auto inv = b.invalidate("k", 30s);
    REQUIRE_FALSE(inv);
    check(inv.error(), "invalidate");
    auto still = b.get("k");  // nothing was touched
    REQUIRE(still);
    CHECK(**still == "v");
  }
}

TEST_CASE("leases: a backend that offers none answers a permanent error naming the operation") {
  struct Minimal final : Backend {
    cachekit::Result<std::optional<std::string>> get(std::string_view) override { return std::optional<std::string>(); }
    cachekit::Result<void> set(std::string_view, std::string_view, std::chrono::seconds) override { return {}; }
    cachekit::Result<bool> add(std::string_view, std::string_view, std::chrono::seconds) override { return true; }
    cachekit::Result<bool> remove(std::string_view) override { return false; }
    cachekit::Result<bool> exists(std::string_view) override { return false; }
    cachekit::Result<bool> touch(std::string_view, std::chrono::seconds) override { return false; }
  } minimal;
  CHECK_FALSE(minimal.has_leases());
  auto t = minimal.ttl("k");
  REQUIRE_FALSE(t);
  CHECK(t.error().kind() == ErrorKind::permanent);
  CHECK(t.error().message() == "ttl is not supported by this backend");
  auto l = minimal.lease_get("k", LeaseOptions{});
  REQUIRE_FALSE(l);
  CHECK(l.error().operation() == "lease_get");
}

TEST_CASE("leases: the lease read puts N and R before t") {
  cachekit::protocol::meta::GetOptions o;
  o.client_flags = false;
  o.cas = true;
  o.ttl = true;
  o.vivify = 30;
  o.recache = 10;
  char buf[512];
  const std::size_t n = cachekit::protocol::meta::encode_mg(buf, "k", o);
  CHECK(std::string(buf, n) == "mg k v c N30 R10 t\r\n");
}
