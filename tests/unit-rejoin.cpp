// Rejoin repair on real servers: a server that was stopped (SIGSTOP) or
// killed and restarted never serves a value this process overwrote,
// removed or left in doubt while it was out.
#include <doctest/doctest.h>

#include <dirent.h>
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/protocol_under_test.hpp"

#include "support/memcached_process.hpp"

using namespace std::chrono_literals;
using cachekit::MemcachedBackend;
using cachekit::MemcachedBackendConfig;
using Clock = std::chrono::steady_clock;

namespace {

MemcachedBackendConfig fast_config(const cktest::MemcachedCluster& cluster) {
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = cluster.specs();
  cfg.timeout = 300ms;
  cfg.connect_timeout = 300ms;
  cfg.retry_attempts = 2;
  cfg.dead_timeout = 1000ms;
  return cfg;
}

// A key that lives on server i while every server is up.
std::string key_on(MemcachedBackend& b, std::size_t i, const std::string& stem) {
  for (int n = 0;; ++n) {
    std::string k = stem + std::to_string(n);
    if (b.server_for(k).value() == i) return k;
  }
}

// Stops a server the test started (SIGSTOP); resumes it when destroyed.
struct Stopped {
  pid_t pid;
  bool stopped = false;
  explicit Stopped(pid_t p) : pid(p) { stop(); }
  ~Stopped() { resume(); }
  void stop() {
    REQUIRE(::kill(pid, SIGSTOP) == 0);
    stopped = true;
    // The signal is delivered asynchronously: wait until every thread is stopped.
    REQUIRE(cktest::wait_until([&] { return all_threads_stopped(pid); }, 5s));
  }
  static bool all_threads_stopped(pid_t p) {
    const std::string dir = "/proc/" + std::to_string(p) + "/task";
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return false;
    bool all = true, any = false;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream stat(dir + "/" + e->d_name + "/stat");
      std::string line;
      std::getline(stat, line);
      const auto close = line.rfind(')');
      if (close == std::string::npos || close + 2 >= line.size()) continue;
      any = true;
      if (line[close + 2] != 'T' && line[close + 2] != 't') all = false;
    }
    ::closedir(d);
    return any && all;
  }
  void resume() {
    if (stopped) ::kill(pid, SIGCONT);
    stopped = false;
  }
};

// The value under key as a backend with only server i, and no history, sees it.
std::optional<std::string> on_server(const cktest::MemcachedCluster& cluster, std::size_t i, const std::string& key) {
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = {cluster.spec(i)};
  MemcachedBackend raw(cfg);
  auto r = raw.get(key);
  REQUIRE_MESSAGE(r, r.error().to_string());
  return *r;
}

// Polls until server i is routed to again (its rejoin repair done).
// Whether key routes to server i now. While a server is out, a loaded
// machine can time the others out too: routing then fails (every server
// dead) until they rejoin, which counts as "not yet", not as a crash.
bool routes_to(MemcachedBackend& b, const std::string& key, std::size_t i) {
  auto s = b.server_for(key);
  return s && *s == i;
}

bool rejoined(MemcachedBackend& b, std::size_t i, const std::string& key_of_i, std::chrono::milliseconds deadline) {
  return cktest::wait_until([&] { return routes_to(b, key_of_i, i); }, deadline);
}

}  // namespace

