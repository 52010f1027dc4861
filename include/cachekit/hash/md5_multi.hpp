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

/// Transposed message words of one block for up to 16 lanes: words[i][lane].
struct Md5LaneBlock {
  alignas(64) std::uint32_t words[16][16];
};

#if CACHEKIT_MD5_X86_SIMD

// The lane kernels: state[4][lanes] += compress(words). One macro list
// (CACHEKIT_MD5_STEPS) drives every width.

#define CACHEKIT_MD5_AVX2_ROTL(x, s) _mm256_or_si256(_mm256_slli_epi32(x, s), _mm256_srli_epi32(x, 32 - (s)))
#define CACHEKIT_MD5_AVX2_F(b, c, d) _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d)))
#define CACHEKIT_MD5_AVX2_G(b, c, d) _mm256_or_si256(_mm256_and_si256(b, d), _mm256_andnot_si256(d, c))
#define CACHEKIT_MD5_AVX2_H(b, c, d) _mm256_xor_si256(b, _mm256_xor_si256(c, d))
#define CACHEKIT_MD5_AVX2_I(b, c, d) _mm256_xor_si256(c, _mm256_or_si256(b, _mm256_xor_si256(d, ones)))
#define CACHEKIT_MD5_AVX2_STEP(R, a, b, c, d, i, k, s)                                                 \
  a = _mm256_add_epi32(                                                                                 \
      b, CACHEKIT_MD5_AVX2_ROTL(                                                                        \
             _mm256_add_epi32(_mm256_add_epi32(a, _mm256_add_epi32(                                     \
                                                      _mm256_load_si256(                                \
                                                          reinterpret_cast<const __m256i*>(w[i] + off)), \
                                                      _mm256_set1_epi32(static_cast<int>(k)))),         \
                              CACHEKIT_MD5_AVX2_F_##R(b, c, d)),                                        \
             s));
#define CACHEKIT_MD5_AVX2_F_F CACHEKIT_MD5_AVX2_F
#define CACHEKIT_MD5_AVX2_F_G CACHEKIT_MD5_AVX2_G
#define CACHEKIT_MD5_AVX2_F_H CACHEKIT_MD5_AVX2_H
#define CACHEKIT_MD5_AVX2_F_I CACHEKIT_MD5_AVX2_I

/// 8 lanes at words[.][off..off+8), state[j][off..off+8).
__attribute__((target("avx2"))) inline void md5_compress_avx2(std::uint32_t (*state)[16], const Md5LaneBlock& blk,
                                                              std::size_t off) noexcept {
  const std::uint32_t(*w)[16] = blk.words;
  const __m256i ones = _mm256_set1_epi32(-1);
  __m256i a = _mm256_load_si256(reinterpret_cast<const __m256i*>(state[0] + off));
  __m256i b = _mm256_load_si256(reinterpret_cast<const __m256i*>(state[1] + off));
  __m256i c = _mm256_load_si256(reinterpret_cast<const __m256i*>(state[2] + off));
  __m256i d = _mm256_load_si256(reinterpret_cast<const __m256i*>(state[3] + off));
  const __m256i a0 = a, b0 = b, c0 = c, d0 = d;
  CACHEKIT_MD5_STEPS(CACHEKIT_MD5_AVX2_STEP)
  _mm256_store_si256(reinterpret_cast<__m256i*>(state[0] + off), _mm256_add_epi32(a, a0));
  _mm256_store_si256(reinterpret_cast<__m256i*>(state[1] + off), _mm256_add_epi32(b, b0));
  _mm256_store_si256(reinterpret_cast<__m256i*>(state[2] + off), _mm256_add_epi32(c, c0));
  _mm256_store_si256(reinterpret_cast<__m256i*>(state[3] + off), _mm256_add_epi32(d, d0));
}

#undef CACHEKIT_MD5_AVX2_STEP
#undef CACHEKIT_MD5_AVX2_ROTL
#undef CACHEKIT_MD5_AVX2_F
#undef CACHEKIT_MD5_AVX2_G
#undef CACHEKIT_MD5_AVX2_H
#undef CACHEKIT_MD5_AVX2_I
#undef CACHEKIT_MD5_AVX2_F_F
#undef CACHEKIT_MD5_AVX2_F_G
#undef CACHEKIT_MD5_AVX2_F_H
#undef CACHEKIT_MD5_AVX2_F_I

// AVX-512: one ternary-logic instruction per round function, native rotate.
// The immediates are the truth tables of F = b?c:d, G = d?b:c, H = b^c^d,
// I = c^(b|~d) over (b, c, d).
#define CACHEKIT_MD5_AVX512_TT_F 0xca
#define CACHEKIT_MD5_AVX512_TT_G 0xe4
#define CACHEKIT_MD5_AVX512_TT_H 0x96
#define CACHEKIT_MD5_AVX512_TT_I 0x39
#define CACHEKIT_MD5_AVX512_STEP(R, a, b, c, d, i, k, s)                                                   \
  a = _mm512_add_epi32(                                                                                     \
      b, _mm512_rol_epi32(                                                                                  \
             _mm512_add_epi32(                                                                              \
                 _mm512_add_epi32(a, _mm512_add_epi32(_mm512_load_si512(w[i]),                              \
                                                      _mm512_set1_epi32(static_cast<int>(k)))),             \
                 _mm512_ternarylogic_epi32(b, c, d, CACHEKIT_MD5_AVX512_TT_##R)),                           \
             s));

/// 16 lanes.
__attribute__((target("avx512f,avx512bw"))) inline void md5_compress_avx512(std::uint32_t (*state)[16],
                                                                            const Md5LaneBlock& blk) noexcept {
  const std::uint32_t(*w)[16] = blk.words;
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

#undef CACHEKIT_MD5_AVX512_STEP
#undef CACHEKIT_MD5_AVX512_TT_F
#undef CACHEKIT_MD5_AVX512_TT_G
#undef CACHEKIT_MD5_AVX512_TT_H
#undef CACHEKIT_MD5_AVX512_TT_I

#endif  // CACHEKIT_MD5_X86_SIMD

/// Writes block j of message p[0..n) into lane `lane` of blk.
inline void md5_fill_lane(Md5LaneBlock& blk, std::size_t lane, const unsigned char* p, std::size_t n,
                          std::size_t j) noexcept {
  std::uint32_t m[16];
  md5_block_words(p, n, j, m);
  for (int i = 0; i < 16; ++i) blk.words[i][lane] = m[i];
}

/// Hashes `count` (<= lanes) messages that all have `blocks` MD5 blocks,
/// with the given SIMD path; state receives the final words per lane.
inline void md5_lanes_run(Md5Path path, const std::string_view* msgs, const std::size_t* which,
                          std::size_t count, std::size_t blocks, std::uint32_t (*state)[16]) noexcept {
  for (int j = 0; j < 4; ++j) {
    for (std::size_t l = 0; l < 16; ++l) state[j][l] = kMd5Init[j];
  }
  Md5LaneBlock blk;
  for (std::size_t b = 0; b < blocks; ++b) {
    for (std::size_t l = 0; l < count; ++l) {
      const std::string_view m = msgs[which[l]];
      md5_fill_lane(blk, l, reinterpret_cast<const unsigned char*>(m.data()), m.size(), b);
    }
    for (std::size_t l = count; l < md5_lanes(path); ++l) {  // idle lanes hash zeros
      for (int i = 0; i < 16; ++i) blk.words[i][l] = 0;
    }
#if CACHEKIT_MD5_X86_SIMD
    if (path == Md5Path::avx512) {
      md5_compress_avx512(state, blk);
    } else {
      md5_compress_avx2(state, blk, 0);
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
  std::size_t pending[kGroups][16];
  std::size_t fill[kGroups] = {};
  alignas(64) std::uint32_t state[4][16];
  auto flush = [&](std::size_t g) {
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
    if (fill[g] == lanes) flush(g);
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
