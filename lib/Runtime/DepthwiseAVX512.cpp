//===- DepthwiseAVX512.cpp - depthwise 2-D convolution, AVX-512 -----------===//
//
// Built with -mavx512f; used when the CPU has AVX-512F and the input needs
// no implicit padding (the compiled models pad explicitly). Sixteen
// outputs of a row are accumulated in one register over all taps; stride-2
// taps are deinterleaved from two loads with a permute, larger strides
// gathered.
//
//===----------------------------------------------------------------------===//
#include "quantc/Runtime/Kernels.h"

#include <immintrin.h>

namespace quantc::rt {

void depthwiseChannelAVX512(const Conv2DShape &s, const float *plane, const float *wc,
                            float *o) {
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i strideIdx = _mm512_mullo_epi32(lanes, _mm512_set1_epi32(static_cast<int>(s.sw * s.xsW)));
  for (int64_t oy = 0; oy < s.OH; ++oy) {
    float *orow = o + oy * s.OW;
    for (int64_t ox0 = 0; ox0 < s.OW; ox0 += 16) {
      int64_t n = s.OW - ox0 < 16 ? s.OW - ox0 : 16;
      __mmask16 m = n == 16 ? 0xFFFF : static_cast<__mmask16>((1u << n) - 1);
      __m512 acc = _mm512_maskz_loadu_ps(m, orow + ox0);
      for (int64_t ky = 0; ky < s.KH; ++ky) {
        const float *irow = plane + (oy * s.sh + ky * s.dh) * s.xsH;
        for (int64_t kx = 0; kx < s.KW; ++kx) {
          const float *base = irow + (ox0 * s.sw + kx * s.dw) * s.xsW;
          __m512 w = _mm512_set1_ps(wc[ky * s.KW + kx]);
          __m512 v;
          if (s.sw == 1 && s.xsW == 1) {
            v = _mm512_maskz_loadu_ps(m, base);
          } else if (s.sw == 2 && s.xsW == 1) {
            // Elements 0, 2, .., 2(n-1) of base: 2n-1 values over two loads.
            int64_t span = 2 * n - 1;
            __mmask16 m0 = span >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << span) - 1);
            __mmask16 m1 = span <= 16 ? 0
                                      : static_cast<__mmask16>((1u << (span - 16)) - 1);
            __m512 lo = _mm512_maskz_loadu_ps(m0, base);
            __m512 hi = _mm512_maskz_loadu_ps(m1, base + 16);
            v = _mm512_permutex2var_ps(lo, even, hi);
          } else {
            v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, strideIdx, base, 4);
          }
          acc = _mm512_fmadd_ps(w, v, acc);
        }
      }
      _mm512_mask_storeu_ps(orow + ox0, m, acc);
    }
  }
}

} // namespace quantc::rt
