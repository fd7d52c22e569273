//===- ConvKernels.cpp - 2-D convolutions ---------------------------------===//
//
// A grouped-by-one convolution is a GEMM: out[M x OH*OW] = W[M x C*KH*KW] *
// col[C*KH*KW x OH*OW]. The col matrix (im2col) is never built: its panels
// are packed straight from the image, out-of-image taps reading zero.
// Depthwise convolutions run per channel, vectorized along output rows.
//
//===----------------------------------------------------------------------===//
#include "AlignedVector.h"
#include "GemmDriver.h"
#include "Im2Col.h"
#include "quantc/Runtime/ThreadPool.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

namespace quantc::rt {

/// Convolutions keep 256-deep K slices (the matmuls' even ~192 split,
/// SGemm.cpp, changed the order of their sums, and quantized conv models,
/// whose exported QDQ graphs scripts/check_export.py compares with ONNX
/// Runtime to 1e-4, then requantized a few activations one step apart).
constexpr int64_t kConvSliceK = 256;
#ifdef QUANTC_HAVE_AVX512_KERNELS
void depthwiseChannelAVX512(const Conv2DShape &s, const float *plane, const float *wc, float *o,
                            const float *init);
void depthwiseChannelS8AVX512(const Conv2DShape &s, const int8_t *plane, const int8_t *wc,
                              int32_t *o, bool overwrite);
void directConvRowAVX512(const Conv2DShape &s, const float *x, const float *wt, int64_t mcount,
                         float *out, int64_t oy, int64_t sliceK);
#endif
#ifdef QUANTC_HAVE_X86_KERNELS
void depthwiseChannelAVX2(const Conv2DShape &s, const float *plane, const float *wc, float *o,
                          const float *init);
void depthwiseChannelS8AVX2(const Conv2DShape &s, const int8_t *plane, const int8_t *wc,
                            int32_t *o, bool overwrite);
void directConvRowAVX2(const Conv2DShape &s, const float *x, const float *wt, int64_t mcount,
                       float *out, int64_t oy, int64_t sliceK);
#endif
namespace {

class Im2ColPacker : public BPacker {
public:
  Im2ColPacker(const Conv2DShape &s, const float *x) : s(s), x(x) {}

  void pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, float *dst) const override {
    const int64_t khw = s.KH * s.KW;
    // Panels of kNR columns; in each, the taps k0 .. k0+kc in order, the
    // tap (c, ky, kx) and the panel's first pixel carried without divisions.
    const int64_t c0 = k0 / khw, ky0 = (k0 % khw) / s.KW, kx0 = k0 % s.KW;
    for (int64_t p = 0; p < nc; p += kNR) {
      int64_t cols = std::min(kNR, nc - p);
      float *d = dst + p * kc;
      const int64_t oy = (n0 + p) / s.OW, ox = (n0 + p) % s.OW;
      int64_t c = c0, ky = ky0, kx = kx0;
      for (int64_t k = 0; k < kc; ++k) {
        im2colRowAt<1>(s, x + c * s.xsC, ky, kx, oy, ox, cols, kNR, d + k * kNR);
        if (++kx == s.KW) {
          kx = 0;
          if (++ky == s.KH) {
            ky = 0;
            ++c;
          }
        }
      }
    }
  }

private:
  Conv2DShape s;
  const float *x;
};

} // namespace

void conv2dGemm(const Conv2DShape &s, const float *x, const float *w, float *out, bool overwrite,
                const float *bias) {
  int64_t K = s.C * s.KH * s.KW, N = s.OH * s.OW;
  Matrix A{w, K, 1};
  if (isPointwise(s)) {
    // 1x1: the image itself is the col matrix.
    gemmWithPacker(s.M, N, K, A, DenseBPacker(Matrix{x, s.xsC, 1}), out, N, nullptr, overwrite,
                   kConvSliceK, overwrite ? bias : nullptr);
    return;
  }
  gemmWithPacker(s.M, N, K, A, Im2ColPacker(s, x), out, N, nullptr, overwrite, kConvSliceK,
                 overwrite ? bias : nullptr);
}

