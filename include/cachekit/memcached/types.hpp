#pragma once
// What MemcachedBackend's operations return besides plain values: items
// with flags and CAS, per-key failures of a batch, per-server admin
// results. Protocol-neutral.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../error.hpp"

CACHEKIT_BEGIN_NAMESPACE

/// A value with its flags and CAS token, as gets() returns it.
struct Item {
  std::string value;
  std::uint32_t flags = 0;
  std::uint64_t cas = 0;
};

/// Outcome of a compare-and-swap.
enum class CasOutcome {
  stored,     ///< the value was replaced
  conflict,   ///< the item changed since gets() (CAS mismatch)
  not_found,  ///< the item is gone
};

/// A key that set_many could not store: its index in the input, and why.
struct KeyError {
  std::size_t index = 0;
  Error error;
};

/// Statistics of one server ("stat" command), or why they are missing.
struct ServerStats {
  std::string server;
  bool ok = false;
  Error error;
  std::vector<std::pair<std::string, std::string>> stats;
};

/// Version of one server, or why it is missing.
struct ServerVersion {
  std::string server;
  bool ok = false;
  Error error;
  std::string version;
};

/// Health of one server.
struct ServerHealth {
  std::string server;
  bool up = false;
  /// The server is currently taken out of the ring after repeated failures.
  bool marked_dead = false;
  std::chrono::microseconds latency{0};
  std::string version;
  Error error;
};

namespace detail {
/// What a storage command did, whatever the wire.
enum class StoreStatus { stored, not_stored, exists, not_found };
}  // namespace detail

CACHEKIT_END_NAMESPACE
