//===- PeakAVXVNNI.cpp - AVX-VNNI peak loop (-mavx2 -mavxvnni) ------------===//
#include "Peak.h"
#include "PeakLoop256.h"

#include <immintrin.h>

namespace quantc::bench {

// vpdpbusd on ymm: four u8 x s8 products per int32 lane.
double dpbusdLoopAVXVNNI(int64_t iters, float *sink) {
  return 32 * intLoop256(iters, sink, _mm256_set1_epi8(3), _mm256_set1_epi8(-2),
                         [](__m256i a, __m256i x, __m256i y) {
                           return _mm256_dpbusd_avx_epi32(a, x, y);
                         });
}

} // namespace quantc::bench