/// Whether dense convolutions may take AVX-512 kernels (and depthwise
/// ones): the CPU has AVX-512F and QUANTC_CPU_KERNELS does not cap it.
static bool convUsesAVX512() {
#ifdef QUANTC_HAVE_AVX512_KERNELS
  __builtin_cpu_init();
  const char *cap = getenv("QUANTC_CPU_KERNELS");
  std::string limit = cap ? cap : "";
  return limit != "generic" && limit != "avx2" && __builtin_cpu_supports("avx512f") != 0;
#else
  return false;
#endif
}

/// Whether dense convolutions may take the AVX2 + FMA direct kernel: the
/// CPU has them and QUANTC_CPU_KERNELS is not "generic".
static bool convUsesAVX2() {
#ifdef QUANTC_HAVE_X86_KERNELS
  __builtin_cpu_init();
  const char *cap = getenv("QUANTC_CPU_KERNELS");
  std::string limit = cap ? cap : "";
  return limit != "generic" && __builtin_cpu_supports("avx2") != 0 &&
         __builtin_cpu_supports("fma") != 0;
#else
  return false;
#endif
}

const char *denseConvPath(const Conv2DShape &s) {
  static const bool avx512 = convUsesAVX512(), avx2 = convUsesAVX2();
  bool direct = s.M <= 48 && s.sw == 1 && s.dw == 1 && s.xsW == 1 && s.KH * s.KW > 1 &&
                s.KH * s.KW <= 64 && s.OW >= 16;
  if (!direct)
    return "im2col-gemm";
  return avx512 ? "direct-avx512" : avx2 ? "direct-avx2" : "im2col-gemm";
}

const char *denseConvKernelName() {
  Conv2DShape probe{};
  probe.C = 1; probe.H = probe.W = probe.OH = probe.OW = 16; probe.M = 1;
  probe.KH = probe.KW = 3; probe.sh = probe.sw = probe.dh = probe.dw = 1;
  probe.xsC = 256; probe.xsH = 16; probe.xsW = 1;
  return denseConvPath(probe);
}

void conv2d(const Conv2DShape &s, const float *x, const float *w, float *out, bool overwrite,
            const float *bias) {
#ifdef QUANTC_HAVE_X86_KERNELS
  const std::string path = denseConvPath(s);
  if (path != "im2col-gemm") {
    // Weights in blocks of B channels (12 for AVX-512, 6 for AVX2),
    // tap-major: block b's tap k is wt[(b * K + k) * B + i] for channel
    // B b + i (zero past M).
    const bool wide = path == "direct-avx512";
    const int64_t B = wide ? 12 : 6;
    const int64_t K = s.C * s.KH * s.KW, blocks = (s.M + B - 1) / B, plane = s.OH * s.OW;
    std::vector<float> wt(blocks * K * B, 0.0f);
    for (int64_t m = 0; m < s.M; ++m)
      for (int64_t k = 0; k < K; ++k)
        wt[((m / B) * K + k) * B + m % B] = w[m * K + k];
    parallelFor(blocks * s.OH, [&](int64_t task) {
      int64_t b = task / s.OH, oy = task % s.OH;
      const float *wb = wt.data() + b * K * B;
      int64_t mcount = std::min<int64_t>(B, s.M - b * B);
      float *ob = out + b * B * plane;
      // An overwritten output row starts at its channel's bias (or zero)
      // in the task that then adds the taps into it.
      if (overwrite)
        for (int64_t i = 0; i < mcount; ++i)
          std::fill(ob + i * plane + oy * s.OW, ob + i * plane + (oy + 1) * s.OW,
                    bias ? bias[b * B + i] : 0.0f);
#ifdef QUANTC_HAVE_AVX512_KERNELS
      if (wide) {
        directConvRowAVX512(s, x, wb, mcount, ob, oy, kConvSliceK);
        return;
      }
#endif
      directConvRowAVX2(s, x, wb, mcount, ob, oy, kConvSliceK);
    });
    return;
  }
#endif
  conv2dGemm(s, x, w, out, overwrite, bias);
}

