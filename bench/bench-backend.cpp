// MemcachedBackend against libmemcached on the same memcached servers
// (started by the benchmark): get, get_many, set_many.
//   cachekit_bench --benchmark_filter='Backend' --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/memcached_server.hpp"

#ifdef CACHEKIT_BENCH_HAVE_LIBMEMCACHED
#include <libmemcached/memcached.h>
#endif

namespace {

// Three servers shared by every benchmark in this file.
std::vector<std::unique_ptr<ckbench::MemcachedServer>>& servers() {
  static std::vector<std::unique_ptr<ckbench::MemcachedServer>> s = [] {
    std::vector<std::unique_ptr<ckbench::MemcachedServer>> v;
    for (int i = 0; i < 3; ++i) v.push_back(std::make_unique<ckbench::MemcachedServer>());
    return v;
  }();
  return s;
}

// spin_us < 0 keeps the configured spin_wait; otherwise it replaces it.
std::unique_ptr<cachekit::MemcachedBackend> cachekit_client(std::size_t n_servers, std::int64_t spin_us = -1) {
  // CACHEKIT_MEMCACHED_* variables apply (e.g. SPIN_WAIT_US=0 to compare
  // without busy-polling); the servers are always the benchmark's own.
  auto env = cachekit::MemcachedBackendConfig::from_env();
  cachekit::MemcachedBackendConfig cfg = env ? *env : cachekit::MemcachedBackendConfig{};
  cfg.servers.clear();
  for (std::size_t i = 0; i < n_servers; ++i) cfg.servers.push_back(servers()[i]->spec());
  if (spin_us >= 0) cfg.spin_wait = std::chrono::microseconds(spin_us);
  return std::make_unique<cachekit::MemcachedBackend>(cfg);
}

const std::string kValue(100, 'v');

std::vector<std::string> make_keys(const std::string& tag, std::size_t n) {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < n; ++i) keys.push_back("bench:" + tag + ":" + std::to_string(i));
  return keys;
}

void BM_Backend_Get_cachekit(benchmark::State& state) {
  auto b = cachekit_client(1, state.range(0));
  if (!b->set("bench:get", kValue)) state.SkipWithError("set failed");
  for (auto _ : state) {
    auto r = b->get("bench:get");
    if (!r || !r->has_value()) state.SkipWithError("get failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
// Argument: spin_wait in microseconds (-1: the configured default).
BENCHMARK(BM_Backend_Get_cachekit)->Arg(-1)->Arg(0)->UseRealTime();

void get_many_cachekit(benchmark::State& state, std::size_t n_servers, std::size_t n_keys) {
  auto b = cachekit_client(n_servers, state.range(0));
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
void BM_Backend_GetMany100_1server_cachekit(benchmark::State& state) { get_many_cachekit(state, 1, 100); }
void BM_Backend_GetMany1000_3servers_cachekit(benchmark::State& state) { get_many_cachekit(state, 3, 1000); }
BENCHMARK(BM_Backend_GetMany100_1server_cachekit)->Arg(-1)->Arg(0)->UseRealTime();
BENCHMARK(BM_Backend_GetMany1000_3servers_cachekit)->Arg(-1)->Arg(0)->UseRealTime();

void BM_Backend_SetMany100_cachekit(benchmark::State& state) {
  auto b = cachekit_client(1);
  const auto keys = make_keys("sm", 100);
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& k : keys) items.emplace_back(k, kValue);
  for (auto _ : state) {
    auto f = b->set_many(items);
    if (!f || !f->empty()) state.SkipWithError("set_many failed");
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_Backend_SetMany100_cachekit)->UseRealTime();

#ifdef CACHEKIT_BENCH_HAVE_LIBMEMCACHED
using Memc = std::unique_ptr<memcached_st, decltype(&memcached_free)>;

Memc libmemcached_client(std::size_t n_servers) {
  Memc m(memcached_create(nullptr), &memcached_free);
  memcached_behavior_set(m.get(), MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
  memcached_behavior_set(m.get(), MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
  memcached_behavior_set(m.get(), MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
  for (std::size_t i = 0; i < n_servers; ++i) memcached_server_add(m.get(), "127.0.0.1", servers()[i]->port());
  return m;
}

void BM_Backend_Get_libmemcached(benchmark::State& state) {
  Memc m = libmemcached_client(1);
  const std::string key = "bench:get";
  memcached_set(m.get(), key.data(), key.size(), kValue.data(), kValue.size(), 0, 0);
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
BENCHMARK(BM_Backend_Get_libmemcached)->UseRealTime();

void get_many_libmemcached(benchmark::State& state, std::size_t n_servers, std::size_t n_keys) {
  Memc m = libmemcached_client(n_servers);
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
void BM_Backend_GetMany100_1server_libmemcached(benchmark::State& state) { get_many_libmemcached(state, 1, 100); }
void BM_Backend_GetMany1000_3servers_libmemcached(benchmark::State& state) { get_many_libmemcached(state, 3, 1000); }
BENCHMARK(BM_Backend_GetMany100_1server_libmemcached)->UseRealTime();
BENCHMARK(BM_Backend_GetMany1000_3servers_libmemcached)->UseRealTime();

void BM_Backend_SetMany100_libmemcached(benchmark::State& state) {
  Memc m = libmemcached_client(1);
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
BENCHMARK(BM_Backend_SetMany100_libmemcached)->UseRealTime();
#endif

}  // namespace
