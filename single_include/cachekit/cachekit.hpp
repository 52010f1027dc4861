// cachekit 0.1.0 - single-header C++17 memcached client and typed cache.
// SPDX-License-Identifier: MIT
//
// GENERATED FILE - DO NOT EDIT.
// Produced by tools/amalgamate.py from the headers under include/cachekit/.
// Edit those and run: python3 tools/amalgamate.py

#pragma once

// ---- begin cachekit/version.hpp ----
// Version of cachekit. CMake and meson read these three macros.

#define CACHEKIT_VERSION_MAJOR 0
#define CACHEKIT_VERSION_MINOR 1
#define CACHEKIT_VERSION_PATCH 0
#define CACHEKIT_VERSION_STRING "0.1.0"

// The inline ABI namespace carries the version so that two copies of
// different versions linked into one program never share symbols.
#define CACHEKIT_ABI_NAMESPACE v0_1_0
#define CACHEKIT_BEGIN_NAMESPACE \
  namespace cachekit {           \
  inline namespace CACHEKIT_ABI_NAMESPACE {
#define CACHEKIT_END_NAMESPACE \
  }                            \
  }
// ---- end cachekit/version.hpp ----

// ---- begin cachekit/config.hpp ----
// Compile-time tunables. Define any of these before including cachekit to
// override the default; each is documented in README.md.


// Longest key memcached accepts (after key_prefix), in bytes.
#ifndef CACHEKIT_MAX_KEY_LENGTH
#define CACHEKIT_MAX_KEY_LENGTH 250
#endif

// Longest TTL in seconds; longer TTLs are clamped (memcached treats larger
// values as absolute Unix times).
#ifndef CACHEKIT_MAX_TTL_SECONDS
#define CACHEKIT_MAX_TTL_SECONDS 2592000
#endif

// Deepest nesting the MessagePack decoder accepts.
#ifndef CACHEKIT_MSGPACK_MAX_DEPTH
#define CACHEKIT_MSGPACK_MAX_DEPTH 64
#endif

// Largest reply body the binary protocol parser accepts, in bytes. A header
// that announces more is a protocol error, never an allocation.
#ifndef CACHEKIT_MAX_RESPONSE_BODY
#define CACHEKIT_MAX_RESPONSE_BODY (128u * 1024u * 1024u)
#endif

// Set to 0 to compile out the run-time selected AVX2/AVX-512 MD5 lanes.
#ifndef CACHEKIT_ENABLE_SIMD
#define CACHEKIT_ENABLE_SIMD 1
#endif
// ---- end cachekit/config.hpp ----

// ---- begin cachekit/error.hpp ----
// Error and Result<T>: every fallible call returns a Result instead of
// throwing, so the library works under -fno-exceptions.

#include <cassert>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>


CACHEKIT_BEGIN_NAMESPACE

/// How a caller should react to an error.
enum class ErrorKind {
  transient,       ///< may succeed if retried (connection reset, server down)
  permanent,       ///< will fail again with the same input (bad key, too large)
  timeout,         ///< a deadline passed
  authentication,  ///< credentials were refused
  unknown,         ///< anything else
};

/// Name of an ErrorKind, for messages.
inline const char* to_string(ErrorKind k) noexcept {
  switch (k) {
    case ErrorKind::transient: return "transient";
    case ErrorKind::permanent: return "permanent";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::authentication: return "authentication";
    case ErrorKind::unknown: break;
  }
  return "unknown";
}

