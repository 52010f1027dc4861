#pragma once
// Byte moves shared by the wire codecs. Pure.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../config.hpp"

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

}  // namespace detail
}  // namespace protocol
CACHEKIT_END_NAMESPACE
