#pragma once
// The protocol the backend suite runs with: CACHEKIT_TEST_PROTOCOL
// (meta, text or binary; meta, the library's default, when unset). ctest
// runs the backend suite once per protocol (tests/CMakeLists.txt).

#include <cachekit/cachekit.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace cktest {

inline cachekit::Protocol protocol_under_test() {
  const char* v = std::getenv("CACHEKIT_TEST_PROTOCOL");
  if (v == nullptr || *v == '\0') return cachekit::Protocol::meta;
  auto p = cachekit::parse_protocol(v);
  if (!p) {
    std::fprintf(stderr, "CACHEKIT_TEST_PROTOCOL: %s\n", p.error().message().c_str());
    std::abort();
  }
  return *p;
}

/// A default backend config speaking the protocol under test.
inline cachekit::MemcachedBackendConfig backend_config() {
  cachekit::MemcachedBackendConfig cfg;
  cfg.protocol = protocol_under_test();
  return cfg;
}

}  // namespace cktest
