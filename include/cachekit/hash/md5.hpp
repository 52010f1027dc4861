#pragma once
// MD5 (RFC 1321), used for ketama key routing. Scalar, allocation-free, with
// a one-block fast path for keys of up to 55 bytes. Not for security.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
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

#endif  // CACHEKIT_DETAIL_VIEW
