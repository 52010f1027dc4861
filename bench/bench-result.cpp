// Cost of the Result<T> plumbing every call goes through.
#include <benchmark/benchmark.h>

#include <cachekit/cachekit.hpp>

namespace {
cachekit::Result<std::uint32_t> ttl_or_error(long s) {
  if (s < -1000) return cachekit::Error(cachekit::ErrorKind::permanent, "ttl");
  return cachekit::detail::normalize_ttl(std::chrono::seconds(s));
}

void BM_ResultValue(benchmark::State& state) {
  long s = 0;
  for (auto _ : state) {
    auto r = ttl_or_error(s++ & 0xffff);
    benchmark::DoNotOptimize(r.value());
  }
}
BENCHMARK(BM_ResultValue);
}  // namespace
