#pragma once
// The Backend interface: what the typed facade needs from a store.
// MemcachedBackend and MemoryBackend implement it; users may write their own.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "error.hpp"

CACHEKIT_BEGIN_NAMESPACE

/// A key-value store with TTLs. Implementations must be safe to share
/// across threads.
class Backend {
 public:
  virtual ~Backend() = default;

  /// The value stored under key, or nullopt on a miss.
  virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
  /// Stores value under key; ttl <= 0 means no expiry.
  virtual Result<void> set(std::string_view key, std::string_view value, std::chrono::seconds ttl) = 0;
  /// Stores only if key is absent: true when stored, false when it existed.
  virtual Result<bool> add(std::string_view key, std::string_view value, std::chrono::seconds ttl) = 0;
  /// Removes key: true when it existed.
  virtual Result<bool> remove(std::string_view key) = 0;
  /// Whether key is present.
  virtual Result<bool> exists(std::string_view key) = 0;
  /// Sets a new TTL on key: true when it existed.
  virtual Result<bool> touch(std::string_view key, std::chrono::seconds ttl) = 0;
};

namespace detail {
/// TTL as memcached expects it: 0 = never; negative = never; longer than
/// 30 days is clamped to 30 days (larger numbers would be read as absolute
/// Unix times by the server).
inline std::uint32_t normalize_ttl(std::chrono::seconds ttl) noexcept {
  const auto s = ttl.count();
  if (s <= 0) return 0;
  if (s > CACHEKIT_MAX_TTL_SECONDS) return CACHEKIT_MAX_TTL_SECONDS;
  return static_cast<std::uint32_t>(s);
}
}  // namespace detail

CACHEKIT_END_NAMESPACE
