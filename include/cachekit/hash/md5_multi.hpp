#pragma once
// Many MD5 hashes at once: 2 x 16 lanes with AVX-512, 2 x 8 with AVX2,
// chosen at run time, else the scalar code. Every path gives the same answers. The
// SIMD code is compiled through target attributes, so no -m flag is needed.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "md5.hpp"

#if CACHEKIT_ENABLE_SIMD && (defined(__x86_64__) || defined(__i386__)) && \
    (defined(__GNUC__) || defined(__clang__))
#define CACHEKIT_MD5_X86_SIMD 1
#include <immintrin.h>
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

// ---- AVX2: 8 lanes per set ------------------------------------------------

#define CACHEKIT_MD5_AVX2_ROTL(x, s) _mm256_or_si256(_mm256_slli_epi32(x, s), _mm256_srli_epi32(x, 32 - (s)))
#define CACHEKIT_MD5_AVX2_FN_F(b, c, d) _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d)))
#define CACHEKIT_MD5_AVX2_FN_G(b, c, d) _mm256_or_si256(_mm256_and_si256(b, d), _mm256_andnot_si256(d, c))
#define CACHEKIT_MD5_AVX2_FN_H(b, c, d) _mm256_xor_si256(b, _mm256_xor_si256(c, d))
#define CACHEKIT_MD5_AVX2_FN_I(b, c, d) _mm256_xor_si256(c, _mm256_or_si256(b, _mm256_xor_si256(d, ones)))
#define CACHEKIT_MD5_AVX2_STEP2(R, a, b, c, d, i, k, s)                                                      \
  {                                                                                                           \
    const __m256i kk = _mm256_set1_epi32(static_cast<int>(k));                                                \
    a##1 = _mm256_add_epi32(                                                                                  \
        b##1, CACHEKIT_MD5_AVX2_ROTL(_mm256_add_epi32(_mm256_add_epi32(a##1, _mm256_add_epi32(m1[i], kk)),     \
                                                      CACHEKIT_MD5_AVX2_FN_##R(b##1, c##1, d##1)),            \
                                     s));                                                                     \
    a##2 = _mm256_add_epi32(                                                                                  \
        b##2, CACHEKIT_MD5_AVX2_ROTL(_mm256_add_epi32(_mm256_add_epi32(a##2, _mm256_add_epi32(m2[i], kk)),     \
                                                      CACHEKIT_MD5_AVX2_FN_##R(b##2, c##2, d##2)),            \
                                     s));                                                                     \
  }

/// Transposes 8 rows of 16 words into m[16] (word i of every lane).
__attribute__((target("avx2"))) inline void md5_transpose8x16(const std::uint32_t (*rows)[16], __m256i* m) noexcept {
  for (int half = 0; half < 2; ++half) {
    __m256i r[8], t[8], u[8];
    for (int l = 0; l < 8; ++l) r[l] = _mm256_load_si256(reinterpret_cast<const __m256i*>(rows[l] + 8 * half));
    for (int k = 0; k < 4; ++k) {
      t[2 * k] = _mm256_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
      t[2 * k + 1] = _mm256_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
    }
    for (int k = 0; k < 2; ++k) {  // u[4k + j], 128-bit lane L: column 4L + j of rows 4k..4k+3
      u[4 * k + 0] = _mm256_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
      u[4 * k + 1] = _mm256_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
      u[4 * k + 2] = _mm256_unpacklo_epi64(t[4 * k + 1], t[4 * k + 3]);
      u[4 * k + 3] = _mm256_unpackhi_epi64(t[4 * k + 1], t[4 * k + 3]);
    }
    for (int j = 0; j < 4; ++j) {
      m[8 * half + j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x20);
      m[8 * half + 4 + j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x31);
    }
  }
}

