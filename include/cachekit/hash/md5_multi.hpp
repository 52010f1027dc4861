#pragma once
// Many MD5 key hashes at once: 16 lanes with AVX-512, 8 with AVX2, chosen at
// run time, else the scalar code. Every path gives the same answers. The
// SIMD code is compiled through target attributes, so no -m flag is needed.

#include <cstddef>
#include <cstdint>
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

/// Message words of one block for up to 16 lanes, one row per lane.
struct Md5LaneRows {
  alignas(64) std::uint32_t rows[16][16];
};

#if CACHEKIT_MD5_X86_SIMD

// The lane kernels: state[word][lane] += compress(rows). The message words
// are gathered from the rows (a transposition), then one macro list
// (CACHEKIT_MD5_STEPS) drives every width.

#define CACHEKIT_MD5_AVX2_ROTL(x, s) _mm256_or_si256(_mm256_slli_epi32(x, s), _mm256_srli_epi32(x, 32 - (s)))
#define CACHEKIT_MD5_AVX2_FN_F(b, c, d) _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d)))
#define CACHEKIT_MD5_AVX2_FN_G(b, c, d) _mm256_or_si256(_mm256_and_si256(b, d), _mm256_andnot_si256(d, c))
#define CACHEKIT_MD5_AVX2_FN_H(b, c, d) _mm256_xor_si256(b, _mm256_xor_si256(c, d))
#define CACHEKIT_MD5_AVX2_FN_I(b, c, d) _mm256_xor_si256(c, _mm256_or_si256(b, _mm256_xor_si256(d, ones)))
#define CACHEKIT_MD5_AVX2_STEP(R, a, b, c, d, i, k, s)                                                     \
  a = _mm256_add_epi32(                                                                                     \
      b, CACHEKIT_MD5_AVX2_ROTL(                                                                            \
             _mm256_add_epi32(_mm256_add_epi32(a, _mm256_add_epi32(m[i], _mm256_set1_epi32(static_cast<int>(k)))), \
                              CACHEKIT_MD5_AVX2_FN_##R(b, c, d)),                                           \
             s));

/// 8 lanes: rows[0..8) into state[.][0..8).
__attribute__((target("avx2"))) inline void md5_compress_avx2(std::uint32_t (*state)[16],
                                                              const Md5LaneRows& in) noexcept {
  const __m256i ones = _mm256_set1_epi32(-1);
  const __m256i idx = _mm256_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112);
  __m256i m[16];
  for (int i = 0; i < 16; ++i) {
    m[i] = _mm256_i32gather_epi32(reinterpret_cast<const int*>(&in.rows[0][i]), idx, 4);
  }
  __m256i a = _mm256_load_si256(reinterpret_cast<const __m256i*>(state[0]));
  __m256i b = _mm256_load_si256(reinterpret_cast<const __m256i*>(state[1]));
  __m256i c = _mm256_load_si256(reinterpret_cast<const __m256i*>(state[2]));
  __m256i d = _mm256_load_si256(reinterpret_cast<const __m256i*>(state[3]));
  const __m256i a0 = a, b0 = b, c0 = c, d0 = d;
  CACHEKIT_MD5_STEPS(CACHEKIT_MD5_AVX2_STEP)
  _mm256_store_si256(reinterpret_cast<__m256i*>(state[0]), _mm256_add_epi32(a, a0));
  _mm256_store_si256(reinterpret_cast<__m256i*>(state[1]), _mm256_add_epi32(b, b0));
  _mm256_store_si256(reinterpret_cast<__m256i*>(state[2]), _mm256_add_epi32(c, c0));
  _mm256_store_si256(reinterpret_cast<__m256i*>(state[3]), _mm256_add_epi32(d, d0));
}

/// Transposes rows (16 words each) of 8 lanes into m[16] (word i of every lane).
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

#define CACHEKIT_MD5_AVX2_STEP2(R, a, b, c, d, i, k, s)                                                     \
  {                                                                                                          \
    const __m256i kk = _mm256_set1_epi32(static_cast<int>(k));                                               \
    a##1 = _mm256_add_epi32(                                                                                 \
        b##1, CACHEKIT_MD5_AVX2_ROTL(_mm256_add_epi32(_mm256_add_epi32(a##1, _mm256_add_epi32(m1[i], kk)),    \
                                                      CACHEKIT_MD5_AVX2_FN_##R(b##1, c##1, d##1)),           \
                                     s));                                                                    \
    a##2 = _mm256_add_epi32(                                                                                 \
        b##2, CACHEKIT_MD5_AVX2_ROTL(_mm256_add_epi32(_mm256_add_epi32(a##2, _mm256_add_epi32(m2[i], kk)),    \
                                                      CACHEKIT_MD5_AVX2_FN_##R(b##2, c##2, d##2)),           \
                                     s));                                                                    \
  }

