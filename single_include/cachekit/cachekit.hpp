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

// ---- begin cachekit/hash/md5.hpp ----
// MD5 (RFC 1321), used for ketama key routing. Scalar, allocation-free, with
// a one-block fast path for keys of up to 55 bytes. Not for security.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>


// The 64 MD5 steps as an X-macro list, shared by the scalar and the
// multi-lane implementations: X(round, a, b, c, d, message word, constant,
// rotation). Constants are RFC 1321's T[i] = floor(abs(sin(i + 1)) * 2^32).
#define CACHEKIT_MD5_STEPS(X) \
  X(F, a, b, c, d,  0, 0xd76aa478u,  7) \
  X(F, d, a, b, c,  1, 0xe8c7b756u, 12) \
  X(F, c, d, a, b,  2, 0x242070dbu, 17) \
  X(F, b, c, d, a,  3, 0xc1bdceeeu, 22) \
  X(F, a, b, c, d,  4, 0xf57c0fafu,  7) \
  X(F, d, a, b, c,  5, 0x4787c62au, 12) \
  X(F, c, d, a, b,  6, 0xa8304613u, 17) \
  X(F, b, c, d, a,  7, 0xfd469501u, 22) \
  X(F, a, b, c, d,  8, 0x698098d8u,  7) \
  X(F, d, a, b, c,  9, 0x8b44f7afu, 12) \
  X(F, c, d, a, b, 10, 0xffff5bb1u, 17) \
  X(F, b, c, d, a, 11, 0x895cd7beu, 22) \
  X(F, a, b, c, d, 12, 0x6b901122u,  7) \
  X(F, d, a, b, c, 13, 0xfd987193u, 12) \
  X(F, c, d, a, b, 14, 0xa679438eu, 17) \
  X(F, b, c, d, a, 15, 0x49b40821u, 22) \
  X(G, a, b, c, d,  1, 0xf61e2562u,  5) \
  X(G, d, a, b, c,  6, 0xc040b340u,  9) \
  X(G, c, d, a, b, 11, 0x265e5a51u, 14) \
  X(G, b, c, d, a,  0, 0xe9b6c7aau, 20) \
  X(G, a, b, c, d,  5, 0xd62f105du,  5) \
  X(G, d, a, b, c, 10, 0x02441453u,  9) \
  X(G, c, d, a, b, 15, 0xd8a1e681u, 14) \
  X(G, b, c, d, a,  4, 0xe7d3fbc8u, 20) \
  X(G, a, b, c, d,  9, 0x21e1cde6u,  5) \
  X(G, d, a, b, c, 14, 0xc33707d6u,  9) \
  X(G, c, d, a, b,  3, 0xf4d50d87u, 14) \
  X(G, b, c, d, a,  8, 0x455a14edu, 20) \
  X(G, a, b, c, d, 13, 0xa9e3e905u,  5) \
  X(G, d, a, b, c,  2, 0xfcefa3f8u,  9) \
  X(G, c, d, a, b,  7, 0x676f02d9u, 14) \
  X(G, b, c, d, a, 12, 0x8d2a4c8au, 20) \
  X(H, a, b, c, d,  5, 0xfffa3942u,  4) \
  X(H, d, a, b, c,  8, 0x8771f681u, 11) \
  X(H, c, d, a, b, 11, 0x6d9d6122u, 16) \
  X(H, b, c, d, a, 14, 0xfde5380cu, 23) \
  X(H, a, b, c, d,  1, 0xa4beea44u,  4) \
  X(H, d, a, b, c,  4, 0x4bdecfa9u, 11) \
  X(H, c, d, a, b,  7, 0xf6bb4b60u, 16) \
  X(H, b, c, d, a, 10, 0xbebfbc70u, 23) \
  X(H, a, b, c, d, 13, 0x289b7ec6u,  4) \
  X(H, d, a, b, c,  0, 0xeaa127fau, 11) \
  X(H, c, d, a, b,  3, 0xd4ef3085u, 16) \
  X(H, b, c, d, a,  6, 0x04881d05u, 23) \
  X(H, a, b, c, d,  9, 0xd9d4d039u,  4) \
  X(H, d, a, b, c, 12, 0xe6db99e5u, 11) \
  X(H, c, d, a, b, 15, 0x1fa27cf8u, 16) \
  X(H, b, c, d, a,  2, 0xc4ac5665u, 23) \
  X(I, a, b, c, d,  0, 0xf4292244u,  6) \
  X(I, d, a, b, c,  7, 0x432aff97u, 10) \
  X(I, c, d, a, b, 14, 0xab9423a7u, 15) \
  X(I, b, c, d, a,  5, 0xfc93a039u, 21) \
  X(I, a, b, c, d, 12, 0x655b59c3u,  6) \
  X(I, d, a, b, c,  3, 0x8f0ccc92u, 10) \
  X(I, c, d, a, b, 10, 0xffeff47du, 15) \
  X(I, b, c, d, a,  1, 0x85845dd1u, 21) \
  X(I, a, b, c, d,  8, 0x6fa87e4fu,  6) \
  X(I, d, a, b, c, 15, 0xfe2ce6e0u, 10) \
  X(I, c, d, a, b,  6, 0xa3014314u, 15) \
  X(I, b, c, d, a, 13, 0x4e0811a1u, 21) \
  X(I, a, b, c, d,  4, 0xf7537e82u,  6) \
  X(I, d, a, b, c, 11, 0xbd3af235u, 10) \
  X(I, c, d, a, b,  2, 0x2ad7d2bbu, 15) \
  X(I, b, c, d, a,  9, 0xeb86d391u, 21)

CACHEKIT_BEGIN_NAMESPACE

