// The typed facade: a memoized call that hits, and what it adds over the
// backend it sits on.
#include <benchmark/benchmark.h>

#include <cachekit/cachekit.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace {

cachekit::CacheOptions bench_options() {
  cachekit::CacheOptions o;
  o.ns = "bench";
  o.operation = "square";
  o.ttl = std::chrono::seconds(0);
  return o;
}

// A memoized call with one integer argument that hits the in-process
// backend: interop key (canonical MessagePack + BLAKE2b-256), lookup, decode.
void BM_FacadeHitMemory(benchmark::State& state) {
  auto backend = std::make_shared<cachekit::MemoryBackend>();
  auto square = cachekit::cache(backend, bench_options(), [](std::int64_t x) { return x * x; });
  for (std::int64_t i = 0; i < 100; ++i) benchmark::DoNotOptimize(square(i));
  std::int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(square(i));
    i = (i + 1) % 100;
  }
  if (square.stats().calls != 100) state.SkipWithError("unexpected misses");
}
BENCHMARK(BM_FacadeHitMemory);

// Its parts: the key alone, and a raw backend get of the encoded value.
void BM_InteropKeyOneInt(benchmark::State& state) {
  std::int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cachekit::interop_key("bench", "square", i));
    i = (i + 1) % 100;
  }
}
BENCHMARK(BM_InteropKeyOneInt);

void BM_MemoryBackendGet(benchmark::State& state) {
  cachekit::MemoryBackend backend;
  const std::string key = cachekit::interop_key("bench", "square", 7).value();
  (void)backend.set(key, cachekit::to_msgpack(std::int64_t{49}), std::chrono::seconds(0));
  for (auto _ : state) benchmark::DoNotOptimize(backend.get(key));
}
BENCHMARK(BM_MemoryBackendGet);

}  // namespace
