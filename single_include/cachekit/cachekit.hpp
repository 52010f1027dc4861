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

// ---- begin cachekit/hash/blake2b.hpp ----
// BLAKE2b (RFC 7693), unkeyed, digest 1..64 bytes. Interop cache keys hash
// their canonical arguments with BLAKE2b-256, as every cachekit SDK does.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE

namespace detail {
// Initialisation vector: the SHA-512 IV (RFC 7693, section 2.6).
inline constexpr std::uint64_t blake2b_iv[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};

// Message word schedule (RFC 7693, section 2.7); rounds 10 and 11 reuse rows 0 and 1.
inline constexpr std::uint8_t blake2b_sigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

inline constexpr std::uint64_t rotr64(std::uint64_t x, unsigned n) noexcept {
  return (x >> n) | (x << (64u - n));
}

inline std::uint64_t load64_le(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
}  // namespace detail

/// Incremental unkeyed BLAKE2b hasher with a digest of 1..64 bytes.
class Blake2b {
 public:
  /// Largest digest, in bytes.
  static constexpr std::size_t max_digest_size = 64;
  /// Size of one compression block, in bytes.
  static constexpr std::size_t block_size = 128;

  /// Starts a hash with the given digest size (1..64; out-of-range sizes are clamped).
  explicit Blake2b(std::size_t digest_size = 32) noexcept {
    assert(digest_size >= 1 && digest_size <= max_digest_size);
    if (digest_size < 1) digest_size = 1;
    if (digest_size > max_digest_size) digest_size = max_digest_size;
    digest_size_ = digest_size;
    for (int i = 0; i < 8; ++i) h_[i] = detail::blake2b_iv[i];
    // Parameter block: digest length, key length 0, fanout 1, depth 1.
    h_[0] ^= 0x01010000ULL ^ static_cast<std::uint64_t>(digest_size);
  }

  /// Digest size in bytes.
  std::size_t digest_size() const noexcept { return digest_size_; }

  /// Absorbs n bytes.
  void update(const void* data, std::size_t n) noexcept {
    const auto* in = static_cast<const std::uint8_t*>(data);
    while (n > 0) {
      // The last block must be compressed with the final flag, so a full
      // buffer is only compressed once more input arrives.
      if (buffered_ == block_size) {
        add_counter(block_size);
        compress(buffer_, false);
        buffered_ = 0;
      }
      std::size_t take = block_size - buffered_;
      if (take > n) take = n;
      std::memcpy(buffer_ + buffered_, in, take);
      buffered_ += take;
      in += take;
      n -= take;
    }
  }

  /// Absorbs the bytes of s.
  void update(std::string_view s) noexcept { update(s.data(), s.size()); }

  /// Writes digest_size() bytes to out. The hasher must not be used afterwards.
  void finish(std::uint8_t* out) noexcept {
    add_counter(buffered_);
    std::memset(buffer_ + buffered_, 0, block_size - buffered_);
    compress(buffer_, true);
    for (std::size_t i = 0; i < digest_size_; ++i) {
      out[i] = static_cast<std::uint8_t>(h_[i / 8] >> (8 * (i % 8)));
    }
  }

 private:
  void add_counter(std::size_t n) noexcept {
    t_[0] += n;
    if (t_[0] < n) ++t_[1];
  }

  void compress(const std::uint8_t* block, bool last) noexcept {
    std::uint64_t m[16];
    std::uint64_t v[16];
    for (int i = 0; i < 16; ++i) m[i] = detail::load64_le(block + 8 * i);
    for (int i = 0; i < 8; ++i) {
      v[i] = h_[i];
      v[i + 8] = detail::blake2b_iv[i];
    }
    v[12] ^= t_[0];
    v[13] ^= t_[1];
    if (last) v[14] = ~v[14];
    for (int r = 0; r < 12; ++r) {
      const std::uint8_t* s = detail::blake2b_sigma[r];
      mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
      mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
      mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
      mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
      mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
      mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
      mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
      mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for (int i = 0; i < 8; ++i) h_[i] ^= v[i] ^ v[i + 8];
  }

  // The G function (RFC 7693, section 3.1).
  static void mix(std::uint64_t* v, int a, int b, int c, int d, std::uint64_t x, std::uint64_t y) noexcept {
    v[a] = v[a] + v[b] + x;
    v[d] = detail::rotr64(v[d] ^ v[a], 32);
    v[c] = v[c] + v[d];
    v[b] = detail::rotr64(v[b] ^ v[c], 24);
    v[a] = v[a] + v[b] + y;
    v[d] = detail::rotr64(v[d] ^ v[a], 16);
    v[c] = v[c] + v[d];
    v[b] = detail::rotr64(v[b] ^ v[c], 63);
  }

  std::uint64_t h_[8];
  std::uint64_t t_[2] = {0, 0};
  std::uint8_t buffer_[block_size] = {};
  std::size_t buffered_ = 0;
  std::size_t digest_size_ = 32;
};

/// One-shot BLAKE2b of n bytes into out (digest_size bytes, 1..64).
inline void blake2b(const void* data, std::size_t n, std::uint8_t* out, std::size_t digest_size = 32) noexcept {
  Blake2b h(digest_size);
  h.update(data, n);
  h.finish(out);
}

/// Lowercase hex of the BLAKE2b digest of data (digest_size bytes, 1..64).
inline std::string blake2b_hex(std::string_view data, std::size_t digest_size = 32) {
  std::uint8_t digest[Blake2b::max_digest_size];
  Blake2b h(digest_size);
  h.update(data);
  h.finish(digest);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(h.digest_size() * 2, '\0');
  for (std::size_t i = 0; i < h.digest_size(); ++i) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 0xf];
  }
  return out;
}

CACHEKIT_END_NAMESPACE
// ---- end cachekit/hash/blake2b.hpp ----

// ---- begin cachekit/msgpack/writer.hpp ----
// MessagePack encoder primitives. One writer serves two profiles: plain
// values (what cache entries store) and the canonical profile that interop
// keys hash (numbers collapsed, map keys sorted, strings checked as UTF-8).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>


CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// Which encoding rules a writer follows.
enum class msgpack_profile : std::uint8_t {
  value,      ///< plain MessagePack, shortest integer and length forms
  canonical,  ///< the interop/v1 argument profile (see interop.hpp)
};

/// True when s is well-formed UTF-8 (no overlong forms, no surrogates, <= U+10FFFF).
inline bool valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t len;
    unsigned min_second = 0x80, max_second = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) min_second = 0xa0;  // overlong
      if (c == 0xed) max_second = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) min_second = 0x90;  // overlong
      if (c == 0xf4) max_second = 0x8f;  // above U+10FFFF
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) < len) return false;
    if (p[1] < min_second || p[1] > max_second) return false;
    for (std::size_t i = 2; i < len; ++i) {
      if (p[i] < 0x80 || p[i] > 0xbf) return false;
    }
    p += len;
  }
  return true;
}

/// Appends MessagePack to a string. Encoding never throws; the first
/// failure (NaN in the canonical profile, a container over 2^32-1 items, ...)
/// is kept and later writes are ignored.
class msgpack_writer {
 public:
  explicit msgpack_writer(msgpack_profile profile = msgpack_profile::value) noexcept : profile_(profile) {}

  msgpack_profile profile() const noexcept { return profile_; }
  bool canonical() const noexcept { return profile_ == msgpack_profile::canonical; }

  bool ok() const noexcept { return !failed_; }
  const Error& error() const noexcept { return error_; }
  /// Records the first failure; later writes are ignored.
  void fail(std::string message) {
    if (failed_) return;
    failed_ = true;
    error_ = Error(ErrorKind::permanent, "msgpack: " + std::move(message));
  }
  /// Adopts another writer's failure (used when encoding through a sub-writer).
  void fail(const Error& e) {
    if (failed_) return;
    failed_ = true;
    error_ = e;
  }

  const std::string& bytes() const noexcept { return buf_; }
  std::string take() && { return std::move(buf_); }
  void clear() noexcept { buf_.clear(); }
  void reserve(std::size_t n) { buf_.reserve(n); }

  void nil() { put(0xc0); }
  void boolean(bool b) { put(b ? 0xc3 : 0xc2); }

  /// Non-negative integer, shortest form.
  void uint(std::uint64_t v) {
    if (v < 0x80) {
      put(static_cast<std::uint8_t>(v));
    } else if (v <= 0xff) {
      put(0xcc);
      put(static_cast<std::uint8_t>(v));
    } else if (v <= 0xffff) {
      put(0xcd);
      be(v, 2);
    } else if (v <= 0xffffffffu) {
      put(0xce);
      be(v, 4);
    } else {
      put(0xcf);
      be(v, 8);
    }
  }

  /// Signed integer, shortest form (non-negative values use the uint family,
  /// as msgpack-python does).
  void sint(std::int64_t v) {
    if (v >= 0) return uint(static_cast<std::uint64_t>(v));
    const auto u = static_cast<std::uint64_t>(v);
    if (v >= -32) {
      put(static_cast<std::uint8_t>(u));
    } else if (v >= -128) {
      put(0xd0);
      be(u, 1);
    } else if (v >= -32768) {
      put(0xd1);
      be(u, 2);
    } else if (v >= -2147483648LL) {
      put(0xd2);
      be(u, 4);
    } else {
      put(0xd3);
      be(u, 8);
    }
  }

  void float32(float f) {
    std::uint32_t bits;
    std::memcpy(&bits, &f, 4);
    put(0xca);
    be(bits, 4);
  }
  void float64(double d) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, 8);
    put(0xcb);
    be(bits, 8);
  }

  /// A floating-point number under the writer's profile: float64 for values;
  /// for canonical keys NaN/inf fail and integral values in [-2^63, 2^64)
  /// (including -0.0) become integers.
  void number(double d) {
    if (!canonical()) return float64(d);
    if (std::isnan(d) || std::isinf(d)) return fail("NaN and infinities cannot be hashed into an interop key");
    if (d == std::floor(d) && d >= -9223372036854775808.0 && d < 18446744073709551616.0) {
      if (d < 0) return sint(static_cast<std::int64_t>(d));
      return uint(static_cast<std::uint64_t>(d));
    }
    float64(d);
  }

  /// UTF-8 string (str family). The canonical profile rejects malformed UTF-8.
  void str(std::string_view s) {
    if (canonical() && !valid_utf8(s)) return fail("string is not well-formed UTF-8");
    if (!length_fits(s.size())) return;
    const std::size_t n = s.size();
    if (n < 32) {
      put(static_cast<std::uint8_t>(0xa0 | n));
    } else if (n <= 0xff) {
      put(0xd9);
      be(n, 1);
    } else if (n <= 0xffff) {
      put(0xda);
      be(n, 2);
    } else {
      put(0xdb);
      be(n, 4);
    }
    append(s.data(), n);
  }

  /// Byte string (bin family).
  void bin(const void* data, std::size_t n) {
    if (!length_fits(n)) return;
    if (n <= 0xff) {
      put(0xc4);
      be(n, 1);
    } else if (n <= 0xffff) {
      put(0xc5);
      be(n, 2);
    } else {
      put(0xc6);
      be(n, 4);
    }
    append(data, n);
  }

  void array_header(std::size_t n) {
    if (!length_fits(n)) return;
    if (n < 16) {
      put(static_cast<std::uint8_t>(0x90 | n));
    } else if (n <= 0xffff) {
      put(0xdc);
      be(n, 2);
    } else {
      put(0xdd);
      be(n, 4);
    }
  }

  void map_header(std::size_t n) {
    if (!length_fits(n)) return;
    if (n < 16) {
      put(static_cast<std::uint8_t>(0x80 | n));
    } else if (n <= 0xffff) {
      put(0xde);
      be(n, 2);
    } else {
      put(0xdf);
      be(n, 4);
    }
  }

  /// Appends bytes that are already MessagePack.
  void raw(std::string_view encoded) { append(encoded.data(), encoded.size()); }

 private:
  bool length_fits(std::size_t n) {
    if (static_cast<std::uint64_t>(n) <= 0xffffffffu) return true;
    fail("length over 2^32-1 cannot be encoded");
    return false;
  }
  void put(std::uint8_t b) {
    if (!failed_) buf_.push_back(static_cast<char>(b));
  }
  void be(std::uint64_t v, int n) {
    if (failed_) return;
    char tmp[8];
    for (int i = 0; i < n; ++i) tmp[i] = static_cast<char>(v >> (8 * (n - 1 - i)));
    buf_.append(tmp, static_cast<std::size_t>(n));
  }
  void append(const void* data, std::size_t n) {
    if (!failed_ && n > 0) buf_.append(static_cast<const char*>(data), n);
  }

  std::string buf_;
  Error error_;
  msgpack_profile profile_;
  bool failed_ = false;
};

}  // namespace detail

