//===- DepthwiseAVX2.cpp - depthwise 2-D convolution, AVX2 + FMA ----------===//
//
// Built with -mavx2 -mfma; DepthwiseAVX512.cpp's loops on 8 lanes, for
// CPUs without AVX-512 (or QUANTC_CPU_KERNELS=avx2). Used when every tap
// lands in the image (the caller copies a padded plane otherwise). Eight
// outputs of a row are accumulated in one register over all taps, up to
// 3 rows x 4 blocks at once (12 accumulators of the 16 ymm registers);
// stride-2 taps are deinterleaved from two loads with a shuffle and a
// permute, larger strides gathered. int8 channels are widened to f32 once
// and summed there: each product is at most 2^14 in magnitude, so sums of
// up to 1024 taps are integers below 2^24, exact in f32.
//
//===----------------------------------------------------------------------===//
#include "AVX2Lanes.h"
#include "AlignedVector.h"
#include "quantc/Runtime/Kernels.h"

#include <algorithm>
#include <immintrin.h>
#include <type_traits>

namespace quantc::rt {

namespace {

/// The taps of one 8-output block at `base` (the block's first tap's
/// input), lanes past n zero (never read).
struct Taps8 {
  const Conv2DShape &s;
  __m256i strideIdx;
  __attribute__((always_inline)) __m256 load(const float *base, int64_t n, __m256i m) const {
    if (s.sw == 1 && s.xsW == 1)
      return n == 8 ? _mm256_loadu_ps(base) : _mm256_maskload_ps(base, m);
    if (s.sw == 2 && s.xsW == 1) {
      // Elements 0, 2, .., 2(n-1) of base: 2n-1 values over two loads.
      const int64_t span = 2 * n - 1;
      const __m256 lo = span >= 8 ? _mm256_loadu_ps(base)
                                  : _mm256_maskload_ps(base, laneMask(span));
      const __m256 hi = _mm256_maskload_ps(base + 8, laneMask(std::max<int64_t>(0, span - 8)));
      // [lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6], then its 64-bit pairs 0, 2, 1, 3.
      const __m256 even = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
      return _mm256_castpd_ps(
          _mm256_permute4x64_pd(_mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0)));
    }
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base, strideIdx,
                                    _mm256_castsi256_ps(m), 4);
  }
};

/// R output rows from oy, B blocks of 8 outputs from ox0 (the last with
/// `lastN` outputs). f32 output: the accumulators start at *init (o not
/// read) or, without it, at o's values. int32 output: they start at zero
/// and the sums, converted back (exact), overwrite o where `init` is given
/// or are added to it.
template <int R, int B, typename Out>
void rowsBlock(const Taps8 &t, const float *plane, const float *wc, Out *o, int64_t oy,
               int64_t ox0, int64_t lastN, const float *init) {
  const Conv2DShape &s = t.s;
  constexpr bool intOut = std::is_same_v<Out, int32_t>;
  __m256i mask[B];
  int64_t n[B];
  for (int b = 0; b < B; ++b) {
    n[b] = b == B - 1 ? lastN : 8;
    mask[b] = laneMask(n[b]);
  }
  __m256 acc[R][B];
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < B; ++b) {
      if constexpr (intOut)
        acc[r][b] = _mm256_setzero_ps();
      else
        acc[r][b] = init ? _mm256_set1_ps(*init)
                         : _mm256_maskload_ps(o + (oy + r) * s.OW + ox0 + 8 * b, mask[b]);
    }
  for (int64_t ky = 0; ky < s.KH; ++ky)
    for (int64_t kx = 0; kx < s.KW; ++kx) {
      const __m256 w = _mm256_set1_ps(wc[ky * s.KW + kx]);
      for (int r = 0; r < R; ++r) {
        const float *irow = plane + ((oy + r) * s.sh + ky * s.dh) * s.xsH;
        for (int b = 0; b < B; ++b)
          acc[r][b] = _mm256_fmadd_ps(
              w, t.load(irow + ((ox0 + 8 * b) * s.sw + kx * s.dw) * s.xsW, n[b], mask[b]),
              acc[r][b]);
      }
    }
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < B; ++b) {
      Out *d = o + (oy + r) * s.OW + ox0 + 8 * b;
      if constexpr (intOut) {
        __m256i v = _mm256_cvtps_epi32(acc[r][b]);
        int *p = reinterpret_cast<int *>(d);
        if (!init)
          v = _mm256_add_epi32(v, _mm256_maskload_epi32(p, mask[b]));
        _mm256_maskstore_epi32(p, mask[b], v);
      } else {
        _mm256_maskstore_ps(d, mask[b], acc[r][b]);
      }
    }
}

template <typename Out>
using RowsBlockFn = void (*)(const Taps8 &, const float *, const float *, Out *, int64_t, int64_t,
                             int64_t, const float *);

template <int R, typename Out>
constexpr RowsBlockFn<Out> kByBlocks[4] = {rowsBlock<R, 1, Out>, rowsBlock<R, 2, Out>,
                                           rowsBlock<R, 3, Out>, rowsBlock<R, 4, Out>};

template <typename Out>
void channel(const Conv2DShape &s, const float *plane, const float *wc, Out *o,
             const float *init) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const Taps8 t{s, _mm256_mullo_epi32(lanes, _mm256_set1_epi32(static_cast<int>(s.sw * s.xsW)))};
  constexpr int64_t kRows = 3, kBlocks = 4;
  for (int64_t oy = 0; oy < s.OH; oy += kRows) {
    const int64_t rows = std::min(kRows, s.OH - oy);
    for (int64_t ox0 = 0; ox0 < s.OW; ox0 += 8 * kBlocks) {
      const int64_t left = std::min(8 * kBlocks, s.OW - ox0);
      const int64_t blocks = (left + 7) / 8, lastN = left - 8 * (blocks - 1);
      const RowsBlockFn<Out> fn = rows == 3   ? kByBlocks<3, Out>[blocks - 1]
                                  : rows == 2 ? kByBlocks<2, Out>[blocks - 1]
                                              : kByBlocks<1, Out>[blocks - 1];
      fn(t, plane, wc, o, oy, ox0, lastN, init);
    }
  }
}

} // namespace

void depthwiseChannelAVX2(const Conv2DShape &s, const float *plane, const float *wc, float *o,
                          const float *init) {
  channel(s, plane, wc, o, init);
}

void depthwiseChannelS8AVX2(const Conv2DShape &s, const int8_t *plane, const int8_t *wc,
                            int32_t *o, bool overwrite) {
  thread_local AlignedVector<float> in;
  growTo(in, s.H * s.W);
  for (int64_t iy = 0; iy < s.H; ++iy) {
    const int8_t *row = plane + iy * s.xsH;
    float *d = in.data() + iy * s.W;
    int64_t ix = 0;
    if (s.xsW == 1)
      for (; ix + 8 <= s.W; ix += 8)
        _mm256_storeu_ps(d + ix, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(
                                     reinterpret_cast<const __m128i *>(row + ix)))));
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
