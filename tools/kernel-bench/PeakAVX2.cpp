//===- PeakAVX2.cpp - AVX2 peak loops (built with -mavx2 -mfma) -----------===//
#include "Peak.h"

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
// lane) then vpaddd. Each chain multiplies its own accumulator's halves
// (a = a + madd(a, y)): with a shared x (intLoop256) the compiler computed
// madd(x, y) once per step and the loop timed 12 vpaddd and one vpmaddwd,
// which overstated this peak (2 threads on a 2-core AMD EPYC, Zen 3: that
// loop 661 GOP/s, this one 287-300).
// 12 chains of madd + add latency keep more products in flight than the
// multiply pipes take, so the loop runs at their throughput.
double maddwdLoopAVX2(int64_t iters, float *sink) {
  const __m256i y = _mm256_set1_epi16(-2);
  __m256i a[12];
  for (int i = 0; i < 12; ++i)
    a[i] = _mm256_set1_epi32(i + 1);
  for (int64_t n = 0; n < iters; ++n)
    for (int i = 0; i < 12; ++i)
      a[i] = _mm256_add_epi32(a[i], _mm256_madd_epi16(a[i], y));
  __m256i s = a[0];
  for (int i = 1; i < 12; ++i)
    s = _mm256_add_epi32(s, a[i]);
  *sink += float(_mm256_extract_epi32(s, 0));
  return double(iters) * 12 * 16;
}

} // namespace quantc::bench