/// Up to 16 messages of `blocks` blocks each (two sets of 8 lanes).
template <bool kFull>
__attribute__((target("avx2"))) void md5_lanes_avx2(const std::string_view* msgs, const std::size_t* which,
                                                    std::size_t count, std::size_t blocks,
                                                    std::uint32_t* out) noexcept {
  const __m256i ones = _mm256_set1_epi32(-1);
  __m256i st[2][4];
  for (int j = 0; j < 4; ++j) st[0][j] = st[1][j] = _mm256_set1_epi32(static_cast<int>(kMd5Init[j]));
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
    __m256i m1[16], m2[16];
    md5_transpose8x16(rows, m1);
    md5_transpose8x16(rows + 8, m2);
    __m256i a1 = st[0][0], b1 = st[0][1], c1 = st[0][2], d1 = st[0][3];
    __m256i a2 = st[1][0], b2 = st[1][1], c2 = st[1][2], d2 = st[1][3];
    CACHEKIT_MD5_STEPS(CACHEKIT_MD5_AVX2_STEP2)
    st[0][0] = _mm256_add_epi32(st[0][0], a1);
    st[0][1] = _mm256_add_epi32(st[0][1], b1);
    st[0][2] = _mm256_add_epi32(st[0][2], c1);
    st[0][3] = _mm256_add_epi32(st[0][3], d1);
    st[1][0] = _mm256_add_epi32(st[1][0], a2);
    st[1][1] = _mm256_add_epi32(st[1][1], b2);
    st[1][2] = _mm256_add_epi32(st[1][2], c2);
    st[1][3] = _mm256_add_epi32(st[1][3], d2);
  }
  alignas(32) std::uint32_t words[4][16];
  for (int j = 0; j < (kFull ? 4 : 1); ++j) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(words[j]), st[0][j]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(words[j] + 8), st[1][j]);
  }
  for (std::size_t l = 0; l < count; ++l) {
    if (kFull) {
      for (std::size_t j = 0; j < 4; ++j) out[4 * which[l] + j] = words[j][l];
    } else {
      out[which[l]] = words[0][l];
    }
  }
}

#undef CACHEKIT_MD5_AVX2_STEP2
#undef CACHEKIT_MD5_AVX2_ROTL
#undef CACHEKIT_MD5_AVX2_FN_F
#undef CACHEKIT_MD5_AVX2_FN_G
#undef CACHEKIT_MD5_AVX2_FN_H
#undef CACHEKIT_MD5_AVX2_FN_I

// ---- AVX-512: 16 lanes per set --------------------------------------------
// One ternary-logic instruction per round function and a native rotate. The
// immediates are the truth tables over (b, c, d) of F = b?c:d, G = d?b:c,
// H = b^c^d and I = c^(b|~d). Zero-masked forms with every lane enabled are
// used where GCC 12 warns about the plain forms' undefined operand.

