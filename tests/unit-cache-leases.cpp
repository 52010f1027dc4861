// The facade over leases: stampede protection in one request, refresh-ahead
// and serve-stale, over MemoryBackend and over memcached speaking meta, with
// threads and with processes.

#include <doctest/doctest.h>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/memcached_process.hpp"
#include "support/stampede_run.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// A clock the test moves by hand, shared with a MemoryBackend.
struct HandClock {
  std::shared_ptr<std::atomic<std::int64_t>> ns = std::make_shared<std::atomic<std::int64_t>>(7'000'000'000);
  Clock::time_point operator()() const { return Clock::time_point(std::chrono::nanoseconds(ns->load())); }
  void advance(std::chrono::nanoseconds d) const { ns->fetch_add(d.count()); }
};

std::shared_ptr<cachekit::MemcachedBackend> meta_backend(const cktest::MemcachedCluster& servers,
                                                        cachekit::Protocol p = cachekit::Protocol::meta) {
  cachekit::MemcachedBackendConfig cfg;
  cfg.servers = servers.specs();
  cfg.protocol = p;
  return std::make_shared<cachekit::MemcachedBackend>(cfg);
}

// Waits (bounded) until the backend no longer holds key.
bool wait_gone(cachekit::Backend& b, const std::string& key, std::chrono::seconds bound) {
  const auto deadline = Clock::now() + bound;
  while (Clock::now() < deadline) {
    auto r = b.exists(key);
    if (r && !*r) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// A task queue on one thread of the test's own, the executor of the options.
class TestExecutor {
 public:
  TestExecutor() : worker_([this] { run(); }) {}
  ~TestExecutor() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  void submit(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_all();
  }
  std::thread::id id() const { return worker_.get_id(); }
  // Waits (bounded) until every task submitted so far has run.
  bool drain(std::chrono::seconds bound) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, bound, [this] { return tasks_.empty() && !busy_; });
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      cv_.wait(lock, [this] { return done_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      auto task = std::move(tasks_.front());
      tasks_.erase(tasks_.begin());
      busy_ = true;
      lock.unlock();
      task();
      lock.lock();
      busy_ = false;
      cv_.notify_all();
    }
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::function<void()>> tasks_;
  bool done_ = false;
  bool busy_ = false;
  std::thread worker_;
};

}  // namespace

TEST_CASE("cache leases: 16 threads, one computation per key and expiry, over memcached meta and memory" *
          doctest::test_suite("concurrency")) {
  cktest::MemcachedCluster servers(1);
  std::shared_ptr<cachekit::Backend> backends[] = {meta_backend(servers), std::make_shared<cachekit::MemoryBackend>()};
  for (auto& backend : backends) {
    REQUIRE(backend->has_leases());
    cktest::StampedeSettings s;
    s.compute_time = 200ms;
    s.max_wait = 3000ms;
    s.operation = "lease-stampede";
    const auto r = cktest::run_stampede(backend, s);
    CHECK(r.calls == 1);
    CHECK(r.wrong_values == 0);
    CHECK(r.stats.lease_wins == 1);
    CHECK(r.stats.stampede_waits == 15);
    CHECK(r.stats.stampede_timeouts == 0);
    CHECK(r.longest_wait <= s.max_wait + 250ms);
    // One request per read: no "<key>:lock" was ever written.
    CHECK_FALSE(*backend->exists(r.key + ":lock"));
  }
}

TEST_CASE("cache leases: after an expiry the next wave computes once again") {
  cktest::MemcachedCluster servers(1);
  HandClock clock;
  cachekit::MemoryBackendOptions mo;
  mo.clock = clock;
  std::shared_ptr<cachekit::Backend> backends[] = {meta_backend(servers), std::make_shared<cachekit::MemoryBackend>(mo)};
  for (auto& backend : backends) {
    cachekit::CacheOptions o;
    o.ns = "tests";
    o.operation = "lease-expiry";
    o.ttl = 1s;
    o.stampede.enabled = true;
    o.stampede.max_wait = 3000ms;
    std::atomic<int> computed{0};
    auto f = cachekit::cache(backend, o, [&](int x) {
      ++computed;
      std::this_thread::sleep_for(50ms);
      return x + computed.load() * 1000;
    });
    (void)f.invalidate(1);
    for (int wave = 1; wave <= 2; ++wave) {
      CAPTURE(wave);
      std::atomic<bool> go{false};
      std::atomic<int> distinct_wrong{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < 16; ++t) {
        threads.emplace_back([&] {
          while (!go.load()) std::this_thread::yield();
          if (f(1) != 1 + wave * 1000) ++distinct_wrong;
        });
      }
      go = true;
      for (auto& th : threads) th.join();
      CHECK(computed.load() == wave);
      CHECK(distinct_wrong.load() == 0);
      // Let the entry expire: the memory clock by hand, memcached's by itself.
      clock.advance(2s);
      REQUIRE(wait_gone(*backend, *f.key(1), 5s));
    }
    CHECK(f.stats().stampede_timeouts == 0);
  }
}

TEST_CASE("cache leases: four processes share one computation over memcached" * doctest::test_suite("concurrency")) {
  cktest::MemcachedCluster servers(1);
  // Shared between the processes: how often the function ran, and the start signal.
  void* shared = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(shared != MAP_FAILED);
  auto* computed = new (shared) std::atomic<int>(0);
  auto* go = new (static_cast<char*>(shared) + 64) std::atomic<int>(0);
  auto* ready = new (static_cast<char*>(shared) + 128) std::atomic<int>(0);
  const std::vector<std::string> specs = servers.specs();
  std::vector<pid_t> children;
  std::fflush(nullptr);  // nothing buffered is written twice
  for (int p = 0; p < 4; ++p) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // The child: its own backend, four threads, exit status 0 when every
      // call saw the one value.
      cachekit::MemcachedBackendConfig cfg;
      cfg.servers = specs;
      auto backend = std::make_shared<cachekit::MemcachedBackend>(cfg);
      cachekit::CacheOptions o;
      o.ns = "tests";
      o.operation = "lease-processes";
      o.ttl = 60s;
      o.stampede.enabled = true;
      o.stampede.max_wait = 5000ms;
      auto f = cachekit::cache(backend, o, [computed](int x) {
        computed->fetch_add(1);
        std::this_thread::sleep_for(300ms);
        return x * 7;
      });
      ready->fetch_add(1);
      const auto deadline = Clock::now() + 20s;
      while (go->load() == 0 && Clock::now() < deadline) std::this_thread::yield();
      std::atomic<int> wrong{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
          if (f(6) != 42) ++wrong;
        });
      }
      for (auto& th : threads) th.join();
      ::_exit(wrong.load() == 0 && f.stats().stampede_timeouts == 0 ? 0 : 1);
    }
    children.push_back(pid);
  }
  const auto deadline = Clock::now() + 20s;
  while (ready->load() < 4 && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  CHECK(ready->load() == 4);
  go->store(1);
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  CHECK(computed->load() == 1);
  ::munmap(shared, 4096);
}