namespace {
/// One channel; cloned for AVX-512 and AVX2 so the row loops vectorize.
__attribute__((target_clones("avx512f", "avx2", "default"))) void
depthwiseChannel(const Conv2DShape &s, const float *plane, const float *wc, float *o) {
    for (int64_t oy = 0; oy < s.OH; ++oy) {
      float *orow = o + oy * s.OW;
      for (int64_t ky = 0; ky < s.KH; ++ky) {
        int64_t iy = oy * s.sh + ky * s.dh - s.padT;
        if (iy < 0 || iy >= s.H)
          continue;
        const float *irow = plane + iy * s.xsH;
        for (int64_t kx = 0; kx < s.KW; ++kx) {
          float wv = wc[ky * s.KW + kx];
          // Output columns whose tap lands inside the row.
          int64_t off = kx * s.dw - s.padL;
          int64_t lo = off >= 0 ? 0 : (-off + s.sw - 1) / s.sw;
          int64_t hi = s.W - 1 - off < 0 ? 0 : std::min(s.OW, (s.W - 1 - off) / s.sw + 1);
          if (s.sw == 1 && s.xsW == 1) {
            const float *src = irow + off;
            for (int64_t ox = lo; ox < hi; ++ox)
              orow[ox] += wv * src[ox];
          } else {
            for (int64_t ox = lo; ox < hi; ++ox)
              orow[ox] += wv * irow[(ox * s.sw + off) * s.xsW];
          }
        }
      }
    }
}
} // namespace

namespace {
/// The vector loops for one depthwise channel (DepthwiseAVX512.cpp,
/// DepthwiseAVX2.cpp), the widest the CPU has under QUANTC_CPU_KERNELS;
/// null where there are none (the portable loop runs).
struct DepthwiseLoops {
  const char *name = "generic";
  void (*f32)(const Conv2DShape &, const float *, const float *, float *,
              const float *) = nullptr;
  void (*s8)(const Conv2DShape &, const int8_t *, const int8_t *, int32_t *, bool) = nullptr;
};

const DepthwiseLoops &depthwiseLoops() {
  static const DepthwiseLoops loops = [] {
    DepthwiseLoops l;
#ifdef QUANTC_HAVE_AVX512_KERNELS
    if (convUsesAVX512())
      return DepthwiseLoops{"avx512", depthwiseChannelAVX512, depthwiseChannelS8AVX512};
#endif
#ifdef QUANTC_HAVE_X86_KERNELS
    if (convUsesAVX2())
      return DepthwiseLoops{"avx2", depthwiseChannelAVX2, depthwiseChannelS8AVX2};
#endif
    return l;
  }();
  return loops;
}
} // namespace

/// Which vector loops depthwise convolutions take (when every tap is in
/// bounds, or after a padded copy for f32; the rest run the portable loop).
const char *depthwiseKernelName() { return depthwiseLoops().name; }

namespace {
/// Whether every tap of every output lands inside the image (no implicit
/// padding): the vector depthwise loops read the image as it is.
bool tapsInImage(const Conv2DShape &s) {
  return s.padT == 0 && s.padL == 0 && (s.OH - 1) * s.sh + (s.KH - 1) * s.dh < s.H &&
         (s.OW - 1) * s.sw + (s.KW - 1) * s.dw < s.W;
}
} // namespace