namespace detail {

inline constexpr std::uint32_t kMd5Init[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};

/// Little-endian 32-bit load; compilers turn it into one load on x86.
inline std::uint32_t load_le32(const unsigned char* p) noexcept {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

inline void store_le32(unsigned char* p, std::uint32_t v) noexcept {
  p[0] = static_cast<unsigned char>(v);
  p[1] = static_cast<unsigned char>(v >> 8);
  p[2] = static_cast<unsigned char>(v >> 16);
  p[3] = static_cast<unsigned char>(v >> 24);
}

inline std::uint32_t rotl32(std::uint32_t x, int s) noexcept { return (x << s) | (x >> (32 - s)); }

// Round functions written so the value produced by the previous step (b)
// enters as late as possible: G's two halves are disjoint, so + equals |.
#define CACHEKIT_MD5_SCALAR_F(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define CACHEKIT_MD5_SCALAR_G(b, c, d) ((c) & ~(d)) + ((b) & (d))
#define CACHEKIT_MD5_SCALAR_H(b, c, d) ((b) ^ (c) ^ (d))
#define CACHEKIT_MD5_SCALAR_I(b, c, d) ((c) ^ ((b) | ~(d)))
#define CACHEKIT_MD5_SCALAR_STEP(R, a, b, c, d, i, k, s) \
  a = b + rotl32(a + m[i] + k + CACHEKIT_MD5_SCALAR_##R(b, c, d), s);

#if defined(__GNUC__) || defined(__clang__)
#define CACHEKIT_MD5_INLINE inline __attribute__((always_inline))
#else
#define CACHEKIT_MD5_INLINE inline
#endif

/// One MD5 compression of the 16 little-endian words m into state. Always
/// inlined so that a caller wanting one word lets the compiler drop the
/// last steps.
CACHEKIT_MD5_INLINE void md5_compress(std::uint32_t state[4], const std::uint32_t m[16]) noexcept {
  std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  CACHEKIT_MD5_STEPS(CACHEKIT_MD5_SCALAR_STEP)
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
}

#undef CACHEKIT_MD5_SCALAR_STEP
#undef CACHEKIT_MD5_SCALAR_F
#undef CACHEKIT_MD5_SCALAR_G
#undef CACHEKIT_MD5_SCALAR_H
#undef CACHEKIT_MD5_SCALAR_I

/// Number of 64-byte blocks MD5 processes for a message of n bytes.
inline constexpr std::size_t md5_block_count(std::size_t n) noexcept { return (n + 8) / 64 + 1; }

/// Words of block j (of md5_block_count(n)) of the padded message p[0..n).
inline void md5_block_words(const unsigned char* p, std::size_t n, std::size_t j,
                            std::uint32_t m[16]) noexcept {
  const std::size_t start = j * 64;
  if (start + 64 <= n) {
    for (int i = 0; i < 16; ++i) m[i] = load_le32(p + start + 4 * i);
    return;
  }
  unsigned char buf[64] = {};
  if (start < n) std::memcpy(buf, p + start, n - start);
  if (start <= n) buf[n - start] = 0x80;
  if (j + 1 == md5_block_count(n)) {
    const std::uint64_t bits = static_cast<std::uint64_t>(n) << 3;
    store_le32(buf + 56, static_cast<std::uint32_t>(bits));
    store_le32(buf + 60, static_cast<std::uint32_t>(bits >> 32));
  }
  for (int i = 0; i < 16; ++i) m[i] = load_le32(buf + 4 * i);
}

/// The MD5 state after the whole message p[0..n).
CACHEKIT_MD5_INLINE void md5_state(const unsigned char* p, std::size_t n, std::uint32_t state[4]) noexcept {
  state[0] = kMd5Init[0];
  state[1] = kMd5Init[1];
  state[2] = kMd5Init[2];
  state[3] = kMd5Init[3];
  std::uint32_t m[16];
  if (n <= 55) {  // the common case for keys and ring point names: one block
    unsigned char buf[64] = {};
    std::memcpy(buf, p, n);
    buf[n] = 0x80;
    store_le32(buf + 56, static_cast<std::uint32_t>(n << 3));
    for (int i = 0; i < 16; ++i) m[i] = load_le32(buf + 4 * i);
    md5_compress(state, m);
    return;
  }
  const std::size_t blocks = md5_block_count(n);
  for (std::size_t j = 0; j < blocks; ++j) {
    md5_block_words(p, n, j, m);
    md5_compress(state, m);
  }
}

}  // namespace detail

namespace hash {

/// MD5 digest of data (RFC 1321).
inline std::array<std::uint8_t, 16> md5(std::string_view data) noexcept {
  std::uint32_t s[4];
  detail::md5_state(reinterpret_cast<const unsigned char*>(data.data()), data.size(), s);
  std::array<std::uint8_t, 16> out{};
  for (int i = 0; i < 4; ++i) detail::store_le32(out.data() + 4 * i, s[i]);
  return out;
}

/// The first four digest bytes of MD5(data) as a little-endian uint32: the
/// ketama key hash. The compiler drops the steps this word does not need.
inline std::uint32_t md5_le32(std::string_view data) noexcept {
  std::uint32_t s[4];
  detail::md5_state(reinterpret_cast<const unsigned char*>(data.data()), data.size(), s);
  return s[0];
}

/// Lowercase hex of an MD5 digest.
inline std::string md5_hex(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto d = md5(data);
  std::string out(32, '0');
  for (std::size_t i = 0; i < 16; ++i) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 15];
  }
  return out;
}

}  // namespace hash

CACHEKIT_END_NAMESPACE
// ---- end cachekit/hash/md5.hpp ----

// ---- begin cachekit/hash/md5_multi.hpp ----
// Many MD5 hashes at once: 2 x 16 lanes with AVX-512, 2 x 8 with AVX2,
// chosen at run time, else the scalar code. Every path gives the same answers. The
// SIMD code is compiled through target attributes, so no -m flag is needed.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>


#if CACHEKIT_ENABLE_SIMD && (defined(__x86_64__) || defined(__i386__)) && \
    (defined(__GNUC__) || defined(__clang__))
#define CACHEKIT_MD5_X86_SIMD 1
#include <immintrin.h>
#else
#define CACHEKIT_MD5_X86_SIMD 0
#endif

CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// Which MD5 implementation a batch uses.
enum class Md5Path { automatic, scalar, avx2, avx512 };

/// Path that automatic resolves to on this CPU (detected once).
inline Md5Path md5_best_path() noexcept {
#if CACHEKIT_MD5_X86_SIMD
  static const Md5Path best = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) return Md5Path::avx512;
    if (__builtin_cpu_supports("avx2")) return Md5Path::avx2;
    return Md5Path::scalar;
  }();
  return best;
#else
  return Md5Path::scalar;
#endif
}

/// Whether this CPU (and build) can run path.
inline bool md5_path_supported(Md5Path path) noexcept {
  const Md5Path best = md5_best_path();
  switch (path) {
    case Md5Path::automatic:
    case Md5Path::scalar: return true;
    case Md5Path::avx2: return best == Md5Path::avx2 || best == Md5Path::avx512;
    case Md5Path::avx512: return best == Md5Path::avx512;
  }
  return false;
}

/// Lanes a path hashes together (1 for scalar).
inline constexpr std::size_t md5_lanes(Md5Path path) noexcept {
  return path == Md5Path::avx512 ? 16 : path == Md5Path::avx2 ? 8 : 1;
}

#if CACHEKIT_MD5_X86_SIMD

// Each kernel hashes up to two lane sets of messages that all have the same
// number of blocks, the two sets interleaved step by step so that one set's
// dependency chain runs while the other's waits. Per block, each lane's
// padded block is built as a row, the rows are transposed in registers into
// message-word vectors, and one macro list (CACHEKIT_MD5_STEPS) runs the
// 64 steps. kFull: out[4 * which[l] + j] receives digest word j of lane l;
// otherwise out[which[l]] receives word 0 (the ketama key hash).

// ---- AVX2: 8 lanes per set ------------------------------------------------

#define CACHEKIT_MD5_AVX2_ROTL(x, s) _mm256_or_si256(_mm256_slli_epi32(x, s), _mm256_srli_epi32(x, 32 - (s)))
#define CACHEKIT_MD5_AVX2_FN_F(b, c, d) _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d)))
#define CACHEKIT_MD5_AVX2_FN_G(b, c, d) _mm256_or_si256(_mm256_and_si256(b, d), _mm256_andnot_si256(d, c))
#define CACHEKIT_MD5_AVX2_FN_H(b, c, d) _mm256_xor_si256(b, _mm256_xor_si256(c, d))
#define CACHEKIT_MD5_AVX2_FN_I(b, c, d) _mm256_xor_si256(c, _mm256_or_si256(b, _mm256_xor_si256(d, ones)))
#define CACHEKIT_MD5_AVX2_STEP2(R, a, b, c, d, i, k, s)                                                      \
  {                                                                                                           \
    const __m256i kk = _mm256_set1_epi32(static_cast<int>(k));                                                \
    a##1 = _mm256_add_epi32(                                                                                  \
        b##1, CACHEKIT_MD5_AVX2_ROTL(_mm256_add_epi32(_mm256_add_epi32(a##1, _mm256_add_epi32(m1[i], kk)),     \
                                                      CACHEKIT_MD5_AVX2_FN_##R(b##1, c##1, d##1)),            \
                                     s));                                                                     \
    a##2 = _mm256_add_epi32(                                                                                  \
        b##2, CACHEKIT_MD5_AVX2_ROTL(_mm256_add_epi32(_mm256_add_epi32(a##2, _mm256_add_epi32(m2[i], kk)),     \
                                                      CACHEKIT_MD5_AVX2_FN_##R(b##2, c##2, d##2)),            \
                                     s));                                                                     \
  }

