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
  // Four blocks of 16 outputs per pass, four independent accumulators: one
  // chain of FMAs over all taps was bound by the FMA latency (5x5 taps:
  // 25 dependent FMAs per 16 outputs).
  constexpr int kBlocks = 4;
  for (int64_t oy = 0; oy < s.OH; ++oy) {
    float *orow = o + oy * s.OW;
    for (int64_t ox0 = 0; ox0 < s.OW; ox0 += 16 * kBlocks) {
      __mmask16 m[kBlocks];
      int64_t nb[kBlocks];
      __m512 acc[kBlocks];
      for (int b = 0; b < kBlocks; ++b) {
        int64_t n = s.OW - (ox0 + 16 * b);
        n = n < 0 ? 0 : (n > 16 ? 16 : n);
        nb[b] = n;
        m[b] = n == 16 ? 0xFFFF : static_cast<__mmask16>((1u << n) - 1);
        acc[b] = _mm512_maskz_loadu_ps(m[b], orow + ox0 + 16 * b);
      }
      for (int64_t ky = 0; ky < s.KH; ++ky) {
        const float *irow = plane + (oy * s.sh + ky * s.dh) * s.xsH;
        for (int64_t kx = 0; kx < s.KW; ++kx) {
          __m512 w = _mm512_set1_ps(wc[ky * s.KW + kx]);
          for (int b = 0; b < kBlocks; ++b) {
            if (nb[b] == 0)
              break;
            const float *base = irow + ((ox0 + 16 * b) * s.sw + kx * s.dw) * s.xsW;
            const int64_t n = nb[b];
            __m512 v;
            if (s.sw == 1 && s.xsW == 1) {
              v = _mm512_maskz_loadu_ps(m[b], base);
            } else if (s.sw == 2 && s.xsW == 1) {
              // Elements 0, 2, .., 2(n-1) of base: 2n-1 values over two loads.
              int64_t span = 2 * n - 1;
              __mmask16 m0 = span >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << span) - 1);
              __mmask16 m1 = span <= 16 ? 0 : static_cast<__mmask16>((1u << (span - 16)) - 1);
              __m512 lo = _mm512_maskz_loadu_ps(m0, base);
              __m512 hi = _mm512_maskz_loadu_ps(m1, base + 16);
              v = _mm512_permutex2var_ps(lo, even, hi);
            } else {
              v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m[b], strideIdx, base, 4);
            }
            acc[b] = _mm512_fmadd_ps(w, v, acc[b]);
          }
        }
      }
      for (int b = 0; b < kBlocks && nb[b] > 0; ++b)
        _mm512_mask_storeu_ps(orow + ox0 + 16 * b, m[b], acc[b]);
    }
  }
}

} // namespace quantc::rt