CACHEKIT_END_NAMESPACE
// ---- end cachekit/msgpack/writer.hpp ----

// ---- begin cachekit/msgpack/reader.hpp ----
// Hardened MessagePack decoder primitives. Input is untrusted (anything a
// cache server hands back): every length is checked against the bytes that
// remain, nesting is bounded by CACHEKIT_MSGPACK_MAX_DEPTH, and a failure is
// an Error, never undefined behaviour.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>


CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// An integer as read from the wire: sign plus value.
struct msgpack_int {
  bool negative = false;       ///< true only for values below zero
  std::uint64_t magnitude = 0;  ///< the value when !negative
  std::int64_t value = 0;       ///< the value when negative
};

/// Reads MessagePack from a byte range it does not own. Primitives return
/// false on failure and remember the first reason; error() turns it into an
/// Error naming the offset.
class msgpack_reader {
 public:
  explicit msgpack_reader(std::string_view input) noexcept
      : begin_(reinterpret_cast<const std::uint8_t*>(input.data())), p_(begin_), end_(begin_ + input.size()) {}

  std::size_t offset() const noexcept { return static_cast<std::size_t>(p_ - begin_); }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }
  bool at_end() const noexcept { return p_ == end_; }

  /// Records a failure (the first one wins) and returns false.
  bool fail(const char* message) noexcept {
    if (message_ == nullptr) {
      message_ = message;
      error_offset_ = offset();
    }
    return false;
  }
  bool failed() const noexcept { return message_ != nullptr; }
  /// The recorded failure as a permanent Error.
  Error error() const {
    std::string m = "msgpack: ";
    m += message_ != nullptr ? message_ : "decode failed";
    m += " at offset ";
    m += std::to_string(error_offset_);
    return Error(ErrorKind::permanent, std::move(m));
  }

  /// The next format byte without consuming it.
  bool peek(std::uint8_t& b) noexcept {
    if (p_ == end_) return fail("unexpected end of input");
    b = *p_;
    return true;
  }
  /// True (and consumed) when the next value is nil.
  bool try_nil() noexcept {
    if (p_ != end_ && *p_ == 0xc0) {
      ++p_;
      return true;
    }
    return false;
  }

  /// Enters a container; false past CACHEKIT_MSGPACK_MAX_DEPTH.
  bool enter() noexcept {
    if (depth_ >= CACHEKIT_MSGPACK_MAX_DEPTH) return fail("nesting deeper than CACHEKIT_MSGPACK_MAX_DEPTH");
    ++depth_;
    return true;
  }
  void leave() noexcept { --depth_; }

  bool read_nil() noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    if (b != 0xc0) return fail("expected nil");
    ++p_;
    return true;
  }

  bool read_bool(bool& out) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    if (b != 0xc2 && b != 0xc3) return fail("expected a boolean");
    out = b == 0xc3;
    ++p_;
    return true;
  }

  /// Any integer format.
  bool read_integer(msgpack_int& out) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    out = msgpack_int{};
    if (b <= 0x7f) {
      ++p_;
      out.magnitude = b;
      return true;
    }
    if (b >= 0xe0) {
      ++p_;
      out.negative = true;
      out.value = static_cast<std::int8_t>(b);
      return true;
    }
    std::uint64_t v;
    switch (b) {
      case 0xcc: case 0xcd: case 0xce: case 0xcf: {
        const int n = 1 << (b - 0xcc);
        if (!take_be(1 + n, v)) return false;
        out.magnitude = v;
        return true;
      }
      case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        const int n = 1 << (b - 0xd0);
        if (!take_be(1 + n, v)) return false;
        // Sign-extend from n bytes.
        const int shift = 64 - 8 * n;
        const auto s = static_cast<std::int64_t>(v << shift) >> shift;
        if (s < 0) {
          out.negative = true;
          out.value = s;
        } else {
          out.magnitude = static_cast<std::uint64_t>(s);
        }
        return true;
      }
      default:
        return fail("expected an integer");
    }
  }

  /// An integer that must fit T (any wire width accepted).
  template <class T>
  bool read_int(T& out) noexcept {
    static_assert(std::is_integral_v<T>, "read_int needs an integer type");
    msgpack_int v;
    if (!read_integer(v)) return false;
    if (v.negative) {
      if constexpr (std::is_signed_v<T>) {
        if (v.value < static_cast<std::int64_t>(std::numeric_limits<T>::min())) {
          return fail("integer does not fit the target type");
        }
        out = static_cast<T>(v.value);
        return true;
      } else {
        return fail("negative integer for an unsigned type");
      }
    }
    if (v.magnitude > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
      return fail("integer does not fit the target type");
    }
    out = static_cast<T>(v.magnitude);
    return true;
  }

  /// float32, float64, or an integer (converted).
  bool read_double(double& out) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    std::uint64_t v;
    if (b == 0xca) {
      if (!take_be(5, v)) return false;
      const auto bits = static_cast<std::uint32_t>(v);
      float f;
      std::memcpy(&f, &bits, 4);
      out = static_cast<double>(f);
      return true;
    }
    if (b == 0xcb) {
      if (!take_be(9, v)) return false;
      std::memcpy(&out, &v, 8);
      return true;
    }
    msgpack_int i;
    if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3)) {
      if (!read_integer(i)) return false;
      out = i.negative ? static_cast<double>(i.value) : static_cast<double>(i.magnitude);
      return true;
    }
    return fail("expected a number");
  }

  /// str family; the view points into the input.
  bool read_str(std::string_view& out) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    std::uint64_t n;
    if (b >= 0xa0 && b <= 0xbf) {
      ++p_;
      n = b & 0x1fu;
    } else if (b >= 0xd9 && b <= 0xdb) {
      if (!take_be(1 + (1 << (b - 0xd9)), n)) return false;
    } else {
      return fail("expected a string");
    }
    return take_view(n, out);
  }

  /// bin family; the view points into the input.
  bool read_bin(std::string_view& out) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    if (b < 0xc4 || b > 0xc6) return fail("expected a byte string");
    std::uint64_t n;
    if (!take_be(1 + (1 << (b - 0xc4)), n)) return false;
    return take_view(n, out);
  }

  /// Array header; n is checked against the remaining input (one byte per element at least).
  bool read_array_header(std::uint32_t& n) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    std::uint64_t v;
    if (b >= 0x90 && b <= 0x9f) {
      ++p_;
      v = b & 0x0fu;
    } else if (b == 0xdc || b == 0xdd) {
      if (!take_be(b == 0xdc ? 3 : 5, v)) return false;
    } else {
      return fail("expected an array");
    }
    if (v > remaining()) return fail("array length exceeds the input");
    n = static_cast<std::uint32_t>(v);
    return true;
  }

  /// Map header; n is checked against the remaining input (two bytes per entry at least).
  bool read_map_header(std::uint32_t& n) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    std::uint64_t v;
    if (b >= 0x80 && b <= 0x8f) {
      ++p_;
      v = b & 0x0fu;
    } else if (b == 0xde || b == 0xdf) {
      if (!take_be(b == 0xde ? 3 : 5, v)) return false;
    } else {
      return fail("expected a map");
    }
    if (v * 2 > remaining()) return fail("map length exceeds the input");
    n = static_cast<std::uint32_t>(v);
    return true;
  }

  /// Extension value (fixext or ext 8/16/32); the view points into the input.
  bool read_ext(std::int8_t& type, std::string_view& data) noexcept {
    std::uint8_t b;
    if (!peek(b)) return false;
    std::uint64_t n;
    if (b >= 0xd4 && b <= 0xd8) {
      ++p_;
      n = std::uint64_t{1} << (b - 0xd4);
    } else if (b >= 0xc7 && b <= 0xc9) {
      if (!take_be(1 + (1 << (b - 0xc7)), n)) return false;
    } else {
      return fail("expected an extension value");
    }
    if (p_ == end_) return fail("unexpected end of input");
    type = static_cast<std::int8_t>(*p_++);
    return take_view(n, data);
  }

  /// Skips one complete value of any type, without recursion.
  bool skip() noexcept {
    std::uint64_t pending = 1;
    while (pending > 0) {
      --pending;
      std::uint8_t b;
      if (!peek(b)) return false;
      std::uint64_t n = 0;
      std::string_view ignored;
      if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        ++p_;
      } else if ((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf) {
        std::uint32_t m;
        if (!read_map_header(m)) return false;
        pending += 2 * static_cast<std::uint64_t>(m);
      } else if ((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd) {
        std::uint32_t m;
        if (!read_array_header(m)) return false;
        pending += m;
      } else if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb)) {
        if (!read_str(ignored)) return false;
      } else if (b >= 0xc4 && b <= 0xc6) {
        if (!read_bin(ignored)) return false;
      } else if ((b >= 0xc7 && b <= 0xc9) || (b >= 0xd4 && b <= 0xd8)) {
        std::int8_t t;
        if (!read_ext(t, ignored)) return false;
      } else if (b == 0xca) {
        if (!take_be(5, n)) return false;
      } else if (b == 0xcb) {
        if (!take_be(9, n)) return false;
      } else if (b >= 0xcc && b <= 0xd3) {
        msgpack_int i;
        if (!read_integer(i)) return false;
      } else {
        return fail("invalid format byte 0xc1");
      }
    }
    return true;
  }

 private:
  // Consumes `total` bytes: one format byte, then a big-endian number of total-1 bytes.
  bool take_be(int total, std::uint64_t& out) noexcept {
    if (remaining() < static_cast<std::size_t>(total)) return fail("unexpected end of input");
    std::uint64_t v = 0;
    for (int i = 1; i < total; ++i) v = (v << 8) | p_[i];
    p_ += total;
    out = v;
    return true;
  }
  bool take_view(std::uint64_t n, std::string_view& out) noexcept {
    if (n > remaining()) return fail("length exceeds the input");
    out = std::string_view(reinterpret_cast<const char*>(p_), static_cast<std::size_t>(n));
    p_ += n;
    return true;
  }

  const std::uint8_t* begin_;
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  const char* message_ = nullptr;
  std::size_t error_offset_ = 0;
  int depth_ = 0;
};

}  // namespace detail