/// Transposes 8 rows of 16 words into m[16] (word i of every lane).
__attribute__((target("avx2"))) inline void md5_transpose8x16(const std::uint32_t (*rows)[16], __m256i* m) noexcept {
  for (int half = 0; half < 2; ++half) {
    __m256i r[8], t[8], u[8];
    for (int l = 0; l < 8; ++l) r[l] = _mm256_load_si256(reinterpret_cast<const __m256i*>(rows[l] + 8 * half));
    for (int k = 0; k < 4; ++k) {
      t[2 * k] = _mm256_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
      t[2 * k + 1] = _mm256_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
    }
    for (int k = 0; k < 2; ++k) {  // u[4k + j], 128-bit lane L: column 4L + j of rows 4k..4k+3
      u[4 * k + 0] = _mm256_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
      u[4 * k + 1] = _mm256_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
      u[4 * k + 2] = _mm256_unpacklo_epi64(t[4 * k + 1], t[4 * k + 3]);
      u[4 * k + 3] = _mm256_unpackhi_epi64(t[4 * k + 1], t[4 * k + 3]);
    }
    for (int j = 0; j < 4; ++j) {
      m[8 * half + j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x20);
      m[8 * half + 4 + j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x31);
    }
  }
}

/// Up to 16 messages of `blocks` blocks each (two sets of 8 lanes).
template <bool kFull>
__attribute__((target("avx2"))) void md5_lanes_avx2(const std::string_view* msgs, const std::size_t* which,
                                                    std::size_t count, std::size_t blocks,
                                                    std::uint32_t* out) noexcept {
  const __m256i ones = _mm256_set1_epi32(-1);
  __m256i st[2][4];
  for (int j = 0; j < 4; ++j) st[0][j] = st[1][j] = _mm256_set1_epi32(static_cast<int>(kMd5Init[j]));
  alignas(32) std::uint32_t rows[16][16];
  for (std::size_t blk = 0; blk < blocks; ++blk) {
    for (std::size_t l = 0; l < 16; ++l) {
      if (l < count) {
        const std::string_view m = msgs[which[l]];
        md5_block_words(reinterpret_cast<const unsigned char*>(m.data()), m.size(), blk, rows[l]);
      } else {
        std::memset(rows[l], 0, sizeof rows[l]);
      }
    }
    __m256i m1[16], m2[16];
    md5_transpose8x16(rows, m1);
    md5_transpose8x16(rows + 8, m2);
    __m256i a1 = st[0][0], b1 = st[0][1], c1 = st[0][2], d1 = st[0][3];
    __m256i a2 = st[1][0], b2 = st[1][1], c2 = st[1][2], d2 = st[1][3];
    CACHEKIT_MD5_STEPS(CACHEKIT_MD5_AVX2_STEP2)
    st[0][0] = _mm256_add_epi32(st[0][0], a1);
    st[0][1] = _mm256_add_epi32(st[0][1], b1);
    st[0][2] = _mm256_add_epi32(st[0][2], c1);
    st[0][3] = _mm256_add_epi32(st[0][3], d1);
    st[1][0] = _mm256_add_epi32(st[1][0], a2);
    st[1][1] = _mm256_add_epi32(st[1][1], b2);
    st[1][2] = _mm256_add_epi32(st[1][2], c2);
    st[1][3] = _mm256_add_epi32(st[1][3], d2);
  }
  alignas(32) std::uint32_t words[4][16];
  for (int j = 0; j < (kFull ? 4 : 1); ++j) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(words[j]), st[0][j]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(words[j] + 8), st[1][j]);
  }
  for (std::size_t l = 0; l < count; ++l) {
    if (kFull) {
      for (std::size_t j = 0; j < 4; ++j) out[4 * which[l] + j] = words[j][l];
    } else {
      out[which[l]] = words[0][l];
    }
  }
}

#undef CACHEKIT_MD5_AVX2_STEP2
#undef CACHEKIT_MD5_AVX2_ROTL
#undef CACHEKIT_MD5_AVX2_FN_F
#undef CACHEKIT_MD5_AVX2_FN_G
#undef CACHEKIT_MD5_AVX2_FN_H
#undef CACHEKIT_MD5_AVX2_FN_I

// ---- AVX-512: 16 lanes per set --------------------------------------------
// One ternary-logic instruction per round function and a native rotate. The
// immediates are the truth tables over (b, c, d) of F = b?c:d, G = d?b:c,
// H = b^c^d and I = c^(b|~d). Zero-masked forms with every lane enabled are
// used where GCC 12 warns about the plain forms' undefined operand.

