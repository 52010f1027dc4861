#pragma once
// CRC-32 (IEEE 802.3, reflected, polynomial 0xedb88320), as zlib's crc32()
// computes it: Dalli's key hash.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../config.hpp"

CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// Slicing-by-8 tables: t[0] is the byte-at-a-time table, t[k][b] the CRC
/// of byte b followed by k zero bytes. Built at compile time.
struct Crc32Tables {
  std::uint32_t t[8][256] = {};
  constexpr Crc32Tables() {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1u) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (std::uint32_t i = 0; i < 256; ++i) {
      for (int k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xffu];
    }
  }
};

inline constexpr Crc32Tables kCrc32{};

}  // namespace detail

namespace hash {

/// zlib's crc32(0, data, size).
inline std::uint32_t crc32(std::string_view data) noexcept {
  const auto& t = detail::kCrc32.t;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  std::uint32_t c = 0xffffffffu;
  // Eight bytes per step (bytes assembled little-endian, so any host order works).
  for (; n >= 8; n -= 8, p += 8) {
    const std::uint32_t lo = c ^ (std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
                                  (std::uint32_t{p[3]} << 24));
    c = t[7][lo & 0xffu] ^ t[6][(lo >> 8) & 0xffu] ^ t[5][(lo >> 16) & 0xffu] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
        t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
  }
  for (; n > 0; --n, ++p) c = t[0][(c ^ *p) & 0xffu] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

}  // namespace hash

CACHEKIT_END_NAMESPACE