CACHEKIT_END_NAMESPACE
// ---- end cachekit/msgpack/reader.hpp ----

// ---- begin cachekit/msgpack/types.hpp ----
// Value types MessagePack needs that the standard library lacks: a byte
// string (encoded as bin, not as an array of integers) and a UUID; plus the
// ISO-8601 text form that cachekit SDKs use for time points in values.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE

/// A byte string; MessagePack bin (Python reads it as bytes).
struct bytes {
  std::vector<std::uint8_t> data;

  bytes() = default;
  /// Takes the given bytes.
  explicit bytes(std::vector<std::uint8_t> d) : data(std::move(d)) {}
  /// Copies the bytes of s.
  explicit bytes(std::string_view s) : data(s.begin(), s.end()) {}

  std::size_t size() const noexcept { return data.size(); }
  bool empty() const noexcept { return data.empty(); }
  /// The bytes as a string_view (valid while this object is unchanged).
  std::string_view view() const noexcept {
    return std::string_view(reinterpret_cast<const char*>(data.data()), data.size());
  }
  friend bool operator==(const bytes& a, const bytes& b) noexcept { return a.data == b.data; }
  friend bool operator!=(const bytes& a, const bytes& b) noexcept { return a.data != b.data; }
  friend bool operator<(const bytes& a, const bytes& b) noexcept { return a.data < b.data; }
};

/// A UUID. Encoded as its lowercase hyphenated string, the interop form.
struct uuid {
  std::array<std::uint8_t, 16> octets{};

  /// Parses "550e8400-e29b-41d4-a716-446655440000" (any case), also without
  /// hyphens, in braces or with a "urn:uuid:" prefix.
  static Result<uuid> parse(std::string_view s) {
    if (s.size() >= 9 && (s.substr(0, 9) == "urn:uuid:" || s.substr(0, 9) == "URN:UUID:")) s.remove_prefix(9);
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') s = s.substr(1, s.size() - 2);
    uuid u;
    std::size_t nibbles = 0;
    const bool hyphenated = s.size() == 36;
    if (!hyphenated && s.size() != 32) return Error(ErrorKind::permanent, "uuid: expected 32 hex digits");
    for (std::size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (hyphenated && (i == 8 || i == 13 || i == 18 || i == 23)) {
        if (c != '-') return Error(ErrorKind::permanent, "uuid: misplaced hyphen");
        continue;
      }
      int v;
      if (c >= '0' && c <= '9') v = c - '0';
      else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
      else return Error(ErrorKind::permanent, "uuid: not a hex digit");
      auto& o = u.octets[nibbles / 2];
      o = static_cast<std::uint8_t>(nibbles % 2 == 0 ? v << 4 : o | v);
      ++nibbles;
    }
    return u;
  }

  /// Lowercase hyphenated form.
  std::string to_string() const {
    static constexpr char hex[] = "0123456789abcdef";
    std::string s;
    s.reserve(36);
    for (std::size_t i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
      s += hex[octets[i] >> 4];
      s += hex[octets[i] & 0xf];
    }
    return s;
  }

  friend bool operator==(const uuid& a, const uuid& b) noexcept { return a.octets == b.octets; }
  friend bool operator!=(const uuid& a, const uuid& b) noexcept { return a.octets != b.octets; }
  friend bool operator<(const uuid& a, const uuid& b) noexcept { return a.octets < b.octets; }
};

namespace detail {

// Days since 1970-01-01 of a proleptic Gregorian date, and back
// (the classic era-based civil calendar algorithm).
inline constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil_date {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

inline constexpr civil_date civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  return civil_date{y, m, d};
}

/// Microseconds since the Unix epoch, floored (toward negative infinity).
inline std::int64_t epoch_micros(std::chrono::system_clock::time_point tp) noexcept {
  return std::chrono::floor<std::chrono::microseconds>(tp.time_since_epoch()).count();
}

/// ISO-8601 in UTC exactly as Python's datetime.isoformat() writes an aware
/// datetime: "2024-01-01T12:30:45.123456+00:00", no fraction when it is zero.
/// Sub-microsecond precision is floored away. Years outside 1..9999 (which
/// Python cannot represent) are written anyway, zero-padded to 4 digits.
inline std::string format_iso8601_utc(std::chrono::system_clock::time_point tp) {
  const std::int64_t us = epoch_micros(tp);
  std::int64_t secs = us / 1000000;
  std::int64_t frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  const civil_date c = civil_from_days(days);
  std::string s;
  s.reserve(32);
  auto two = [&s](std::int64_t v) {
    s += static_cast<char>('0' + v / 10);
    s += static_cast<char>('0' + v % 10);
  };
  std::int64_t y = c.year;
  if (y < 0) {
    s += '-';
    y = -y;
  }
  const std::string ys = std::to_string(y);
  if (ys.size() < 4) s.append(4 - ys.size(), '0');
  s += ys;
  s += '-';
  two(c.month);
  s += '-';
  two(c.day);
  s += 'T';
  two(sod / 3600);
  s += ':';
  two(sod / 60 % 60);
  s += ':';
  two(sod % 60);
  if (frac != 0) {
    s += '.';
    std::int64_t div = 100000;
    for (int i = 0; i < 6; ++i, div /= 10) s += static_cast<char>('0' + frac / div % 10);
  }
  s += "+00:00";
  return s;
}

/// Parses ISO-8601 "YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}](Z|±HH:MM|±HHMM)". A time
/// without a UTC offset is rejected: it names no instant.
inline Result<std::chrono::system_clock::time_point> parse_iso8601(std::string_view s) {
  auto bad = [](const char* why) { return Error(ErrorKind::permanent, std::string("datetime: ") + why); };
  std::size_t i = 0;
  auto digits = [&](std::size_t n, std::int64_t& out) {
    if (s.size() - i < n) return false;
    std::int64_t v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    i += n;
    return true;
  };
  auto expect = [&](char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  std::int64_t year, month, day, hour, minute, second;
  if (!digits(4, year) || !expect('-') || !digits(2, month) || !expect('-') || !digits(2, day)) {
    return bad("expected YYYY-MM-DD");
  }
  if (!(expect('T') || expect('t') || expect(' '))) return bad("expected a time after the date");
  if (!digits(2, hour) || !expect(':') || !digits(2, minute) || !expect(':') || !digits(2, second)) {
    return bad("expected HH:MM:SS");
  }
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
    return bad("field out of range");
  }
  static constexpr unsigned month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > month_days[month - 1] || (month == 2 && day == 29 && !leap)) return bad("day out of range");
  std::int64_t nanos = 0;
  if (expect('.') || expect(',')) {
    std::size_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (n < 9) nanos = nanos * 10 + (s[i] - '0');
      ++n;
      ++i;
    }
    if (n == 0) return bad("empty fraction");
    for (std::size_t k = n; k < 9; ++k) nanos *= 10;
  }
  std::int64_t offset_minutes = 0;
  if (expect('Z') || expect('z')) {
    // UTC
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const bool negative = s[i] == '-';
    ++i;
    std::int64_t oh, om;
    if (!digits(2, oh)) return bad("bad UTC offset");
    expect(':');
    if (!digits(2, om)) return bad("bad UTC offset");
    if (oh > 23 || om > 59) return bad("UTC offset out of range");
    offset_minutes = (oh * 60 + om) * (negative ? -1 : 1);
  } else {
    return bad("no UTC offset (naive datetime)");
  }
  if (i != s.size()) return bad("trailing characters");
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  const auto since = std::chrono::seconds(secs) + std::chrono::nanoseconds(nanos);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since));
}

}  // namespace detail

CACHEKIT_END_NAMESPACE
// ---- end cachekit/msgpack/types.hpp ----

// ---- begin cachekit/msgpack/codec.hpp ----
// codec<T>: how a C++ type maps to MessagePack, for cache values (plain
// profile) and interop key arguments (canonical profile). Specialize codec
// for your own types, or describe a struct with CACHEKIT_FIELDS (fields.hpp).

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE

/// Maps T to MessagePack. Specializations provide
///   static void encode(detail::msgpack_writer&, const T&);
///   static Result<T> decode(detail::msgpack_reader&);
/// (encode-only types such as std::string_view omit decode).
template <class T, class Enable = void>
struct codec;

namespace detail {

template <class T>
inline constexpr bool is_char_like_v =
    std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char16_t> ||
    std::is_same_v<T, char32_t>
#if defined(__cpp_char8_t)
    || std::is_same_v<T, char8_t>
#endif
    ;

/// Encodes [first, last) as an array.
template <class It>
void write_array_range(msgpack_writer& w, It first, It last, std::size_t n) {
  using E = std::remove_cv_t<std::remove_reference_t<decltype(*first)>>;
  w.array_header(n);
  for (; first != last && w.ok(); ++first) codec<E>::encode(w, *first);
}

/// Encodes a set: an array. The canonical profile sorts the elements by
/// their encoded bytes and drops duplicates (after canonicalization, so
/// {2, 2.0} is [2]).
template <class It>
void write_set_range(msgpack_writer& w, It first, It last, std::size_t n) {
  using E = std::remove_cv_t<std::remove_reference_t<decltype(*first)>>;
  if (!w.canonical()) return write_array_range(w, first, last, n);
  std::vector<std::string> items;
  items.reserve(n);
  msgpack_writer sub(w.profile());
  for (; first != last; ++first) {
    sub.clear();
    codec<E>::encode(sub, *first);
    if (!sub.ok()) return w.fail(sub.error());
    items.push_back(sub.bytes());
  }
  // std::string compares bytes as unsigned char, the order the spec asks for.
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  w.array_header(items.size());
  for (const auto& item : items) w.raw(item);
}

/// Encodes [first, last) of key/value pairs as a map. The canonical profile
/// requires string keys and sorts them by Unicode code point (UTF-8 byte order).
template <class It>
void write_map_range(msgpack_writer& w, It first, It last, std::size_t n) {
  using K = std::remove_cv_t<std::remove_reference_t<decltype(first->first)>>;
  using V = std::remove_cv_t<std::remove_reference_t<decltype(first->second)>>;
  if (!w.canonical()) {
    w.map_header(n);
    for (; first != last && w.ok(); ++first) {
      codec<K>::encode(w, first->first);
      codec<V>::encode(w, first->second);
    }
    return;
  }
  std::vector<std::pair<std::string, std::string>> entries;  // key text, encoded value
  entries.reserve(n);
  msgpack_writer sub(w.profile());
  for (; first != last; ++first) {
    sub.clear();
    codec<K>::encode(sub, first->first);
    if (!sub.ok()) return w.fail(sub.error());
    msgpack_reader key_reader(sub.bytes());
    std::string_view key;
    if (!key_reader.read_str(key)) return w.fail("interop map keys must be strings");
    std::string key_text(key);
    sub.clear();
    codec<V>::encode(sub, first->second);
    if (!sub.ok()) return w.fail(sub.error());
    entries.emplace_back(std::move(key_text), sub.bytes());
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < entries.size(); ++i) {
    if (entries[i - 1].first == entries[i].first) return w.fail("duplicate map key after canonicalization");
  }
  w.map_header(entries.size());
  for (const auto& e : entries) {
    w.str(e.first);
    w.raw(e.second);
  }
}

/// Decodes an array of codec<E> values into a container via add(E&&).
template <class E, class Add>
Result<void> read_array_into(msgpack_reader& r, std::uint32_t& n, Add&& add, bool header_read = false) {
  if (!header_read && !r.read_array_header(n)) return r.error();
  if (!r.enter()) return r.error();
  for (std::uint32_t i = 0; i < n; ++i) {
    auto e = codec<E>::decode(r);
    if (!e) return std::move(e).error();
    add(std::move(*e));
  }
  r.leave();
  return {};
}

/// Decodes a map of codec<K> -> codec<V> entries via add(K&&, V&&).
template <class K, class V, class Add>
Result<void> read_map_into(msgpack_reader& r, std::uint32_t n, Add&& add) {
  if (!r.enter()) return r.error();
  for (std::uint32_t i = 0; i < n; ++i) {
    auto k = codec<K>::decode(r);
    if (!k) return std::move(k).error();
    auto v = codec<V>::decode(r);
    if (!v) return std::move(v).error();
    add(std::move(*k), std::move(*v));
  }
  r.leave();
  return {};
}

}  // namespace detail

