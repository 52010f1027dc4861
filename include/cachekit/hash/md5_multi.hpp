#pragma once
// Many MD5 hashes at once: 2 x 16 lanes with AVX-512, 2 x 8 with AVX2,
// chosen at run time, else the scalar code. Every path gives the same answers. The
// SIMD code is compiled through target attributes, so no -m flag is needed.

#include "../config.hpp"  // CACHEKIT_DETAIL_VIEW

#ifndef CACHEKIT_DETAIL_VIEW  // not in the declarations view (config.hpp)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "md5.hpp"

#if CACHEKIT_ENABLE_SIMD && (defined(__x86_64__) || defined(__i386__)) && \
    (defined(__GNUC__) || defined(__clang__))
#define CACHEKIT_MD5_X86_SIMD 1
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

// The lanes are GCC/Clang generic vectors rather than <immintrin.h> types:
// that header alone costs every translation unit about half a second to
// parse, and for +, ^, &, | and shifts by a constant the compiler emits the
// same instructions (vpternlogd and vprold included, for the AVX-512 path);
// the transposes are __builtin_shufflevector.

using Md5U32x8 = std::uint32_t __attribute__((vector_size(32)));
using Md5U32x16 = std::uint32_t __attribute__((vector_size(64)));
using Md5U64x4 = std::uint64_t __attribute__((vector_size(32)));
using Md5U64x8 = std::uint64_t __attribute__((vector_size(64)));

