#pragma once
// Drives N threads that miss the same key at once through a cached function
// with stampede protection, and measures how long each caller waited.

#include <cachekit/cachekit.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace cktest {

struct StampedeSettings {
  int threads = 16;
  bool enabled = true;
  std::chrono::milliseconds compute_time{300};
  std::chrono::milliseconds max_wait{2000};
  std::chrono::seconds lease_ttl{5};
  std::string operation = "stampede";
};

struct StampedeResult {
  int calls = 0;
  int wrong_values = 0;
  /// Longest time a caller spent before it either got a value without
  /// computing, or started computing itself.
  std::chrono::milliseconds longest_wait{0};
  cachekit::CacheStats stats;
  std::string key;
};

inline StampedeResult run_stampede(std::shared_ptr<cachekit::Backend> backend, const StampedeSettings& s) {
  using clock = std::chrono::steady_clock;
  cachekit::CacheOptions o;
  o.ns = "tests";
  o.operation = s.operation;
  o.ttl = std::chrono::seconds(60);
  o.stampede.enabled = s.enabled;
  o.stampede.max_wait = s.max_wait;
  o.stampede.lease_ttl = s.lease_ttl;
  std::atomic<int> calls{0};
  // Per thread: when its call started and, if it computed, when it began to.
  std::vector<clock::time_point> started(static_cast<std::size_t>(s.threads));
  std::vector<clock::time_point> computed(static_cast<std::size_t>(s.threads));
  std::vector<clock::time_point> finished(static_cast<std::size_t>(s.threads));
  thread_local int self = -1;
  auto f = cachekit::cache(backend, o, [&](int x) {
    computed[static_cast<std::size_t>(self)] = clock::now();
    ++calls;
    std::this_thread::sleep_for(s.compute_time);
    return x * 11;
  });
  (void)f.invalidate(4);
  (void)backend->remove(*f.key(4) + ":lock");

  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < s.threads; ++t) {
    threads.emplace_back([&, t] {
      self = t;
      ++ready;
      while (!go.load()) std::this_thread::yield();
      started[static_cast<std::size_t>(t)] = clock::now();
      if (f(4) != 44) ++wrong;
      finished[static_cast<std::size_t>(t)] = clock::now();
    });
  }
  while (ready.load() < s.threads) std::this_thread::yield();
  go = true;
  for (auto& th : threads) th.join();

  StampedeResult r;
  r.calls = calls.load();
  r.wrong_values = wrong.load();
  r.stats = f.stats();
  r.key = *f.key(4);
  for (std::size_t i = 0; i < started.size(); ++i) {
    const auto until = computed[i] != clock::time_point() ? computed[i] : finished[i];
    r.longest_wait = std::max(r.longest_wait, std::chrono::duration_cast<std::chrono::milliseconds>(until - started[i]));
  }
  return r;
}

}  // namespace cktest