// ---- scalars ---------------------------------------------------------------

/// bool <-> true/false.
template <>
struct codec<bool> {
  static void encode(detail::msgpack_writer& w, bool v) { w.boolean(v); }
  static Result<bool> decode(detail::msgpack_reader& r) {
    bool v = false;
    if (!r.read_bool(v)) return r.error();
    return v;
  }
};

/// Integers of every width <-> the shortest int form; decoding accepts any
/// width and rejects values that do not fit T.
template <class T>
struct codec<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> && !detail::is_char_like_v<T>>> {
  static void encode(detail::msgpack_writer& w, T v) {
    if constexpr (std::is_signed_v<T>) {
      w.sint(static_cast<std::int64_t>(v));
    } else {
      w.uint(static_cast<std::uint64_t>(v));
    }
  }
  static Result<T> decode(detail::msgpack_reader& r) {
    T v{};
    if (!r.read_int(v)) return r.error();
    return v;
  }
};

/// Enumerations <-> their underlying integer.
template <class T>
struct codec<T, std::enable_if_t<std::is_enum_v<T>>> {
  using U = std::underlying_type_t<T>;
  static void encode(detail::msgpack_writer& w, T v) { codec<U>::encode(w, static_cast<U>(v)); }
  static Result<T> decode(detail::msgpack_reader& r) {
    U v{};
    if (!r.read_int(v)) return r.error();
    return static_cast<T>(v);
  }
};

/// double <-> float64 (decoding also takes float32 and integers).
template <>
struct codec<double> {
  static void encode(detail::msgpack_writer& w, double v) { w.number(v); }
  static Result<double> decode(detail::msgpack_reader& r) {
    double v = 0;
    if (!r.read_double(v)) return r.error();
    return v;
  }
};

/// float <-> float32 in values (exact); a number in interop keys. Decoding
/// rejects finite values beyond float's range.
template <>
struct codec<float> {
  static void encode(detail::msgpack_writer& w, float v) {
    if (w.canonical()) return w.number(static_cast<double>(v));
    w.float32(v);
  }
  static Result<float> decode(detail::msgpack_reader& r) {
    double v = 0;
    if (!r.read_double(v)) return r.error();
    if (std::isfinite(v) && (v > static_cast<double>(std::numeric_limits<float>::max()) ||
                             v < -static_cast<double>(std::numeric_limits<float>::max()))) {
      r.fail("number does not fit a float");
      return r.error();
    }
    return static_cast<float>(v);
  }
};

/// std::string <-> str.
template <>
struct codec<std::string> {
  static void encode(detail::msgpack_writer& w, const std::string& v) { w.str(v); }
  static Result<std::string> decode(detail::msgpack_reader& r) {
    std::string_view v;
    if (!r.read_str(v)) return r.error();
    return std::string(v);
  }
};

/// std::string_view -> str (encode only: a view cannot own decoded bytes).
template <>
struct codec<std::string_view> {
  static void encode(detail::msgpack_writer& w, std::string_view v) { w.str(v); }
};

/// const char* -> str (encode only); nullptr encodes as nil.
template <>
struct codec<const char*> {
  static void encode(detail::msgpack_writer& w, const char* v) {
    if (v == nullptr) return w.nil();
    w.str(std::string_view(v));
  }
};
template <>
struct codec<char*> : codec<const char*> {};

/// char arrays (string literals) -> str, up to the first NUL (encode only).
template <std::size_t N>
struct codec<char[N]> {
  static void encode(detail::msgpack_writer& w, const char (&v)[N]) {
    std::size_t n = 0;
    while (n < N && v[n] != '\0') ++n;
    w.str(std::string_view(v, n));
  }
};

/// cachekit::bytes <-> bin (decoding also takes str).
template <>
struct codec<bytes> {
  static void encode(detail::msgpack_writer& w, const bytes& v) { w.bin(v.data.data(), v.data.size()); }
  static Result<bytes> decode(detail::msgpack_reader& r) {
    std::uint8_t b;
    if (!r.peek(b)) return r.error();
    std::string_view v;
    const bool ok = (b >= 0xc4 && b <= 0xc6) ? r.read_bin(v) : r.read_str(v);
    if (!ok) return r.error();
    return bytes(v);
  }
};

/// cachekit::uuid <-> lowercase hyphenated str (decoding also takes any case
/// and a 16-byte bin).
template <>
struct codec<uuid> {
  static void encode(detail::msgpack_writer& w, const uuid& v) { w.str(v.to_string()); }
  static Result<uuid> decode(detail::msgpack_reader& r) {
    std::uint8_t b;
    if (!r.peek(b)) return r.error();
    std::string_view v;
    if (b >= 0xc4 && b <= 0xc6) {
      if (!r.read_bin(v)) return r.error();
      if (v.size() != 16) {
        r.fail("uuid bin is not 16 bytes");
        return r.error();
      }
      uuid u;
      std::memcpy(u.octets.data(), v.data(), 16);
      return u;
    }
    if (!r.read_str(v)) return r.error();
    auto u = uuid::parse(v);
    if (!u) {
      r.fail("malformed uuid string");
      return r.error();
    }
    return u;
  }
};

/// system_clock time points. Values: the cachekit sentinel map
/// {"__datetime__": true, "value": "<ISO-8601 UTC>"} (microsecond precision),
/// which cachekit-py revives as an aware datetime; decoding also accepts the
/// MessagePack timestamp extension (-1) and plain epoch seconds. Interop keys:
/// float64 epoch seconds (floored to microseconds, then / 10^6), collapsed to
/// an integer when whole.
template <class D>
struct codec<std::chrono::time_point<std::chrono::system_clock, D>> {
  using time_point = std::chrono::time_point<std::chrono::system_clock, D>;

  static void encode(detail::msgpack_writer& w, const time_point& v) {
    const auto tp = std::chrono::time_point_cast<std::chrono::system_clock::duration>(v);
    if (w.canonical()) return w.number(static_cast<double>(detail::epoch_micros(tp)) / 1e6);
    w.map_header(2);
    w.str("__datetime__");
    w.boolean(true);
    w.str("value");
    w.str(detail::format_iso8601_utc(tp));
  }

  static Result<time_point> decode(detail::msgpack_reader& r) {
    std::uint8_t b;
    if (!r.peek(b)) return r.error();
    if ((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf) return decode_sentinel(r);
    if ((b >= 0xd4 && b <= 0xd8) || (b >= 0xc7 && b <= 0xc9)) return decode_timestamp_ext(r);
    double secs = 0;
    if (!r.read_double(secs)) return r.error();
    if (!std::isfinite(secs) || secs > 9.2e12 || secs < -9.2e12) {
      r.fail("epoch seconds out of range");
      return r.error();
    }
    return from_micros(static_cast<std::int64_t>(std::llround(secs * 1e6)));
  }

 private:
  static time_point from_micros(std::int64_t us) {
    return std::chrono::time_point_cast<D>(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::microseconds(us))));
  }

  static Result<time_point> decode_sentinel(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_map_header(n)) return r.error();
    bool marked = false;
    std::string_view text;
    bool have_text = false;
    for (std::uint32_t i = 0; i < n; ++i) {
      std::string_view key;
      if (!r.read_str(key)) return r.error();
      if (key == "__datetime__") {
        if (!r.read_bool(marked)) return r.error();
      } else if (key == "value") {
        if (!r.read_str(text)) return r.error();
        have_text = true;
      } else if (!r.skip()) {
        return r.error();
      }
    }
    if (!marked || !have_text) {
      r.fail("not a {\"__datetime__\": true, \"value\": ...} map");
      return r.error();
    }
    auto tp = detail::parse_iso8601(text);
    if (!tp) {
      r.fail("malformed ISO-8601 datetime");
      return r.error();
    }
    return std::chrono::time_point_cast<D>(*tp);
  }

  // MessagePack timestamp extension: 32-bit seconds, 30+34-bit nanos+seconds, or 32-bit nanos + 64-bit seconds.
  static Result<time_point> decode_timestamp_ext(detail::msgpack_reader& r) {
    std::int8_t type = 0;
    std::string_view data;
    if (!r.read_ext(type, data)) return r.error();
    if (type != -1) {
      r.fail("unexpected extension type for a time point");
      return r.error();
    }
    auto be = [&](std::size_t from, std::size_t n) {
      std::uint64_t v = 0;
      for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<std::uint8_t>(data[from + i]);
      return v;
    };
    std::int64_t secs = 0;
    std::uint32_t nanos = 0;
    if (data.size() == 4) {
      secs = static_cast<std::int64_t>(be(0, 4));
    } else if (data.size() == 8) {
      const std::uint64_t v = be(0, 8);
      nanos = static_cast<std::uint32_t>(v >> 34);
      secs = static_cast<std::int64_t>(v & 0x3ffffffffULL);
    } else if (data.size() == 12) {
      nanos = static_cast<std::uint32_t>(be(0, 4));
      secs = static_cast<std::int64_t>(be(4, 8));
    } else {
      r.fail("bad timestamp extension length");
      return r.error();
    }
    if (nanos >= 1000000000u || secs > 9200000000000LL || secs < -9200000000000LL) {
      r.fail("timestamp out of range");
      return r.error();
    }
    const auto since = std::chrono::seconds(secs) + std::chrono::nanoseconds(nanos);
    return std::chrono::time_point_cast<D>(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(since)));
  }
};

// ---- containers ------------------------------------------------------------

/// std::optional<T> <-> nil or T.
template <class T>
struct codec<std::optional<T>> {
  static void encode(detail::msgpack_writer& w, const std::optional<T>& v) {
    if (!v) return w.nil();
    codec<T>::encode(w, *v);
  }
  static Result<std::optional<T>> decode(detail::msgpack_reader& r) {
    if (r.try_nil()) return std::optional<T>();
    auto v = codec<T>::decode(r);
    if (!v) return std::move(v).error();
    return std::optional<T>(std::move(*v));
  }
};