void depthwiseConv2d(const Conv2DShape &s, const float *x, const float *w, float *out,
                     bool overwrite, const float *bias) {
  static const float kZero = 0.0f;
  // QUANTC_CPU_KERNELS=generic|avx2 caps this choice as it caps the GEMMs'
  // (an AVX2-only run on an AVX-512 machine).
  const auto vec = depthwiseLoops().f32;
  const bool fast = vec && tapsInImage(s);
  // Taps outside the image (implicit zero padding): each channel is
  // copied into a zero-padded plane of the extent its taps reach (per
  // thread, small: it stays in L1/L2) and the vector loop runs on that;
  // compiled models pass their small f32 pads this way
  // (quantc-cpu-kernel-calls) instead of filling and copying a padded
  // buffer of the whole tensor.
  const bool padCopy = !fast && vec && s.padT >= 0 && s.padL >= 0;
  parallelFor(s.C, [&](int64_t c) {
    // An overwritten channel starts at its bias (or zero): the vector
    // loop's accumulators are set to it, the portable one's plane filled.
    const float *init = !overwrite ? nullptr : bias ? bias + c : &kZero;
    float *o = out + c * s.OH * s.OW;
    if (fast) {
      vec(s, x + c * s.xsC, w + c * s.KH * s.KW, o, init);
      return;
    }
    if (padCopy) {
      Conv2DShape f = s;
      f.H = (s.OH - 1) * s.sh + (s.KH - 1) * s.dh + 1;
      f.W = (s.OW - 1) * s.sw + (s.KW - 1) * s.dw + 1;
      f.padT = f.padL = 0;
      f.xsC = f.H * f.W;
      f.xsH = f.W;
      f.xsW = 1;
      thread_local AlignedVector<float> plane;
      growTo(plane, f.H * f.W);
      std::fill(plane.data(), plane.data() + f.H * f.W, 0.0f);
      const float *xc = x + c * s.xsC;
      const int64_t cols = std::min(s.W, f.W - s.padL);
      for (int64_t iy = 0; cols > 0 && iy < s.H && iy + s.padT < f.H; ++iy) {
        float *d = plane.data() + (iy + s.padT) * f.W + s.padL;
        const float *r = xc + iy * s.xsH;
        if (s.xsW == 1)
          std::copy(r, r + cols, d);
        else
          for (int64_t ix = 0; ix < cols; ++ix)
            d[ix] = r[ix * s.xsW];
      }
      vec(f, plane.data(), w + c * s.KH * s.KW, o, init);
      return;
    }
    if (init)
      std::fill(o, o + s.OH * s.OW, *init);
    depthwiseChannel(s, x + c * s.xsC, w + c * s.KH * s.KW, o);
  });
}

namespace {
/// depthwiseConv2dS8 and depthwiseConv2dS8Epilogue: out (+)= the product,
/// or with `epi`, each channel's plane into a thread-local buffer handed
/// to it (out unused).
void depthwiseConv2dS8Impl(const Conv2DShape &s, const int8_t *x, const int8_t *w,
                           int32_t *out, bool overwrite, const Epilogue *epi) {
  overwrite = overwrite || epi;
  const int64_t taps = s.KH * s.KW, plane = s.OH * s.OW;
  // f32 sums are exact up to 1024 taps (DepthwiseAVX512.cpp,
  // DepthwiseAVX2.cpp); every tap in bounds, as for the f32 kernel.
  const auto vec = depthwiseLoops().s8;
  const bool fast = vec && taps <= 1024 && tapsInImage(s);
  parallelFor(s.C, [&](int64_t c) {
    const int8_t *xc = x + c * s.xsC, *wc = w + c * taps;
    thread_local AlignedVector<int32_t> own;
    if (epi)
      growTo(own, plane);
    int32_t *o = epi ? own.data() : out + c * plane;
    auto done = [&] {
      if (epi)
        (*epi)(o, plane, c, c + 1, 0, plane);
    };
    if (fast) {
      vec(s, xc, wc, o, overwrite);
      done();
      return;
    }
    // Portable: int32 products and sums, taps outside the image skipped.
    for (int64_t oy = 0; oy < s.OH; ++oy)
      for (int64_t ox = 0; ox < s.OW; ++ox) {
        int32_t acc = overwrite ? 0 : o[oy * s.OW + ox];
        for (int64_t ky = 0; ky < s.KH; ++ky) {
          const int64_t iy = oy * s.sh + ky * s.dh - s.padT;
          if (iy < 0 || iy >= s.H)
            continue;
          for (int64_t kx = 0; kx < s.KW; ++kx) {
            const int64_t ix = ox * s.sw + kx * s.dw - s.padL;
            if (ix >= 0 && ix < s.W)
              acc += int32_t(wc[ky * s.KW + kx]) * int32_t(xc[iy * s.xsH + ix * s.xsW]);
          }
        }
        o[oy * s.OW + ox] = acc;
      }
    done();
  });
}
} // namespace

void depthwiseConv2dS8(const Conv2DShape &s, const int8_t *x, const int8_t *w, int32_t *out,
                       bool overwrite) {
  depthwiseConv2dS8Impl(s, x, w, out, overwrite, nullptr);
}

void depthwiseConv2dS8Epilogue(const Conv2DShape &s, const int8_t *x, const int8_t *w,
                               const Epilogue &epi) {
  depthwiseConv2dS8Impl(s, x, w, nullptr, true, &epi);
}

} // namespace quantc::rt
