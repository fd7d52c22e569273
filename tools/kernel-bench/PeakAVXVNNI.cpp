//===- PeakAVXVNNI.cpp - AVX-VNNI peak loop (-mavx2 -mavxvnni) ------------===//
#include "Peak.h"

#include <immintrin.h>

namespace quantc::bench {

// vpdpbusd on ymm: four u8 x s8 products per int32 lane.
double dpbusdLoopAVXVNNI(int64_t iters, float *sink) {
  __m256i x = _mm256_set1_epi8(3), y = _mm256_set1_epi8(-2);
  __m256i a[12];
  for (int i = 0; i < 12; ++i)
    a[i] = _mm256_set1_epi32(i);
  for (int64_t n = 0; n < iters; ++n) {
    asm volatile("" : "+x"(x));
    for (int i = 0; i < 12; ++i)
      a[i] = _mm256_dpbusd_avx_epi32(a[i], x, y);
  }
  __m256i s = a[0];
  for (int i = 1; i < 12; ++i)
    s = _mm256_add_epi32(s, a[i]);
  *sink += float(_mm256_extract_epi32(s, 0));
  return double(iters) * 12 * 32;
}

} // namespace quantc::bench