#define CACHEKIT_MD5_AVX512_TT_F 0xca
#define CACHEKIT_MD5_AVX512_TT_G 0xe4
#define CACHEKIT_MD5_AVX512_TT_H 0x96
#define CACHEKIT_MD5_AVX512_TT_I 0x39
#define CACHEKIT_MD5_AVX512_STEP2(R, a, b, c, d, i, k, s)                                                     \
  {                                                                                                            \
    const __m512i kk = _mm512_set1_epi32(static_cast<int>(k));                                                 \
    a##1 = _mm512_add_epi32(                                                                                   \
        b##1, _mm512_maskz_rol_epi32(kAll16,                                                                   \
                                     _mm512_add_epi32(_mm512_add_epi32(a##1, _mm512_add_epi32(m1[i], kk)),     \
                                                      _mm512_ternarylogic_epi32(b##1, c##1, d##1,              \
                                                                                CACHEKIT_MD5_AVX512_TT_##R)), \
                                     s));                                                                      \
    a##2 = _mm512_add_epi32(                                                                                   \
        b##2, _mm512_maskz_rol_epi32(kAll16,                                                                   \
                                     _mm512_add_epi32(_mm512_add_epi32(a##2, _mm512_add_epi32(m2[i], kk)),     \
                                                      _mm512_ternarylogic_epi32(b##2, c##2, d##2,              \
                                                                                CACHEKIT_MD5_AVX512_TT_##R)), \
                                     s));                                                                      \
  }

/// Transposes 16 rows of 16 words into m[16] (word i of every lane) in 64 shuffles.
__attribute__((target("avx512f,avx512bw"))) inline void md5_transpose16(const __m512i* r, __m512i* m) noexcept {
  const auto kAll16 = static_cast<__mmask16>(0xffff);
  const auto kAll8 = static_cast<__mmask8>(0xff);
  __m512i t[16], u[16];
  for (int k = 0; k < 8; ++k) {  // interleave dwords of row pairs
    t[2 * k] = _mm512_maskz_unpacklo_epi32(kAll16, r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_maskz_unpackhi_epi32(kAll16, r[2 * k], r[2 * k + 1]);
  }
  for (int k = 0; k < 4; ++k) {  // u[4k + j], 128-bit lane L: column 4L + j of rows 4k..4k+3
    u[4 * k + 0] = _mm512_maskz_unpacklo_epi64(kAll8, t[4 * k], t[4 * k + 2]);
    u[4 * k + 1] = _mm512_maskz_unpackhi_epi64(kAll8, t[4 * k], t[4 * k + 2]);
    u[4 * k + 2] = _mm512_maskz_unpacklo_epi64(kAll8, t[4 * k + 1], t[4 * k + 3]);
    u[4 * k + 3] = _mm512_maskz_unpackhi_epi64(kAll8, t[4 * k + 1], t[4 * k + 3]);
  }
  for (int j = 0; j < 4; ++j) {  // 4x4 transpose of 128-bit lanes across u[j], u[4+j], u[8+j], u[12+j]
    const __m512i v0 = _mm512_maskz_shuffle_i32x4(kAll16, u[j], u[4 + j], 0x44);
    const __m512i v1 = _mm512_maskz_shuffle_i32x4(kAll16, u[j], u[4 + j], 0xee);
    const __m512i v2 = _mm512_maskz_shuffle_i32x4(kAll16, u[8 + j], u[12 + j], 0x44);
    const __m512i v3 = _mm512_maskz_shuffle_i32x4(kAll16, u[8 + j], u[12 + j], 0xee);
    m[j] = _mm512_maskz_shuffle_i32x4(kAll16, v0, v2, 0x88);
    m[4 + j] = _mm512_maskz_shuffle_i32x4(kAll16, v0, v2, 0xdd);
    m[8 + j] = _mm512_maskz_shuffle_i32x4(kAll16, v1, v3, 0x88);
    m[12 + j] = _mm512_maskz_shuffle_i32x4(kAll16, v1, v3, 0xdd);
  }
}

/// Block `blk` (the last of `blocks`) of message m, padded, built in a
/// register with masked byte loads that never read past the message.
__attribute__((target("avx512f,avx512bw"))) inline __m512i md5_block_row(std::string_view m, std::size_t blk,
                                                                         std::size_t blocks) noexcept {
  const std::size_t n = m.size();
  const std::size_t off = blk * 64;
  __m512i v = _mm512_setzero_si512();
  if (n > off) {
    const std::size_t avail = n - off < 64 ? n - off : 64;
    const __mmask64 load = avail == 64 ? ~__mmask64{0} : (__mmask64{1} << avail) - 1;
    v = _mm512_maskz_loadu_epi8(load, m.data() + off);
  }
  if (n >= off && n - off < 64) {
    v = _mm512_mask_mov_epi8(v, __mmask64{1} << (n - off), _mm512_set1_epi8(static_cast<char>(0x80)));
  }
  if (blk + 1 == blocks) {  // bit length in words 14 and 15
    const std::uint64_t bits = static_cast<std::uint64_t>(n) << 3;
    const __m512i len = _mm512_set_epi32(static_cast<int>(bits >> 32), static_cast<int>(bits & 0xffffffffu), 0, 0,
                                         0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    v = _mm512_mask_mov_epi32(v, static_cast<__mmask16>(0xc000), len);
  }
  return v;
}

/// Up to 32 messages of `blocks` blocks each (two sets of 16 lanes).
template <bool kFull>
__attribute__((target("avx512f,avx512bw"))) void md5_lanes_avx512(const std::string_view* msgs,
                                                                  const std::size_t* which, std::size_t count,
                                                                  std::size_t blocks, std::uint32_t* out) noexcept {
  const auto kAll16 = static_cast<__mmask16>(0xffff);
  __m512i st[2][4];
  for (int j = 0; j < 4; ++j) st[0][j] = st[1][j] = _mm512_set1_epi32(static_cast<int>(kMd5Init[j]));
  for (std::size_t blk = 0; blk < blocks; ++blk) {
    __m512i r[16], m1[16], m2[16];
    for (std::size_t l = 0; l < 16; ++l) {
      r[l] = l < count ? md5_block_row(msgs[which[l]], blk, blocks) : _mm512_setzero_si512();
    }
    md5_transpose16(r, m1);
    for (std::size_t l = 0; l < 16; ++l) {
      r[l] = l + 16 < count ? md5_block_row(msgs[which[l + 16]], blk, blocks) : _mm512_setzero_si512();
    }
    md5_transpose16(r, m2);
    __m512i a1 = st[0][0], b1 = st[0][1], c1 = st[0][2], d1 = st[0][3];
    __m512i a2 = st[1][0], b2 = st[1][1], c2 = st[1][2], d2 = st[1][3];
    CACHEKIT_MD5_STEPS(CACHEKIT_MD5_AVX512_STEP2)
    st[0][0] = _mm512_add_epi32(st[0][0], a1);
    st[0][1] = _mm512_add_epi32(st[0][1], b1);
    st[0][2] = _mm512_add_epi32(st[0][2], c1);
    st[0][3] = _mm512_add_epi32(st[0][3], d1);
    st[1][0] = _mm512_add_epi32(st[1][0], a2);
    st[1][1] = _mm512_add_epi32(st[1][1], b2);
    st[1][2] = _mm512_add_epi32(st[1][2], c2);
    st[1][3] = _mm512_add_epi32(st[1][3], d2);
  }
  alignas(64) std::uint32_t words[4][32];
  for (int j = 0; j < (kFull ? 4 : 1); ++j) {
    _mm512_store_si512(words[j], st[0][j]);
    _mm512_store_si512(words[j] + 16, st[1][j]);
  }
  for (std::size_t l = 0; l < count; ++l) {
    if (kFull) {
      for (std::size_t j = 0; j < 4; ++j) out[4 * which[l] + j] = words[j][l];
    } else {
      out[which[l]] = words[0][l];
    }
  }
}

#undef CACHEKIT_MD5_AVX512_STEP2
#undef CACHEKIT_MD5_AVX512_TT_F
#undef CACHEKIT_MD5_AVX512_TT_G
#undef CACHEKIT_MD5_AVX512_TT_H
#undef CACHEKIT_MD5_AVX512_TT_I

#endif  // CACHEKIT_MD5_X86_SIMD

/// MD5 of n messages through `path` (automatic = the fastest this CPU
/// supports). kFull: out[4i + j] = digest word j of msgs[i] (little-endian
/// words, as md5_state); else out[i] = word 0, the ketama key hash. Messages
/// are grouped by block count so that each lane group ends together.
template <bool kFull>
void md5_batch(const std::string_view* msgs, std::size_t n, std::uint32_t* out, Md5Path path) noexcept {
  if (path == Md5Path::automatic || !md5_path_supported(path)) path = md5_best_path();
  auto scalar = [&](std::size_t i) {
    std::uint32_t st[4];
    md5_state(reinterpret_cast<const unsigned char*>(msgs[i].data()), msgs[i].size(), st);
    if (kFull) {
      for (std::size_t j = 0; j < 4; ++j) out[4 * i + j] = st[j];
    } else {
      out[i] = st[0];
    }
  };
  const std::size_t lanes = md5_lanes(path);
  if (lanes == 1) {
    for (std::size_t i = 0; i < n; ++i) scalar(i);
    return;
  }
  // Pending groups (two lane sets each) for messages of 1..kGroups blocks
  // (up to 311 bytes); longer ones are rare and take the scalar code.
  constexpr std::size_t kGroups = 5;
  std::size_t pending[kGroups][32];
  std::size_t fill[kGroups] = {};
  auto flush = [&](std::size_t g) {
#if CACHEKIT_MD5_X86_SIMD
    if (path == Md5Path::avx512) {
      md5_lanes_avx512<kFull>(msgs, pending[g], fill[g], g + 1, out);
    } else {
      md5_lanes_avx2<kFull>(msgs, pending[g], fill[g], g + 1, out);
    }
#endif
    fill[g] = 0;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t blocks = md5_block_count(msgs[i].size());
    if (blocks > kGroups) {
      scalar(i);
      continue;
    }
    const std::size_t g = blocks - 1;
    pending[g][fill[g]++] = i;
    if (fill[g] == 2 * lanes) flush(g);
  }
  for (std::size_t g = 0; g < kGroups; ++g) {
    if (fill[g] == 0) continue;
    if (fill[g] <= 2) {  // too few to pay for the lanes
      for (std::size_t l = 0; l < fill[g]; ++l) scalar(pending[g][l]);
      fill[g] = 0;
    } else {
      flush(g);
    }
  }
}

/// out[i] = first four MD5 bytes of keys[i] as a little-endian uint32 (the
/// ketama key hash), for n keys, through `path`.
inline void md5_le32_batch(const std::string_view* keys, std::size_t n, std::uint32_t* out,
                           Md5Path path = Md5Path::automatic) noexcept {
  md5_batch<false>(keys, n, out, path);
}

/// out[4i .. 4i+4) = the four little-endian digest words of MD5(msgs[i]).
inline void md5_digest_batch(const std::string_view* msgs, std::size_t n, std::uint32_t* out,
                             Md5Path path = Md5Path::automatic) noexcept {
  md5_batch<true>(msgs, n, out, path);
}

}  // namespace detail

CACHEKIT_END_NAMESPACE
// ---- end cachekit/hash/md5_multi.hpp ----

// ---- begin cachekit/hash/murmur3.hpp ----
// MurmurHash3 x86 32-bit (Austin Appleby's public-domain algorithm), used by
// the rendezvous distribution that pymemcache's HashClient defaults to.

#include <cstddef>
#include <cstdint>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE

namespace detail {

inline constexpr std::uint32_t kMurmurC1 = 0xcc9e2d51u;
inline constexpr std::uint32_t kMurmurC2 = 0x1b873593u;

inline std::uint32_t murmur3_rotl(std::uint32_t x, int s) noexcept { return (x << s) | (x >> (32 - s)); }

inline std::uint32_t murmur3_mix_k(std::uint32_t k) noexcept {
  k *= kMurmurC1;
  k = murmur3_rotl(k, 15);
  return k * kMurmurC2;
}

inline std::uint32_t murmur3_mix_h(std::uint32_t h, std::uint32_t k) noexcept {
  h ^= murmur3_mix_k(k);
  h = murmur3_rotl(h, 13);
  return h * 5u + 0xe6546b64u;
}

inline std::uint32_t murmur3_fmix(std::uint32_t h) noexcept {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

/// Incremental murmur3_32: feed bytes in any split, then finish(). The
/// state is a few words, so a prefix can be hashed once and copied.
class Murmur3 {
 public:
  explicit Murmur3(std::uint32_t seed = 0) noexcept : h_(seed) {}

  void update(const unsigned char* p, std::size_t n) noexcept {
    total_ += n;
    while (pending_ != 0 && n != 0) {  // complete a partial word first
      tail_ |= static_cast<std::uint32_t>(*p++) << (8 * pending_);
      --n;
      if (++pending_ == 4) {
        h_ = murmur3_mix_h(h_, tail_);
        tail_ = 0;
        pending_ = 0;
      }
    }
    for (; n >= 4; n -= 4, p += 4) {
      const std::uint32_t k = static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
                              (static_cast<std::uint32_t>(p[2]) << 16) |
                              (static_cast<std::uint32_t>(p[3]) << 24);
      h_ = murmur3_mix_h(h_, k);
    }
    for (; n != 0; --n) tail_ |= static_cast<std::uint32_t>(*p++) << (8 * pending_++);
  }

  void update(unsigned char byte) noexcept { update(&byte, 1); }

  std::uint32_t finish() const noexcept {
    std::uint32_t h = h_;
    if (pending_ != 0) h ^= murmur3_mix_k(tail_);
    // The reference adds the length as a 32-bit int.
    return murmur3_fmix(h ^ static_cast<std::uint32_t>(total_));
  }

 private:
  std::uint32_t h_;
  std::uint32_t tail_ = 0;
  unsigned pending_ = 0;
  std::size_t total_ = 0;
};

}  // namespace detail

namespace hash {

/// MurmurHash3 x86 32-bit of data with the given seed.
inline std::uint32_t murmur3_32(std::string_view data, std::uint32_t seed = 0) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t n = data.size();
  std::uint32_t h = seed;
  const std::size_t blocks = n / 4;
  for (std::size_t i = 0; i < blocks; ++i, p += 4) {
    const std::uint32_t k = static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
                            (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
    h = detail::murmur3_mix_h(h, k);
  }
  std::uint32_t k = 0;
  switch (n & 3) {
    case 3: k |= static_cast<std::uint32_t>(p[2]) << 16; [[fallthrough]];
    case 2: k |= static_cast<std::uint32_t>(p[1]) << 8; [[fallthrough]];
    case 1:
      k |= p[0];
      h ^= detail::murmur3_mix_k(k);
      break;
    default: break;
  }
  return detail::murmur3_fmix(h ^ static_cast<std::uint32_t>(n));
}

}  // namespace hash

CACHEKIT_END_NAMESPACE
// ---- end cachekit/hash/murmur3.hpp ----

// ---- begin cachekit/server_spec.hpp ----
// ServerSpec: one memcached server as configured ("host:port:weight",
// "[::1]:11211", "/path/to.sock"). Parsing only; no DNS, no I/O.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE

/// One memcached server. A unix socket has its path in host and port 0.
struct ServerSpec {
  std::string host;           ///< name or address as configured, or a unix socket path
  std::uint16_t port = 11211;  ///< TCP port; 0 for a unix socket
  std::uint32_t weight = 1;    ///< relative share of keys (ketama, libketama)

  /// Parses "host", "host:port", "host:port:weight", "[v6]", "[v6]:port[:weight]",
  /// "/path/to.sock" or "unix:/path/to.sock". Bad input is a permanent error.
  static Result<ServerSpec> parse(std::string_view spec);

  /// Whether this is a unix socket (port 0, host is the path).
  bool is_unix_socket() const noexcept { return port == 0; }

  /// "host:port", "[v6]:port" or the socket path: how servers are named in
  /// messages and in the CLI.
  std::string to_string() const {
    if (is_unix_socket()) return host;
    std::string s;
    const bool v6 = host.find(':') != std::string::npos;
    s.reserve(host.size() + 8);
    if (v6) s += '[';
    s += host;
    if (v6) s += ']';
    s += ':';
    s += std::to_string(port);
    return s;
  }

  /// Checks a spec built by hand the way parse() checks text.
  Result<void> validate() const;
};

/// Same host (compared without case) and port.
inline bool same_address(const ServerSpec& a, const ServerSpec& b) noexcept {
  if (a.port != b.port || a.host.size() != b.host.size()) return false;
  for (std::size_t i = 0; i < a.host.size(); ++i) {
    char x = a.host[i], y = b.host[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

namespace detail {

/// Longest unix socket path (sizeof(sockaddr_un::sun_path) - 1 on Linux).
inline constexpr std::size_t kMaxUnixPath = 107;
/// Longest host name or address accepted (DNS allows 253).
inline constexpr std::size_t kMaxHostLength = 255;

inline Error spec_error(std::string_view spec, const std::string& why) {
  std::string m = "invalid server spec '";
  m.append(spec.data(), spec.size());
  m += "': ";
  m += why;
  return make_error(ErrorKind::permanent, std::move(m));
}

inline bool is_host_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

inline bool is_v6_char(char c) noexcept {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

/// Why host is not a valid name or address, or empty when it is.
inline std::string check_host(std::string_view host) {
  if (host.empty()) return "empty host";
  if (host.size() > kMaxHostLength) return "host longer than " + std::to_string(kMaxHostLength) + " bytes";
  if (host.find(':') != std::string_view::npos) {  // IPv6, possibly with a %zone
    const std::size_t pct = host.find('%');
    const std::string_view addr = host.substr(0, pct);
    if (addr.empty()) return "empty IPv6 address";
    for (char c : addr) {
      if (!is_v6_char(c)) return std::string("invalid character '") + c + "' in IPv6 address";
    }
    if (pct != std::string_view::npos) {
      const std::string_view zone = host.substr(pct + 1);
      if (zone.empty()) return "empty IPv6 zone after '%'";
      for (char c : zone) {
        if (!is_host_char(c)) return std::string("invalid character '") + c + "' in IPv6 zone";
      }
    }
    return {};
  }
  for (char c : host) {
    if (!is_host_char(c)) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f || c == ' ') return "whitespace or control character in host";
      return std::string("invalid character '") + c + "' in host";
    }
  }
  return {};
}

/// Why path is not a usable unix socket path, or empty when it is.
inline std::string check_unix_path(std::string_view path) {
  if (path.size() > kMaxUnixPath) return "unix socket path longer than " + std::to_string(kMaxUnixPath) + " bytes";
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20) return "control character in unix socket path";
  }
  return {};
}

/// Parses decimal digits into [lo, hi]; what names the field in messages.
inline Result<std::uint32_t> parse_number(std::string_view spec, std::string_view text, const char* what,
                                          std::uint64_t lo, std::uint64_t hi) {
  const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
  if (text.empty()) return spec_error(spec, std::string("empty ") + what + " (expected " + range + ")");
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return spec_error(spec, std::string(what) + " '" + std::string(text) + "' is not a number (expected " +
                                  range + ")");
    }
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
    if (v > hi) break;  // stop before overflow; reported below
  }
  if (v < lo || v > hi) {
    return spec_error(spec, std::string(what) + " " + std::string(text) + " is out of range " + range);
  }
  return static_cast<std::uint32_t>(v);
}

}  // namespace detail

inline Result<void> ServerSpec::validate() const {
  const std::string name = host + (port == 0 ? std::string() : ":" + std::to_string(port));
  if (port == 0) {
    if (host.empty() || host[0] != '/') {
      return detail::spec_error(name, "port 0 is only valid for a unix socket path starting with '/'");
    }
    const std::string why = detail::check_unix_path(host);
    if (!why.empty()) return detail::spec_error(name, why);
  } else {
    if (!host.empty() && host[0] == '/') {
      return detail::spec_error(name, "a unix socket path needs port 0 (use ServerSpec::parse)");
    }
    const std::string why = detail::check_host(host);
    if (!why.empty()) return detail::spec_error(name, why);
  }
  if (weight == 0) return detail::spec_error(name, "weight 0 is out of range 1..4294967295");
  return {};
}

inline Result<ServerSpec> ServerSpec::parse(std::string_view spec) {
  std::string_view s = spec;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty()) return detail::spec_error(spec, "empty server spec");

  ServerSpec out;
  if (s.substr(0, 5) == "unix:") s.remove_prefix(5);
  if (s.front() == '/') {
    const std::string why = detail::check_unix_path(s);
    if (!why.empty()) return detail::spec_error(spec, why);
    out.host = std::string(s);
    out.port = 0;
    return out;
  }

  std::string_view host, rest;
  if (s.front() == '[') {
    const std::size_t close = s.find(']');
    if (close == std::string_view::npos) return detail::spec_error(spec, "missing ']' after IPv6 address");
    host = s.substr(1, close - 1);
    if (host.find(':') == std::string_view::npos) {
      return detail::spec_error(spec, "'[...]' must hold an IPv6 address");
    }
    rest = s.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return detail::spec_error(spec, "unexpected '" + std::string(rest) + "' after ']'");
    }
  } else {
    const std::size_t colon = s.find(':');
    host = s.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : s.substr(colon);
    if (!rest.empty() && rest.find(':', 1) != std::string_view::npos &&
        rest.find(':', rest.find(':', 1) + 1) != std::string_view::npos) {
      return detail::spec_error(spec, "too many ':' (write IPv6 addresses as [addr]:port)");
    }
  }
  if (host.empty() && s.front() == ':') {
    return detail::spec_error(spec, "empty host (write IPv6 addresses as [addr]:port)");
  }
  const std::string why = detail::check_host(host);
  if (!why.empty()) return detail::spec_error(spec, why);
  out.host = std::string(host);

  if (!rest.empty()) {  // ":port" or ":port:weight"
    rest.remove_prefix(1);
    const std::size_t colon = rest.find(':');
    auto port = detail::parse_number(spec, rest.substr(0, colon), "port", 1, 65535);
    if (!port) return std::move(port).error();
    out.port = static_cast<std::uint16_t>(port.value());
    if (colon != std::string_view::npos) {
      auto weight = detail::parse_number(spec, rest.substr(colon + 1), "weight", 1, 4294967295u);
      if (!weight) return std::move(weight).error();
      out.weight = weight.value();
    }
  }
  return out;
}