/// std::vector<T> <-> array.
template <class T, class A>
struct codec<std::vector<T, A>> {
  static void encode(detail::msgpack_writer& w, const std::vector<T, A>& v) {
    detail::write_array_range(w, v.begin(), v.end(), v.size());
  }
  static Result<std::vector<T, A>> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_array_header(n)) return r.error();
    std::vector<T, A> out;
    out.reserve(n);  // n <= remaining input bytes, checked by the reader
    auto res = detail::read_array_into<T>(r, n, [&](T&& e) { out.push_back(std::move(e)); }, true);
    if (!res) return std::move(res).error();
    return out;
  }
};

/// std::array<T, N> <-> array of exactly N elements.
template <class T, std::size_t N>
struct codec<std::array<T, N>> {
  static void encode(detail::msgpack_writer& w, const std::array<T, N>& v) {
    detail::write_array_range(w, v.begin(), v.end(), N);
  }
  static Result<std::array<T, N>> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_array_header(n)) return r.error();
    if (n != N) {
      r.fail("array length does not match std::array");
      return r.error();
    }
    std::array<T, N> out{};
    std::size_t i = 0;
    auto res = detail::read_array_into<T>(r, n, [&](T&& e) { out[i++] = std::move(e); }, true);
    if (!res) return std::move(res).error();
    return out;
  }
};

/// std::set <-> array (sorted by encoded bytes in interop keys).
template <class T, class C, class A>
struct codec<std::set<T, C, A>> {
  static void encode(detail::msgpack_writer& w, const std::set<T, C, A>& v) {
    detail::write_set_range(w, v.begin(), v.end(), v.size());
  }
  static Result<std::set<T, C, A>> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    std::set<T, C, A> out;
    auto res = detail::read_array_into<T>(r, n, [&](T&& e) { out.insert(std::move(e)); });
    if (!res) return std::move(res).error();
    return out;
  }
};

/// std::unordered_set <-> array (sorted by encoded bytes in interop keys).
template <class T, class H, class E, class A>
struct codec<std::unordered_set<T, H, E, A>> {
  static void encode(detail::msgpack_writer& w, const std::unordered_set<T, H, E, A>& v) {
    detail::write_set_range(w, v.begin(), v.end(), v.size());
  }
  static Result<std::unordered_set<T, H, E, A>> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    std::unordered_set<T, H, E, A> out;
    auto res = detail::read_array_into<T>(r, n, [&](T&& e) { out.insert(std::move(e)); });
    if (!res) return std::move(res).error();
    return out;
  }
};

/// std::map <-> map (a repeated key keeps the last value).
template <class K, class V, class C, class A>
struct codec<std::map<K, V, C, A>> {
  static void encode(detail::msgpack_writer& w, const std::map<K, V, C, A>& v) {
    detail::write_map_range(w, v.begin(), v.end(), v.size());
  }
  static Result<std::map<K, V, C, A>> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_map_header(n)) return r.error();
    std::map<K, V, C, A> out;
    auto res = detail::read_map_into<K, V>(r, n, [&](K&& k, V&& v) { out.insert_or_assign(std::move(k), std::move(v)); });
    if (!res) return std::move(res).error();
    return out;
  }
};

/// std::unordered_map <-> map (a repeated key keeps the last value).
template <class K, class V, class H, class E, class A>
struct codec<std::unordered_map<K, V, H, E, A>> {
  static void encode(detail::msgpack_writer& w, const std::unordered_map<K, V, H, E, A>& v) {
    detail::write_map_range(w, v.begin(), v.end(), v.size());
  }
  static Result<std::unordered_map<K, V, H, E, A>> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_map_header(n)) return r.error();
    std::unordered_map<K, V, H, E, A> out;
    out.reserve(n);  // n <= remaining input bytes / 2
    auto res = detail::read_map_into<K, V>(r, n, [&](K&& k, V&& v) { out.insert_or_assign(std::move(k), std::move(v)); });
    if (!res) return std::move(res).error();
    return out;
  }
};

/// std::tuple <-> array of exactly its size.
template <class... Ts>
struct codec<std::tuple<Ts...>> {
  static void encode(detail::msgpack_writer& w, const std::tuple<Ts...>& v) {
    w.array_header(sizeof...(Ts));
    std::apply([&w](const auto&... e) { (codec<std::decay_t<decltype(e)>>::encode(w, e), ...); }, v);
  }
  static Result<std::tuple<Ts...>> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_array_header(n)) return r.error();
    if (n != sizeof...(Ts)) {
      r.fail("array length does not match the tuple");
      return r.error();
    }
    if (!r.enter()) return r.error();
    std::tuple<Ts...> out;
    std::optional<Error> err;
    std::apply([&](auto&... e) { (decode_one(r, e, err), ...); }, out);
    if (err) return std::move(*err);
    r.leave();
    return out;
  }

 private:
  template <class E>
  static void decode_one(detail::msgpack_reader& r, E& slot, std::optional<Error>& err) {
    if (err) return;
    auto v = codec<E>::decode(r);
    if (!v) {
      err = std::move(v).error();
      return;
    }
    slot = std::move(*v);
  }
};

/// std::pair <-> two-element array.
template <class A, class B>
struct codec<std::pair<A, B>> {
  static void encode(detail::msgpack_writer& w, const std::pair<A, B>& v) {
    w.array_header(2);
    codec<A>::encode(w, v.first);
    codec<B>::encode(w, v.second);
  }
  static Result<std::pair<A, B>> decode(detail::msgpack_reader& r) {
    auto t = codec<std::tuple<A, B>>::decode(r);
    if (!t) return std::move(t).error();
    return std::pair<A, B>(std::move(std::get<0>(*t)), std::move(std::get<1>(*t)));
  }
};

// ---- entry points ----------------------------------------------------------

/// Encodes value as plain MessagePack, or an Error (a container over 2^32-1 items).
template <class T>
Result<std::string> try_to_msgpack(const T& value) {
  detail::msgpack_writer w;
  codec<T>::encode(w, value);
  if (!w.ok()) return w.error();
  return std::move(w).take();
}

/// Encodes value as plain MessagePack (no envelope; what interop values
/// store). Returns an empty string, never valid MessagePack, in the one case
/// that cannot be encoded (a container over 2^32-1 items).
template <class T>
std::string to_msgpack(const T& value) {
  detail::msgpack_writer w;
  codec<T>::encode(w, value);
  if (!w.ok()) return std::string();
  return std::move(w).take();
}

/// Decodes exactly one MessagePack document as T; malformed input, a type
/// mismatch or trailing bytes give a permanent Error.
template <class T>
Result<T> from_msgpack(std::string_view bytes) {
  detail::msgpack_reader r(bytes);
  auto v = codec<T>::decode(r);
  if (!v) return v;
  if (!r.at_end()) {
    // A cachekit-py auto-mode frame starts "CK": its first byte alone is the fixint 67.
    if (bytes.size() >= 2 && bytes[0] == 'C' && bytes[1] == 'K') {
      return Error(ErrorKind::permanent,
                   "msgpack: trailing bytes after the document (looks like a Python-SDK-internal "
                   "auto-mode entry, not an interop value)");
    }
    r.fail("trailing bytes after the document");
    return r.error();
  }
  return v;
}

CACHEKIT_END_NAMESPACE
// ---- end cachekit/msgpack/codec.hpp ----

// ---- begin cachekit/msgpack/fields.hpp ----
// CACHEKIT_FIELDS(Type, field...): encodes a struct as a MessagePack map of
// field name -> value, so a Python reader gets a dict and other SDKs can
// read it by name.
//
//   struct User { std::int64_t id; std::string name; std::vector<std::string> roles; };
//   CACHEKIT_FIELDS(User, id, name, roles)
//
// Write it at namespace scope (the namespace of Type or any enclosing one
// found by argument-dependent lookup), after the struct, before the first
// encode or decode. Up to 64 public data members.
//
// Encoding writes the fields in the order listed (values) or sorted by name
// (interop keys, canonical profile). Decoding is by name: fields may come in
// any order; unknown fields are skipped (a newer writer may have added some);
// a missing field is an error unless its type is std::optional (then it is
// nullopt), so an entry written by an older schema reads as a miss rather
// than as silently defaulted data; a field that appears twice is an error.

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// Tag whose associated namespaces include T's, so the CACHEKIT_FIELDS
/// function is found by argument-dependent lookup.
template <class T>
struct fields_tag {};

/// One described data member: its name and pointer.
template <class C, class M>
struct field_ref {
  using member_type = M;
  std::string_view name;
  M C::*member;
};

template <class C, class M>
constexpr field_ref<C, M> make_field(std::string_view name, M C::*member) noexcept {
  return field_ref<C, M>{name, member};
}

// Found by ordinary lookup so the unqualified call below is well-formed;
// deleted, so only a CACHEKIT_FIELDS overload can satisfy has_fields.
void cachekit_fields_of(...) = delete;

template <class T, class = void>
struct has_fields : std::false_type {};
template <class T>
struct has_fields<T, std::void_t<decltype(cachekit_fields_of(fields_tag<T>{}))>> : std::true_type {};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

}  // namespace detail

/// Structs described with CACHEKIT_FIELDS <-> map of field name -> value.
template <class T>
struct codec<T, std::enable_if_t<detail::has_fields<T>::value>> {
  static auto fields() { return cachekit_fields_of(detail::fields_tag<T>{}); }
  using fields_t = decltype(cachekit_fields_of(detail::fields_tag<T>{}));
  static constexpr std::size_t field_count = std::tuple_size_v<fields_t>;

  static void encode(detail::msgpack_writer& w, const T& v) {
    const auto fs = fields();
    if (!w.canonical()) {
      w.map_header(field_count);
      std::apply([&](const auto&... f) { (encode_field(w, v, f), ...); }, fs);
      return;
    }
    // Interop keys: fields sorted by name (code point order), like any map.
    std::vector<std::pair<std::string_view, std::string>> entries;
    entries.reserve(field_count);
    detail::msgpack_writer sub(w.profile());
    bool ok = true;
    auto collect = [&](const auto& f) {
      if (!ok) return;
      sub.clear();
      using M = typename std::decay_t<decltype(f)>::member_type;
      codec<M>::encode(sub, v.*(f.member));
      if (!sub.ok()) {
        ok = false;
        return w.fail(sub.error());
      }
      entries.emplace_back(f.name, sub.bytes());
    };
    std::apply([&](const auto&... f) { (collect(f), ...); }, fs);
    if (!ok) return;
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    w.map_header(entries.size());
    for (const auto& e : entries) {
      w.str(e.first);
      w.raw(e.second);
    }
  }

