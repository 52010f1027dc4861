#pragma once
// Byte moves shared by the wire codecs. Pure.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <cstring>


CACHEKIT_BEGIN_NAMESPACE
namespace protocol {
namespace detail {

/// Copies n bytes (no overlap); keys of 4 to 16 bytes, the common sizes,
/// as two overlapping word moves without a library call.
CACHEKIT_HOT_INLINE void copy_bytes(char* dst, const char* src, std::size_t n) noexcept {
  if (n >= 8 && n <= 16) {
    std::uint64_t head, tail;
    std::memcpy(&head, src, 8);
    std::memcpy(&tail, src + n - 8, 8);
    std::memcpy(dst, &head, 8);
    std::memcpy(dst + n - 8, &tail, 8);
  } else if (n >= 4 && n < 8) {
    std::uint32_t head, tail;
    std::memcpy(&head, src, 4);
    std::memcpy(&tail, src + n - 4, 4);
    std::memcpy(dst, &head, 4);
    std::memcpy(dst + n - 4, &tail, 4);
  } else if (n > 0) {
    std::memcpy(dst, src, n);
  }
}

/// Whether a[0..n) and b[0..n) hold the same bytes (keys compared eight
/// bytes at a time, without a library call).
CACHEKIT_HOT_INLINE bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
  if (n >= 8 && n <= 16) {  // the first and the last eight bytes (they may overlap)
    std::uint64_t x0, y0, x1, y1;
    std::memcpy(&x0, a, 8);
    std::memcpy(&y0, b, 8);
    std::memcpy(&x1, a + n - 8, 8);
    std::memcpy(&y1, b + n - 8, 8);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    if (x != y) return false;
  }
  for (; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

/// Whether the bytes at p begin with the literal lit (without its NUL),
/// compared a word at a time: never a call to memcmp, which compilers make
/// for lengths like 3, 5 or 6. The caller has made sure the bytes exist.
template <std::size_t N>
CACHEKIT_HOT_INLINE bool starts_with(const char* p, const char (&lit)[N]) noexcept {
  constexpr std::size_t n = N - 1;
  static_assert(n >= 1 && n <= 8, "a literal of one to eight bytes");
  if constexpr (n >= 4) {
    std::uint32_t a, b, c, d;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, lit, 4);
    std::memcpy(&c, p + n - 4, 4);  // the last four (they may overlap)
    std::memcpy(&d, lit + n - 4, 4);
    return ((a ^ b) | (c ^ d)) == 0;
  } else if constexpr (n >= 2) {
    std::uint16_t a, b, c, d;
    std::memcpy(&a, p, 2);
    std::memcpy(&b, lit, 2);
    std::memcpy(&c, p + n - 2, 2);
    std::memcpy(&d, lit + n - 2, 2);
    return ((a ^ b) | (c ^ d)) == 0;
  } else {
    return p[0] == lit[0];
  }
}

}  // namespace detail
}  // namespace protocol
CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