// Round functions as plain bit operations: F = b?c:d, G = d?b:c,
// H = b^c^d, I = c^(b|~d). G adds its two disjoint halves: written with |,
// GCC turns it into c^((b^c)&d), one more instruction after b is ready.
#define CACHEKIT_MD5_VEC_FN_F(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define CACHEKIT_MD5_VEC_FN_G(b, c, d) ((~(d) & (c)) + ((b) & (d)))
#define CACHEKIT_MD5_VEC_FN_H(b, c, d) ((b) ^ (c) ^ (d))
#define CACHEKIT_MD5_VEC_FN_I(b, c, d) ((c) ^ ((b) | ~(d)))
#define CACHEKIT_MD5_VEC_STEP2(R, a, b, c, d, i, k, s)                                \
  {                                                                                    \
    std::uint32_t k32 = (k);                                                           \
    __asm__("" : "+r"(k32)); /* a value, not a constant: one broadcast per step */    \
    const auto kk = decltype(a##1){} + k32;                                            \
    const auto t1 = a##1 + (m1[i] + kk) + CACHEKIT_MD5_VEC_FN_##R(b##1, c##1, d##1);    \
    const auto t2 = a##2 + (m2[i] + kk) + CACHEKIT_MD5_VEC_FN_##R(b##2, c##2, d##2);    \
    a##1 = b##1 + ((t1 << (s)) | (t1 >> (32 - (s))));                                  \
    a##2 = b##2 + ((t2 << (s)) | (t2 >> (32 - (s))));                                  \
  }

// ---- AVX2: 8 lanes per set ------------------------------------------------

/// Transposes 8 rows of 16 words into m[16] (word i of every lane).
__attribute__((target("avx2"))) inline void md5_transpose8x16(const std::uint32_t (*rows)[16],
                                                              Md5U32x8* m) noexcept {
  for (int half = 0; half < 2; ++half) {
    Md5U32x8 r[8];
    Md5U64x4 t[8], u[8];
    for (int l = 0; l < 8; ++l) std::memcpy(&r[l], rows[l] + 8 * half, sizeof r[l]);
    for (int k = 0; k < 4; ++k) {  // interleave dwords of row pairs, per 128-bit half
      t[2 * k] = (Md5U64x4)__builtin_shufflevector(r[2 * k], r[2 * k + 1], 0, 8, 1, 9, 4, 12, 5, 13);
      t[2 * k + 1] = (Md5U64x4)__builtin_shufflevector(r[2 * k], r[2 * k + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int k = 0; k < 2; ++k) {  // u[4k + j], 128-bit half H: column 4H + j of rows 4k..4k+3
      u[4 * k + 0] = __builtin_shufflevector(t[4 * k], t[4 * k + 2], 0, 4, 2, 6);
      u[4 * k + 1] = __builtin_shufflevector(t[4 * k], t[4 * k + 2], 1, 5, 3, 7);
      u[4 * k + 2] = __builtin_shufflevector(t[4 * k + 1], t[4 * k + 3], 0, 4, 2, 6);
      u[4 * k + 3] = __builtin_shufflevector(t[4 * k + 1], t[4 * k + 3], 1, 5, 3, 7);
    }
    for (int j = 0; j < 4; ++j) {
      m[8 * half + j] = (Md5U32x8)__builtin_shufflevector(u[j], u[4 + j], 0, 1, 4, 5);
      m[8 * half + 4 + j] = (Md5U32x8)__builtin_shufflevector(u[j], u[4 + j], 2, 3, 6, 7);
    }
  }
}

/// Up to 16 messages of `blocks` blocks each (two sets of 8 lanes).
template <bool kFull>
__attribute__((target("avx2"))) void md5_lanes_avx2(const std::string_view* msgs, const std::size_t* which,
                                                    std::size_t count, std::size_t blocks,
                                                    std::uint32_t* out) noexcept {
  Md5U32x8 st[2][4];
  for (int j = 0; j < 4; ++j) {
    for (int l = 0; l < 8; ++l) st[0][j][l] = kMd5Init[j];
    st[1][j] = st[0][j];
  }
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
    Md5U32x8 m1[16], m2[16];
    md5_transpose8x16(rows, m1);
    md5_transpose8x16(rows + 8, m2);
    Md5U32x8 a1 = st[0][0], b1 = st[0][1], c1 = st[0][2], d1 = st[0][3];
    Md5U32x8 a2 = st[1][0], b2 = st[1][1], c2 = st[1][2], d2 = st[1][3];
    CACHEKIT_MD5_STEPS(CACHEKIT_MD5_VEC_STEP2)
    st[0][0] += a1;
    st[0][1] += b1;
    st[0][2] += c1;
    st[0][3] += d1;
    st[1][0] += a2;
    st[1][1] += b2;
    st[1][2] += c2;
    st[1][3] += d2;
  }
  alignas(32) std::uint32_t words[4][16];
  for (int j = 0; j < (kFull ? 4 : 1); ++j) {
    std::memcpy(words[j], &st[0][j], sizeof st[0][j]);
    std::memcpy(words[j] + 8, &st[1][j], sizeof st[1][j]);
  }
  for (std::size_t l = 0; l < count; ++l) {
    if (kFull) {
      for (std::size_t j = 0; j < 4; ++j) out[4 * which[l] + j] = words[j][l];
    } else {
      out[which[l]] = words[0][l];
    }
  }
}

// ---- AVX-512: 16 lanes per set --------------------------------------------

/// Transposes 16 rows of 16 words into m[16] (word i of every lane) in 64 shuffles.
__attribute__((target("avx512f,avx512bw"))) inline void md5_transpose16(const Md5U32x16* r, Md5U32x16* m) noexcept {
  Md5U64x8 t[16], u[16];
  for (int k = 0; k < 8; ++k) {  // interleave dwords of row pairs, per 128-bit lane
    t[2 * k] = (Md5U64x8)__builtin_shufflevector(r[2 * k], r[2 * k + 1], 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12,
                                                 28, 13, 29);
    t[2 * k + 1] = (Md5U64x8)__builtin_shufflevector(r[2 * k], r[2 * k + 1], 2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11,
                                                     27, 14, 30, 15, 31);
  }
  for (int k = 0; k < 4; ++k) {  // u[4k + j], 128-bit lane L: column 4L + j of rows 4k..4k+3
    u[4 * k + 0] = __builtin_shufflevector(t[4 * k], t[4 * k + 2], 0, 8, 2, 10, 4, 12, 6, 14);
    u[4 * k + 1] = __builtin_shufflevector(t[4 * k], t[4 * k + 2], 1, 9, 3, 11, 5, 13, 7, 15);
    u[4 * k + 2] = __builtin_shufflevector(t[4 * k + 1], t[4 * k + 3], 0, 8, 2, 10, 4, 12, 6, 14);
    u[4 * k + 3] = __builtin_shufflevector(t[4 * k + 1], t[4 * k + 3], 1, 9, 3, 11, 5, 13, 7, 15);
  }
  for (int j = 0; j < 4; ++j) {  // 4x4 transpose of 128-bit lanes across u[j], u[4+j], u[8+j], u[12+j]
    const Md5U64x8 v0 = __builtin_shufflevector(u[j], u[4 + j], 0, 1, 2, 3, 8, 9, 10, 11);
    const Md5U64x8 v1 = __builtin_shufflevector(u[j], u[4 + j], 4, 5, 6, 7, 12, 13, 14, 15);
    const Md5U64x8 v2 = __builtin_shufflevector(u[8 + j], u[12 + j], 0, 1, 2, 3, 8, 9, 10, 11);
    const Md5U64x8 v3 = __builtin_shufflevector(u[8 + j], u[12 + j], 4, 5, 6, 7, 12, 13, 14, 15);
    m[j] = (Md5U32x16)__builtin_shufflevector(v0, v2, 0, 1, 4, 5, 8, 9, 12, 13);
    m[4 + j] = (Md5U32x16)__builtin_shufflevector(v0, v2, 2, 3, 6, 7, 10, 11, 14, 15);
    m[8 + j] = (Md5U32x16)__builtin_shufflevector(v1, v3, 0, 1, 4, 5, 8, 9, 12, 13);
    m[12 + j] = (Md5U32x16)__builtin_shufflevector(v1, v3, 2, 3, 6, 7, 10, 11, 14, 15);
  }
}

using Md5U8x64 = unsigned char __attribute__((vector_size(64)));
using Md5C8x64 = char __attribute__((vector_size(64)));

/// Block `blk` (of `blocks`) of message m, padded, built in a register with a
/// masked byte load that never reads past the message (building it in memory
/// and reloading it stalls on store forwarding).
__attribute__((target("avx512f,avx512bw"))) inline Md5U32x16 md5_block_row(std::string_view m, std::size_t blk,
                                                                           std::size_t blocks) noexcept {
  const std::size_t n = m.size();
  const std::size_t off = blk * 64;
  Md5U8x64 v{};
  if (n >= off + 64) {
    std::memcpy(&v, m.data() + off, sizeof v);
  } else if (n >= off) {
    const std::size_t avail = n - off;
    if (avail > 0) {
      const std::uint64_t load = (std::uint64_t{1} << avail) - 1;
      // Same builtin in both compilers; only its pointer parameter's type differs.
#if defined(__clang__)
      v = (Md5U8x64)__builtin_ia32_loaddquqi512_mask(reinterpret_cast<const Md5C8x64*>(m.data() + off), Md5C8x64{},
                                                     load);
#else
      v = (Md5U8x64)__builtin_ia32_loaddquqi512_mask(m.data() + off, Md5C8x64{}, load);
#endif
    }
    Md5U8x64 pos{}, iota{};
    for (unsigned char i = 0; i < 64; ++i) {
      iota[i] = i;
      pos[i] = static_cast<unsigned char>(avail);
    }
    v |= (Md5U8x64)(iota == pos) & static_cast<unsigned char>(0x80);
  }
  Md5U32x16 w = (Md5U32x16)v;
  if (blk + 1 == blocks) {  // bit length in words 14 and 15
    const std::uint64_t bits = static_cast<std::uint64_t>(n) << 3;
    w[14] = static_cast<std::uint32_t>(bits);
    w[15] = static_cast<std::uint32_t>(bits >> 32);
  }
  return w;
}

/// Up to 32 messages of `blocks` blocks each (two sets of 16 lanes).
template <bool kFull>
__attribute__((target("avx512f,avx512bw"))) void md5_lanes_avx512(const std::string_view* msgs,
                                                                  const std::size_t* which, std::size_t count,
                                                                  std::size_t blocks, std::uint32_t* out) noexcept {
  Md5U32x16 st[2][4];
  for (int j = 0; j < 4; ++j) {
    for (int l = 0; l < 16; ++l) st[0][j][l] = kMd5Init[j];
    st[1][j] = st[0][j];
  }
  for (std::size_t blk = 0; blk < blocks; ++blk) {
    Md5U32x16 r[16], m1[16], m2[16];
    for (std::size_t l = 0; l < 16; ++l) r[l] = l < count ? md5_block_row(msgs[which[l]], blk, blocks) : Md5U32x16{};
    md5_transpose16(r, m1);
    for (std::size_t l = 0; l < 16; ++l) {
      r[l] = l + 16 < count ? md5_block_row(msgs[which[l + 16]], blk, blocks) : Md5U32x16{};
    }
    md5_transpose16(r, m2);
    Md5U32x16 a1 = st[0][0], b1 = st[0][1], c1 = st[0][2], d1 = st[0][3];
    Md5U32x16 a2 = st[1][0], b2 = st[1][1], c2 = st[1][2], d2 = st[1][3];
    CACHEKIT_MD5_STEPS(CACHEKIT_MD5_VEC_STEP2)
    st[0][0] += a1;
    st[0][1] += b1;
    st[0][2] += c1;
    st[0][3] += d1;
    st[1][0] += a2;
    st[1][1] += b2;
    st[1][2] += c2;
    st[1][3] += d2;
  }
  alignas(64) std::uint32_t words[4][32];
  for (int j = 0; j < (kFull ? 4 : 1); ++j) {
    std::memcpy(words[j], &st[0][j], sizeof st[0][j]);
    std::memcpy(words[j] + 16, &st[1][j], sizeof st[1][j]);
  }
  for (std::size_t l = 0; l < count; ++l) {
    if (kFull) {
      for (std::size_t j = 0; j < 4; ++j) out[4 * which[l] + j] = words[j][l];
    } else {
      out[which[l]] = words[0][l];
    }
  }
}

#undef CACHEKIT_MD5_VEC_STEP2
#undef CACHEKIT_MD5_VEC_FN_F
#undef CACHEKIT_MD5_VEC_FN_G
#undef CACHEKIT_MD5_VEC_FN_H
#undef CACHEKIT_MD5_VEC_FN_I

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
template <class = void>  // compiled where it is used
inline void md5_le32_batch(const std::string_view* keys, std::size_t n, std::uint32_t* out,
                           Md5Path path = Md5Path::automatic) noexcept {
  md5_batch<false>(keys, n, out, path);
}

/// out[4i .. 4i+4) = the four little-endian digest words of MD5(msgs[i]).
template <class = void>  // compiled where it is used
inline void md5_digest_batch(const std::string_view* msgs, std::size_t n, std::uint32_t* out,
                             Md5Path path = Md5Path::automatic) noexcept {
  md5_batch<true>(msgs, n, out, path);
}

}  // namespace detail

CACHEKIT_END_NAMESPACE

#endif  // CACHEKIT_DETAIL_VIEW
