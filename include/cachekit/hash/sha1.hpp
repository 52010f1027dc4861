#pragma once
// SHA-1 (FIPS 180-4), used only to place Dalli's ring points, as Dalli does.
// Not for security.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>


CACHEKIT_BEGIN_NAMESPACE

namespace detail {

inline std::uint32_t sha1_rotl(std::uint32_t x, int s) noexcept { return (x << s) | (x >> (32 - s)); }

/// One 64-byte block into the state h.
inline void sha1_block(std::uint32_t h[5], const unsigned char* p) noexcept {
  std::uint32_t w[80];
  for (int i = 0; i < 16; ++i) {
    w[i] = (std::uint32_t{p[4 * i]} << 24) | (std::uint32_t{p[4 * i + 1]} << 16) |
           (std::uint32_t{p[4 * i + 2]} << 8) | std::uint32_t{p[4 * i + 3]};
  }
  for (int i = 16; i < 80; ++i) w[i] = sha1_rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; ++i) {
    std::uint32_t f, k;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999u;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1u;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdcu;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6u;
    }
    const std::uint32_t t = sha1_rotl(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = sha1_rotl(b, 30);
    b = a;
    a = t;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

}  // namespace detail

namespace hash {

/// SHA-1 digest of data.
inline std::array<std::uint8_t, 20> sha1(std::string_view data) noexcept {
  std::uint32_t h[5] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u};
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  const std::uint64_t bits = static_cast<std::uint64_t>(n) * 8;
  for (; n >= 64; n -= 64, p += 64) detail::sha1_block(h, p);
  unsigned char tail[128] = {};
  for (std::size_t i = 0; i < n; ++i) tail[i] = p[i];
  tail[n] = 0x80;
  const std::size_t len = n < 56 ? 64 : 128;
  for (int i = 0; i < 8; ++i) tail[len - 1 - static_cast<std::size_t>(i)] = static_cast<unsigned char>(bits >> (8 * i));
  detail::sha1_block(h, tail);
  if (len == 128) detail::sha1_block(h, tail + 64);
  std::array<std::uint8_t, 20> out{};
  for (std::size_t i = 0; i < 20; ++i) out[i] = static_cast<std::uint8_t>(h[i / 4] >> (24 - 8 * (i % 4)));
  return out;
}

/// First four bytes of SHA-1(data), big-endian: Dalli's ring point.
inline std::uint32_t sha1_be32(std::string_view data) noexcept {
  const auto d = sha1(data);
  return (std::uint32_t{d[0]} << 24) | (std::uint32_t{d[1]} << 16) | (std::uint32_t{d[2]} << 8) | std::uint32_t{d[3]};
}

}  // namespace hash

CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
