// Key routing: cachekit's Ring against libmemcached in the same binary.
//   cachekit_bench --benchmark_filter='Ring|Md5|Murmur' --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cachekit/cachekit.hpp>

#include <random>
#include <string>
#include <vector>

#if CACHEKIT_BENCH_HAVE_LIBMEMCACHED
#include <libmemcached/memcached.h>
#endif

namespace {

// 100 servers with weights 1..5 on varied hosts and ports.
std::vector<cachekit::ServerSpec> weighted_servers(std::size_t n) {
  std::mt19937 rng(5);
  std::vector<cachekit::ServerSpec> out;
  for (std::size_t i = 0; i < n; ++i) {
    cachekit::ServerSpec s;
    s.host = "10." + std::to_string(i / 65536) + "." + std::to_string((i / 256) % 256) + "." + std::to_string(i % 256);
    s.port = static_cast<std::uint16_t>(i % 3 == 0 ? 11211 : 11212 + i % 7);
    s.weight = 1 + rng() % 5;
    out.push_back(s);
  }
  return out;
}

// Keys of 10..40 bytes, like typical cache keys.
const std::vector<std::string>& short_keys() {
  static const std::vector<std::string> keys = [] {
    std::mt19937 rng(9);
    std::vector<std::string> v;
    for (int i = 0; i < 4096; ++i) {
      std::string k = "user:" + std::to_string(rng());
      const std::size_t len = 10 + rng() % 31;
      while (k.size() < len) k += static_cast<char>('a' + rng() % 26);
      k.resize(len);
      v.push_back(k);
    }
    return v;
  }();
  return keys;
}

void BM_RingServerFor_Ketama100(benchmark::State& state) {
  auto ring = cachekit::Ring::build(weighted_servers(100)).value();
  const auto& keys = short_keys();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ring.server_for(keys[i++ & 4095]));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_RingServerFor_Ketama100);

void BM_RingServerFor_Modula100(benchmark::State& state) {
  auto ring = cachekit::Ring::build(weighted_servers(100), cachekit::Distribution::modula).value();
  const auto& keys = short_keys();
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(ring.server_for(keys[i++ & 4095]));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_RingServerFor_Modula100);

// Rendezvous scores every server per key (pymemcache does the same).
void BM_RingServerFor_Rendezvous(benchmark::State& state) {
  auto ring = cachekit::Ring::build(weighted_servers(static_cast<std::size_t>(state.range(0))),
                                    cachekit::Distribution::rendezvous)
                  .value();
  const auto& keys = short_keys();
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(ring.server_for(keys[i++ & 4095]));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_RingServerFor_Rendezvous)->Arg(3)->Arg(10)->Arg(100);

void BM_RingBatch1024_Ketama100(benchmark::State& state) {
  auto ring = cachekit::Ring::build(weighted_servers(100)).value();
  const auto& keys = short_keys();
  std::vector<std::string_view> views(keys.begin(), keys.begin() + 1024);
  std::vector<std::size_t> out(views.size());
  for (auto _ : state) {
    ring.server_for(views.data(), views.size(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 1024));
}
BENCHMARK(BM_RingBatch1024_Ketama100);

// The same batch with one MD5 path forced (the default picks the widest).
void BM_RingBatch1024_Ketama100_Path(benchmark::State& state, cachekit::detail::Md5Path path) {
  if (!cachekit::detail::md5_path_supported(path)) {
    state.SkipWithError("this CPU lacks that instruction set");
    return;
  }
  auto ring = cachekit::Ring::build(weighted_servers(100)).value();
  const auto& keys = short_keys();
  std::vector<std::string_view> views(keys.begin(), keys.begin() + 1024);
  std::vector<std::size_t> out(views.size());
  for (auto _ : state) {
    ring.server_for_with(views.data(), views.size(), out.data(), path);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 1024));
}
BENCHMARK_CAPTURE(BM_RingBatch1024_Ketama100_Path, Scalar, cachekit::detail::Md5Path::scalar);
BENCHMARK_CAPTURE(BM_RingBatch1024_Ketama100_Path, Avx2, cachekit::detail::Md5Path::avx2);

