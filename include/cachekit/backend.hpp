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

/// The remaining lifetime of a stored entry.
struct Ttl {
  bool expires = false;             ///< false: the entry never expires
  std::chrono::seconds left{0};     ///< whole seconds left (when expires)
  /// An entry without expiry.
  static Ttl never() noexcept { return Ttl{}; }
  /// An entry that expires in left seconds.
  static Ttl in(std::chrono::seconds left) noexcept { return Ttl{true, left}; }
  friend bool operator==(const Ttl& a, const Ttl& b) noexcept {
    return a.expires == b.expires && (!a.expires || a.left == b.left);
  }
  friend bool operator!=(const Ttl& a, const Ttl& b) noexcept { return !(a == b); }
};

/// A value with its remaining lifetime (get_with_ttl).
struct ValueWithTtl {
  std::string value;
  Ttl ttl;
};

/// How a lease-aware read may hand its caller the right to compute.
struct LeaseOptions {
  /// > 0: a miss creates an empty placeholder that lives this long, and the
  /// reader that created it wins (LeaseRead::won); readers after it see
  /// LeaseRead::pending until the winner stores or the placeholder expires.
  std::chrono::seconds lease_ttl{0};
  /// > 0: when an entry has fewer seconds than this left, one reader wins an
  /// early recompute while every reader still gets the value.
  std::chrono::seconds recache{0};
};

/// What a lease-aware read found (Backend::lease_get).
struct LeaseRead {
  /// The current value; nullopt on a miss or while only a placeholder exists.
  std::optional<std::string> value;
  /// The entry's remaining lifetime (the placeholder's while one stands).
  Ttl ttl;
  /// The entry's version: lease_set stores only while it is unchanged.
  std::uint64_t token = 0;
  bool won = false;      ///< this reader must compute the value and lease_set it
  bool stale = false;    ///< the value was invalidated (served stale until replaced)
  bool pending = false;  ///< another reader holds the right to compute
};

/// A key-value store with TTLs. Implementations must be safe to share
/// across threads.
///
/// Beyond the six required operations a store may offer TTL inspection and
/// leases (memcached's meta protocol and MemoryBackend do); the defaults
/// answer a `permanent` error that names the operation, and has_leases()
/// tells the facade whether it may use them.
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

  /// The remaining lifetime of key without its value; nullopt on a miss.
  /// (A store provides it by overriding read_ttl.)
  template <class = void>
  Result<std::optional<Ttl>> ttl(std::string_view key) {
    Ttl t;
    auto r = read_ttl(key, t);
    if (!r) return std::move(r).error();
    return *r ? std::optional<Ttl>(t) : std::optional<Ttl>();
  }
  /// The value under key and its remaining lifetime, in one request.
  /// (A store provides it by overriding read_with_ttl.)
  template <class = void>
  Result<std::optional<ValueWithTtl>> get_with_ttl(std::string_view key) {
    ValueWithTtl v;
    auto r = read_with_ttl(key, v.value, v.ttl);
    if (!r) return std::move(r).error();
    return *r ? std::optional<ValueWithTtl>(std::move(v)) : std::optional<ValueWithTtl>();
  }
  /// ttl()'s question to the store: true with out set when key is present,
  /// false on a miss.
  virtual Result<bool> read_ttl(std::string_view key, Ttl& out) {
    (void)out;
    return unsupported("ttl", key);
  }
  /// get_with_ttl()'s question to the store: true with value and ttl set
  /// when key is present, false on a miss.
  virtual Result<bool> read_with_ttl(std::string_view key, std::string& value, Ttl& ttl) {
    (void)value, (void)ttl;
    return unsupported("get_with_ttl", key);
  }
  /// Whether lease_get, lease_set and invalidate work (and ttl).
  virtual bool has_leases() const noexcept { return false; }
  /// A read that may hand this caller the right to compute the value (see
  /// LeaseOptions and LeaseRead), in one request.
  virtual Result<LeaseRead> lease_get(std::string_view key, const LeaseOptions& options) {
    (void)options;
    return unsupported("lease_get", key);
  }
  /// Stores value only while the entry is still the version token names (a
  /// LeaseRead's token): false when it changed (a newer value, another
  /// invalidation, an expired placeholder) or is gone.
  virtual Result<bool> lease_set(std::string_view key, std::string_view value, std::chrono::seconds ttl,
                                 std::uint64_t token) {
    (void)value, (void)ttl, (void)token;
    return unsupported("lease_set", key);
  }
  /// Marks the value under key stale instead of removing it: for stale_for
  /// more seconds (<= 0: its current lifetime) readers still get it, flagged,
  /// and one of them wins the recompute. False when key is absent.
  virtual Result<bool> invalidate(std::string_view key, std::chrono::seconds stale_for) {
    (void)stale_for;
    return unsupported("invalidate", key);
  }

 protected:
  /// The error of an operation this store does not offer.
  static Error unsupported(const char* op, std::string_view key) {
    Error e(ErrorKind::permanent, std::string(op) + " is not supported by this backend");
    e.with_operation(op);
    if (!key.empty()) e.with_key(std::string(key));
    return e;
  }
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
