#pragma once
// The longest a MemcachedBackend call may take with this configuration:
// connect_timeout + (retry_attempts + 1) * timeout. Tests add a margin for
// scheduling on a loaded machine.

#include <chrono>

#include <cachekit/cachekit.hpp>

namespace cktest {
inline std::chrono::milliseconds call_bound(const cachekit::MemcachedBackendConfig& c) {
  return c.connect_timeout + (c.retry_attempts + 1) * c.timeout;
}
}  // namespace cktest