  static Result<T> decode(detail::msgpack_reader& r) {
    std::uint32_t n = 0;
    if (!r.read_map_header(n)) return r.error();
    if (!r.enter()) return r.error();
    T out{};
    std::array<bool, field_count> seen{};
    const auto fs = fields();
    std::optional<Error> err;
    for (std::uint32_t i = 0; i < n; ++i) {
      std::uint8_t b;
      if (!r.peek(b)) return r.error();
      const bool str_key = (b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb);
      if (!str_key) {  // not a field name: skip the entry
        if (!r.skip() || !r.skip()) return r.error();
        continue;
      }
      std::string_view key;
      if (!r.read_str(key)) return r.error();
      bool matched = false;
      match(fs, key, out, seen, r, matched, err, std::make_index_sequence<field_count>{});
      if (err) return std::move(*err);
      if (!matched && !r.skip()) return r.error();
    }
    std::string_view missing;
    find_missing(fs, seen, missing, std::make_index_sequence<field_count>{});
    if (!missing.empty()) {
      return Error(ErrorKind::permanent, "msgpack: missing field '" + std::string(missing) + "'");
    }
    r.leave();
    return out;
  }

 private:
  template <class F>
  static void encode_field(detail::msgpack_writer& w, const T& v, const F& f) {
    w.str(f.name);
    codec<typename F::member_type>::encode(w, v.*(f.member));
  }

  template <class F>
  static void decode_field(const F& f, T& out, bool& seen, detail::msgpack_reader& r, std::optional<Error>& err) {
    if (seen) {
      err = Error(ErrorKind::permanent, "msgpack: field '" + std::string(f.name) + "' appears twice");
      return;
    }
    seen = true;
    auto v = codec<typename F::member_type>::decode(r);
    if (!v) {
      err = std::move(v).error();
      return;
    }
    out.*(f.member) = std::move(*v);
  }

  template <std::size_t... Is>
  static void match(const fields_t& fs, std::string_view key, T& out, std::array<bool, field_count>& seen,
                    detail::msgpack_reader& r, bool& matched, std::optional<Error>& err, std::index_sequence<Is...>) {
    ((!matched && std::get<Is>(fs).name == key
          ? (void)(matched = true, decode_field(std::get<Is>(fs), out, seen[Is], r, err))
          : (void)0),
     ...);
  }

  template <std::size_t... Is>
  static void find_missing(const fields_t& fs, const std::array<bool, field_count>& seen, std::string_view& missing,
                           std::index_sequence<Is...>) {
    ((missing.empty() && !seen[Is] &&
              !detail::is_optional<typename std::tuple_element_t<Is, fields_t>::member_type>::value
          ? (void)(missing = std::get<Is>(fs).name)
          : (void)0),
     ...);
  }
};

CACHEKIT_END_NAMESPACE

// ---- the macro ---------------------------------------------------------------

#define CACHEKIT_DETAIL_EXPAND(x) x
#define CACHEKIT_DETAIL_CAT(a, b) CACHEKIT_DETAIL_CAT_(a, b)
#define CACHEKIT_DETAIL_CAT_(a, b) a##b
#define CACHEKIT_DETAIL_FIELD(T, x) ::cachekit::detail::make_field(#x, &T::x)
#define CACHEKIT_DETAIL_NARG(...) CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_NARG_(__VA_ARGS__, 64, 63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, _))
#define CACHEKIT_DETAIL_NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, _32, _33, _34, _35, _36, _37, _38, _39, _40, _41, _42, _43, _44, _45, _46, _47, _48, _49, _50, _51, _52, _53, _54, _55, _56, _57, _58, _59, _60, _61, _62, _63, _64, N, ...) N
#define CACHEKIT_DETAIL_FE_1(M, T, x) M(T, x)
#define CACHEKIT_DETAIL_FE_2(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_1(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_3(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_2(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_4(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_3(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_5(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_4(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_6(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_5(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_7(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_6(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_8(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_7(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_9(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_8(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_10(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_9(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_11(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_10(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_12(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_11(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_13(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_12(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_14(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_13(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_15(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_14(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_16(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_15(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_17(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_16(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_18(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_17(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_19(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_18(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_20(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_19(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_21(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_20(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_22(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_21(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_23(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_22(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_24(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_23(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_25(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_24(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_26(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_25(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_27(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_26(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_28(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_27(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_29(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_28(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_30(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_29(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_31(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_30(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_32(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_31(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_33(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_32(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_34(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_33(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_35(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_34(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_36(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_35(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_37(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_36(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_38(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_37(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_39(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_38(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_40(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_39(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_41(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_40(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_42(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_41(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_43(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_42(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_44(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_43(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_45(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_44(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_46(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_45(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_47(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_46(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_48(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_47(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_49(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_48(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_50(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_49(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_51(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_50(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_52(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_51(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_53(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_52(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_54(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_53(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_55(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_54(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_56(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_55(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_57(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_56(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_58(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_57(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_59(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_58(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_60(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_59(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_61(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_60(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_62(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_61(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_63(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_62(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FE_64(M, T, x, ...) M(T, x), CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_FE_63(M, T, __VA_ARGS__))
#define CACHEKIT_DETAIL_FOREACH(M, T, ...) \
  CACHEKIT_DETAIL_EXPAND(CACHEKIT_DETAIL_CAT(CACHEKIT_DETAIL_FE_, CACHEKIT_DETAIL_NARG(__VA_ARGS__))(M, T, __VA_ARGS__))

/// Describes the data members of Type (1 to 64 of them) so that codec<Type>
/// encodes it as a map of field name -> value. Use at namespace scope.
#define CACHEKIT_FIELDS(Type, ...)                                                                   \
  [[maybe_unused]] inline auto cachekit_fields_of(::cachekit::detail::fields_tag<Type>) noexcept {  \
    return ::std::make_tuple(CACHEKIT_DETAIL_FOREACH(CACHEKIT_DETAIL_FIELD, Type, __VA_ARGS__));     \
  }
// ---- end cachekit/msgpack/fields.hpp ----

// ---- begin cachekit/msgpack.hpp ----
// MessagePack values: codec<T>, to_msgpack / from_msgpack, CACHEKIT_FIELDS.
// ---- end cachekit/msgpack.hpp ----

// ---- begin cachekit/interop.hpp ----
// Interop keys: cache keys shared with cachekit's Python, Rust and
// TypeScript SDKs (interop/v1).
//
//   key = "{namespace}:{operation}:{args_hash}"
//   args_hash = lowercase hex BLAKE2b-256 (unkeyed) of the canonical
//               MessagePack of the flat array of the call's arguments
//
// Canonical profile (detail::msgpack_profile::canonical): integers in the
// shortest form (range -2^63 .. 2^64-1); floats as float64, except integral
// values in [-2^63, 2^64) (including -0.0), which are encoded as integers;
// NaN and infinities are errors; strings must be well-formed UTF-8; map keys
// must be strings and are sorted by code point (UTF-8 byte order) at every
// level; sets become arrays sorted by their encoded bytes, duplicates
// removed; time points become float64 epoch seconds (floored to whole
// microseconds, then divided by 10^6, then the float rule); UUIDs become
// lowercase hyphenated strings; cachekit::bytes become bin.

#include <string>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE

/// True when s fully matches ^[a-z0-9][a-z0-9._-]{0,63}$ (an interop
/// namespace or operation).
inline bool is_valid_interop_segment(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum) continue;
    if (i > 0 && (c == '.' || c == '_' || c == '-')) continue;
    return false;
  }
  return true;
}

/// The canonical MessagePack of the argument array [args...] that interop
/// keys hash; an Error for values outside the interop data model (NaN,
/// infinities, non-string map keys, malformed UTF-8, ...).
template <class... Args>
Result<std::string> canonical_args(const Args&... args) {
  detail::msgpack_writer w(detail::msgpack_profile::canonical);
  w.array_header(sizeof...(Args));
  (codec<std::remove_cv_t<Args>>::encode(w, args), ...);
  if (!w.ok()) return w.error();
  return std::move(w).take();
}

/// "{ns}:{operation}:{hash}" from already-canonical argument bytes; an Error
/// when a segment is invalid.
inline Result<std::string> interop_key_from_canonical(std::string_view ns, std::string_view operation,
                                                      std::string_view canonical) {
  if (!is_valid_interop_segment(ns)) {
    return Error(ErrorKind::permanent,
                 "interop: namespace '" + std::string(ns) + "' must match ^[a-z0-9][a-z0-9._-]{0,63}$");
  }
  if (!is_valid_interop_segment(operation)) {
    return Error(ErrorKind::permanent,
                 "interop: operation '" + std::string(operation) + "' must match ^[a-z0-9][a-z0-9._-]{0,63}$");
  }
  std::string key;
  key.reserve(ns.size() + operation.size() + 2 + 64);
  key.append(ns);
  key += ':';
  key.append(operation);
  key += ':';
  key += blake2b_hex(canonical, 32);
  return key;
}

/// The interop cache key "{ns}:{operation}:{blake2b-256 hex of canonical
/// msgpack of [args...]}", shared with the other cachekit SDKs; an Error for
/// an invalid segment or an argument outside the interop data model.
template <class... Args>
Result<std::string> interop_key(std::string_view ns, std::string_view operation, const Args&... args) {
  if (!is_valid_interop_segment(ns) || !is_valid_interop_segment(operation)) {
    return interop_key_from_canonical(ns, operation, {});
  }
  auto canonical = canonical_args(args...);
  if (!canonical) return std::move(canonical).error();
  return interop_key_from_canonical(ns, operation, *canonical);
}

CACHEKIT_END_NAMESPACE
// ---- end cachekit/interop.hpp ----

// ---- begin cachekit/cache_options.hpp ----
// Options and statistics of the typed cache facade (cachekit::cache and
// cachekit::Cache<T>).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>


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
/// others wait for its value.
struct StampedeOptions {
  /// Off by default.
  bool enabled = false;
  /// Lifetime of the lease key "<key>:lock" (taken with add); a crashed or
  /// slow computation stops blocking others after it.
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
  /// Called (on the calling thread) with every backend, key or decode error.
  /// The call that saw the error still returns a value.
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
  /// hits / (hits + misses), 0 when neither happened.
  double hit_rate() const noexcept {
    const auto total = hits + misses;
    return total == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(total);
  }
};

CACHEKIT_END_NAMESPACE
// ---- end cachekit/cache_options.hpp ----

// ---- begin cachekit/default_backend.hpp ----
// The default backend of cachekit::cache(fn): memcached when the environment
// names servers, else the in-process store. Chosen once per process, on
// first use, without connecting anywhere and without logging.

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>


CACHEKIT_BEGIN_NAMESPACE

namespace detail {
/// Stands in for a backend whose configuration was refused: every operation
/// returns that error, so cached functions run uncached and report it.
class FailedBackend final : public Backend {
 public:
  explicit FailedBackend(Error error) : error_(std::move(error)) {}
  Result<std::optional<std::string>> get(std::string_view) override { return error_; }
  Result<void> set(std::string_view, std::string_view, std::chrono::seconds) override { return error_; }
  Result<bool> add(std::string_view, std::string_view, std::chrono::seconds) override { return error_; }
  Result<bool> remove(std::string_view) override { return error_; }
  Result<bool> exists(std::string_view) override { return error_; }
  Result<bool> touch(std::string_view, std::chrono::seconds) override { return error_; }

 private:
  Error error_;
};
}  // namespace detail

/// Whether CACHEKIT_MEMCACHED_SERVERS is set to something non-empty.
inline bool memcached_configured() noexcept {
  const char* servers = std::getenv("CACHEKIT_MEMCACHED_SERVERS");
  return servers != nullptr && servers[0] != '\0';
}