/// An error: its kind, a message, and where it happened.
class Error {
 public:
  Error() = default;
  Error(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  ErrorKind kind() const noexcept { return kind_; }
  const std::string& message() const noexcept { return message_; }
  /// Operation that failed ("get", "set", ...), empty when not known.
  const std::string& operation() const noexcept { return operation_; }
  /// Key involved, empty when none.
  const std::string& key() const noexcept { return key_; }
  /// Server involved as "host:port", empty when none.
  const std::string& server() const noexcept { return server_; }

  Error& with_operation(std::string op) { operation_ = std::move(op); return *this; }
  Error& with_key(std::string key) { key_ = std::move(key); return *this; }
  Error& with_server(std::string server) { server_ = std::move(server); return *this; }

  /// One line: "kind: message (op=..., key=..., server=...)".
  std::string to_string() const {
    std::string s = cachekit::to_string(kind_);
    s += ": ";
    s += message_;
    if (!operation_.empty() || !key_.empty() || !server_.empty()) {
      s += " (";
      bool first = true;
      auto add = [&](const char* name, const std::string& v) {
        if (v.empty()) return;
        if (!first) s += ", ";
        first = false;
        s += name;
        s += '=';
        s += v;
      };
      add("op", operation_);
      add("key", key_);
      add("server", server_);
      s += ')';
    }
    return s;
  }

 private:
  ErrorKind kind_ = ErrorKind::unknown;
  std::string message_;
  std::string operation_;
  std::string key_;
  std::string server_;
};

/// Builds an Error; shorthand used throughout the library.
inline Error make_error(ErrorKind kind, std::string message) { return Error(kind, std::move(message)); }

/// Either a value of T or an Error. Accessing the wrong side is a
/// precondition violation (asserted in debug builds).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(const T& v) : value_(v) {}                       // NOLINT(google-explicit-constructor)
  Result(T&& v) : value_(std::move(v)) {}                  // NOLINT(google-explicit-constructor)
  Result(Error e) : error_(std::move(e)) {}                // NOLINT(google-explicit-constructor)
  template <class U, class = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                              !std::is_same_v<std::decay_t<U>, T> &&
                                              !std::is_same_v<std::decay_t<U>, Error> &&
                                              !std::is_same_v<std::decay_t<U>, Result>>>
  Result(U&& v) : value_(std::in_place, std::forward<U>(v)) {}  // NOLINT(google-explicit-constructor)

  explicit operator bool() const noexcept { return value_.has_value(); }
  bool ok() const noexcept { return value_.has_value(); }

  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  template <class U>
  T value_or(U&& fallback) const& { return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback)); }

  const Error& error() const& { assert(!ok()); return error_; }
  Error&& error() && { assert(!ok()); return std::move(error_); }

 private:
  std::optional<T> value_;
  Error error_;
};

/// Success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : error_(std::move(e)), failed_(true) {}  // NOLINT(google-explicit-constructor)

  explicit operator bool() const noexcept { return !failed_; }
  bool ok() const noexcept { return !failed_; }
  void value() const { assert(ok()); }
  const Error& error() const& { assert(!ok()); return error_; }
  Error&& error() && { assert(!ok()); return std::move(error_); }

 private:
  Error error_;
  bool failed_ = false;
};

CACHEKIT_END_NAMESPACE
// ---- end cachekit/error.hpp ----

// ---- begin cachekit/backend.hpp ----
// The Backend interface: what the typed facade needs from a store.
// MemcachedBackend and MemoryBackend implement it; users may write their own.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>


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
// ---- end cachekit/backend.hpp ----

// ---- begin cachekit/memory_backend.hpp ----
// MemoryBackend: the in-process store. Thread-safe, least-recently-used
// eviction bounded by bytes (key + value sizes), TTLs on a monotonic clock.
// It is the default backend when no memcached servers are configured and the
// near cache (L1) in front of a remote one.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>


// Default byte budget of a MemoryBackend (keys + values), 64 MiB.
#ifndef CACHEKIT_MEMORY_BACKEND_MAX_BYTES
#define CACHEKIT_MEMORY_BACKEND_MAX_BYTES (64u * 1024u * 1024u)
#endif

CACHEKIT_BEGIN_NAMESPACE

