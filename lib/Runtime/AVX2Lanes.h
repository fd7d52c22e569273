//===- AVX2Lanes.h - lane masks for AVX2 micro-kernels ----------*- C++ -*-===//
//
// Included only by files built with -mavx2.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_AVX2LANES_H
#define QUANTC_LIB_RUNTIME_AVX2LANES_H

#include <cstdint>
#include <immintrin.h>

namespace quantc::rt {

/// Mask of the first n (0..8) 32-bit lanes of a ymm.
inline __m256i laneMask(int64_t n) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), lanes);
}

} // namespace quantc::rt

#endif