namespace {

struct RefreshRun {
  int computations = 0;
  int computed_by_callers = 0;  // on a caller's thread (the rest ran on the executor)
  int behind = 0;               // answers more than one refresh behind
  cachekit::CacheStats stats;
};

// Eight threads keep asking for one key while time runs: steps of
// advance() then pause. A step waits (bounded) until some call finished
// since the last one and no recompute is in flight, so that a slow machine
// cannot starve the readers of a whole window of virtual time.
RefreshRun run_refresh(std::shared_ptr<cachekit::Backend> backend, std::chrono::seconds ttl,
                       std::chrono::seconds refresh, const std::function<void()>& advance,
                       std::chrono::milliseconds pause, int steps, TestExecutor* executor) {
  cachekit::CacheOptions o;
  o.ns = "tests";
  o.operation = executor != nullptr ? "refresh-exec" : "refresh";
  o.ttl = ttl;
  o.refresh_ahead = refresh;
  o.stampede.enabled = true;
  if (executor != nullptr) o.executor = [executor](std::function<void()> task) { executor->submit(std::move(task)); };
  std::atomic<int> version{0};   // versions computed (started)
  std::atomic<int> landed{0};    // versions stored and returned
  std::atomic<int> by_callers{0};
  std::mutex ids_mutex;
  std::vector<std::thread::id> callers;
  auto f = cachekit::cache(backend, o, [&](int) {
    const int v = ++version;
    {
      std::lock_guard<std::mutex> lock(ids_mutex);
      if (std::find(callers.begin(), callers.end(), std::this_thread::get_id()) != callers.end()) ++by_callers;
    }
    std::this_thread::sleep_for(50ms);
    int seen = landed.load();
    while (seen < v && !landed.compare_exchange_weak(seen, v)) {
    }
    return v;
  });
  (void)f.invalidate(0);
  REQUIRE(f(0) == 1);  // the first value
  std::atomic<bool> stop{false};
  std::atomic<int> behind{0};
  std::atomic<long> answered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      {
        std::lock_guard<std::mutex> lock(ids_mutex);
        callers.push_back(std::this_thread::get_id());
      }
      while (!stop.load()) {
        const int before = landed.load();
        const int got = f(0);
        if (got + 1 < before) ++behind;
        ++answered;
      }
    });
  }
  for (int i = 0; i < steps; ++i) {
    const long seen = answered.load();
    const auto bound = Clock::now() + 5s;
    while ((answered.load() == seen || version.load() != landed.load()) && Clock::now() < bound) std::this_thread::yield();
    advance();
    std::this_thread::sleep_for(pause);
  }
  stop = true;
  for (auto& th : threads) th.join();
  if (executor != nullptr) CHECK(executor->drain(10s));
  RefreshRun r;
  r.computations = version.load();
  r.computed_by_callers = by_callers.load();
  r.behind = behind.load();
  r.stats = f.stats();
  return r;
}

}  // namespace