CACHEKIT_END_NAMESPACE
// ---- end cachekit/server_spec.hpp ----

// ---- begin cachekit/ring.hpp ----
// Ring: which server a key goes to. Placement is identical to the clients
// cachekit replaces (libmemcached ketama and modula, last.fm libketama,
// pymemcache rendezvous). A pure layer: no I/O, no globals.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>


CACHEKIT_BEGIN_NAMESPACE

/// How keys are spread over servers.
enum class Distribution {
  ketama,     ///< libmemcached 1.1.4 with MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED (default)
  libketama,  ///< last.fm libketama / spymemcached KETAMA with IP addresses
  modula,     ///< libmemcached's default: one-at-a-time hash modulo server count
  rendezvous  ///< pymemcache HashClient's default (murmur3 highest random weight)
};

/// Name of a Distribution ("ketama", ...).
inline const char* to_string(Distribution d) noexcept {
  switch (d) {
    case Distribution::ketama: return "ketama";
    case Distribution::libketama: return "libketama";
    case Distribution::modula: return "modula";
    case Distribution::rendezvous: return "rendezvous";
  }
  return "ketama";
}

/// Parses a distribution name; an unknown name is a permanent error.
inline Result<Distribution> parse_distribution(std::string_view name) {
  if (name == "ketama") return Distribution::ketama;
  if (name == "libketama") return Distribution::libketama;
  if (name == "modula") return Distribution::modula;
  if (name == "rendezvous") return Distribution::rendezvous;
  return make_error(ErrorKind::permanent, "unknown distribution '" + std::string(name) +
                                              "' (expected ketama, libketama, modula or rendezvous)");
}

