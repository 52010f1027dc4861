// MemcachedBackend against libmemcached on the same memcached servers
// (started by the benchmark): get, get_many, set_many.
//   cachekit_bench --benchmark_filter='Backend' --benchmark_min_time=0.2
// Every cachekit benchmark is registered once per protocol, with the
// protocol as a name suffix (..._cachekit_meta, _text, _binary); the peer is
// libmemcached with its binary protocol (..._libmemcached) and in its ASCII
// mode (..._libmemcached_ascii). bench/protocol-ratios.sh runs them all in one
// process and prints the ratios.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/memcached_server.hpp"

#ifdef CACHEKIT_BENCH_HAVE_LIBMEMCACHED
#include <libmemcached/memcached.h>
#endif

namespace {

// Three servers shared by every benchmark in this file. CACHEKIT_BENCH_MEMCACHED_ARGS
// (space-separated) adds memcached options, e.g. "-R 200" (requests a
// connection may run per event, 20 by default).
std::vector<std::unique_ptr<ckbench::MemcachedServer>>& servers() {
  static std::vector<std::unique_ptr<ckbench::MemcachedServer>> s = [] {
    std::vector<std::string> extra;
    if (const char* e = std::getenv("CACHEKIT_BENCH_MEMCACHED_ARGS")) {
      std::string word;
      for (const char* c = e;; ++c) {
        if (*c == ' ' || *c == '\0') {
          if (!word.empty()) extra.push_back(word);
          word.clear();
          if (*c == '\0') break;
        } else {
          word += *c;
        }
      }
    }
    std::vector<std::unique_ptr<ckbench::MemcachedServer>> v;
    for (int i = 0; i < 3; ++i) v.push_back(std::make_unique<ckbench::MemcachedServer>(extra));
    return v;
  }();
  return s;
}

const cachekit::Protocol kProtocols[] = {cachekit::Protocol::meta, cachekit::Protocol::text,
                                         cachekit::Protocol::binary};

// spin_us < 0 keeps the configured spin_wait; otherwise it replaces it.
std::unique_ptr<cachekit::MemcachedBackend> cachekit_client(cachekit::Protocol protocol, std::size_t n_servers,
                                                            std::int64_t spin_us = -1) {
  // CACHEKIT_MEMCACHED_* variables apply (e.g. SPIN_WAIT_US=0 to compare
  // without busy-polling); the servers and the protocol are always the
  // benchmark's own.
  auto env = cachekit::MemcachedBackendConfig::from_env();
  if (!env) {
    std::fprintf(stderr, "CACHEKIT_MEMCACHED_*: %s\n", env.error().message().c_str());
    std::exit(2);
  }
  cachekit::MemcachedBackendConfig cfg = *env;
  cfg.servers.clear();
  for (std::size_t i = 0; i < n_servers; ++i) cfg.servers.push_back(servers()[i]->spec());
  cfg.protocol = protocol;
  if (spin_us >= 0) cfg.spin_wait = std::chrono::microseconds(spin_us);
  return std::make_unique<cachekit::MemcachedBackend>(cfg);
}

const std::string kValue(100, 'v');

std::vector<std::string> make_keys(const std::string& tag, std::size_t n) {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < n; ++i) keys.push_back("bench:" + tag + ":" + std::to_string(i));
  return keys;
}

// The benchmark's name for a cachekit benchmark over one protocol.
std::string named(const char* base, cachekit::Protocol p) {
  return std::string(base) + "_cachekit_" + cachekit::to_string(p);
}

