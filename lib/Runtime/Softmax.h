//===- Softmax.h - the attention kernel's row softmax -----------*- C++ -*-===//
//
// Written as plain loops over 16 lanes that the compiler vectorizes for
// the ISA of the file that includes it (SoftmaxAVX512.cpp, SoftmaxAVX2.cpp
// and the portable copy in Attention.cpp); the CPU picks one at run time.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_SOFTMAX_H
#define QUANTC_LIB_RUNTIME_SOFTMAX_H

#include <cstdint>
#include <cstring>
#include <limits>

namespace quantc::rt {

/// x[i] = softmax(scale * x + mask)[i] over one row of n scores. mask is
/// null, or read at mask[i * maskStride] (stride 0: one value for the row).
using SoftmaxRowFn = void (*)(float *x, int64_t n, float scale, const float *mask,
                              int64_t maskStride);

namespace softmax_detail {
namespace { // internal linkage: each ISA's file keeps its own copy
/// e^x for x <= 0 (x - max of a row), 0 below -87.3 (and for -inf):
/// Cody-Waite reduction x = n ln2 + r, |r| <= ln2 / 2, and Cephes' degree-6
/// polynomial of expf; about 2 ulp. Branch-free, so loops of it vectorize.
inline float expNonPositive(float x) {
  float xc = x < -87.33654f ? -87.33654f : x;
  xc = xc > 0.0f ? 0.0f : xc;
  float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; // round to nearest
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float s;
  std::memcpy(&s, &bits, sizeof s);
  float y = p * s;
  return x < -87.33654f ? 0.0f : y;
}

constexpr int kLanes = 16;

inline void softmaxRow(float *x, int64_t n, float scale, const float *mask, int64_t ms) {
  if (n <= 0)
    return;
  if (!mask) {
    for (int64_t i = 0; i < n; ++i)
      x[i] *= scale;
  } else if (ms == 1) {
    for (int64_t i = 0; i < n; ++i)
      x[i] = x[i] * scale + mask[i];
  } else {
    for (int64_t i = 0; i < n; ++i)
      x[i] = x[i] * scale + mask[i * ms];
  }
  // Rows shorter than a few lanes' worth are common (the keys a padding
  // mask leaves visible): the last partial group of lanes goes through a
  // local group padded with -inf (no effect on the max, e^-inf = 0 in the
  // sum), so that it runs in the same vector loop instead of scalar code.
  const int64_t full = n / kLanes * kLanes, rem = n - full;
  alignas(64) float tail[kLanes];
  for (int l = 0; l < kLanes; ++l)
    tail[l] = l < rem ? x[full + l] : -std::numeric_limits<float>::infinity();
  float mx[kLanes];
  for (int l = 0; l < kLanes; ++l)
    mx[l] = tail[l];
  for (int64_t i = 0; i < full; i += kLanes)
    for (int l = 0; l < kLanes; ++l)
      mx[l] = x[i + l] > mx[l] ? x[i + l] : mx[l];
  float m = -std::numeric_limits<float>::infinity();
  for (int l = 0; l < kLanes; ++l)
    m = mx[l] > m ? mx[l] : m;
  if (m == -std::numeric_limits<float>::infinity())
    m = 0.0f; // every score masked out: all terms below become 0 / 0
  float sum[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    tail[l] = expNonPositive(tail[l] - m);
    sum[l] = tail[l];
  }
  for (int64_t i = 0; i < full; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      float e = expNonPositive(x[i + l] - m);
      x[i + l] = e;
      sum[l] += e;
    }
  float s = 0.0f;
  for (int l = 0; l < kLanes; ++l)
    s += sum[l];
  for (int64_t l = 0; l < rem; ++l)
    x[full + l] = tail[l];
  float inv = 1.0f / s;
  for (int64_t i = 0; i < n; ++i)
    x[i] *= inv;
}
} // namespace
} // namespace softmax_detail

void softmaxRowGeneric(float *x, int64_t n, float scale, const float *mask, int64_t ms);
#ifdef QUANTC_HAVE_X86_KERNELS
void softmaxRowAVX2(float *x, int64_t n, float scale, const float *mask, int64_t ms);
#endif
#ifdef QUANTC_HAVE_AVX512_KERNELS
void softmaxRowAVX512(float *x, int64_t n, float scale, const float *mask, int64_t ms);
#endif

} // namespace quantc::rt

#endif