TEST_CASE("cache leases: refresh ahead keeps entries alive; only winners compute, one per refresh" *
          doctest::test_suite("concurrency")) {
  SUBCASE("memory backend, the winner recomputes on its own thread") {
    HandClock clock;
    cachekit::MemoryBackendOptions mo;
    mo.clock = clock;
    auto backend = std::make_shared<cachekit::MemoryBackend>(mo);
    // 2 s entries refreshed in their last second; 4 virtual seconds pass.
    const auto r = run_refresh(backend, 2s, 1s, [&] { clock.advance(100ms); }, 10ms, 40, nullptr);
    CHECK(r.stats.misses == 1);  // the first call only: nothing ever expired
    CHECK(r.stats.stampede_waits == 0);
    CHECK(r.stats.early_refreshes >= 2);
    CHECK(r.computations == 1 + static_cast<int>(r.stats.early_refreshes));
    CHECK(r.stats.lease_wins == r.stats.early_refreshes + 1);
    CHECK(r.behind == 0);
  }
  SUBCASE("memory backend, the winner hands the recompute to an executor") {
    HandClock clock;
    cachekit::MemoryBackendOptions mo;
    mo.clock = clock;
    auto backend = std::make_shared<cachekit::MemoryBackend>(mo);
    TestExecutor executor;
    const auto r = run_refresh(backend, 2s, 1s, [&] { clock.advance(100ms); }, 10ms, 40, &executor);
    CHECK(r.stats.misses == 1);
    CHECK(r.stats.stampede_waits == 0);
    CHECK(r.stats.early_refreshes >= 2);
    CHECK(r.computations == 1 + static_cast<int>(r.stats.early_refreshes));
    CHECK(r.computed_by_callers == 0);  // no caller waited for a recompute
    CHECK(r.behind == 0);
  }
  SUBCASE("memcached meta, real time") {
    cktest::MemcachedCluster servers(1);
    // 3 s entries refreshed in their last 2 s (after at most two of the
    // server's one-second ticks), asked for about 2.5 s.
    const auto r = run_refresh(meta_backend(servers), 3s, 2s, [] {}, 100ms, 25, nullptr);
    CHECK(r.stats.misses == 1);
    CHECK(r.stats.stampede_waits == 0);
    CHECK(r.stats.early_refreshes >= 1);
    CHECK(r.computations == 1 + static_cast<int>(r.stats.early_refreshes));
    CHECK(r.behind == 0);
  }
}