void get_cachekit(benchmark::State& state, cachekit::Protocol p) {
  auto b = cachekit_client(p, 1, state.range(0));
  if (!b->set("bench:get", kValue)) state.SkipWithError("set failed");
  for (auto _ : state) {
    auto r = b->get("bench:get");
    if (!r || !r->has_value()) state.SkipWithError("get failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void get_many_cachekit(benchmark::State& state, cachekit::Protocol p, std::size_t n_servers, std::size_t n_keys) {
  auto b = cachekit_client(p, n_servers, state.range(0));
  const auto keys = make_keys("gm" + std::to_string(n_servers), n_keys);
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& k : keys) items.emplace_back(k, kValue);
  auto f = b->set_many(items);
  if (!f || !f->empty()) state.SkipWithError("set_many failed");
  for (auto _ : state) {
    auto r = b->get_many(keys);
    if (!r || !(*r)[n_keys - 1]) state.SkipWithError("get_many failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n_keys));
}

void set_many_cachekit(benchmark::State& state, cachekit::Protocol p) {
  auto b = cachekit_client(p, 1);
  const auto keys = make_keys("sm", 100);
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& k : keys) items.emplace_back(k, kValue);
  for (auto _ : state) {
    auto f = b->set_many(items);
    if (!f || !f->empty()) state.SkipWithError("set_many failed");
  }
  state.SetItemsProcessed(state.iterations() * 100);
}

// Argument of the get and get_many benchmarks: spin_wait in microseconds
// (-1: the configured default, 0: no busy-polling).
[[maybe_unused]] const int kRegisteredCachekit = [] {
  for (const cachekit::Protocol p : kProtocols) {
    benchmark::RegisterBenchmark(named("BM_Backend_Get", p).c_str(), get_cachekit, p)
        ->Arg(-1)->Arg(0)->UseRealTime();
    benchmark::RegisterBenchmark(named("BM_Backend_GetMany100_1server", p).c_str(), get_many_cachekit, p,
                                 std::size_t{1}, std::size_t{100})
        ->Arg(-1)->Arg(0)->UseRealTime();
    benchmark::RegisterBenchmark(named("BM_Backend_GetMany100_3servers", p).c_str(), get_many_cachekit, p,
                                 std::size_t{3}, std::size_t{100})
        ->Arg(-1)->Arg(0)->UseRealTime();
    benchmark::RegisterBenchmark(named("BM_Backend_GetMany1000_3servers", p).c_str(), get_many_cachekit, p,
                                 std::size_t{3}, std::size_t{1000})
        ->Arg(-1)->Arg(0)->UseRealTime();
    benchmark::RegisterBenchmark(named("BM_Backend_SetMany100", p).c_str(), set_many_cachekit, p)->UseRealTime();
  }
  return 0;
}();

// Side by side: every client does one operation in turn, in one loop, each
// operation timed on its own, so a burst of load from other processes hits
// all clients alike. The order is shuffled every round: an operation runs
// measurably slower right after some clients' (after libmemcached's ASCII
// get, whichever client comes next loses 5-8 us on a loopback server), and a
// fixed cyclic order would charge that to one client every time. The counters are
// each client's items per second from the median time of one operation
// (CLIENT), which a preempted operation does not move, and from the mean
// (CLIENT_mean); bench/protocol-ratios.sh turns them into ratios per
// repetition. Argument: cachekit's spin_wait as above.
struct Contender {
  std::string name;
  std::function<bool()> op;  // one get or get_many; false when it failed
  std::vector<double> seconds{};
};

void add_cachekit_contenders(std::vector<Contender>& out, std::int64_t spin_us, std::size_t n_servers,
                             std::size_t n_keys, std::vector<std::shared_ptr<void>>& keep) {
  for (const cachekit::Protocol p : kProtocols) {
    std::shared_ptr<cachekit::MemcachedBackend> b = cachekit_client(p, n_servers, spin_us);
    auto keys = std::make_shared<std::vector<std::string>>(
        make_keys(std::string("side:") + cachekit::to_string(p)[0] + std::to_string(n_servers), n_keys));
    std::vector<std::pair<std::string, std::string>> items;
    for (const auto& k : *keys) items.emplace_back(k, kValue);
    auto f = b->set_many(items);
    if (!f || !f->empty()) return;
    keep.push_back(b);
    keep.push_back(keys);
    std::function<bool()> op;
    if (n_keys == 1) {
      op = [b, keys] {
        auto r = b->get((*keys)[0]);
        return r && r->has_value();
      };
    } else {
      op = [b, keys] {
        auto r = b->get_many(*keys);
        return r && r->back().has_value();
      };
    }
    out.push_back(Contender{std::string("cachekit_") + cachekit::to_string(p), std::move(op), {}});
  }
}

#ifdef CACHEKIT_BENCH_HAVE_LIBMEMCACHED
void add_libmemcached_contenders(std::vector<Contender>& out, std::size_t n_servers, std::size_t n_keys,
                                 std::vector<std::shared_ptr<void>>& keep);
#endif

void side_by_side(benchmark::State& state, std::size_t n_servers, std::size_t n_keys) {
  std::vector<Contender> cs;
  std::vector<std::shared_ptr<void>> keep;
  add_cachekit_contenders(cs, state.range(0), n_servers, n_keys, keep);
#ifdef CACHEKIT_BENCH_HAVE_LIBMEMCACHED
  add_libmemcached_contenders(cs, n_servers, n_keys, keep);
#endif
  if (cs.size() < 3) state.SkipWithError("setting the keys failed");
  std::vector<std::size_t> order(cs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937 shuffle_rng(12345);  // the same sequence of orders in every run
  for (auto _ : state) {
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    for (const std::size_t i : order) {
      Contender& c = cs[i];
      const auto t0 = std::chrono::steady_clock::now();
      const bool ok = c.op();
      c.seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      if (!ok) state.SkipWithError((c.name + " failed").c_str());
    }
  }
  for (auto& c : cs) {
    if (c.seconds.empty()) continue;
    double total = 0;
    for (const double t : c.seconds) total += t;
    auto mid = c.seconds.begin() + static_cast<std::ptrdiff_t>(c.seconds.size() / 2);
    std::nth_element(c.seconds.begin(), mid, c.seconds.end());
    const double keys = static_cast<double>(n_keys);
    if (*mid > 0) state.counters[c.name] = keys / *mid;
    if (total > 0) state.counters[c.name + "_mean"] = keys * static_cast<double>(c.seconds.size()) / total;
  }
}

[[maybe_unused]] const int kRegisteredSideBySide = [] {
  struct Workload {
    const char* name;
    std::size_t servers, keys;
  };
  for (const Workload w : {Workload{"BM_Backend_Side_Get", 1, 1}, Workload{"BM_Backend_Side_GetMany100_1server", 1, 100},
                           Workload{"BM_Backend_Side_GetMany100_3servers", 3, 100},
                           Workload{"BM_Backend_Side_GetMany1000_3servers", 3, 1000}}) {
    benchmark::RegisterBenchmark(w.name, side_by_side, w.servers, w.keys)->Arg(-1)->Arg(0)->UseRealTime();
  }
  return 0;
}();

#ifdef CACHEKIT_BENCH_HAVE_LIBMEMCACHED
using Memc = std::unique_ptr<memcached_st, decltype(&memcached_free)>;

// binary: libmemcached's binary protocol; otherwise its ASCII mode.
Memc libmemcached_client(std::size_t n_servers, bool binary) {
  Memc m(memcached_create(nullptr), &memcached_free);
  memcached_behavior_set(m.get(), MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, binary ? 1 : 0);
  memcached_behavior_set(m.get(), MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
  memcached_behavior_set(m.get(), MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
  for (std::size_t i = 0; i < n_servers; ++i) memcached_server_add(m.get(), "127.0.0.1", servers()[i]->port());
  return m;
}

void get_libmemcached(benchmark::State& state, bool binary) {
  Memc m = libmemcached_client(1, binary);
  const std::string key = "bench:get";
  if (memcached_set(m.get(), key.data(), key.size(), kValue.data(), kValue.size(), 0, 0) != MEMCACHED_SUCCESS) {
    state.SkipWithError("set failed");
  }
  for (auto _ : state) {
    size_t len = 0;
    uint32_t flags = 0;
    memcached_return_t rc;
    char* v = memcached_get(m.get(), key.data(), key.size(), &len, &flags, &rc);
    if (v == nullptr) state.SkipWithError("get failed");
    benchmark::DoNotOptimize(v);
    free(v);
  }
  state.SetItemsProcessed(state.iterations());
}

void get_many_libmemcached(benchmark::State& state, bool binary, std::size_t n_servers, std::size_t n_keys) {
  Memc m = libmemcached_client(n_servers, binary);
  const auto keys = make_keys("gm" + std::to_string(n_servers), n_keys);
  std::vector<const char*> kp;
  std::vector<size_t> kl;
  for (const auto& k : keys) {
    kp.push_back(k.data());
    kl.push_back(k.size());
    memcached_set(m.get(), k.data(), k.size(), kValue.data(), kValue.size(), 0, 0);
  }
  for (auto _ : state) {
    if (memcached_mget(m.get(), kp.data(), kl.data(), n_keys) != MEMCACHED_SUCCESS) state.SkipWithError("mget failed");
    std::size_t found = 0;
    memcached_return_t rc;
    memcached_result_st* res;
    while ((res = memcached_fetch_result(m.get(), nullptr, &rc)) != nullptr) {
      benchmark::DoNotOptimize(memcached_result_value(res));
      ++found;
      memcached_result_free(res);
    }
    if (found != n_keys) state.SkipWithError("mget missed keys");
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n_keys));
}

void set_many_libmemcached(benchmark::State& state, bool binary) {
  Memc m = libmemcached_client(1, binary);
  const auto keys = make_keys("sm", 100);
  for (auto _ : state) {
    for (const auto& k : keys) {
      if (memcached_set(m.get(), k.data(), k.size(), kValue.data(), kValue.size(), 0, 0) != MEMCACHED_SUCCESS) {
        state.SkipWithError("set failed");
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * 100);
}

void add_libmemcached_contenders(std::vector<Contender>& out, std::size_t n_servers, std::size_t n_keys,
                                 std::vector<std::shared_ptr<void>>& keep) {
  for (const bool binary : {true, false}) {
    std::shared_ptr<memcached_st> m(libmemcached_client(n_servers, binary).release(), &memcached_free);
    auto keys = std::make_shared<std::vector<std::string>>(
        make_keys(std::string("side:") + (binary ? "l" : "a") + std::to_string(n_servers), n_keys));
    auto kp = std::make_shared<std::vector<const char*>>();
    auto kl = std::make_shared<std::vector<size_t>>();
    for (const auto& k : *keys) {
      kp->push_back(k.data());
      kl->push_back(k.size());
      if (memcached_set(m.get(), k.data(), k.size(), kValue.data(), kValue.size(), 0, 0) != MEMCACHED_SUCCESS) return;
    }
    keep.push_back(m);
    keep.push_back(keys);
    keep.push_back(kp);
    keep.push_back(kl);
    std::function<bool()> op;
    if (n_keys == 1) {
      op = [m, kp, kl] {
        size_t len = 0;
        uint32_t flags = 0;
        memcached_return_t rc;
        char* v = memcached_get(m.get(), (*kp)[0], (*kl)[0], &len, &flags, &rc);
        const bool hit = v != nullptr;
        benchmark::DoNotOptimize(v);
        free(v);
        return hit;
      };
    } else {
      op = [m, kp, kl] {
        if (memcached_mget(m.get(), kp->data(), kl->data(), kp->size()) != MEMCACHED_SUCCESS) return false;
        std::size_t found = 0;
        memcached_return_t rc;
        memcached_result_st* res;
        while ((res = memcached_fetch_result(m.get(), nullptr, &rc)) != nullptr) {
          benchmark::DoNotOptimize(memcached_result_value(res));
          ++found;
          memcached_result_free(res);
        }
        return found == kp->size();
      };
    }
    out.push_back(Contender{binary ? "libmemcached" : "libmemcached_ascii", std::move(op), {}});
  }
}

// BM_..._libmemcached: the binary protocol (as before the protocols were
// split out); BM_..._libmemcached_ascii: libmemcached's ASCII mode.
[[maybe_unused]] const int kRegisteredLibmemcached = [] {
  for (const bool binary : {true, false}) {
    const std::string suffix = binary ? "_libmemcached" : "_libmemcached_ascii";
    benchmark::RegisterBenchmark(("BM_Backend_Get" + suffix).c_str(), get_libmemcached, binary)->UseRealTime();
    benchmark::RegisterBenchmark(("BM_Backend_GetMany100_1server" + suffix).c_str(), get_many_libmemcached, binary,
                                 std::size_t{1}, std::size_t{100})
        ->UseRealTime();
    benchmark::RegisterBenchmark(("BM_Backend_GetMany100_3servers" + suffix).c_str(), get_many_libmemcached, binary,
                                 std::size_t{3}, std::size_t{100})
        ->UseRealTime();
    benchmark::RegisterBenchmark(("BM_Backend_GetMany1000_3servers" + suffix).c_str(), get_many_libmemcached, binary,
                                 std::size_t{3}, std::size_t{1000})
        ->UseRealTime();
    benchmark::RegisterBenchmark(("BM_Backend_SetMany100" + suffix).c_str(), set_many_libmemcached, binary)
        ->UseRealTime();
  }
  return 0;
}();
#endif

}  // namespace