/// A new backend chosen from the environment: a MemcachedBackend from
/// MemcachedBackendConfig::from_env() when CACHEKIT_MEMCACHED_SERVERS is set,
/// else a MemoryBackend. Fails when that configuration is malformed.
inline Result<std::shared_ptr<Backend>> make_default_backend() {
  if (!memcached_configured()) return std::shared_ptr<Backend>(std::make_shared<MemoryBackend>());
  return Error(ErrorKind::permanent, "CACHEKIT_MEMCACHED_SERVERS is set but MemcachedBackend is not built in yet");
}

/// The process-wide default backend, made by make_default_backend() on first
/// use and kept for the life of the process. When the environment's
/// configuration is malformed, every operation on it fails with that error
/// (so cached functions run uncached and report it to on_error).
inline std::shared_ptr<Backend> default_backend() {
  static const std::shared_ptr<Backend> instance = [] {
    auto made = make_default_backend();
    if (!made) return std::shared_ptr<Backend>(std::make_shared<detail::FailedBackend>(std::move(made).error()));
    return std::move(made).value();
  }();
  return instance;
}

CACHEKIT_END_NAMESPACE
// ---- end cachekit/default_backend.hpp ----

// ---- begin cachekit/detail/cache_core.hpp ----
// The untyped engine behind cache() and Cache<T>: backend ownership, the
// near cache, counters, error reporting and the stampede lease. Typed code
// (encode, decode, the user's function) stays in cache.hpp.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>


CACHEKIT_BEGIN_NAMESPACE
namespace detail {

/// Outcome of taking a stampede lease.
enum class Lease { taken, held_by_other, unavailable };

/// Backend, L1, options and counters shared by every copy of a cached
/// function (copies share statistics and the near cache).
class CacheCore {
 public:
  CacheCore(std::shared_ptr<Backend> owner, Backend* backend, CacheOptions options)
      : owner_(std::move(owner)), backend_(backend), options_(std::move(options)) {
    if (options_.l1.enabled) l1_ = std::make_unique<MemoryBackend>(options_.l1.max_bytes);
  }

  const CacheOptions& options() const noexcept { return options_; }
  Backend& backend() noexcept { return *backend_; }

  /// The stored bytes for key from the L1, then the backend; nullopt on a
  /// miss or an error (reported).
  std::optional<std::string> lookup(std::string_view key, bool* from_l1 = nullptr) {
    if (l1_) {
      auto near = l1_->get(key);
      if (near && near->has_value()) {
        if (from_l1 != nullptr) *from_l1 = true;
        return std::move(*near);
      }
    }
    auto got = backend_->get(key);
    if (!got) {
      report(std::move(got).error(), "get", key);
      return std::nullopt;
    }
    if (got->has_value() && l1_) fill_l1(key, **got);
    return std::move(*got);
  }

  /// Stores bytes under key (L1 too); false (reported) when the backend failed.
  bool store(std::string_view key, std::string_view bytes, std::chrono::seconds ttl) {
    if (l1_) fill_l1(key, bytes, ttl);
    auto r = backend_->set(key, bytes, ttl);
    if (!r) {
      report(std::move(r).error(), "set", key);
      return false;
    }
    return true;
  }

  /// Removes key from the backend and the L1; true when the backend had it.
  bool remove(std::string_view key) {
    if (l1_) (void)l1_->remove(key);
    auto r = backend_->remove(key);
    if (!r) {
      report(std::move(r).error(), "delete", key);
      return false;
    }
    return *r;
  }

  /// Tries to take the lease "<key>:lock" for a computation.
  Lease take_lease(const std::string& lock_key) {
    auto r = backend_->add(lock_key, "1", options_.stampede.lease_ttl);
    if (!r) {
      report(std::move(r).error(), "add", lock_key);
      return Lease::unavailable;
    }
    return *r ? Lease::taken : Lease::held_by_other;
  }

  /// Gives a lease back so waiting callers stop polling a dead lock.
  void release_lease(const std::string& lock_key) {
    auto r = backend_->remove(lock_key);
    if (!r) report(std::move(r).error(), "delete", lock_key);
  }

  /// Polls for key until a value appears that decode accepts (returns true)
  /// or max_wait passes (returns false). Counts the wait.
  template <class Decode>
  bool wait_for_value(std::string_view key, Decode&& decode) {
    stampede_waits.fetch_add(1, std::memory_order_relaxed);
    const auto& s = options_.stampede;
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + s.max_wait;
    auto pause = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::max(s.poll_interval, std::chrono::milliseconds(1)));
    const auto longest = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::milliseconds(50));
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      std::this_thread::sleep_for(std::min(pause, deadline - now));
      pause = std::min(longest, pause + pause / 2);
      auto got = backend_->get(key);
      if (!got) {
        // The backend is failing: waiting longer will not help.
        report(std::move(got).error(), "get", key);
        break;
      }
      if (got->has_value() && decode(std::string_view(**got))) {
        if (l1_) fill_l1(key, **got);
        return true;
      }
    }
    stampede_timeouts.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  /// Counts an error and hands it to the user's callback.
  void report(Error e, const char* operation, std::string_view key) {
    errors.fetch_add(1, std::memory_order_relaxed);
    notify(std::move(e), operation, key);
  }
  /// Counts a value that did not decode and hands the error to the callback.
  void report_decode(Error e, std::string_view key) {
    decode_errors.fetch_add(1, std::memory_order_relaxed);
    notify(std::move(e), "decode", key);
  }

  /// A snapshot of the counters.
  CacheStats stats() const noexcept {
    CacheStats s;
    s.hits = hits.load(std::memory_order_relaxed);
    s.l1_hits = l1_hits.load(std::memory_order_relaxed);
    s.misses = misses.load(std::memory_order_relaxed);
    s.calls = calls.load(std::memory_order_relaxed);
    s.bypasses = bypasses.load(std::memory_order_relaxed);
    s.errors = errors.load(std::memory_order_relaxed);
    s.decode_errors = decode_errors.load(std::memory_order_relaxed);
    s.stampede_waits = stampede_waits.load(std::memory_order_relaxed);
    s.stampede_timeouts = stampede_timeouts.load(std::memory_order_relaxed);
    return s;
  }

  std::atomic<std::uint64_t> hits{0}, l1_hits{0}, misses{0}, calls{0}, bypasses{0}, errors{0},
      decode_errors{0}, stampede_waits{0}, stampede_timeouts{0};

 private:
  void fill_l1(std::string_view key, std::string_view bytes, std::chrono::seconds ttl = {}) {
    std::chrono::steady_clock::duration life = options_.l1.ttl;
    if (ttl > std::chrono::seconds::zero() && ttl < life) life = ttl;
    // An L1 refusal (value over its budget) only means the L1 is skipped.
    (void)l1_->set_for(key, bytes, life);
  }

  void notify(Error e, const char* operation, std::string_view key) {
    if (!options_.on_error) return;
    if (e.operation().empty()) e.with_operation(operation);
    if (e.key().empty()) e.with_key(std::string(key));
    options_.on_error(e);
  }

  std::shared_ptr<Backend> owner_;  // null when the user keeps the backend alive
  Backend* backend_;
  CacheOptions options_;
  std::unique_ptr<MemoryBackend> l1_;
};

/// Releases a stampede lease when the computation ends, also when the user's
/// function throws.
class LeaseGuard {
 public:
  LeaseGuard(CacheCore& core, std::string lock_key) : core_(core), lock_key_(std::move(lock_key)) {}
  ~LeaseGuard() { core_.release_lease(lock_key_); }
  LeaseGuard(const LeaseGuard&) = delete;
  LeaseGuard& operator=(const LeaseGuard&) = delete;

 private:
  CacheCore& core_;
  std::string lock_key_;
};

}  // namespace detail
CACHEKIT_END_NAMESPACE
// ---- end cachekit/detail/cache_core.hpp ----

// ---- begin cachekit/cache.hpp ----
// cachekit::cache: memoizes a function over a Backend, the C++ spelling of
// cachekit's @cache. Keys are cachekit interop keys by default (shared with
// the Python, Rust and TypeScript SDKs); values are plain MessagePack.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>


CACHEKIT_BEGIN_NAMESPACE

/// Marker for the default key function: interop_key(ns, operation, args...).
struct InteropKeyFunction {};

namespace detail {

// A key function may return std::string, Result<std::string> or anything
// convertible to std::string.
inline Result<std::string> as_key(Result<std::string>&& k) { return std::move(k); }
template <class K>
Result<std::string> as_key(K&& k) {
  return std::string(std::forward<K>(k));
}

inline bool segment_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/// "<file name>-<line>" reduced to an interop key segment, used as the
/// operation when the user names none.
inline std::string call_site_operation(const char* file, int line) {
  std::string_view path = file != nullptr ? file : "";
  const auto slash = path.find_last_of("/\\");
  if (slash != std::string_view::npos) path.remove_prefix(slash + 1);
  std::string suffix = "-" + std::to_string(line < 0 ? 0 : line);
  std::string op;
  for (char c : path) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    op += segment_char(c) ? c : '-';
  }
  if (op.empty() || !((op[0] >= 'a' && op[0] <= 'z') || (op[0] >= '0' && op[0] <= '9'))) op.insert(0, "f");
  if (op.size() + suffix.size() > 64) op.resize(64 - suffix.size());
  return op + suffix;
}

/// Options with the defaults of cache() filled in.
inline CacheOptions resolve_options(CacheOptions o, const char* file, int line) {
  if (o.ns.empty()) o.ns = "cachekit";
  if (o.operation.empty()) o.operation = call_site_operation(file, line);
  return o;
}

/// Runs compute, counts it, stores the encoded result.
template <class R, class Compute>
R compute_and_store(CacheCore& core, std::string_view key, Compute& compute, std::chrono::seconds ttl) {
  core.misses.fetch_add(1, std::memory_order_relaxed);
  core.calls.fetch_add(1, std::memory_order_relaxed);
  R value = compute();
  core.store(key, to_msgpack(value), ttl);
  return value;
}

/// Decodes bytes as R; a failure is counted and reported, never returned.
template <class R>
std::optional<R> decode_value(CacheCore& core, std::string_view key, std::string_view bytes) {
  auto v = from_msgpack<R>(bytes);
  if (!v) {
    core.report_decode(std::move(v).error(), key);
    return std::nullopt;
  }
  return std::optional<R>(std::move(v).value());
}