TEST_CASE("cache leases: serve_stale answers the old value, flagged, until the recompute lands") {
  cktest::MemcachedCluster servers(1);
  std::shared_ptr<cachekit::Backend> backends[] = {meta_backend(servers), std::make_shared<cachekit::MemoryBackend>()};
  for (auto& backend : backends) {
    cachekit::CacheOptions o;
    o.ns = "tests";
    o.operation = "serve-stale";
    o.serve_stale = 30s;
    std::atomic<int> version{0};
    std::mutex gate;  // held by the test while a recompute must not finish
    auto f = cachekit::cache(backend, o, [&](int) {
      const int v = ++version;
      std::lock_guard<std::mutex> wait(gate);
      return v * 10;
    });
    (void)backend->remove(*f.key(3));
    REQUIRE(f(3) == 10);
    CHECK(f.invalidate(3));
    std::unique_lock<std::mutex> hold(gate);
    std::atomic<int> winner_got{0};
    std::thread winner([&] { winner_got = f(3); });  // wins the recompute and blocks in it
    const auto deadline = Clock::now() + 5s;
    while (version.load() < 2 && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
    REQUIRE(version.load() == 2);
    for (int i = 0; i < 5; ++i) CHECK(f(3) == 10);  // the stale value, at once
    CHECK(f.stats().stale_serves == 5);
    hold.unlock();
    winner.join();
    CHECK(winner_got.load() == 20);
    CHECK(f(3) == 20);  // the recompute landed
    const auto stats = f.stats();
    CHECK(stats.stale_serves == 5);
    CHECK(stats.lease_wins == 1);
    CHECK(version.load() == 2);
  }
}

TEST_CASE("cache leases: with serve_stale off invalidate deletes, as before") {
  cktest::MemcachedCluster servers(1);
  std::shared_ptr<cachekit::Backend> backends[] = {meta_backend(servers), std::make_shared<cachekit::MemoryBackend>()};
  for (auto& backend : backends) {
    cachekit::CacheOptions o;
    o.ns = "tests";
    o.operation = "no-stale";
    int runs = 0;
    auto f = cachekit::cache(backend, o, [&](int x) { return x + 100 * ++runs; });
    (void)backend->remove(*f.key(1));
    CHECK(f(1) == 101);
    CHECK(f.invalidate(1));
    CHECK_FALSE(*backend->exists(*f.key(1)));
    CHECK(f(1) == 201);
    CHECK(f.stats().stale_serves == 0);
  }
}

TEST_CASE("cache leases: ttl(args) tells the cached entry's remaining lifetime") {
  cktest::MemcachedCluster servers(1);
  std::shared_ptr<cachekit::Backend> backends[] = {meta_backend(servers), std::make_shared<cachekit::MemoryBackend>()};
  for (auto& backend : backends) {
    cachekit::CacheOptions o;
    o.ns = "tests";
    o.operation = "ttl";
    o.ttl = 120s;
    auto f = cachekit::cache(backend, o, [](int x) { return x; });
    (void)backend->remove(*f.key(5));
    auto none = f.ttl(5);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    CHECK(f(5) == 5);
    auto t = f.ttl(5);
    REQUIRE(t);
    REQUIRE(t->has_value());
    CHECK((*t)->expires);
    CHECK((*t)->left <= 120s);
    CHECK((*t)->left >= 118s);
  }
  // Over text the facade says what it needs.
  auto text = meta_backend(servers, cachekit::Protocol::text);
  auto g = cachekit::cache(text, cachekit::CacheOptions{}, [](int x) { return x; });
  auto refused = g.ttl(5);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("meta protocol") != std::string::npos);
}

TEST_CASE("cache leases: text and binary keep the lock-and-poll path" * doctest::test_suite("concurrency")) {
  cktest::MemcachedCluster servers(1);
  for (auto protocol : {cachekit::Protocol::text, cachekit::Protocol::binary}) {
    auto backend = meta_backend(servers, protocol);
    CAPTURE(cachekit::to_string(protocol));
    REQUIRE_FALSE(backend->has_leases());
    cktest::StampedeSettings s;
    s.compute_time = 200ms;
    s.max_wait = 3000ms;
    s.operation = std::string("lock-stampede-") + cachekit::to_string(protocol);
    const auto r = cktest::run_stampede(backend, s);
    CHECK(r.calls == 1);
    CHECK(r.wrong_values == 0);
    CHECK(r.stats.lease_wins == 0);
    CHECK(r.stats.stampede_waits == 15);
    CHECK(r.stats.errors == 0);
    CHECK_FALSE(*backend->exists(r.key + ":lock"));  // given back
  }
}