/// Settings of a MemoryBackend.
struct MemoryBackendOptions {
  /// Budget for the sum of key and value sizes; least recently used entries
  /// are evicted beyond it.
  std::size_t max_bytes = CACHEKIT_MEMORY_BACKEND_MAX_BYTES;
  /// Source of time for TTLs; empty means std::chrono::steady_clock::now.
  /// Tests inject a manual clock so that expiry needs no sleeping.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

/// In-process Backend: thread-safe LRU bounded by bytes, honouring TTLs.
/// TTLs follow memcached's rules (<= 0 never expires, longer than 30 days is
/// clamped); set_for/add_for take sub-second TTLs.
class MemoryBackend final : public Backend {
 public:
  using clock_type = std::chrono::steady_clock;
  using time_point = clock_type::time_point;
  using duration = clock_type::duration;

  /// A store with the default budget (CACHEKIT_MEMORY_BACKEND_MAX_BYTES).
  MemoryBackend() = default;
  /// A store holding at most max_bytes of keys and values.
  explicit MemoryBackend(std::size_t max_bytes) { options_.max_bytes = max_bytes; }
  /// A store with the given options.
  explicit MemoryBackend(MemoryBackendOptions options) : options_(std::move(options)) {}

  MemoryBackend(const MemoryBackend&) = delete;
  MemoryBackend& operator=(const MemoryBackend&) = delete;

  Result<std::optional<std::string>> get(std::string_view key) override {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    Entry* e = find_live(key, now);
    if (e == nullptr) return std::optional<std::string>();
    return std::optional<std::string>(e->value);
  }

  /// Looks key up and hands the value to fn under the lock, without copying
  /// it; returns whether it was found. fn must not call back into the store.
  template <class Fn>
  bool visit(std::string_view key, Fn&& fn) {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    Entry* e = find_live(key, now);
    if (e == nullptr) return false;
    std::forward<Fn>(fn)(std::string_view(e->value));
    return true;
  }

  Result<void> set(std::string_view key, std::string_view value, std::chrono::seconds ttl) override {
    return set_for(key, value, ttl_duration(ttl));
  }

  /// set() with a TTL of any precision; zero or negative never expires.
  Result<void> set_for(std::string_view key, std::string_view value, duration ttl) {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    return store(key, value, expiry(now, ttl), now);
  }

  Result<bool> add(std::string_view key, std::string_view value, std::chrono::seconds ttl) override {
    return add_for(key, value, ttl_duration(ttl));
  }

  /// add() with a TTL of any precision.
  Result<bool> add_for(std::string_view key, std::string_view value, duration ttl) {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    if (find_live(key, now) != nullptr) return false;
    auto stored = store(key, value, expiry(now, ttl), now);
    if (!stored) return std::move(stored).error();
    return true;
  }

  Result<bool> remove(std::string_view key) override {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    const bool live = !expired(*it->second, now);
    erase(it->second);
    return live;
  }

  Result<bool> exists(std::string_view key) override {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    if (expired(*it->second, now)) {
      erase(it->second);
      return false;
    }
    return true;
  }

  Result<bool> touch(std::string_view key, std::chrono::seconds ttl) override {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    Entry* e = find_live(key, now);
    if (e == nullptr) return false;
    e->expires = expiry(now, ttl_duration(ttl));
    return true;
  }

  /// Drops every entry.
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    index_.clear();
    lru_.clear();
    bytes_ = 0;
    writes_since_sweep_ = 0;
  }

  /// Reclaims every expired entry now; returns how many were dropped.
  std::size_t purge_expired() {
    const time_point now = this->now();
    std::lock_guard<std::mutex> lock(mutex_);
    return sweep(now);
  }