/// Read-through with optional stampede protection: the value under key, or
/// compute()'s result, stored for ttl.
template <class R, class Compute>
R fetch(CacheCore& core, const std::string& key, Compute&& compute, std::chrono::seconds ttl) {
  bool from_l1 = false;
  if (auto bytes = core.lookup(key, &from_l1)) {
    if (auto v = decode_value<R>(core, key, *bytes)) {
      core.hits.fetch_add(1, std::memory_order_relaxed);
      if (from_l1) core.l1_hits.fetch_add(1, std::memory_order_relaxed);
      return std::move(*v);
    }
  }
  if (!core.options().stampede.enabled) return compute_and_store<R>(core, key, compute, ttl);

  std::string lock_key = key + ":lock";
  switch (core.take_lease(lock_key)) {
    case Lease::taken: {
      LeaseGuard guard(core, std::move(lock_key));
      // Another caller may have stored the value between our miss and the
      // lease; one more read saves a computation.
      if (auto bytes = core.lookup(key)) {
        auto v = from_msgpack<R>(*bytes);
        if (v) {
          core.hits.fetch_add(1, std::memory_order_relaxed);
          return std::move(v).value();
        }
      }
      return compute_and_store<R>(core, key, compute, ttl);
    }
    case Lease::held_by_other: {
      std::optional<R> got;
      const bool arrived = core.wait_for_value(key, [&](std::string_view bytes) {
        auto v = from_msgpack<R>(bytes);
        if (!v) return false;
        got.emplace(std::move(v).value());
        return true;
      });
      if (arrived) {
        core.hits.fetch_add(1, std::memory_order_relaxed);
        return std::move(*got);
      }
      return compute_and_store<R>(core, key, compute, ttl);
    }
    case Lease::unavailable: break;
  }
  return compute_and_store<R>(core, key, compute, ttl);
}

}  // namespace detail

/// A memoized function: call it like the function it wraps. Copies share the
/// backend, statistics and near cache. Thread-safe when the wrapped function
/// is. Returned by cachekit::cache; spell its type with auto.
template <class Fn, class KeyFn = InteropKeyFunction>
class Cached {
 public:
  /// Prefer cachekit::cache().
  Cached(std::shared_ptr<detail::CacheCore> core, std::shared_ptr<Fn> fn, std::shared_ptr<KeyFn> key_fn = {})
      : core_(std::move(core)), fn_(std::move(fn)), key_fn_(std::move(key_fn)) {}

  /// Result type of a call with arguments A.
  template <class... A>
  using result_type = std::decay_t<std::invoke_result_t<Fn&, A&&...>>;

  /// The cached value for args, or the function's result (then stored).
  /// Backend, key and decode errors never fail the call: the function runs
  /// uncached and the error is counted and passed to options().on_error.
  template <class... A>
  result_type<A...> operator()(A&&... args) const {
    using R = result_type<A...>;
    static_assert(!std::is_void_v<R>, "cachekit::cache: the function must return a value");
    detail::CacheCore& core = *core_;
    if (!core.options().enabled) return run_bypassed(std::forward<A>(args)...);
    auto k = key(static_cast<const A&>(args)...);
    if (!k) {
      core.report(std::move(k).error(), "key", {});
      core.misses.fetch_add(1, std::memory_order_relaxed);
      core.calls.fetch_add(1, std::memory_order_relaxed);
      return (*fn_)(std::forward<A>(args)...);
    }
    auto compute = [&]() -> R { return (*fn_)(std::forward<A>(args)...); };
    return detail::fetch<R>(core, *k, compute, core.options().ttl);
  }

  /// Runs the function without reading or writing the cache.
  template <class... A>
  result_type<A...> bypass(A&&... args) const {
    return run_bypassed(std::forward<A>(args)...);
  }

  /// Runs the function and stores its result, replacing any cached value.
  template <class... A>
  result_type<A...> refresh(A&&... args) const {
    using R = result_type<A...>;
    detail::CacheCore& core = *core_;
    auto k = key(static_cast<const A&>(args)...);
    core.calls.fetch_add(1, std::memory_order_relaxed);
    R value = (*fn_)(std::forward<A>(args)...);
    if (!k) core.report(std::move(k).error(), "key", {});
    else core.store(*k, to_msgpack(value), core.options().ttl);
    return value;
  }

  /// Removes the cached value for args (and from this process's near cache);
  /// true when the backend held one. Errors are counted and reported.
  template <class... A>
  bool invalidate(const A&... args) const {
    auto k = key(args...);
    if (!k) {
      core_->report(std::move(k).error(), "key", {});
      return false;
    }
    return core_->remove(*k);
  }

  /// The backend key used for args.
  template <class... A>
  Result<std::string> key(const A&... args) const {
    if constexpr (std::is_same_v<KeyFn, InteropKeyFunction>) {
      const CacheOptions& o = core_->options();
      return interop_key(o.ns, o.operation, args...);
    } else {
      return detail::as_key((*key_fn_)(args...));
    }
  }

  /// The same cached function with keys from key_fn(args...) (returning
  /// std::string or Result<std::string>) instead of interop keys. The key is
  /// used as is: namespace and operation are not added.
  template <class K>
  Cached<Fn, std::decay_t<K>> with_key(K&& key_fn) const {
    return Cached<Fn, std::decay_t<K>>(core_, fn_, std::make_shared<std::decay_t<K>>(std::forward<K>(key_fn)));
  }

  /// Counters since creation (shared by copies).
  CacheStats stats() const noexcept { return core_->stats(); }
  /// The options in effect, defaults filled in.
  const CacheOptions& options() const noexcept { return core_->options(); }

 private:
  template <class... A>
  result_type<A...> run_bypassed(A&&... args) const {
    core_->bypasses.fetch_add(1, std::memory_order_relaxed);
    core_->calls.fetch_add(1, std::memory_order_relaxed);
    return (*fn_)(std::forward<A>(args)...);
  }

  std::shared_ptr<detail::CacheCore> core_;
  std::shared_ptr<Fn> fn_;
  std::shared_ptr<KeyFn> key_fn_;
};

namespace detail {
template <class Fn>
Cached<std::decay_t<Fn>> make_cached(std::shared_ptr<Backend> owner, Backend* backend, CacheOptions options, Fn&& fn,
                                     const char* file, int line) {
  auto core = std::make_shared<CacheCore>(std::move(owner), backend, resolve_options(std::move(options), file, line));
  return Cached<std::decay_t<Fn>>(std::move(core), std::make_shared<std::decay_t<Fn>>(std::forward<Fn>(fn)));
}
}  // namespace detail

/// Memoizes fn over backend, which the result shares ownership of.
template <class Fn>
Cached<std::decay_t<Fn>> cache(std::shared_ptr<Backend> backend, CacheOptions options, Fn&& fn,
                               const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  Backend* raw = backend.get();
  return detail::make_cached(std::move(backend), raw, std::move(options), std::forward<Fn>(fn), file, line);
}

/// Memoizes fn over backend, which must outlive the result and its copies.
template <class Fn>
Cached<std::decay_t<Fn>> cache(Backend& backend, CacheOptions options, Fn&& fn,
                               const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return detail::make_cached(nullptr, &backend, std::move(options), std::forward<Fn>(fn), file, line);
}

/// Memoizes fn over the default backend (see default_backend()).
template <class Fn>
Cached<std::decay_t<Fn>> cache(CacheOptions options, Fn&& fn, const char* file = __builtin_FILE(),
                               int line = __builtin_LINE()) {
  return cache(default_backend(), std::move(options), std::forward<Fn>(fn), file, line);
}

/// Memoizes fn over the default backend with default options: namespace
/// "cachekit", operation "<file name>-<line>" of this call.
template <class Fn, class = std::enable_if_t<!std::is_convertible_v<Fn, CacheOptions>>>
Cached<std::decay_t<Fn>> cache(Fn&& fn, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return cache(default_backend(), CacheOptions{}, std::forward<Fn>(fn), file, line);
}

CACHEKIT_END_NAMESPACE
// ---- end cachekit/cache.hpp ----

// ---- begin cachekit/typed_cache.hpp ----
// cachekit::Cache<T>: a typed key-value view over a Backend, values stored as
// plain MessagePack.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>


CACHEKIT_BEGIN_NAMESPACE

/// Typed get/set over a backend. Keys are used as given, prefixed with
/// "<ns>:" when options.ns is set. Like cache(), no call fails: backend
/// errors and undecodable values are counted, passed to options.on_error and
/// seen as misses. Options used: ns, ttl (default for set), enabled, l1,
/// stampede (for get_or_set), on_error. Copies share statistics.
template <class T>
class Cache {
 public:
  /// Over the default backend (see default_backend()).
  explicit Cache(CacheOptions options = {}) : Cache(default_backend(), std::move(options)) {}
  /// Over backend, which the cache shares ownership of.
  explicit Cache(std::shared_ptr<Backend> backend, CacheOptions options = {}) {
    Backend* raw = backend.get();
    core_ = std::make_shared<detail::CacheCore>(std::move(backend), raw, std::move(options));
  }
  /// Over backend, which must outlive the cache and its copies.
  explicit Cache(Backend& backend, CacheOptions options = {})
      : core_(std::make_shared<detail::CacheCore>(nullptr, &backend, std::move(options))) {}

  /// The value under key, or nullopt (absent, undecodable or backend error).
  std::optional<T> get(std::string_view key) const {
    detail::CacheCore& core = *core_;
    if (!core.options().enabled) return std::nullopt;
    const std::string k = full_key(key);
    bool from_l1 = false;
    if (auto bytes = core.lookup(k, &from_l1)) {
      if (auto v = detail::decode_value<T>(core, k, *bytes)) {
        core.hits.fetch_add(1, std::memory_order_relaxed);
        if (from_l1) core.l1_hits.fetch_add(1, std::memory_order_relaxed);
        return v;
      }
    }
    core.misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }

  /// Stores value under key for options.ttl; false when the backend failed.
  bool set(std::string_view key, const T& value) const { return set(key, value, core_->options().ttl); }
  /// Stores value under key for ttl (<= 0: no expiry); false when the backend failed.
  bool set(std::string_view key, const T& value, std::chrono::seconds ttl) const {
    if (!core_->options().enabled) return false;
    return core_->store(full_key(key), to_msgpack(value), ttl);
  }

  /// The value under key, else fn()'s result, stored for options.ttl.
  template <class Fn>
  T get_or_set(std::string_view key, Fn&& fn) const {
    return get_or_set(key, std::forward<Fn>(fn), core_->options().ttl);
  }
  /// The value under key, else fn()'s result, stored for ttl.
  template <class Fn>
  T get_or_set(std::string_view key, Fn&& fn, std::chrono::seconds ttl) const {
    detail::CacheCore& core = *core_;
    auto compute = [&]() -> T { return std::forward<Fn>(fn)(); };
    if (!core.options().enabled) {
      core.bypasses.fetch_add(1, std::memory_order_relaxed);
      core.calls.fetch_add(1, std::memory_order_relaxed);
      return compute();
    }
    return detail::fetch<T>(core, full_key(key), compute, ttl);
  }

  /// Removes key; true when the backend held it.
  bool remove(std::string_view key) const { return core_->remove(full_key(key)); }

  /// Counters since creation (calls counts get_or_set computations).
  CacheStats stats() const noexcept { return core_->stats(); }
  /// The options in effect.
  const CacheOptions& options() const noexcept { return core_->options(); }

 private:
  std::string full_key(std::string_view key) const {
    const std::string& ns = core_->options().ns;
    if (ns.empty()) return std::string(key);
    std::string k;
    k.reserve(ns.size() + 1 + key.size());
    k += ns;
    k += ':';
    k += key;
    return k;
  }

  std::shared_ptr<detail::CacheCore> core_;
};

CACHEKIT_END_NAMESPACE
// ---- end cachekit/typed_cache.hpp ----

// ---- begin cachekit/cachekit.hpp ----
// cachekit: a single-header C++17 memcached client and typed cache.
// ---- end cachekit/cachekit.hpp ----