namespace detail {

/// Most servers a ring accepts (keeps every point index in 32 bits).
inline constexpr std::size_t kMaxRingServers = 1000000;

/// Bob Jenkins' one-at-a-time hash as libhashkit computes it: bytes are read
/// as (signed) char, so bytes >= 0x80 are sign-extended before the add.
inline std::uint32_t one_at_a_time(std::string_view key) noexcept {
  std::uint32_t h = 0;
  for (char ch : key) {
    h += static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<signed char>(ch)));
    h += h << 10;
    h ^= h >> 6;
  }
  h += h << 3;
  h ^= h >> 11;
  h += h << 15;
  return h;
}

/// Points (a multiple of 4) libmemcached gives a server with weighted
/// ketama: floorf(pct * 160 / 4 * n + 1e-10) * 4 in float32, step by step
/// as libmemcached rounds. volatile keeps each step a separately rounded
/// float (no FMA contraction, no excess precision).
inline std::uint32_t ketama_points(std::uint32_t weight, std::uint64_t total_weight, std::size_t n) noexcept {
  volatile float pct = static_cast<float>(weight) / static_cast<float>(total_weight);
  volatile float x = pct * 160.0f;
  x = x / 4.0f;
  x = x * static_cast<float>(n);
  x = x + 0.0000000001f;
  return static_cast<std::uint32_t>(std::floor(static_cast<double>(x)) * 4.0);
}

