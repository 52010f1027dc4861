// A translation unit in a project that compiles the memcached backend once
// (CACHEKIT_DECLARATIONS_ONLY here, CACHEKIT_IMPLEMENTATION in impl.cpp).
#define CACHEKIT_DECLARATIONS_ONLY
#include <cachekit/cachekit.hpp>

#include <cstdio>
#include <string>

int use_backend() {
  cachekit::MemcachedBackendConfig cfg;
  cfg.servers = {"not a server spec"};
  cachekit::MemcachedBackend backend(cfg);
  auto r = backend.get("k");
  if (r) return 1;  // an invalid config must fail every call
  const std::string text = r.error().to_string();
  if (text.find("servers") == std::string::npos) {
    std::fprintf(stderr, "unexpected error: %s\n", text.c_str());
    return 1;
  }
  return 0;
}

int main() { return use_backend(); }
