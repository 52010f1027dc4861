#pragma once
// The key hashes libmemcached (libhashkit, MEMCACHED_BEHAVIOR_HASH) and
// twemproxy (`hash:`) offer, bit for bit as those two compute them,
// including how bytes >= 0x80 are read: where they read a `char`, the byte
// is sign-extended, as on x86 and most ABIs. Pure functions; not for security.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "crc32.hpp"

CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// A key byte as libhashkit's `(uint32_t)key[x]` reads a signed char.
inline std::uint32_t signed_byte(char c) noexcept {
  return static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<signed char>(c)));
}

inline std::uint32_t le32_at(const unsigned char* p) noexcept {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[3]} << 24);
}

inline std::uint32_t jenkins_rot(std::uint32_t x, int k) noexcept { return (x << k) | (x >> (32 - k)); }

}  // namespace detail

namespace hash {

/// FNV-1, 64-bit state, low 32 bits (libhashkit fnv1_64, twemproxy fnv1_64).
inline std::uint32_t fnv1_64(std::string_view key) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : key) {
    h *= 0x100000001b3ull;
    h ^= static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<signed char>(c)));
  }
  return static_cast<std::uint32_t>(h);
}

/// FNV-1a, 64-bit, low 32 bits (libhashkit fnv1a_64; twemproxy computes it
/// in 32 bits with the truncated constants, which gives the same low bits).
inline std::uint32_t fnv1a_64(std::string_view key) noexcept {
  std::uint32_t h = 0x84222325u;  // low halves of the 64-bit offset basis and prime
  for (char c : key) {
    h ^= detail::signed_byte(c);
    h *= 0x1b3u;
  }
  return h;
}

/// FNV-1, 32-bit.
inline std::uint32_t fnv1_32(std::string_view key) noexcept {
  std::uint32_t h = 2166136261u;
  for (char c : key) {
    h *= 16777619u;
    h ^= detail::signed_byte(c);
  }
  return h;
}

/// FNV-1a, 32-bit.
inline std::uint32_t fnv1a_32(std::string_view key) noexcept {
  std::uint32_t h = 2166136261u;
  for (char c : key) {
    h ^= detail::signed_byte(c);
    h *= 16777619u;
  }
  return h;
}

/// libmemcached's MEMCACHED_HASH_CRC and twemproxy's `crc32`: bits 16..30
/// of the CRC-32 (a value below 32768).
inline std::uint32_t crc32_libmemcached(std::string_view key) noexcept { return (crc32(key) >> 16) & 0x7fffu; }

/// MurmurHash2 with libhashkit's seed (0xdeadbeef * length), little-endian reads.
inline std::uint32_t murmur2_libhashkit(std::string_view key) noexcept {
  constexpr std::uint32_t m = 0x5bd1e995u;
  const auto len = static_cast<std::uint32_t>(key.size());
  std::uint32_t h = (0xdeadbeefu * len) ^ len;
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  std::size_t n = key.size();
  for (; n >= 4; n -= 4, p += 4) {
    std::uint32_t k = detail::le32_at(p);
    k *= m;
    k ^= k >> 24;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (n) {
    case 3: h ^= std::uint32_t{p[2]} << 16; [[fallthrough]];
    case 2: h ^= std::uint32_t{p[1]} << 8; [[fallthrough]];
    case 1:
      h ^= p[0];
      h *= m;
      break;
    default: break;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

/// Bob Jenkins' lookup3 hashlittle with initval 13 (libhashkit, twemproxy).
inline std::uint32_t jenkins_lookup3(std::string_view key) noexcept {
  using detail::jenkins_rot;
  std::size_t n = key.size();
  std::uint32_t a, b, c;
  a = b = c = 0xdeadbeefu + static_cast<std::uint32_t>(n) + 13u;
  if (n == 0) return c;
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  for (; n > 12; n -= 12, p += 12) {
    a += detail::le32_at(p);
    b += detail::le32_at(p + 4);
    c += detail::le32_at(p + 8);
    a -= c; a ^= jenkins_rot(c, 4);  c += b;
    b -= a; b ^= jenkins_rot(a, 6);  a += c;
    c -= b; c ^= jenkins_rot(b, 8);  b += a;
    a -= c; a ^= jenkins_rot(c, 16); c += b;
    b -= a; b ^= jenkins_rot(a, 19); a += c;
    c -= b; c ^= jenkins_rot(b, 4);  b += a;
  }
  // The last 1..12 bytes, zero-padded, little-endian.
  unsigned char tail[12] = {};
  std::memcpy(tail, p, n);
  a += detail::le32_at(tail);
  b += detail::le32_at(tail + 4);
  c += detail::le32_at(tail + 8);
  c ^= b; c -= jenkins_rot(b, 14);
  a ^= c; a -= jenkins_rot(c, 11);
  b ^= a; b -= jenkins_rot(a, 25);
  c ^= b; c -= jenkins_rot(b, 16);
  a ^= c; a -= jenkins_rot(c, 4);
  b ^= a; b -= jenkins_rot(a, 14);
  c ^= b; c -= jenkins_rot(b, 24);
  return c;
}

/// Paul Hsieh's SuperFastHash as libhashkit and twemproxy compute it (the
/// odd third byte of a 3-byte tail is read as a signed char).
inline std::uint32_t hsieh(std::string_view key) noexcept {
  std::size_t n = key.size();
  if (n == 0) return 0;
  const char* p = key.data();
  auto get16 = [](const char* q) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(q[0])) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(q[1])) << 8);
  };
  std::uint32_t h = 0;
  const std::size_t rem = n & 3;
  for (n >>= 2; n > 0; --n, p += 4) {
    h += get16(p);
    const std::uint32_t tmp = (get16(p + 2) << 11) ^ h;
    h = (h << 16) ^ tmp;
    h += h >> 11;
  }
  switch (rem) {
    case 3:
      h += get16(p);
      h ^= h << 16;
      h ^= detail::signed_byte(p[2]) << 18;
      h += h >> 11;
      break;
    case 2:
      h += get16(p);
      h ^= h << 11;
      h += h >> 17;
      break;
    case 1:
      h += static_cast<unsigned char>(p[0]);
      h ^= h << 10;
      h += h >> 1;
      break;
    default: break;
  }
  h ^= h << 3;
  h += h >> 5;
  h ^= h << 4;
  h += h >> 17;
  h ^= h << 25;
  h += h >> 6;
  return h;
}

}  // namespace hash

CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
