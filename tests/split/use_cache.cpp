// A second translation unit of the split build (CACHEKIT_DECLARATIONS_ONLY):
// the facade, the memory backend and the log, compiled in impl.cpp.
#define CACHEKIT_DECLARATIONS_ONLY
#include <cachekit/cachekit.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

int use_cache() {
  auto store = std::make_shared<cachekit::MemoryBackend>();
  int runs = 0;
  cachekit::CacheOptions opts;
  opts.ns = "split";
  opts.operation = "square";
  opts.l1.enabled = true;  // the near cache is another MemoryBackend
  auto square = cachekit::cache(store, opts, [&runs](std::int64_t x) {
    ++runs;
    return x * x;
  });
  if (square(12) != 144 || square(12) != 144 || runs != 1) {
    std::fprintf(stderr, "cache(): expected one run and 144, got %d runs\n", runs);
    return 1;
  }
  const cachekit::CacheStats stats = square.stats();
  if (stats.hits != 1 || stats.misses != 1) {
    std::fprintf(stderr, "cache(): expected 1 hit and 1 miss, got %llu and %llu\n",
                 static_cast<unsigned long long>(stats.hits), static_cast<unsigned long long>(stats.misses));
    return 1;
  }
  cachekit::Cache<std::string> names(store, cachekit::CacheOptions{});
  if (!names.set("k", "v") || names.get("k").value_or("") != "v") {
    std::fprintf(stderr, "Cache<T>: the stored value did not come back\n");
    return 1;
  }
  return 0;
}

int use_log() {
  // A cached function over a misconfigured memcached backend runs uncached
  // and logs the first error through the replaced hook.
  int logged = 0;
  cachekit::set_logger([&logged](const cachekit::LogRecord& r) {
    if (r.topic == "cache") ++logged;
  });
  cachekit::MemcachedBackendConfig cfg;
  cfg.servers = {"not a server spec"};
  auto backend = std::make_shared<cachekit::MemcachedBackend>(cfg);
  auto twice = cachekit::cache(backend, cachekit::CacheOptions{}, [](std::int64_t x) { return 2 * x; });
  const bool values_ok = twice(1) == 2 && twice(2) == 4;
  cachekit::set_logger(nullptr);
  if (!values_ok || logged != 1) {
    std::fprintf(stderr, "log: expected the values and one record, got %d records\n", logged);
    return 1;
  }
  return 0;
}