TEST_CASE("rejoin log: keys once each, a flush past its capacity, a failed batch put back") {
  cachekit::detail::RejoinLog log(3);
  CHECK(log.take().empty());
  log.add("a");
  log.add("b");
  log.add("a");
  CHECK(log.size() == 2);
  CHECK_FALSE(log.if_empty([] { return true; }));
  auto batch = log.take();
  CHECK_FALSE(batch.flush);
  std::sort(batch.keys.begin(), batch.keys.end());
  CHECK(batch.keys == std::vector<std::string>{"a", "b"});
  CHECK(log.if_empty([] { return true; }));
  log.add("c");
  log.restore(std::move(batch));  // the repair failed: everything is due again
  CHECK(log.size() == 3);
  log.add("a");  // already there: still fits
  CHECK_FALSE(log.overflowed());
  log.add("d");  // a fourth key: flush instead
  CHECK(log.overflowed());
  CHECK(log.size() == 0);
  auto flush = log.take();
  CHECK(flush.flush);
  CHECK(flush.keys.empty());
  CHECK_FALSE(log.overflowed());
  log.restore(std::move(flush));
  CHECK(log.overflowed());
  cachekit::detail::RejoinLog none(0);  // rejoin_log_keys = 0: every rejoin after a write flushes
  none.add("x");
  CHECK(none.overflowed());
}

TEST_CASE("rejoin: v1, stop, v2 v3 v4, resume: reads give v4 or a miss, never v1 or v2") {
  cktest::MemcachedCluster cluster(3);
  auto cfg = fast_config(cluster);
  MemcachedBackend b(cfg);
  const std::size_t a = 0;
  const std::string k = key_on(b, a, "seq-");
  const std::string untouched = key_on(b, a, "keep-");
  REQUIRE(b.set(k, "v1"));
  REQUIRE(b.set(untouched, "kept"));
  {
    Stopped stop(cluster.pid(a));
    // v2 reaches the stopped server's socket and gets no answer (in doubt);
    // the server is marked dead and v3, v4 land on the server the ring
    // picks without it.
    (void)b.set(k, "v2");
    CHECK(cktest::wait_until([&] { return b.server_for(k) && !routes_to(b, k, a); }, 5s));
    REQUIRE(b.set(k, "v3"));
    REQUIRE(b.set(k, "v4"));
    CHECK(b.get(k)->value_or("miss") == "v4");
    // Past the dead time but still stopped: the repair fails, the server
    // stays out.
    CHECK(cktest::wait_until([&] { return !b.server_marked_dead(a); }, 5s));
    const auto t0 = Clock::now();
    const auto routed = b.server_for(k);
    REQUIRE_MESSAGE(routed, routed.error().to_string());
    CHECK(*routed != a);
    CHECK(Clock::now() - t0 < cfg.connect_timeout + cfg.timeout + 1s);
    CHECK(b.server_marked_dead(a));
    auto g = b.get(k);
    REQUIRE(g);
    CHECK(g->value_or("miss") == "v4");
  }
  REQUIRE(rejoined(b, a, k, 10s));
  for (int i = 0; i < 5; ++i) {
    auto g = b.get(k);
    REQUIRE_MESSAGE(g, g.error().to_string());
    const std::string v = g->value_or("miss");
    CHECK((v == "v4" || v == "miss"));
  }
  // The server itself no longer holds the old value; a key nobody touched
  // during the outage is still there (no flush without an overflow).
  CHECK_FALSE(on_server(cluster, a, k).has_value());
  CHECK(on_server(cluster, a, untouched).value_or("miss") == "kept");
  CHECK(cktest::server_stats(cluster.port(a))["cmd_flush"] == "0");
  // Writes go home again.
  REQUIRE(b.set(k, "v5"));
  CHECK(on_server(cluster, a, k).value_or("miss") == "v5");
}

TEST_CASE("rejoin: a server killed and restarted while its keys were rewritten elsewhere") {
  cktest::MemcachedCluster cluster(3);
  auto cfg = fast_config(cluster);
  MemcachedBackend b(cfg);
  const std::size_t a = 1;
  const std::string k = key_on(b, a, "kill-");
  REQUIRE(b.set(k, "v1"));
  cluster.kill(a, 9);
  (void)b.set(k, "v2");  // refused, then routed elsewhere
  CHECK(cktest::wait_until([&] { return b.server_marked_dead(a); }, 5s));
  REQUIRE(b.set(k, "v3"));
  REQUIRE(b.set(k, "v4"));
  cluster.restart(a);
  REQUIRE(rejoined(b, a, k, 10s));
  auto g = b.get(k);
  REQUIRE_MESSAGE(g, g.error().to_string());
  const std::string v = g->value_or("miss");
  CHECK((v == "v4" || v == "miss"));
}

