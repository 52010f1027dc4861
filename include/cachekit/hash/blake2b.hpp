#pragma once
// BLAKE2b (RFC 7693), unkeyed, digest 1..64 bytes. Interop cache keys hash
// their canonical arguments with BLAKE2b-256, as every cachekit SDK does.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>


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
  std::memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
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
    // Rounds expanded at compile time so every index is a constant and the
    // state can live in registers.
    rounds(v, m, std::make_index_sequence<12>{});
    for (int i = 0; i < 8; ++i) h_[i] ^= v[i] ^ v[i + 8];
  }

  template <std::size_t R>
  static void round(std::uint64_t* v, const std::uint64_t* m) noexcept {
    constexpr const std::uint8_t* s = detail::blake2b_sigma[R];
    mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
    mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
    mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
    mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
    mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
    mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
    mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
    mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
  }

  template <std::size_t... R>
  static void rounds(std::uint64_t* v, const std::uint64_t* m, std::index_sequence<R...>) noexcept {
    (round<R>(v, m), ...);
  }

  // The G function (RFC 7693, section 3.1).
  static inline void mix(std::uint64_t* v, int a, int b, int c, int d, std::uint64_t x, std::uint64_t y) noexcept {
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

#endif  // CACHEKIT_DETAIL_VIEW