/// Key hashes of up to 16 one-block keys (<= 55 bytes) as two interleaved
/// 8-lane groups; out[which[l]] receives lane l's first digest word.
__attribute__((target("avx2"))) inline void md5_le32_one_block_avx2(const std::string_view* keys,
                                                                    const std::size_t* which, std::size_t count,
                                                                    std::uint32_t* out) noexcept {
  Md5LaneRows in;
  for (std::size_t l = 0; l < 16; ++l) {
    auto* row = reinterpret_cast<unsigned char*>(in.rows[l]);
    std::memset(row, 0, 64);
    if (l < count) {
      const std::string_view k = keys[which[l]];
      if (!k.empty()) std::memcpy(row, k.data(), k.size());
      row[k.size()] = 0x80;
      store_le32(row + 56, static_cast<std::uint32_t>(k.size() * 8));
    }
  }
  const __m256i ones = _mm256_set1_epi32(-1);
  __m256i m1[16], m2[16];
  md5_transpose8x16(in.rows, m1);
  md5_transpose8x16(in.rows + 8, m2);
  const __m256i a0 = _mm256_set1_epi32(static_cast<int>(kMd5Init[0]));
  const __m256i b0 = _mm256_set1_epi32(static_cast<int>(kMd5Init[1]));
  const __m256i c0 = _mm256_set1_epi32(static_cast<int>(kMd5Init[2]));
  const __m256i d0 = _mm256_set1_epi32(static_cast<int>(kMd5Init[3]));
  __m256i a1 = a0, b1 = b0, c1 = c0, d1 = d0, a2 = a0, b2 = b0, c2 = c0, d2 = d0;
  CACHEKIT_MD5_STEPS(CACHEKIT_MD5_AVX2_STEP2)
  alignas(32) std::uint32_t words[16];
  _mm256_store_si256(reinterpret_cast<__m256i*>(words), _mm256_add_epi32(a1, a0));
  _mm256_store_si256(reinterpret_cast<__m256i*>(words + 8), _mm256_add_epi32(a2, a0));
  for (std::size_t l = 0; l < count; ++l) out[which[l]] = words[l];
}

#undef CACHEKIT_MD5_AVX2_STEP2
#undef CACHEKIT_MD5_AVX2_STEP
#undef CACHEKIT_MD5_AVX2_ROTL
#undef CACHEKIT_MD5_AVX2_FN_F
#undef CACHEKIT_MD5_AVX2_FN_G
#undef CACHEKIT_MD5_AVX2_FN_H
#undef CACHEKIT_MD5_AVX2_FN_I

