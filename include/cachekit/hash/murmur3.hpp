#pragma once
// MurmurHash3 x86 32-bit (Austin Appleby's public-domain algorithm), used by
// the rendezvous distribution that pymemcache's HashClient defaults to.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
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

#endif  // CACHEKIT_DETAIL_VIEW