#define CACHEKIT_MD5_AVX512_TT_F 0xca
#define CACHEKIT_MD5_AVX512_TT_G 0xe4
#define CACHEKIT_MD5_AVX512_TT_H 0x96
#define CACHEKIT_MD5_AVX512_TT_I 0x39
#define CACHEKIT_MD5_AVX512_STEP2(R, a, b, c, d, i, k, s)                                                     \
  {                                                                                                            \
    const __m512i kk = _mm512_set1_epi32(static_cast<int>(k));                                                 \
    a##1 = _mm512_add_epi32(                                                                                   \
        b##1, _mm512_maskz_rol_epi32(kAll16,                                                                   \
                                     _mm512_add_epi32(_mm512_add_epi32(a##1, _mm512_add_epi32(m1[i], kk)),     \
                                                      _mm512_ternarylogic_epi32(b##1, c##1, d##1,              \
                                                                                CACHEKIT_MD5_AVX512_TT_##R)), \
                                     s));                                                                      \
    a##2 = _mm512_add_epi32(                                                                                   \
        b##2, _mm512_maskz_rol_epi32(kAll16,                                                                   \
                                     _mm512_add_epi32(_mm512_add_epi32(a##2, _mm512_add_epi32(m2[i], kk)),     \
                                                      _mm512_ternarylogic_epi32(b##2, c##2, d##2,              \
                                                                                CACHEKIT_MD5_AVX512_TT_##R)), \
                                     s));                                                                      \
  }

/// Transposes 16 rows of 16 words into m[16] (word i of every lane) in 64 shuffles.
__attribute__((target("avx512f,avx512bw"))) inline void md5_transpose16(const __m512i* r, __m512i* m) noexcept {
  const auto kAll16 = static_cast<__mmask16>(0xffff);
  const auto kAll8 = static_cast<__mmask8>(0xff);
  __m512i t[16], u[16];
  for (int k = 0; k < 8; ++k) {  // interleave dwords of row pairs
    t[2 * k] = _mm512_maskz_unpacklo_epi32(kAll16, r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_maskz_unpackhi_epi32(kAll16, r[2 * k], r[2 * k + 1]);
  }
  for (int k = 0; k < 4; ++k) {  // u[4k + j], 128-bit lane L: column 4L + j of rows 4k..4k+3
    u[4 * k + 0] = _mm512_maskz_unpacklo_epi64(kAll8, t[4 * k], t[4 * k + 2]);
    u[4 * k + 1] = _mm512_maskz_unpackhi_epi64(kAll8, t[4 * k], t[4 * k + 2]);
    u[4 * k + 2] = _mm512_maskz_unpacklo_epi64(kAll8, t[4 * k + 1], t[4 * k + 3]);
    u[4 * k + 3] = _mm512_maskz_unpackhi_epi64(kAll8, t[4 * k + 1], t[4 * k + 3]);
  }
  for (int j = 0; j < 4; ++j) {  // 4x4 transpose of 128-bit lanes across u[j], u[4+j], u[8+j], u[12+j]
    const __m512i v0 = _mm512_maskz_shuffle_i32x4(kAll16, u[j], u[4 + j], 0x44);
    const __m512i v1 = _mm512_maskz_shuffle_i32x4(kAll16, u[j], u[4 + j], 0xee);
    const __m512i v2 = _mm512_maskz_shuffle_i32x4(kAll16, u[8 + j], u[12 + j], 0x44);
    const __m512i v3 = _mm512_maskz_shuffle_i32x4(kAll16, u[8 + j], u[12 + j], 0xee);
    m[j] = _mm512_maskz_shuffle_i32x4(kAll16, v0, v2, 0x88);
    m[4 + j] = _mm512_maskz_shuffle_i32x4(kAll16, v0, v2, 0xdd);
    m[8 + j] = _mm512_maskz_shuffle_i32x4(kAll16, v1, v3, 0x88);
    m[12 + j] = _mm512_maskz_shuffle_i32x4(kAll16, v1, v3, 0xdd);
  }
}

/// Block `blk` (the last of `blocks`) of message m, padded, built in a
/// register with masked byte loads that never read past the message.
__attribute__((target("avx512f,avx512bw"))) inline __m512i md5_block_row(std::string_view m, std::size_t blk,
                                                                         std::size_t blocks) noexcept {
  const std::size_t n = m.size();
  const std::size_t off = blk * 64;
  __m512i v = _mm512_setzero_si512();
  if (n > off) {
    const std::size_t avail = n - off < 64 ? n - off : 64;
    const __mmask64 load = avail == 64 ? ~__mmask64{0} : (__mmask64{1} << avail) - 1;
    v = _mm512_maskz_loadu_epi8(load, m.data() + off);
  }
  if (n >= off && n - off < 64) {
    v = _mm512_mask_mov_epi8(v, __mmask64{1} << (n - off), _mm512_set1_epi8(static_cast<char>(0x80)));
  }
  if (blk + 1 == blocks) {  // bit length in words 14 and 15
    const std::uint64_t bits = static_cast<std::uint64_t>(n) << 3;
    const __m512i len = _mm512_set_epi32(static_cast<int>(bits >> 32), static_cast<int>(bits & 0xffffffffu), 0, 0,
                                         0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    v = _mm512_mask_mov_epi32(v, static_cast<__mmask16>(0xc000), len);
  }
  return v;
}

/// Up to 32 messages of `blocks` blocks each (two sets of 16 lanes).
template <bool kFull>
__attribute__((target("avx512f,avx512bw"))) void md5_lanes_avx512(const std::string_view* msgs,
                                                                  const std::size_t* which, std::size_t count,
                                                                  std::size_t blocks, std::uint32_t* out) noexcept {
  const auto kAll16 = static_cast<__mmask16>(0xffff);
  __m512i st[2][4];
  for (int j = 0; j < 4; ++j) st[0][j] = st[1][j] = _mm512_set1_epi32(static_cast<int>(kMd5Init[j]));
  for (std::size_t blk = 0; blk < blocks; ++blk) {
    __m512i r[16], m1[16], m2[16];
    for (std::size_t l = 0; l < 16; ++l) {
      r[l] = l < count ? md5_block_row(msgs[which[l]], blk, blocks) : _mm512_setzero_si512();
    }
    md5_transpose16(r, m1);
    for (std::size_t l = 0; l < 16; ++l) {
      r[l] = l + 16 < count ? md5_block_row(msgs[which[l + 16]], blk, blocks) : _mm512_setzero_si512();
    }
    md5_transpose16(r, m2);
    __m512i a1 = st[0][0], b1 = st[0][1], c1 = st[0][2], d1 = st[0][3];
    __m512i a2 = st[1][0], b2 = st[1][1], c2 = st[1][2], d2 = st[1][3];
    CACHEKIT_MD5_STEPS(CACHEKIT_MD5_AVX512_STEP2)
    st[0][0] = _mm512_add_epi32(st[0][0], a1);
    st[0][1] = _mm512_add_epi32(st[0][1], b1);
    st[0][2] = _mm512_add_epi32(st[0][2], c1);
    st[0][3] = _mm512_add_epi32(st[0][3], d1);
    st[1][0] = _mm512_add_epi32(st[1][0], a2);
    st[1][1] = _mm512_add_epi32(st[1][1], b2);
    st[1][2] = _mm512_add_epi32(st[1][2], c2);
    st[1][3] = _mm512_add_epi32(st[1][3], d2);
  }
  alignas(64) std::uint32_t words[4][32];
  for (int j = 0; j < (kFull ? 4 : 1); ++j) {
    _mm512_store_si512(words[j], st[0][j]);
    _mm512_store_si512(words[j] + 16, st[1][j]);
  }
  for (std::size_t l = 0; l < count; ++l) {
    if (kFull) {
      for (std::size_t j = 0; j < 4; ++j) out[4 * which[l] + j] = words[j][l];
    } else {
      out[which[l]] = words[0][l];
    }
  }
}

#undef CACHEKIT_MD5_AVX512_STEP2
#undef CACHEKIT_MD5_AVX512_TT_F
#undef CACHEKIT_MD5_AVX512_TT_G
#undef CACHEKIT_MD5_AVX512_TT_H
#undef CACHEKIT_MD5_AVX512_TT_I

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
inline void md5_le32_batch(const std::string_view* keys, std::size_t n, std::uint32_t* out,
                           Md5Path path = Md5Path::automatic) noexcept {
  md5_batch<false>(keys, n, out, path);
}

/// out[4i .. 4i+4) = the four little-endian digest words of MD5(msgs[i]).
inline void md5_digest_batch(const std::string_view* msgs, std::size_t n, std::uint32_t* out,
                             Md5Path path = Md5Path::automatic) noexcept {
  md5_batch<true>(msgs, n, out, path);
}

}  // namespace detail

CACHEKIT_END_NAMESPACE