// AVX-512: one ternary-logic instruction per round function and a native
// rotate (the zero-masked form: GCC 12 warns about the plain form's
// undefined source). The immediates are the truth tables over (b, c, d) of
// F = b?c:d, G = d?b:c, H = b^c^d and I = c^(b|~d).
#define CACHEKIT_MD5_AVX512_TT_F 0xca
#define CACHEKIT_MD5_AVX512_TT_G 0xe4
#define CACHEKIT_MD5_AVX512_TT_H 0x96
#define CACHEKIT_MD5_AVX512_TT_I 0x39
#define CACHEKIT_MD5_AVX512_STEP(R, a, b, c, d, i, k, s)                                                    \
  a = _mm512_add_epi32(                                                                                      \
      b, _mm512_maskz_rol_epi32(                                                                             \
             static_cast<__mmask16>(0xffff),                                                                 \
             _mm512_add_epi32(_mm512_add_epi32(a, _mm512_add_epi32(m[i], _mm512_set1_epi32(static_cast<int>(k)))), \
                              _mm512_ternarylogic_epi32(b, c, d, CACHEKIT_MD5_AVX512_TT_##R)),               \
             s));

/// Transposes 16 rows of 16 words into 16 message-word vectors (m[i] holds
/// word i of every lane) in 64 shuffles.
__attribute__((target("avx512f,avx512bw"))) inline void md5_transpose16(const __m512i* r, __m512i* m) noexcept {
  // Zero-masked forms with every lane enabled: GCC 12 warns about the plain
  // forms' undefined pass-through operand.
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

/// 16 lanes: rows into state.
__attribute__((target("avx512f,avx512bw"))) inline void md5_compress_avx512(std::uint32_t (*state)[16],
                                                                            const Md5LaneRows& in) noexcept {
  __m512i r[16], m[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_load_si512(in.rows[i]);
  md5_transpose16(r, m);
  __m512i a = _mm512_load_si512(state[0]);
  __m512i b = _mm512_load_si512(state[1]);
  __m512i c = _mm512_load_si512(state[2]);
  __m512i d = _mm512_load_si512(state[3]);
  const __m512i a0 = a, b0 = b, c0 = c, d0 = d;
  CACHEKIT_MD5_STEPS(CACHEKIT_MD5_AVX512_STEP)
  _mm512_store_si512(state[0], _mm512_add_epi32(a, a0));
  _mm512_store_si512(state[1], _mm512_add_epi32(b, b0));
  _mm512_store_si512(state[2], _mm512_add_epi32(c, c0));
  _mm512_store_si512(state[3], _mm512_add_epi32(d, d0));
}

// Two independent 16-lane groups step by step, so one group's dependency
// chain runs while the other's waits.
#define CACHEKIT_MD5_AVX512_STEP2(R, a, b, c, d, i, k, s)                                               \
  {                                                                                                      \
    const __m512i kk = _mm512_set1_epi32(static_cast<int>(k));                                           \
    a##1 = _mm512_add_epi32(                                                                             \
        b##1, _mm512_maskz_rol_epi32(static_cast<__mmask16>(0xffff),                                     \
                                     _mm512_add_epi32(_mm512_add_epi32(a##1, _mm512_add_epi32(m1[i], kk)), \
                                                      _mm512_ternarylogic_epi32(b##1, c##1, d##1,        \
                                                                                CACHEKIT_MD5_AVX512_TT_##R)), \
                                     s));                                                                \
    a##2 = _mm512_add_epi32(                                                                             \
        b##2, _mm512_maskz_rol_epi32(static_cast<__mmask16>(0xffff),                                     \
                                     _mm512_add_epi32(_mm512_add_epi32(a##2, _mm512_add_epi32(m2[i], kk)), \
                                                      _mm512_ternarylogic_epi32(b##2, c##2, d##2,        \
                                                                                CACHEKIT_MD5_AVX512_TT_##R)), \
                                     s));                                                                \
  }

/// Builds the padded one-block row of a key of at most 55 bytes in a
/// register with a masked byte load (no read past the key).
__attribute__((target("avx512f,avx512bw"))) inline __m512i md5_one_block_row(std::string_view k) noexcept {
  const std::size_t n = k.size();
  __m512i v = _mm512_setzero_si512();
  if (n != 0) v = _mm512_maskz_loadu_epi8((__mmask64{1} << n) - 1, k.data());
  v = _mm512_mask_mov_epi8(v, __mmask64{1} << n, _mm512_set1_epi8(static_cast<char>(0x80)));
  return _mm512_mask_mov_epi32(v, static_cast<__mmask16>(1u << 14), _mm512_set1_epi32(static_cast<int>(n * 8)));
}

/// Key hashes of up to 32 one-block keys (<= 55 bytes) as two interleaved
/// 16-lane groups; out[which[l]] receives lane l's first digest word.
__attribute__((target("avx512f,avx512bw"))) inline void md5_le32_one_block_avx512(
    const std::string_view* keys, const std::size_t* which, std::size_t count, std::uint32_t* out) noexcept {
  __m512i r[16], m1[16], m2[16];
  for (std::size_t l = 0; l < 16; ++l) r[l] = l < count ? md5_one_block_row(keys[which[l]]) : _mm512_setzero_si512();
  md5_transpose16(r, m1);
  for (std::size_t l = 0; l < 16; ++l) {
    r[l] = l + 16 < count ? md5_one_block_row(keys[which[l + 16]]) : _mm512_setzero_si512();
  }
  md5_transpose16(r, m2);
  const __m512i a0 = _mm512_set1_epi32(static_cast<int>(kMd5Init[0]));
  const __m512i b0 = _mm512_set1_epi32(static_cast<int>(kMd5Init[1]));
  const __m512i c0 = _mm512_set1_epi32(static_cast<int>(kMd5Init[2]));
  const __m512i d0 = _mm512_set1_epi32(static_cast<int>(kMd5Init[3]));
  __m512i a1 = a0, b1 = b0, c1 = c0, d1 = d0, a2 = a0, b2 = b0, c2 = c0, d2 = d0;
  CACHEKIT_MD5_STEPS(CACHEKIT_MD5_AVX512_STEP2)
  alignas(64) std::uint32_t words[32];
  _mm512_store_si512(words, _mm512_add_epi32(a1, a0));
  _mm512_store_si512(words + 16, _mm512_add_epi32(a2, a0));
  for (std::size_t l = 0; l < count; ++l) out[which[l]] = words[l];
}

#undef CACHEKIT_MD5_AVX512_STEP2
#undef CACHEKIT_MD5_AVX512_STEP
#undef CACHEKIT_MD5_AVX512_TT_F
#undef CACHEKIT_MD5_AVX512_TT_G
#undef CACHEKIT_MD5_AVX512_TT_H
#undef CACHEKIT_MD5_AVX512_TT_I

#endif  // CACHEKIT_MD5_X86_SIMD

/// Hashes `count` (<= lanes) messages msgs[which[l]] that all have `blocks`
/// MD5 blocks, with a SIMD path; state receives the final words per lane.
inline void md5_lanes_run(Md5Path path, const std::string_view* msgs, const std::size_t* which,
                          std::size_t count, std::size_t blocks, std::uint32_t (*state)[16]) noexcept {
  for (int j = 0; j < 4; ++j) {
    for (std::size_t l = 0; l < 16; ++l) state[j][l] = kMd5Init[j];
  }
  Md5LaneRows in;
  for (std::size_t l = count; l < 16; ++l) {  // idle lanes hash zeros
    for (int i = 0; i < 16; ++i) in.rows[l][i] = 0;
  }
  for (std::size_t b = 0; b < blocks; ++b) {
    for (std::size_t l = 0; l < count; ++l) {
      const std::string_view m = msgs[which[l]];
      md5_block_words(reinterpret_cast<const unsigned char*>(m.data()), m.size(), b, in.rows[l]);
    }
#if CACHEKIT_MD5_X86_SIMD
    if (path == Md5Path::avx512) {
      md5_compress_avx512(state, in);
    } else {
      md5_compress_avx2(state, in);
    }
#else
    (void)path;
#endif
  }
}

/// out[i] = first four MD5 bytes of keys[i] as little-endian uint32, for n
/// keys, using `path` (automatic = the fastest this CPU supports). Keys are
/// grouped by block count so that each lane group ends together.
inline void md5_le32_batch(const std::string_view* keys, std::size_t n, std::uint32_t* out,
                           Md5Path path = Md5Path::automatic) noexcept {
  if (path == Md5Path::automatic || !md5_path_supported(path)) path = md5_best_path();
  const std::size_t lanes = md5_lanes(path);
  if (lanes == 1) {
    for (std::size_t i = 0; i < n; ++i) out[i] = hash::md5_le32(keys[i]);
    return;
  }
  // Pending groups for messages of 1..kGroups blocks (keys up to 311 bytes);
  // longer keys are rare and go through the scalar code.
  constexpr std::size_t kGroups = 5;
  std::size_t pending[kGroups][32];
  std::size_t fill[kGroups] = {};
  alignas(64) std::uint32_t state[4][16];
  auto flush = [&](std::size_t g) {
#if CACHEKIT_MD5_X86_SIMD
    if (g == 0 && path == Md5Path::avx512) {
      md5_le32_one_block_avx512(keys, pending[0], fill[0], out);
      fill[0] = 0;
      return;
    }
    if (g == 0 && path == Md5Path::avx2) {
      md5_le32_one_block_avx2(keys, pending[0], fill[0], out);
      fill[0] = 0;
      return;
    }
#endif
    md5_lanes_run(path, keys, pending[g], fill[g], g + 1, state);
    for (std::size_t l = 0; l < fill[g]; ++l) out[pending[g][l]] = state[0][l];
    fill[g] = 0;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t blocks = md5_block_count(keys[i].size());
    if (blocks > kGroups) {
      out[i] = hash::md5_le32(keys[i]);
      continue;
    }
    const std::size_t g = blocks - 1;
    pending[g][fill[g]++] = i;
    if (fill[g] == (g == 0 ? 2 * lanes : lanes)) flush(g);  // one-block groups run two lane sets
  }
  for (std::size_t g = 0; g < kGroups; ++g) {
    if (fill[g] == 0) continue;
    if (fill[g] <= 2) {  // too few to pay for the lanes
      for (std::size_t l = 0; l < fill[g]; ++l) out[pending[g][l]] = hash::md5_le32(keys[pending[g][l]]);
      fill[g] = 0;
    } else {
      flush(g);
    }
  }
}

}  // namespace detail

CACHEKIT_END_NAMESPACE
