// Cache<T>: a typed key-value view over a backend (here the default one).
#include <cachekit/cachekit.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

int main() {
  cachekit::CacheOptions options;
  options.ns = "example-sessions";  // keys become "example-sessions:<key>"
  options.ttl = std::chrono::seconds(30);
  cachekit::Cache<std::vector<std::string>> sessions(options);

  if (!sessions.set("alice", {"home", "settings"})) std::printf("set failed (see stats().errors)\n");
  if (auto pages = sessions.get("alice")) {
    std::printf("alice visited %zu pages, last: %s\n", pages->size(), pages->back().c_str());
  }

  // get_or_set computes only when the key is absent.
  auto bob = sessions.get_or_set("bob", [] { return std::vector<std::string>{"login"}; });
  auto again = sessions.get_or_set("bob", [] { return std::vector<std::string>{"never used"}; });
  std::printf("bob: %s, then %s\n", bob.front().c_str(), again.front().c_str());

  (void)sessions.remove("alice");
  (void)sessions.remove("bob");
  std::printf("alice after remove: %s\n", sessions.get("alice") ? "present" : "absent");

  const auto s = sessions.stats();
  std::printf("hits: %llu, misses: %llu, errors: %llu\n", static_cast<unsigned long long>(s.hits),
              static_cast<unsigned long long>(s.misses), static_cast<unsigned long long>(s.errors));
  return again.front() == "login" ? 0 : 1;
}
