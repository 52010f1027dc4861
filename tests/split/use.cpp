// A translation unit in a project that compiles the library once
// (CACHEKIT_DECLARATIONS_ONLY here and in use_cache.cpp and use_server.cpp,
// CACHEKIT_IMPLEMENTATION in impl.cpp; use_ring.cpp includes the whole header).
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

int use_cache();
int use_log();
int use_ring();
int use_server();

int main() { return use_backend() + use_cache() + use_log() + use_ring() + use_server(); }
