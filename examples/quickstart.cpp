// Quickstart: memoize a slow function with cachekit::cache.
//
// With nothing configured the values live in this process. Set
// CACHEKIT_MEMCACHED_SERVERS='["127.0.0.1:11211"]' to share them through
// memcached instead; the code does not change.
#include <cachekit/cachekit.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>

namespace {
// Stands in for a database query or a remote call.
std::int64_t slow_square(std::int64_t x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return x * x;
}
}  // namespace

int main() {
  cachekit::CacheOptions options;
  options.ns = "quickstart";
  options.operation = "slow_square";
  options.ttl = std::chrono::seconds(60);
  auto square = cachekit::cache(options, slow_square);

  std::printf("backend: %s\n", cachekit::memcached_configured() ? "memcached (CACHEKIT_MEMCACHED_SERVERS)"
                                                                 : "in-process (the default)");
  for (std::int64_t x : {3, 4, 5}) (void)square.invalidate(x);  // start cold, also on a shared memcached

  for (std::int64_t x : {3, 4, 3, 3, 5, 4, 3}) {
    const auto before = square.stats();
    const auto start = std::chrono::steady_clock::now();
    const std::int64_t y = square(x);
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    const char* outcome = square.stats().hits > before.hits ? "hit " : "miss";
    std::printf("square(%lld) = %-3lld %s %8.1f %s\n", static_cast<long long>(x), static_cast<long long>(y), outcome,
                us >= 1000 ? us / 1000 : us, us >= 1000 ? "ms" : "us");
  }

  const auto s = square.stats();
  std::printf("misses: %llu, hits: %llu, errors: %llu\n", static_cast<unsigned long long>(s.misses),
              static_cast<unsigned long long>(s.hits), static_cast<unsigned long long>(s.errors));
  return s.hits == 4 && s.misses == 3 ? 0 : 1;
}
