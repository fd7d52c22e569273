//===- DirectConvAVX512.cpp - convolutions of few output channels ---------===//
//
// A dense convolution with few output channels (M <= 48) spends as much
// time packing its im2col panels as multiplying them: each packed element
// serves only M rows. This kernel reads the image in place instead: one
// output row of a block of 12 channels at a time, in tiles of 32 pixels
// (24 zmm accumulators), each tap (c, ky, kx) one or two masked loads of
// the input row (lanes outside the image read zero; masked lanes do not
// fault) and 12 broadcast weights. Unit horizontal stride and dilation
// only. The taps are summed in the GEMM's order (k = (c, ky, kx), slices
// of 256 added to the output one after another), so the result is the
// im2col GEMM's (RuntimeKernelsTest Conv2D checks both).
//
//===----------------------------------------------------------------------===//
#include "DirectConvTaps.h"

#include <immintrin.h>

#include <algorithm>

namespace quantc::rt {

namespace {
/// Lanes t in [from, from + 16) of a tile: valid when t < n and the input
/// column base + t lies in [0, W).
inline __mmask16 laneMask(int64_t base, int64_t n, int64_t W, int64_t from) {
  int64_t lo = std::max<int64_t>(std::max<int64_t>(0, -base), from);
  int64_t hi = std::min<int64_t>(std::min<int64_t>(n, W - base), from + 16);
  if (hi <= lo)
    return 0;
  uint32_t bits = ((hi - lo) >= 32 ? 0xffffffffu : ((1u << (hi - lo)) - 1u)) << (lo - from);
  return static_cast<__mmask16>(bits & 0xffffu);
}
} // namespace

void directConvRowAVX512(const Conv2DShape &s, const float *x, const float *wt, int64_t mcount,
                         float *out, int64_t oy, int64_t sliceK) {
  const int64_t plane = s.OH * s.OW, khw = s.KH * s.KW, K = s.C * khw;
  for (int64_t ox0 = 0; ox0 < s.OW; ox0 += 32) {
    const int64_t n = std::min<int64_t>(32, s.OW - ox0);
    const TapTable taps(s, oy, ox0);
    __mmask16 m0[TapTable::kMaxTaps], m1[TapTable::kMaxTaps];
    for (int64_t t = 0; t < khw; ++t) {
      m0[t] = laneMask(taps.base[t], n, s.W, 0);
      m1[t] = laneMask(taps.base[t], n, s.W, 16);
    }
    const __mmask16 o0 = laneMask(0, n, s.OW, 0), o1 = laneMask(0, n, s.OW, 16);
    for (int64_t k0 = 0; k0 < K; k0 += sliceK) {
      const int64_t k1 = std::min(K, k0 + sliceK);
      __m512 acc[12][2];
      for (int i = 0; i < 12; ++i)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
      walkTaps(s, x, taps, k0, k1, [&](int64_t k, int64_t t, const float *src) {
        // The row two channels ahead: the planes are often a multiple of
        // 4 KiB apart, so every channel's row at this tap falls in one L1
        // set; fetched ahead, its load does not wait on L2.
        _mm_prefetch(reinterpret_cast<const char *>(src + 2 * s.xsC), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char *>(src + 2 * s.xsC + 31), _MM_HINT_T0);
        const __m512 v0 = _mm512_maskz_loadu_ps(m0[t], src);
        const __m512 v1 = _mm512_maskz_loadu_ps(m1[t], src + 16);
        const float *w = wt + k * 12;
        for (int i = 0; i < 12; ++i) {
          const __m512 wi = _mm512_set1_ps(w[i]);
          acc[i][0] = _mm512_fmadd_ps(wi, v0, acc[i][0]);
          acc[i][1] = _mm512_fmadd_ps(wi, v1, acc[i][1]);
        }
      });
      for (int64_t i = 0; i < mcount; ++i) {
        float *o = out + i * plane + oy * s.OW + ox0;
        _mm512_mask_storeu_ps(o, o0, _mm512_add_ps(_mm512_maskz_loadu_ps(o0, o), acc[i][0]));
        _mm512_mask_storeu_ps(o + 16, o1,
                              _mm512_add_ps(_mm512_maskz_loadu_ps(o1, o + 16), acc[i][1]));
      }
    }
  }
}

} // namespace quantc::rt