TEST_CASE("rejoin: a remove made during the outage stays removed") {
  cktest::MemcachedCluster cluster(3);
  auto cfg = fast_config(cluster);
  MemcachedBackend b(cfg);
  const std::size_t a = 2;
  const std::string k = key_on(b, a, "rm-");
  const std::string k2 = key_on(b, a, "rm2-");
  REQUIRE(b.set(k, "before"));
  REQUIRE(b.set(k2, "before"));
  {
    Stopped stop(cluster.pid(a));
    (void)b.get(k2);  // its attempts time out: the server is marked dead
    CHECK(cktest::wait_until([&] { return b.server_marked_dead(a) || ((void)b.get(k2), false); }, 5s));
    auto r = b.remove(k);
    REQUIRE_MESSAGE(r, r.error().to_string());
  }
  REQUIRE(rejoined(b, a, k, 10s));
  auto g = b.get(k);
  REQUIRE_MESSAGE(g, g.error().to_string());
  CHECK_FALSE(g->has_value());
  CHECK_FALSE(on_server(cluster, a, k).has_value());
  // A key not written during the outage is still served from its server.
  CHECK(b.get(k2)->value_or("miss") == "before");
}

TEST_CASE("rejoin: past rejoin_log_keys the rejoin flushes the server") {
  cktest::MemcachedCluster cluster(2);
  auto cfg = fast_config(cluster);
  cfg.rejoin_log_keys = 8;
  MemcachedBackend b(cfg);
  const std::size_t a = 0;
  const std::string probe = key_on(b, a, "probe-");
  const std::string untouched = key_on(b, a, "keep-");
  std::vector<std::string> keys;
  for (int n = 0; keys.size() < 20; ++n) {
    const std::string k = "over-" + std::to_string(n);
    if (b.server_for(k).value() == a) keys.push_back(k);
  }
  for (const auto& k : keys) REQUIRE(b.set(k, "old"));
  REQUIRE(b.set(untouched, "kept"));
  {
    Stopped stop(cluster.pid(a));
    (void)b.get(probe);  // its attempts time out: the server is marked dead
    CHECK(cktest::wait_until([&] { return b.server_marked_dead(a) || ((void)b.get(probe), false); }, 5s));
    for (const auto& k : keys) REQUIRE(b.set(k, "new"));  // 20 keys logged, 8 fit
  }
  REQUIRE(rejoined(b, a, probe, 10s));
  CHECK(cktest::server_stats(cluster.port(a))["cmd_flush"] == "1");
  // Everything on the server went, including the key nobody touched.
  CHECK_FALSE(on_server(cluster, a, untouched).has_value());
  for (const auto& k : keys) {
    auto g = b.get(k);
    REQUIRE(g);
    CHECK_FALSE(g->has_value());
  }
}

TEST_CASE("rejoin: without remove_failed_servers a write left in doubt is repaired before the next read") {
  cktest::MemcachedCluster cluster(2);
  auto cfg = fast_config(cluster);
  cfg.remove_failed_servers = false;
  MemcachedBackend b(cfg);
  const std::size_t a = 1;
  const std::string k = key_on(b, a, "doubt-");
  REQUIRE(b.set(k, "v1"));
  {
    Stopped stop(cluster.pid(a));
    auto r = b.set(k, "v2");  // sent, never answered
    CHECK_FALSE(r);
    auto r3 = b.set(k, "v3");  // the server is out: refused, not sent
    CHECK_FALSE(r3);
  }
  // The stopped server now runs the v2 set it had buffered; the client
  // deletes the key before reading from that server again.
  std::optional<std::string> seen;
  CHECK(cktest::wait_until(
      [&] {
        auto g = b.get(k);
        if (!g) return false;
        seen = *g;
        return true;
      },
      10s));
  CHECK_FALSE(seen.has_value());
  CHECK_FALSE(on_server(cluster, a, k).has_value());
  REQUIRE(b.set(k, "v4"));
  CHECK(b.get(k)->value_or("miss") == "v4");
}

