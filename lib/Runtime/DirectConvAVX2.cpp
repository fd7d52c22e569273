//===- DirectConvAVX2.cpp - convolutions of few output channels, AVX2 ----===//
//
// DirectConvAVX512.cpp's kernel for AVX2 + FMA (16 ymm registers): a block
// of 6 output channels by 16 pixels of one output row in 12 accumulators,
// each tap two masked loads of the input row (vmaskmovps: masked lanes
// read zero and do not fault) and 6 broadcast weights, taps in the GEMM's
// order and slices, so the result is the AVX2 im2col GEMM's bit for bit.
//
//===----------------------------------------------------------------------===//
#include "DirectConvTaps.h"

#include <immintrin.h>

#include <algorithm>

namespace quantc::rt {

namespace {
/// All-ones lanes t in [from, from + 8) with t < n and base + t in [0, W).
inline __m256i laneMask8(int64_t base, int64_t n, int64_t W, int64_t from) {
  int64_t lo = std::max<int64_t>(0, -base), hi = std::min<int64_t>(n, W - base);
  __m256i t = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                               _mm256_set1_epi32(static_cast<int>(from)));
  __m256i ge = _mm256_cmpgt_epi32(t, _mm256_set1_epi32(static_cast<int>(lo) - 1));
  __m256i lt = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(hi)), t);
  return _mm256_and_si256(ge, lt);
}
} // namespace

void directConvRowAVX2(const Conv2DShape &s, const float *x, const float *wt, int64_t mcount,
                       float *out, int64_t oy, int64_t sliceK) {
  const int64_t plane = s.OH * s.OW, khw = s.KH * s.KW, K = s.C * khw;
  for (int64_t ox0 = 0; ox0 < s.OW; ox0 += 16) {
    const int64_t n = std::min<int64_t>(16, s.OW - ox0);
    const TapTable taps(s, oy, ox0);
    __m256i m0[TapTable::kMaxTaps], m1[TapTable::kMaxTaps];
    for (int64_t t = 0; t < khw; ++t) {
      m0[t] = laneMask8(taps.base[t], n, s.W, 0);
      m1[t] = laneMask8(taps.base[t], n, s.W, 8);
    }
    const __m256i o0 = laneMask8(0, n, s.OW, 0), o1 = laneMask8(0, n, s.OW, 8);
    for (int64_t k0 = 0; k0 < K; k0 += sliceK) {
      const int64_t k1 = std::min(K, k0 + sliceK);
      __m256 acc[6][2];
      for (int i = 0; i < 6; ++i)
        acc[i][0] = acc[i][1] = _mm256_setzero_ps();
      walkTaps(s, x, taps, k0, k1, [&](int64_t k, int64_t t, const float *src) {
        // The row two channels ahead (see DirectConvAVX512.cpp).
        _mm_prefetch(reinterpret_cast<const char *>(src + 2 * s.xsC), _MM_HINT_T0);
        const __m256 v0 = _mm256_maskload_ps(src, m0[t]);
        const __m256 v1 = _mm256_maskload_ps(src + 8, m1[t]);
        const float *w = wt + k * 6;
        for (int i = 0; i < 6; ++i) {
          const __m256 wi = _mm256_broadcast_ss(w + i);
          acc[i][0] = _mm256_fmadd_ps(wi, v0, acc[i][0]);
          acc[i][1] = _mm256_fmadd_ps(wi, v1, acc[i][1]);
        }
      });
      for (int64_t i = 0; i < mcount; ++i) {
        float *o = out + i * plane + oy * s.OW + ox0;
        _mm256_maskstore_ps(o, o0, _mm256_add_ps(_mm256_maskload_ps(o, o0), acc[i][0]));
        _mm256_maskstore_ps(o + 8, o1, _mm256_add_ps(_mm256_maskload_ps(o + 8, o1), acc[i][1]));
      }
    }
  }
}

} // namespace quantc::rt
