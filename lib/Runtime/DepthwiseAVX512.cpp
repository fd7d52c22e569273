//===- DepthwiseAVX512.cpp - depthwise 2-D convolution, AVX-512 -----------===//
//
// Built with -mavx512f; used when the CPU has AVX-512F and the input needs
// no implicit padding (the compiled models pad explicitly). Sixteen
// outputs of a row are accumulated in one register over all taps; stride-2
// taps are deinterleaved from two loads with a permute, larger strides
// gathered.
//
//===----------------------------------------------------------------------===//
#include "AlignedVector.h"
#include "quantc/Runtime/Kernels.h"

#include <algorithm>
#include <immintrin.h>
#include <type_traits>

namespace quantc::rt {

namespace {

/// The taps of one 16-output block at `base` (the block's first tap's
/// input), lanes past n masked (zero).
struct Taps {
  const Conv2DShape &s;
  __m512i even, strideIdx;
  __attribute__((always_inline)) __m512 load(const float *base, int64_t n, __mmask16 m) const {
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
/// broadcast once for all of them. f32 output: the accumulators start at
/// *init (the channel's bias; o not read) or, without it, at o's values.
/// int32 output: they start at zero and the sums, converted back (exact),
/// overwrite o where `init` is given (it points at 0) or are added to it.
template <int R, int B, typename Out>
void rowsBlock(const Taps &t, const float *plane, const float *wc, Out *o, int64_t oy, int64_t ox0,
               int64_t lastN, const float *init) {
  const Conv2DShape &s = t.s;
  constexpr bool intOut = std::is_same_v<Out, int32_t>;
  __mmask16 mask[B];
  int64_t n[B];
  for (int b = 0; b < B; ++b) {
    n[b] = b == B - 1 ? lastN : 16;
    mask[b] = n[b] == 16 ? 0xFFFF : static_cast<__mmask16>((1u << n[b]) - 1);
  }
  __m512 acc[R][B];
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < B; ++b) {
      if constexpr (intOut)
        acc[r][b] = _mm512_setzero_ps();
      else
        acc[r][b] = init ? _mm512_set1_ps(*init)
                         : _mm512_maskz_loadu_ps(mask[b], o + (oy + r) * s.OW + ox0 + 16 * b);
    }
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
    for (int b = 0; b < B; ++b) {
      Out *d = o + (oy + r) * s.OW + ox0 + 16 * b;
      if constexpr (intOut) {
        __m512i v = _mm512_cvtps_epi32(acc[r][b]);
        if (!init)
          v = _mm512_add_epi32(v, _mm512_maskz_loadu_epi32(mask[b], d));
        _mm512_mask_storeu_epi32(d, mask[b], v);
      } else {
        _mm512_mask_storeu_ps(d, mask[b], acc[r][b]);
      }
    }
}

template <typename Out>
using RowsBlockFn = void (*)(const Taps &, const float *, const float *, Out *, int64_t, int64_t,
                             int64_t, const float *);

template <int R, typename Out>
constexpr RowsBlockFn<Out> kByBlocks[4] = {rowsBlock<R, 1, Out>, rowsBlock<R, 2, Out>,
                                           rowsBlock<R, 3, Out>, rowsBlock<R, 4, Out>};

template <typename Out>
void channel(const Conv2DShape &s, const float *plane, const float *wc, Out *o, const float *init) {
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
      const RowsBlockFn<Out> fn = rows == 4   ? kByBlocks<4, Out>[blocks - 1]
                                  : rows == 3 ? kByBlocks<3, Out>[blocks - 1]
                                  : rows == 2 ? kByBlocks<2, Out>[blocks - 1]
                                              : kByBlocks<1, Out>[blocks - 1];
      fn(t, plane, wc, o, oy, ox0, lastN, init);
    }
  }
}

} // namespace

void depthwiseChannelAVX512(const Conv2DShape &s, const float *plane, const float *wc, float *o,
                            const float *init) {
  channel(s, plane, wc, o, init);
}

void depthwiseChannelS8AVX512(const Conv2DShape &s, const int8_t *plane, const int8_t *wc,
                              int32_t *o, bool overwrite) {
  // The channel's image and taps widened to f32 once (exact), the f32
  // loop above summing the products, its sums stored back as int32: each
  // product is at most 2^14 in magnitude, so sums of up to 1024 taps stay
  // integers below 2^24, which f32 holds exactly (the caller keeps larger
  // kernels off this path).
  thread_local AlignedVector<float> in;
  growTo(in, s.H * s.W);
  for (int64_t iy = 0; iy < s.H; ++iy) {
    const int8_t *row = plane + iy * s.xsH;
    float *d = in.data() + iy * s.W;
    int64_t ix = 0;
    if (s.xsW == 1)
      for (; ix + 16 <= s.W; ix += 16)
        _mm512_storeu_ps(d + ix, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
                                     _mm_loadu_si128(reinterpret_cast<const __m128i *>(row + ix)))));
    for (; ix < s.W; ++ix)
      d[ix] = row[ix * s.xsW];
  }
  float taps[1024];
  for (int64_t k = 0; k < s.KH * s.KW; ++k)
    taps[k] = wc[k];
  Conv2DShape f = s;
  f.xsC = s.H * s.W;
  f.xsH = s.W;
  f.xsW = 1;
  static const float kZero = 0.0f;
  channel(f, in.data(), taps, o, overwrite ? &kZero : nullptr);
}

} // namespace quantc::rt