  /// Number of entries held (expired ones not yet reclaimed included).
  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lru_.size();
  }
  /// Sum of key and value sizes held, in bytes.
  std::size_t bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return bytes_;
  }
  /// The byte budget.
  std::size_t max_bytes() const noexcept { return options_.max_bytes; }
  /// Entries dropped to stay within the budget so far.
  std::uint64_t evictions() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return evictions_;
  }

 private:
  struct Entry {
    std::string key;
    std::string value;
    time_point expires;  // time_point::max() = never
  };
  using List = std::list<Entry>;
  // Keys in the index view the key stored in the list node, which never
  // moves, so lookups by string_view need no allocation.
  using Index = std::unordered_map<std::string_view, List::iterator>;

  time_point now() const { return options_.clock ? options_.clock() : clock_type::now(); }

  static duration ttl_duration(std::chrono::seconds ttl) noexcept {
    return std::chrono::seconds(detail::normalize_ttl(ttl));
  }
  static time_point expiry(time_point now, duration ttl) noexcept {
    if (ttl <= duration::zero()) return time_point::max();
    if (now > time_point::max() - ttl) return time_point::max();
    return now + ttl;
  }
  static bool expired(const Entry& e, time_point now) noexcept { return e.expires <= now; }

  static std::size_t cost(std::string_view key, std::string_view value) noexcept {
    return key.size() + value.size();
  }

  // The live entry for key, moved to the front of the LRU list; an expired
  // one is reclaimed and reported as absent.
  Entry* find_live(std::string_view key, time_point now) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    List::iterator node = it->second;
    if (expired(*node, now)) {
      erase(node);
      return nullptr;
    }
    if (node != lru_.begin()) lru_.splice(lru_.begin(), lru_, node);
    return &*node;
  }

  Result<void> store(std::string_view key, std::string_view value, time_point expires, time_point now) {
    auto it = index_.find(key);
    if (cost(key, value) > options_.max_bytes) {
      // The old value must not outlive a write that could not be kept.
      if (it != index_.end()) erase(it->second);
      return Error(ErrorKind::permanent, "value larger than the memory backend's max_bytes")
          .with_operation("set");
    }
    if (it != index_.end()) {
      List::iterator node = it->second;
      bytes_ -= node->value.size();
      node->value.assign(value.data(), value.size());
      bytes_ += node->value.size();
      node->expires = expires;
      if (node != lru_.begin()) lru_.splice(lru_.begin(), lru_, node);
    } else {
      lru_.push_front(Entry{std::string(key), std::string(value), expires});
      index_.emplace(std::string_view(lru_.front().key), lru_.begin());
      bytes_ += cost(key, value);
    }
    // Amortised reclaim of expired entries nobody reads again: one full
    // sweep per as many writes as there were entries after the last one.
    if (++writes_since_sweep_ >= next_sweep_) sweep(now);
    while (bytes_ > options_.max_bytes) {
      erase(std::prev(lru_.end()));
      ++evictions_;
    }
    return {};
  }

  std::size_t sweep(time_point now) {
    writes_since_sweep_ = 0;
    std::size_t dropped = 0;
    for (auto node = lru_.begin(); node != lru_.end();) {
      auto next = std::next(node);
      if (expired(*node, now)) {
        erase(node);
        ++dropped;
      }
      node = next;
    }
    next_sweep_ = lru_.size() > 64 ? lru_.size() : 64;
    return dropped;
  }

  void erase(List::iterator node) {
    bytes_ -= cost(node->key, node->value);
    index_.erase(std::string_view(node->key));
    lru_.erase(node);
  }

  MemoryBackendOptions options_;
  mutable std::mutex mutex_;
  List lru_;
  Index index_;
  std::size_t bytes_ = 0;
  std::size_t writes_since_sweep_ = 0;
  std::size_t next_sweep_ = 64;
  std::uint64_t evictions_ = 0;
};

CACHEKIT_END_NAMESPACE
// ---- end cachekit/memory_backend.hpp ----

// ---- begin cachekit/cachekit.hpp ----
// cachekit: a single-header C++17 memcached client and typed cache.
// ---- end cachekit/cachekit.hpp ----
