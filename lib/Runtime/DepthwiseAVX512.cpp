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

#include <algorithm>
#include <immintrin.h>

namespace quantc::rt {

namespace {

/// The taps of one 16-output block at `base` (the block's first tap's
/// input), lanes past n masked.
struct Taps {
  const Conv2DShape &s;
  __m512i even, strideIdx;
  __m512 load(const float *base, int64_t n, __mmask16 m) const {
    if (s.sw == 1 && s.xsW == 1)
      return _mm512_maskz_loadu_ps(m, base);
    if (s.sw == 2 && s.xsW == 1) {
      // Elements 0, 2, .., 2(n-1) of base: 2n-1 values over two loads.
      int64_t span = 2 * n - 1;
      __mmask16 m0 = span >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << span) - 1);
      __mmask16 m1 = span <= 16 ? 0 : static_cast<__mmask16>((1u << (span - 16)) - 1);
      __m512 lo = _mm512_maskz_loadu_ps(m0, base);
      __m512 hi = _mm512_maskz_loadu_ps(m1, base + 16);
      return _mm512_permutex2var_ps(lo, even, hi);
    }
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, strideIdx, base, 4);
  }
};

/// R output rows from oy, B blocks of 16 outputs from ox0 (the last with
/// `lastN` outputs): R x B independent accumulators, each tap's weight
/// broadcast once for all of them.
template <int R, int B>
void rowsBlock(const Taps &t, const float *plane, const float *wc, float *o, int64_t oy,
               int64_t ox0, int64_t lastN) {
  const Conv2DShape &s = t.s;
  __mmask16 mask[B];
  int64_t n[B];
  for (int b = 0; b < B; ++b) {
    n[b] = b == B - 1 ? lastN : 16;
    mask[b] = n[b] == 16 ? 0xFFFF : static_cast<__mmask16>((1u << n[b]) - 1);
  }
  __m512 acc[R][B];
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < B; ++b)
      acc[r][b] = _mm512_maskz_loadu_ps(mask[b], o + (oy + r) * s.OW + ox0 + 16 * b);
  for (int64_t ky = 0; ky < s.KH; ++ky)
    for (int64_t kx = 0; kx < s.KW; ++kx) {
      const __m512 w = _mm512_set1_ps(wc[ky * s.KW + kx]);
      for (int r = 0; r < R; ++r) {
        const float *irow = plane + ((oy + r) * s.sh + ky * s.dh) * s.xsH;
        for (int b = 0; b < B; ++b)
          acc[r][b] = _mm512_fmadd_ps(
              w, t.load(irow + ((ox0 + 16 * b) * s.sw + kx * s.dw) * s.xsW, n[b], mask[b]),
              acc[r][b]);
      }
    }
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < B; ++b)
      _mm512_mask_storeu_ps(o + (oy + r) * s.OW + ox0 + 16 * b, mask[b], acc[r][b]);
}

using RowsBlockFn = void (*)(const Taps &, const float *, const float *, float *, int64_t,
                             int64_t, int64_t);

template <int R> constexpr RowsBlockFn kByBlocks[4] = {rowsBlock<R, 1>, rowsBlock<R, 2>,
                                                        rowsBlock<R, 3>, rowsBlock<R, 4>};

} // namespace

void depthwiseChannelAVX512(const Conv2DShape &s, const float *plane, const float *wc,
                            float *o) {
  const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const Taps t{s, _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0),
               _mm512_mullo_epi32(lanes, _mm512_set1_epi32(static_cast<int>(s.sw * s.xsW)))};
  // Up to 4 rows x 4 blocks of 16 outputs per pass (16 accumulators): each
  // weight broadcast serves them all, and the FMAs are independent (one
  // chain per 16 outputs over the taps was bound by the FMA latency).
  constexpr int64_t kRows = 4, kBlocks = 4;
  for (int64_t oy = 0; oy < s.OH; oy += kRows) {
    const int64_t rows = std::min(kRows, s.OH - oy);
    for (int64_t ox0 = 0; ox0 < s.OW; ox0 += 16 * kBlocks) {
      const int64_t left = std::min(16 * kBlocks, s.OW - ox0);
      const int64_t blocks = (left + 15) / 16, lastN = left - 16 * (blocks - 1);
      const RowsBlockFn fn = rows == 4   ? kByBlocks<4>[blocks - 1]
                             : rows == 3 ? kByBlocks<3>[blocks - 1]
                             : rows == 2 ? kByBlocks<2>[blocks - 1]
                                         : kByBlocks<1>[blocks - 1];
      fn(t, plane, wc, o, oy, ox0, lastN);
    }
  }
}

} // namespace quantc::rt
