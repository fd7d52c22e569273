//===- DirectConvTaps.h - the tap walk of the direct convolutions --*- C++ -*-===//
//
// What DirectConvAVX512.cpp and DirectConvAVX2.cpp share: for a tile of
// pixels of one output row, where each tap (ky, kx) reads (its input row,
// the input column of the tile's first pixel), and the walk over the
// taps k = (c, ky, kx) of a K slice in the GEMM's order, skipping taps
// whose row is outside the image (they add zeros).
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_DIRECTCONVTAPS_H
#define QUANTC_LIB_RUNTIME_DIRECTCONVTAPS_H

#include "quantc/Runtime/Kernels.h"

namespace quantc::rt {

/// The taps of a tile starting at output pixel (oy, ox0).
struct TapTable {
  static constexpr int64_t kMaxTaps = 64; ///< KH * KW at most (denseConvPath)
  bool inImage[kMaxTaps];                 ///< the tap's input row is in the image
  int64_t rowOff[kMaxTaps];               ///< offset of its first lane (may be < 0)
  int64_t base[kMaxTaps];                 ///< the input column of its first lane

  TapTable(const Conv2DShape &s, int64_t oy, int64_t ox0) {
    for (int64_t ky = 0; ky < s.KH; ++ky)
      for (int64_t kx = 0; kx < s.KW; ++kx) {
        int64_t t = ky * s.KW + kx;
        int64_t iy = oy * s.sh + ky * s.dh - s.padT;
        base[t] = ox0 + kx - s.padL; // unit horizontal stride and dilation
        inImage[t] = iy >= 0 && iy < s.H;
        rowOff[t] = iy * s.xsH + base[t];
      }
  }
};

/// fn(k, t, src) for the taps k in [k0, k1) whose row is in the image:
/// t = k mod (KH KW), src the input at the tile's first lane (x + c xsC +
/// rowOff[t]).
template <typename Fn>
inline void walkTaps(const Conv2DShape &s, const float *x, const TapTable &taps, int64_t k0,
                     int64_t k1, Fn &&fn) {
  const int64_t khw = s.KH * s.KW;
  int64_t c = k0 / khw, t = k0 - c * khw;
  for (int64_t k = k0; k < k1; ++k, ++t) {
    if (t == khw) {
      t = 0;
      ++c;
    }
    if (taps.inImage[t])
      fn(k, t, x + c * s.xsC + taps.rowOff[t]);
  }
}

} // namespace quantc::rt

#endif
