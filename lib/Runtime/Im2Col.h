//===- Im2Col.h - one row of a convolution's im2col matrix ------*- C++ -*-===//
//
// Shared by the float and the integer convolutions: both pack their B
// panels (the im2col matrix) straight from the image.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_IM2COL_H
#define QUANTC_LIB_RUNTIME_IM2COL_H

#include "quantc/Runtime/Kernels.h"

#include <algorithm>

namespace quantc::rt {

/// Columns n .. n+cols of the im2col row of tap (ky, kx) of one input
/// plane, written to row[0], row[Stride], ...: walked in segments along
/// one output row, each a contiguous (stride 1) or strided run of the input
/// row, with zeros where the tap falls outside the image. Columns cols ..
/// total-1 are zero-filled too (the panel's padding). Column n is output
/// pixel (oy, ox) = (n / OW, n % OW), given: the packers walk panels and
/// taps in order, and the divisions were most of a 32-column call's cost.
template <int64_t Stride, typename In, typename Out>
void im2colRowAt(const Conv2DShape &s, const In *plane, int64_t ky, int64_t kx, int64_t oy,
                 int64_t ox, int64_t cols, int64_t total, Out *row) {
  int64_t j = 0;
  const int64_t off = kx * s.dw - s.padL; // ix = ox * sw + off
  const int64_t last = s.W - 1 - off;     // ix <= W - 1  <=>  (ox + t) * sw <= last
  while (j < cols) {
    int64_t seg = std::min(cols - j, s.OW - ox);
    int64_t iy = oy * s.sh + ky * s.dh - s.padT;
    Out *out = row + j * Stride;
    if (iy < 0 || iy >= s.H) {
      for (int64_t t = 0; t < seg; ++t)
        out[t * Stride] = Out(0);
    } else {
      const In *irow = plane + iy * s.xsH;
      // In-bounds span [lo, hi) of t (no division for unit strides).
      int64_t lo, hi;
      if (s.sw == 1) {
        lo = std::clamp<int64_t>(-off - ox, 0, seg);
        hi = std::clamp<int64_t>(last + 1 - ox, lo, seg);
      } else {
        lo = off >= 0 ? 0 : std::min(seg, (-off + s.sw - 1) / s.sw - ox);
        lo = std::max<int64_t>(lo, 0);
        hi = last < 0 ? 0 : std::min(seg, last / s.sw + 1 - ox);
        hi = std::max(hi, lo);
      }
      for (int64_t t = 0; t < lo; ++t)
        out[t * Stride] = Out(0);
      if (s.sw == 1 && s.xsW == 1) {
        const In *src = irow + ox + off;
        for (int64_t t = lo; t < hi; ++t)
          out[t * Stride] = Out(src[t]);
      } else {
        const int64_t step = s.sw * s.xsW;
        const In *src = irow + (ox * s.sw + off) * s.xsW;
        for (int64_t t = lo; t < hi; ++t)
          out[t * Stride] = Out(src[t * step]);
      }
      for (int64_t t = hi; t < seg; ++t)
        out[t * Stride] = Out(0);
    }
    j += seg;
    ox = 0;
    ++oy;
  }
  for (; j < total; ++j)
    row[j * Stride] = Out(0);
}

/// im2colRowAt from column n.
template <int64_t Stride, typename In, typename Out>
void im2colRow(const Conv2DShape &s, const In *plane, int64_t ky, int64_t kx, int64_t n,
               int64_t cols, int64_t total, Out *row) {
  im2colRowAt<Stride>(s, plane, ky, kx, n / s.OW, n % s.OW, cols, total, row);
}

/// True when a convolution is a plain GEMM on the image: 1x1 kernel, unit
/// strides, no padding, dense rows.
inline bool isPointwise(const Conv2DShape &s) {
  return s.KH == 1 && s.KW == 1 && s.sh == 1 && s.sw == 1 && s.padT == 0 && s.padL == 0 &&
         s.OH == s.H && s.OW == s.W && s.xsW == 1 && s.xsH == s.W;
}

} // namespace quantc::rt

#endif
