#pragma once
// CRC-32 (IEEE 802.3, reflected, polynomial 0xedb88320), as zlib's crc32()
// computes it: Dalli's key hash.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../config.hpp"

CACHEKIT_BEGIN_NAMESPACE

namespace detail {

/// The byte-at-a-time table, built at compile time.
struct Crc32Table {
  std::array<std::uint32_t, 256> t{};
  constexpr Crc32Table() {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1u) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
  }
};

inline constexpr Crc32Table kCrc32Table{};

}  // namespace detail

namespace hash {

/// zlib's crc32(0, data, size).
inline std::uint32_t crc32(std::string_view data) noexcept {
  std::uint32_t c = 0xffffffffu;
  for (char ch : data) c = detail::kCrc32Table.t[(c ^ static_cast<unsigned char>(ch)) & 0xffu] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

}  // namespace hash

CACHEKIT_END_NAMESPACE
