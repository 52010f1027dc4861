#pragma once
// Options and statistics of the typed cache facade (cachekit::cache and
// cachekit::Cache<T>).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "detail/function.hpp"
#include "error.hpp"

CACHEKIT_BEGIN_NAMESPACE

/// An in-process near cache (L1) in front of the backend.
struct NearCacheOptions {
  /// Off by default; worth it in front of a remote backend.
  bool enabled = false;
  /// Byte budget of the L1 (keys + values).
  std::size_t max_bytes = 8u * 1024u * 1024u;
  /// How long an entry may be served from the L1 without asking the backend;
  /// also bounds how long another process's invalidation goes unseen.
  std::chrono::milliseconds ttl{30000};
};

/// Stampede protection: on a miss one caller computes under a lease, the
/// others wait for its value. With a backend that has leases (memcached over
/// the meta protocol, MemoryBackend) the lease comes with the read itself
/// (one request: `mg <key> v c N<lease_ttl> t`); otherwise it is an add of
/// "<key>:lock" followed by polling.
struct StampedeOptions {
  /// Off by default.
  bool enabled = false;
  /// Lifetime of the lease (the placeholder, or the "<key>:lock" key); a
  /// crashed or slow computation stops blocking others after it.
  std::chrono::seconds lease_ttl{5};
  /// Longest a caller waits for another's value before computing anyway.
  std::chrono::milliseconds max_wait{2000};
  /// First pause between polls while waiting; later pauses grow up to 50 ms.
  std::chrono::milliseconds poll_interval{2};
};

/// Options of cachekit::cache and cachekit::Cache<T>.
struct CacheOptions {
  /// Namespace, first key segment; must match ^[a-z0-9][a-z0-9._-]{0,63}$
  /// with the default key function. Empty: "cachekit" for cache(), no prefix
  /// for Cache<T>.
  std::string ns;
  /// Operation, second key segment (same pattern). Empty: derived from the
  /// call site of cache() as "<file name>-<line>".
  std::string operation;
  /// Lifetime of stored values; zero or negative = no expiry (memcached
  /// clamps to 30 days).
  std::chrono::seconds ttl{3600};
  /// When false every call runs the function and the cache is not touched.
  bool enabled = true;
  /// Near cache in front of the backend.
  NearCacheOptions l1;
  /// Stampede protection.
  StampedeOptions stampede;
  /// Refresh ahead (0 = off): when a cached entry has fewer seconds than this
  /// left, exactly one caller (the lease winner) recomputes it while every
  /// other caller is served the current value at once. Needs a backend with
  /// leases (Backend::has_leases); without one it is ignored.
  std::chrono::seconds refresh_ahead{0};
  /// Serve stale (0 = off): invalidate() marks the entry stale instead of
  /// deleting it; for up to this long readers get the stale value and one
  /// of them recomputes. Needs a backend with leases; without one
  /// invalidate() deletes, as with serve_stale off.
  std::chrono::seconds serve_stale{0};
  /// Where the winner of a refresh-ahead or stale recompute runs it. Empty:
  /// on the winner's own thread (that call returns the new value). Set: the
  /// winner hands the recompute (a task owning copies of the arguments) to
  /// it and is served the current value too. The library starts no threads.
  std::function<void(std::function<void()>)> executor;
  /// Called (on the calling thread) with every backend, key or decode error.
  /// The call that saw the error still returns a value. Independently, the
  /// first error of each kind goes to the library log (cachekit::set_logger).
  std::function<void(const Error&)> on_error;
};

/// Counters of a cached function or a Cache<T>, since it was created.
struct CacheStats {
  std::uint64_t hits = 0;               ///< calls answered from the cache (L1 included)
  std::uint64_t l1_hits = 0;            ///< of those, answered by the near cache
  std::uint64_t misses = 0;             ///< calls that found no usable value
  std::uint64_t calls = 0;              ///< times the user's function ran
  std::uint64_t bypasses = 0;           ///< calls that skipped the cache on request
  std::uint64_t errors = 0;             ///< backend and key errors (the call still succeeded)
  std::uint64_t decode_errors = 0;      ///< stored values that did not decode (treated as misses)
  std::uint64_t stampede_waits = 0;     ///< callers that waited for another's lease
  std::uint64_t stampede_timeouts = 0;  ///< of those, gave up waiting and computed
  std::uint64_t lease_wins = 0;         ///< reads that won the right to compute (miss, refresh or stale)
  std::uint64_t early_refreshes = 0;    ///< of those, refresh-ahead recomputes of a live entry
  std::uint64_t stale_serves = 0;       ///< calls answered with an invalidated (stale) value
  /// hits / (hits + misses), 0 when neither happened.
  double hit_rate() const noexcept {
    const auto total = hits + misses;
    return total == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(total);
  }
};

CACHEKIT_END_NAMESPACE
