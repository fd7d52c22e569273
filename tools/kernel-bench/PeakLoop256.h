//===- PeakLoop256.h - a 256-bit integer peak loop, per instruction -------===//
//
// Included only by files built for AVX2 (PeakAVX2.cpp, PeakAVXVNNI.cpp):
// 12 independent accumulator chains of `op(acc, x, y)` for `iters` steps.
// The empty asm "changes" x each step, so the products cannot be hoisted
// out of the loop, and adds no instruction. Returns the steps done x 12.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_TOOLS_KERNEL_BENCH_PEAKLOOP256_H
#define QUANTC_TOOLS_KERNEL_BENCH_PEAKLOOP256_H

#include <cstdint>
#include <immintrin.h>

namespace quantc::bench {

template <typename Op>
double intLoop256(int64_t iters, float *sink, __m256i x, __m256i y, Op op) {
  __m256i a[12];
  for (int i = 0; i < 12; ++i)
    a[i] = _mm256_set1_epi32(i);
  for (int64_t n = 0; n < iters; ++n) {
    asm volatile("" : "+x"(x));
    for (int i = 0; i < 12; ++i)
      a[i] = op(a[i], x, y);
  }
  __m256i s = a[0];
  for (int i = 1; i < 12; ++i)
    s = _mm256_add_epi32(s, a[i]);
  *sink += float(_mm256_extract_epi32(s, 0));
  return double(iters) * 12;
}

} // namespace quantc::bench

#endif
