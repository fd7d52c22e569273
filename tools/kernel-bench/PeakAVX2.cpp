//===- PeakAVX2.cpp - AVX2 peak loops (built with -mavx2 -mfma) -----------===//
#include "Peak.h"
#include "PeakLoop256.h"

#include <immintrin.h>

namespace quantc::bench {

double fmaLoopAVX2(int64_t iters, float *sink) {
  __m256 x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(1e-7f);
  __m256 a[12];
  for (int i = 0; i < 12; ++i)
    a[i] = _mm256_set1_ps(float(i));
  for (int64_t n = 0; n < iters; ++n)
    for (int i = 0; i < 12; ++i)
      a[i] = _mm256_fmadd_ps(a[i], x, y);
  __m256 s = a[0];
  for (int i = 1; i < 12; ++i)
    s = _mm256_add_ps(s, a[i]);
  *sink += _mm256_cvtss_f32(s);
  return double(iters) * 12 * 8;
}

// The AVX2 igemm kernel's step: vpmaddwd (two int16 products per int32
// lane) then vpaddd.
double maddwdLoopAVX2(int64_t iters, float *sink) {
  return 16 * intLoop256(iters, sink, _mm256_set1_epi16(3), _mm256_set1_epi16(-2),
                         [](__m256i a, __m256i x, __m256i y) {
                           return _mm256_add_epi32(a, _mm256_madd_epi16(x, y));
                         });
}

} // namespace quantc::bench