TEST_CASE("rejoin: 8 threads write versions to 200 keys while a server is stopped and resumed twice" *
          doctest::test_suite("concurrency")) {
  cktest::MemcachedCluster cluster(3);
  auto cfg = fast_config(cluster);
  MemcachedBackend b(cfg);
  const std::size_t a = 1;
  const std::string probe = key_on(b, a, "probe-");
  constexpr int kThreads = 8, kKeys = 200;
  auto key_name = [](int i) { return "ver-" + std::to_string(i); };
  // Each key has one writer (thread i % 8), so its versions are ordered.
  struct Track {
    std::mutex mu;
    long acked = 0;      // last version whose set succeeded
    long attempted = 0;  // last version sent at all (a failed set may have landed)
  };
  std::vector<Track> track(kKeys);
  std::atomic<bool> stop{false};
  std::atomic<long> ops{0}, bad_values{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      long version = 0;
      for (int n = 0; !stop; ++n) {
        const int i = t + kThreads * (n % (kKeys / kThreads));
        const std::string key = key_name(i);
        if (n % 4 == 3) {
          auto g = b.get(key);
          if (g && g->has_value() && (*g)->rfind(key + "#", 0) != 0) ++bad_values;
        } else {
          ++version;
          {
            std::lock_guard<std::mutex> lock(track[static_cast<std::size_t>(i)].mu);
            track[static_cast<std::size_t>(i)].attempted = version;
          }
          auto r = b.set(key, key + "#" + std::to_string(version));
          if (r) {
            std::lock_guard<std::mutex> lock(track[static_cast<std::size_t>(i)].mu);
            track[static_cast<std::size_t>(i)].acked = version;
          }
        }
        ++ops;
      }
    });
  }
  for (int round = 0; round < 2; ++round) {
    const long before = ops.load();
    CHECK(cktest::wait_until([&] { return ops.load() > before + 2000; }, 30s));
    {
      Stopped stopped(cluster.pid(a));
      CHECK(cktest::wait_until([&] { return b.server_marked_dead(a); }, 10s));
      const long during = ops.load();
      CHECK(cktest::wait_until([&] { return ops.load() > during + 2000; }, 30s));
      if (round == 1) {
        // The last versions are written while the server is out.
        stop = true;
        for (auto& th : threads) th.join();
      }
    }
    CHECK(rejoined(b, a, probe, 15s));
  }
  CHECK(bad_values.load() == 0);
  // After the last rejoin: the last version written, or a miss.
  long misses = 0, stale = 0, hits = 0;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = key_name(i);
    auto g = b.get(key);
    REQUIRE_MESSAGE(g, g.error().to_string());
    if (!g->has_value()) {
      ++misses;
      continue;
    }
    const std::string& v = **g;
    REQUIRE(v.rfind(key + "#", 0) == 0);
    const long version = std::stol(v.substr(key.size() + 1));
    const Track& tr = track[static_cast<std::size_t>(i)];
    // A failed set may have landed: anything from the last acknowledged
    // version up to the last one sent is current.
    if (version < tr.acked || version > tr.attempted) {
      ++stale;
      MESSAGE(key << " read version " << version << ", last acknowledged " << tr.acked << ", last sent " << tr.attempted);
    }
    ++hits;
  }
  CHECK(stale == 0);
  CHECK(hits > 0);
  CHECK(misses > 0);  // the stopped server's keys were repaired
  MESSAGE("hits " << hits << ", misses " << misses);
}