/// MD5 digests libketama makes for a server: floorf(pct * 40.0 * n), where
/// pct is a float, the products are double, and floorf's argument is
/// rounded to float.
inline std::uint32_t libketama_digests(std::uint32_t weight, std::uint64_t total_weight, std::size_t n) noexcept {
  volatile float pct = static_cast<float>(weight) / static_cast<float>(total_weight);
  volatile double x = static_cast<double>(pct) * 40.0;
  x = x * static_cast<double>(static_cast<float>(n));
  const volatile float xf = static_cast<float>(x);
  return static_cast<std::uint32_t>(std::floor(xf));
}

/// Decimal digits of v appended at p; returns the end.
inline char* append_uint(char* p, std::uint32_t v) noexcept {
  char tmp[10];
  int len = 0;
  do {
    tmp[len++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (len > 0) *p++ = tmp[--len];
  return p;
}

/// One point on the continuum.
struct RingPoint {
  std::uint32_t value;
  std::uint32_t server;
};

/// Stable LSD radix sort of points by value (ties keep their order, so
/// points generated in server order end sorted by (value, server)).
inline void sort_points(std::vector<RingPoint>& pts) {
  if (pts.size() < 256) {
    std::stable_sort(pts.begin(), pts.end(),
                     [](const RingPoint& a, const RingPoint& b) { return a.value < b.value; });
    return;
  }
  std::vector<RingPoint> tmp(pts.size());
  constexpr int kBits = 11;
  constexpr std::uint32_t kMask = (1u << kBits) - 1;
  for (int shift = 0; shift < 32; shift += kBits) {
    std::size_t count[(1u << kBits) + 1] = {};
    for (const auto& p : pts) ++count[((p.value >> shift) & kMask) + 1];
    for (std::size_t i = 1; i <= kMask + 1; ++i) count[i] += count[i - 1];
    for (const auto& p : pts) tmp[count[(p.value >> shift) & kMask]++] = p;
    pts.swap(tmp);
  }
}

/// The code points of key & 0xff when key is valid UTF-8 with non-ASCII
/// characters, as pymemcache's murmur3 sees a Python str key; otherwise the
/// bytes. Feeds them to m and returns nothing; the length is counted by m.
inline void feed_python_str(Murmur3& m, std::string_view key) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  const std::size_t n = key.size();
  // Validate first: invalid UTF-8 is hashed as raw bytes.
  bool valid = true;
  for (std::size_t i = 0; i < n && valid;) {
    const unsigned char c = p[i];
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n) {
      valid = false;
      break;
    }
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) valid = false;
      cp = (cp << 6) | (p[i + k] & 0x3fu);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF as Python does.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      valid = false;
    }
    i += len;
  }
  if (!valid) {
    m.update(p, n);
    return;
  }
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    // The low 8 bits of the code point are the low 6 bits of the last byte
    // plus the low 2 bits of the byte before it.
    unsigned char low = c;
    if (len > 1) low = static_cast<unsigned char>((p[i + len - 1] & 0x3f) | ((p[i + len - 2] & 0x03) << 6));
    m.update(low);
    i += len;
  }
}

}  // namespace detail

/// Keys to servers. Build once, then share freely: every method is const.
class Ring {
 public:
  /// Per-server description of a ring (for --describe and diagnostics).
  struct ServerShare {
    std::size_t points;  ///< points on the continuum (0 for modula and rendezvous)
    double share;        ///< expected fraction of keys
  };

  /// An empty ring; server_for returns 0. Use build() to make a real one.
  Ring() = default;

  /// Builds a ring. Rejects an empty list, invalid specs and the same
  /// host:port twice, with a permanent error.
  static Result<Ring> build(std::vector<ServerSpec> servers, Distribution d = Distribution::ketama);

  /// Index into servers() of the server for key.
  std::size_t server_for(std::string_view key) const noexcept {
    if (servers_.size() <= 1) return 0;  // a single server takes every key unhashed, as libmemcached does
    switch (dist_) {
      case Distribution::ketama:
      case Distribution::libketama: return lookup(hash::md5_le32(key));
      case Distribution::modula: return detail::one_at_a_time(key) % servers_.size();
      case Distribution::rendezvous: return rendezvous(key);
    }
    return 0;
  }

  /// out[i] = server_for(keys[i]) for i < n, hashing many keys at once.
  void server_for(const std::string_view* keys, std::size_t n, std::size_t* out) const noexcept {
    server_for_with(keys, n, out, detail::Md5Path::automatic);
  }

  /// The servers, in the order given to build().
  const std::vector<ServerSpec>& servers() const noexcept { return servers_; }

  /// The distribution this ring was built with.
  Distribution distribution() const noexcept { return dist_; }

  /// Total points on the continuum (ketama and libketama; else 0).
  std::size_t point_count() const noexcept { return points_.size(); }

  /// Points and expected share of keys for each server, aligned with servers().
  std::vector<ServerShare> describe() const;

  /// The batch lookup with a chosen MD5 path (tests force each path).
  void server_for_with(const std::string_view* keys, std::size_t n, std::size_t* out,
                       detail::Md5Path path) const noexcept;

  /// The ketama key hash: first four bytes of MD5(key), little-endian.
  static std::uint32_t ketama_hash(std::string_view key) noexcept { return hash::md5_le32(key); }

 private:
  std::size_t lookup(std::uint32_t h) const noexcept {
    const std::uint32_t b = h >> shift_;
    std::size_t lo = buckets_[b];
    const std::size_t hi = buckets_[b + 1];
    // The first point >= h lies in [lo, hi]: points_[hi] (if any) is at
    // least the next bucket's start, which exceeds h.
    if (hi - lo > 8) {
      lo = static_cast<std::size_t>(
          std::lower_bound(points_.begin() + static_cast<std::ptrdiff_t>(lo),
                           points_.begin() + static_cast<std::ptrdiff_t>(hi), h,
                           [](const detail::RingPoint& p, std::uint32_t v) { return p.value < v; }) -
          points_.begin());
    } else {
      while (lo < hi && points_[lo].value < h) ++lo;
    }
    if (lo == points_.size()) lo = 0;  // past the last point: wrap to the first
    return points_[lo].server;
  }

  std::size_t rendezvous(std::string_view key) const noexcept {
    bool ascii = true;
    for (char c : key) {
      if (static_cast<unsigned char>(c) >= 0x80) {
        ascii = false;
        break;
      }
    }
    std::size_t best = 0;
    std::uint32_t best_score = 0;
    for (std::size_t i = 0; i < servers_.size(); ++i) {
      detail::Murmur3 m = prefix_[i];
      if (ascii) {
        m.update(reinterpret_cast<const unsigned char*>(key.data()), key.size());
      } else {
        detail::feed_python_str(m, key);
      }
      const std::uint32_t score = m.finish();
      // Highest score wins; a tie goes to the larger "host:port", as
      // pymemcache's max(str(node), str(winner)) does.
      if (i == 0 || score > best_score || (score == best_score && names_[i] > names_[best])) {
        best = i;
        best_score = score;
      }
    }
    return best;
  }

