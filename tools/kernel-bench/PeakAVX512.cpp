//===- PeakAVX512.cpp - AVX-512 peak loops (-mavx512f -mavx512vnni) -------===//
#include "Peak.h"

#include <immintrin.h>

namespace quantc::bench {

double fmaLoopAVX512(int64_t iters, float *sink) {
  __m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(1e-7f);
  __m512 a[16];
  for (int i = 0; i < 16; ++i)
    a[i] = _mm512_set1_ps(float(i));
  for (int64_t n = 0; n < iters; ++n)
    for (int i = 0; i < 16; ++i)
      a[i] = _mm512_fmadd_ps(a[i], x, y);
  __m512 s = a[0];
  for (int i = 1; i < 16; ++i)
    s = _mm512_add_ps(s, a[i]);
  *sink += _mm512_reduce_add_ps(s);
  return double(iters) * 16 * 16;
}

namespace {
template <typename Op> double intLoop(int64_t iters, float *sink, __m512i x, __m512i y, Op op) {
  __m512i a[16];
  for (int i = 0; i < 16; ++i)
    a[i] = _mm512_set1_epi32(i);
  for (int64_t n = 0; n < iters; ++n) {
    asm volatile("" : "+v"(x));
    for (int i = 0; i < 16; ++i)
      a[i] = op(a[i], x, y);
  }
  __m512i s = a[0];
  for (int i = 1; i < 16; ++i)
    s = _mm512_add_epi32(s, a[i]);
  *sink += float(_mm512_reduce_add_epi32(s));
  return double(iters) * 16;
}
} // namespace

// The avx512vnni igemm kernel's op: two int16 products per int32 lane.
double dpwssdLoopAVX512(int64_t iters, float *sink) {
  return 32 * intLoop(iters, sink, _mm512_set1_epi16(3), _mm512_set1_epi16(-2),
                      [](__m512i a, __m512i x, __m512i y) { return _mm512_dpwssd_epi32(a, x, y); });
}

// u8 x s8, four products per int32 lane (not used by a kernel yet).
double dpbusdLoopAVX512(int64_t iters, float *sink) {
  return 64 * intLoop(iters, sink, _mm512_set1_epi8(3), _mm512_set1_epi8(-2),
                      [](__m512i a, __m512i x, __m512i y) { return _mm512_dpbusd_epi32(a, x, y); });
}

} // namespace quantc::bench