// The client-specific rings on the same 100 weighted IPv4 servers and keys,
// to compare with ketama above (same run): one key, and a batch of 1024.
void BM_RingServerFor_Mode100(benchmark::State& state, cachekit::Distribution d,
                              cachekit::KeyHash h = cachekit::KeyHash::md5) {
  auto ring = cachekit::Ring::build(weighted_servers(100), d, h).value();
  const auto& keys = short_keys();
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(ring.server_for(keys[i++ & 4095]));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK_CAPTURE(BM_RingServerFor_Mode100, ketama, cachekit::Distribution::ketama);
BENCHMARK_CAPTURE(BM_RingServerFor_Mode100, spymemcached, cachekit::Distribution::spymemcached);
BENCHMARK_CAPTURE(BM_RingServerFor_Mode100, uhashring, cachekit::Distribution::uhashring);
BENCHMARK_CAPTURE(BM_RingServerFor_Mode100, dalli, cachekit::Distribution::dalli);
BENCHMARK_CAPTURE(BM_RingServerFor_Mode100, ketama_fnv1a_64, cachekit::Distribution::ketama,
                  cachekit::KeyHash::fnv1a_64);
BENCHMARK_CAPTURE(BM_RingServerFor_Mode100, ketama_murmur, cachekit::Distribution::ketama, cachekit::KeyHash::murmur);

void BM_RingBatch1024_Mode100(benchmark::State& state, cachekit::Distribution d,
                              cachekit::KeyHash h = cachekit::KeyHash::md5) {
  auto ring = cachekit::Ring::build(weighted_servers(100), d, h).value();
  const auto& keys = short_keys();
  std::vector<std::string_view> views(keys.begin(), keys.begin() + 1024);
  std::vector<std::size_t> out(views.size());
  for (auto _ : state) {
    ring.server_for(views.data(), views.size(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 1024));
}
BENCHMARK_CAPTURE(BM_RingBatch1024_Mode100, ketama, cachekit::Distribution::ketama);
BENCHMARK_CAPTURE(BM_RingBatch1024_Mode100, spymemcached, cachekit::Distribution::spymemcached);
BENCHMARK_CAPTURE(BM_RingBatch1024_Mode100, uhashring, cachekit::Distribution::uhashring);
BENCHMARK_CAPTURE(BM_RingBatch1024_Mode100, dalli, cachekit::Distribution::dalli);
BENCHMARK_CAPTURE(BM_RingBatch1024_Mode100, ketama_fnv1a_64, cachekit::Distribution::ketama,
                  cachekit::KeyHash::fnv1a_64);
BENCHMARK_CAPTURE(BM_RingBatch1024_Mode100, ketama_murmur, cachekit::Distribution::ketama, cachekit::KeyHash::murmur);

void BM_RingBuild_Ketama100(benchmark::State& state) {
  const auto servers = weighted_servers(100);
  for (auto _ : state) {
    auto ring = cachekit::Ring::build(servers);
    benchmark::DoNotOptimize(ring.value().point_count());
  }
}
BENCHMARK(BM_RingBuild_Ketama100)->Unit(benchmark::kMicrosecond);

void BM_RingBuild_Ketama10000(benchmark::State& state) {
  const auto servers = weighted_servers(10000);
  for (auto _ : state) {
    auto ring = cachekit::Ring::build(servers);
    benchmark::DoNotOptimize(ring.value().point_count());
  }
}
BENCHMARK(BM_RingBuild_Ketama10000)->Unit(benchmark::kMillisecond);

void BM_Md5(benchmark::State& state) {
  std::string data(static_cast<std::size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    data[0]++;
    benchmark::DoNotOptimize(cachekit::hash::md5(data));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Md5)->Arg(16)->Arg(64)->Arg(250);

void BM_Md5Batch(benchmark::State& state) {
  std::vector<std::string> data(1024, std::string(static_cast<std::size_t>(state.range(0)), 'x'));
  for (std::size_t i = 0; i < data.size(); ++i) data[i][0] = static_cast<char>(i);
  std::vector<std::string_view> views(data.begin(), data.end());
  std::vector<std::uint32_t> out(views.size());
  for (auto _ : state) {
    cachekit::detail::md5_le32_batch(views.data(), views.size(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0) * 1024);
}
BENCHMARK(BM_Md5Batch)->Arg(16)->Arg(64)->Arg(250);

void BM_Murmur3(benchmark::State& state) {
  std::string data(static_cast<std::size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    data[0]++;
    benchmark::DoNotOptimize(cachekit::hash::murmur3_32(data));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Murmur3)->Arg(16)->Arg(64)->Arg(250);

#if CACHEKIT_BENCH_HAVE_LIBMEMCACHED

memcached_st* libmemcached_ring(const std::vector<cachekit::ServerSpec>& servers) {
  memcached_st* memc = memcached_create(nullptr);
  memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
  memcached_server_st* list = nullptr;
  memcached_return_t rc;
  for (const auto& s : servers) list = memcached_server_list_append_with_weight(list, s.host.c_str(), s.port, s.weight, &rc);
  memcached_server_push(memc, list);
  memcached_server_list_free(list);
  return memc;
}

void BM_LibmemcachedGenerateHash_Ketama100(benchmark::State& state) {
  memcached_st* memc = libmemcached_ring(weighted_servers(100));
  const auto& keys = short_keys();
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string& k = keys[i++ & 4095];
    benchmark::DoNotOptimize(memcached_generate_hash(memc, k.data(), k.size()));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  memcached_free(memc);
}
BENCHMARK(BM_LibmemcachedGenerateHash_Ketama100);

void BM_LibmemcachedGenerateHash_Modula100(benchmark::State& state) {
  memcached_st* memc = memcached_create(nullptr);
  memcached_server_st* list = nullptr;
  memcached_return_t rc;
  for (const auto& s : weighted_servers(100)) {
    list = memcached_server_list_append_with_weight(list, s.host.c_str(), s.port, s.weight, &rc);
  }
  memcached_server_push(memc, list);
  memcached_server_list_free(list);
  const auto& keys = short_keys();
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string& k = keys[i++ & 4095];
    benchmark::DoNotOptimize(memcached_generate_hash(memc, k.data(), k.size()));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  memcached_free(memc);
}
BENCHMARK(BM_LibmemcachedGenerateHash_Modula100);

void BM_LibmemcachedBatch1024_Ketama100(benchmark::State& state) {
  memcached_st* memc = libmemcached_ring(weighted_servers(100));
  const auto& keys = short_keys();
  std::vector<std::uint32_t> out(1024);
  for (auto _ : state) {
    for (std::size_t i = 0; i < 1024; ++i) out[i] = memcached_generate_hash(memc, keys[i].data(), keys[i].size());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 1024));
  memcached_free(memc);
}
BENCHMARK(BM_LibmemcachedBatch1024_Ketama100);

void BM_LibmemcachedBuild_Ketama100(benchmark::State& state) {
  const auto servers = weighted_servers(100);
  memcached_server_st* list = nullptr;
  memcached_return_t rc;
  for (const auto& s : servers) list = memcached_server_list_append_with_weight(list, s.host.c_str(), s.port, s.weight, &rc);
  for (auto _ : state) {
    memcached_st* memc = memcached_create(nullptr);
    memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
    memcached_server_push(memc, list);
    benchmark::DoNotOptimize(memc);
    memcached_free(memc);
  }
  memcached_server_list_free(list);
}
BENCHMARK(BM_LibmemcachedBuild_Ketama100)->Unit(benchmark::kMicrosecond);

#endif

}  // namespace