  Result<void> build_continuum();

  std::vector<ServerSpec> servers_;
  Distribution dist_ = Distribution::ketama;
  std::vector<detail::RingPoint> points_;  // sorted by (value, server)
  std::vector<std::uint32_t> buckets_;     // buckets_[b] = first point >= b << shift_
  unsigned shift_ = 31;
  std::vector<detail::Murmur3> prefix_;    // rendezvous: murmur3 state after "name-"
  std::vector<std::string> names_;         // rendezvous: pymemcache's node names
};

inline Result<Ring> Ring::build(std::vector<ServerSpec> servers, Distribution d) {
  if (servers.empty()) return make_error(ErrorKind::permanent, "ring: empty server list");
  if (servers.size() > detail::kMaxRingServers) {
    return make_error(ErrorKind::permanent, "ring: " + std::to_string(servers.size()) + " servers (at most " +
                                                std::to_string(detail::kMaxRingServers) + ")");
  }
  std::unordered_set<std::string> seen;
  seen.reserve(servers.size() * 2);
  for (const auto& s : servers) {
    auto ok = s.validate();
    if (!ok) return std::move(ok).error();
    std::string id;
    id.reserve(s.host.size() + 6);
    for (char c : s.host) id += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    id += '\0';
    id += std::to_string(s.port);
    if (!seen.insert(std::move(id)).second) {
      return make_error(ErrorKind::permanent, "ring: server " + s.to_string() + " is listed twice");
    }
  }
  Ring r;
  r.servers_ = std::move(servers);
  r.dist_ = d;
  if (d == Distribution::ketama || d == Distribution::libketama) {
    auto ok = r.build_continuum();
    if (!ok) return std::move(ok).error();
  } else if (d == Distribution::rendezvous) {
    r.prefix_.reserve(r.servers_.size());
    r.names_.reserve(r.servers_.size());
    for (const auto& s : r.servers_) {
      // pymemcache names a TCP node "host:port" (IPv6 without brackets)
      // and a unix socket node by its path.
      std::string name = s.is_unix_socket() ? s.host : s.host + ":" + std::to_string(s.port);
      detail::Murmur3 m;
      m.update(reinterpret_cast<const unsigned char*>(name.data()), name.size());
      m.update(static_cast<unsigned char>('-'));
      r.prefix_.push_back(m);
      r.names_.push_back(std::move(name));
    }
  }
  return r;
}

inline Result<void> Ring::build_continuum() {
  const std::size_t n = servers_.size();
  std::uint64_t total_weight = 0;
  for (const auto& s : servers_) total_weight += s.weight;
  const bool lib = dist_ == Distribution::libketama;

  std::vector<std::uint32_t> digests(n);
  std::size_t total_points = 0;
  for (std::size_t i = 0; i < n; ++i) {
    digests[i] = lib ? detail::libketama_digests(servers_[i].weight, total_weight, n)
                     : detail::ketama_points(servers_[i].weight, total_weight, n) / 4;
    total_points += static_cast<std::size_t>(digests[i]) * 4;
  }
  points_.clear();
  points_.reserve(total_points);
  // Point names are hashed in chunks through the multi-lane MD5; each name
  // has a fixed slot in one buffer.
  constexpr std::size_t kSlot = detail::kMaxHostLength + 32;
  constexpr std::size_t kChunk = 2048;
  std::vector<char> slots(kSlot * kChunk);
  std::vector<std::string_view> names(kChunk);
  std::vector<std::uint32_t> owner(kChunk);
  std::vector<std::uint32_t> words(4 * kChunk);
  std::size_t count = 0;
  auto flush = [&] {
    detail::md5_digest_batch(names.data(), count, words.data());
    for (std::size_t i = 0; i < count; ++i) {
      for (std::size_t j = 0; j < 4; ++j) points_.push_back({words[4 * i + j], owner[i]});
    }
    count = 0;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const ServerSpec& s = servers_[i];
    for (std::uint32_t k = 0; k < digests[i]; ++k) {
      // ketama: "host-N" on the default port, else "host:port-N" (libmemcached);
      // libketama: always "host:port-N".
      char* const name = slots.data() + count * kSlot;
      char* p = name;
      std::memcpy(p, s.host.data(), s.host.size());
      p += s.host.size();
      if (lib || s.port != 11211) {
        *p++ = ':';
        p = detail::append_uint(p, s.port);
      }
      *p++ = '-';
      p = detail::append_uint(p, k);
      names[count] = std::string_view(name, static_cast<std::size_t>(p - name));
      owner[count] = static_cast<std::uint32_t>(i);
      if (++count == kChunk) flush();
    }
  }
  flush();
  if (points_.empty()) return make_error(ErrorKind::permanent, "ring: no points on the continuum");
  detail::sort_points(points_);

  // Bucket index over the top bits of the hash: about one point per bucket.
  unsigned bits = 1;
  while (bits < 22 && (std::size_t{1} << bits) < points_.size()) ++bits;
  shift_ = 32 - bits;
  buckets_.assign((std::size_t{1} << bits) + 1, 0);
  std::size_t pi = 0;
  for (std::size_t b = 0; b < (std::size_t{1} << bits); ++b) {
    const std::uint64_t start = static_cast<std::uint64_t>(b) << shift_;
    while (pi < points_.size() && points_[pi].value < start) ++pi;
    buckets_[b] = static_cast<std::uint32_t>(pi);
  }
  buckets_.back() = static_cast<std::uint32_t>(points_.size());
  return {};
}

inline void Ring::server_for_with(const std::string_view* keys, std::size_t n, std::size_t* out,
                                  detail::Md5Path path) const noexcept {
  if (servers_.size() <= 1 || (dist_ != Distribution::ketama && dist_ != Distribution::libketama)) {
    for (std::size_t i = 0; i < n; ++i) out[i] = server_for(keys[i]);
    return;
  }
  constexpr std::size_t kChunk = 256;
  std::uint32_t hashes[kChunk];
  for (std::size_t i = 0; i < n; i += kChunk) {
    const std::size_t m = std::min(kChunk, n - i);
    detail::md5_le32_batch(keys + i, m, hashes, path);
    for (std::size_t j = 0; j < m; ++j) out[i + j] = lookup(hashes[j]);
  }
}

inline std::vector<Ring::ServerShare> Ring::describe() const {
  std::vector<ServerShare> out(servers_.size(), ServerShare{0, 0.0});
  if (servers_.empty()) return out;
  if (points_.empty() || servers_.size() == 1) {
    for (auto& s : out) s.share = 1.0 / static_cast<double>(servers_.size());
    for (const auto& p : points_) ++out[p.server].points;
    return out;
  }
  // A point owns the hashes after the previous point up to itself; the
  // first point also owns the wrap-around past the last one.
  constexpr double kSpace = 4294967296.0;
  std::uint32_t prev = points_.back().value;
  for (std::size_t i = 0; i < points_.size(); ++i) {
    const std::uint32_t v = points_[i].value;
    const double arc = i == 0 ? (kSpace - prev) + v : static_cast<double>(v - prev);
    out[points_[i].server].share += arc / kSpace;
    ++out[points_[i].server].points;
    prev = v;
  }
  return out;
}

CACHEKIT_END_NAMESPACE
// ---- end cachekit/ring.hpp ----

// ---- begin cachekit/cachekit.hpp ----
// cachekit: a single-header C++17 memcached client and typed cache.
// ---- end cachekit/cachekit.hpp ----
