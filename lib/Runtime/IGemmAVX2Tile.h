//===- IGemmAVX2Tile.h - the 6x16 int16-pair accumulation, AVX2 -*- C++ -*-===//
//
// Included only by files built with -mavx2 (IGemmAVX2.cpp,
// IGemmPairsAVX2.cpp): the loop both 6x16 int8 micro-kernels share. Per
// pair of k: B's two vectors (16 columns, each 32-bit lane holding the
// column's two k values as int16) from loadB(kp), and for each of the 6
// rows a broadcast of its two A values; vpmaddwd multiplies the int16
// pairs and adds each pair into one int32 lane, exactly (int8 operands
// cannot overflow it), and vpaddd accumulates. 12 accumulators, 2 B
// vectors and 1 broadcast fit the 16 ymm registers.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_IGEMMAVX2TILE_H
#define QUANTC_LIB_RUNTIME_IGEMMAVX2TILE_H

#include "IGemm.h"

#include <cstring>
#include <immintrin.h>

namespace quantc::rt {

inline __m256i pairOfA(const int16_t *a) {
  int32_t v;
  std::memcpy(&v, a, sizeof v);
  return _mm256_set1_epi32(v);
}

/// acc[r][h] = sum over kcp pairs of A panel row r times B's half h (the
/// accumulators start at zero).
template <typename LoadB>
__attribute__((always_inline)) inline void accumulate6x16(int64_t kcp, const int16_t *Ap,
                                                          LoadB loadB, __m256i acc[6][2]) {
  static_assert(kIMR == 6 && kINR == 16, "the loop is written for a 6x16 tile");
  __m256i c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256();
  __m256i c10 = _mm256_setzero_si256(), c11 = _mm256_setzero_si256();
  __m256i c20 = _mm256_setzero_si256(), c21 = _mm256_setzero_si256();
  __m256i c30 = _mm256_setzero_si256(), c31 = _mm256_setzero_si256();
  __m256i c40 = _mm256_setzero_si256(), c41 = _mm256_setzero_si256();
  __m256i c50 = _mm256_setzero_si256(), c51 = _mm256_setzero_si256();
  for (int64_t kp = 0; kp < kcp; ++kp) {
    __m256i b0, b1;
    loadB(kp, b0, b1);
    const int16_t *a = Ap + kp * kIMR * 2;
    __m256i a0 = pairOfA(a);
    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(a0, b0));
    c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(a0, b1));
    __m256i a1 = pairOfA(a + 2);
    c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(a1, b0));
    c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(a1, b1));
    __m256i a2 = pairOfA(a + 4);
    c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(a2, b0));
    c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(a2, b1));
    __m256i a3 = pairOfA(a + 6);
    c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(a3, b0));
    c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(a3, b1));
    __m256i a4 = pairOfA(a + 8);
    c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(a4, b0));
    c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(a4, b1));
    __m256i a5 = pairOfA(a + 10);
    c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(a5, b0));
    c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(a5, b1));
  }
  acc[0][0] = c00, acc[0][1] = c01, acc[1][0] = c10, acc[1][1] = c11;
  acc[2][0] = c20, acc[2][1] = c21, acc[3][0] = c30, acc[3][1] = c31;
  acc[4][0] = c40, acc[4][1] = c41, acc[5][0] = c50, acc[5][1] = c51;
}

} // namespace quantc::rt

#endif
