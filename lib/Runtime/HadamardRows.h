//===- HadamardRows.h - the online Hadamard transform of rows ---*- C++ -*-===//
//
// y = x (F (x) S) for each row x of n = m * p floats, F an m x m factor
// (the compiler passes a Hadamard matrix of order m already scaled by
// 1/sqrt(n)), S the Sylvester matrix of order p = 2^k (S[b][d] =
// (-1)^popcount(b & d)). With i = a p + b and o = c p + d:
//
//   y[c p + d] = sum_a F[a][c] * z[a p + d],   z[a p + d] = sum_b x[a p + b] S[b][d]
//
// z is a fast Walsh-Hadamard transform of each of the m contiguous blocks
// of p (k butterfly stages, p log p additions), then F mixes the blocks as
// m x m axpys of length p. Written as plain loops that the compiler
// vectorizes for the ISA of the file that includes it (HadamardAVX512.cpp,
// HadamardAVX2.cpp, the portable copy in Hadamard.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_HADAMARDROWS_H
#define QUANTC_LIB_RUNTIME_HADAMARDROWS_H

#include <cstdint>

namespace quantc::rt {

/// Rows [r0, r1) of x (row stride xs) into y (row stride ys); `work` holds
/// n floats. F is m x m, row-major, contiguous.
using HadamardRowsFn = void (*)(const float *x, int64_t xs, float *y, int64_t ys, int64_t r0,
                                int64_t r1, int64_t n, const float *F, int64_t m, float *work);

namespace hadamard_detail {
namespace { // internal linkage: each ISA's file keeps its own copy
inline void fwht(float *__restrict v, int64_t p) {
  // Stages of half-width 1, 2: short strides, written out.
  if (p >= 4) {
    for (int64_t j = 0; j < p; j += 4) {
      float a = v[j], b = v[j + 1], c = v[j + 2], d = v[j + 3];
      float s0 = a + b, d0 = a - b, s1 = c + d, d1 = c - d;
      v[j] = s0 + s1;
      v[j + 1] = d0 + d1;
      v[j + 2] = s0 - s1;
      v[j + 3] = d0 - d1;
    }
  } else if (p == 2) {
    float a = v[0], b = v[1];
    v[0] = a + b;
    v[1] = a - b;
  }
  for (int64_t h = 4; h < p; h *= 2)
    for (int64_t j = 0; j < p; j += 2 * h) {
      float *__restrict lo = v + j;
      float *__restrict hi = v + j + h;
      for (int64_t i = 0; i < h; ++i) {
        float a = lo[i], b = hi[i];
        lo[i] = a + b;
        hi[i] = a - b;
      }
    }
}

inline void rows(const float *x, int64_t xs, float *y, int64_t ys, int64_t r0, int64_t r1,
                 int64_t n, const float *F, int64_t m, float *work) {
  const int64_t p = n / m;
  for (int64_t r = r0; r < r1; ++r) {
    const float *xr = x + r * xs;
    float *yr = y + r * ys;
    float *z = m == 1 ? yr : work;
    if (z != xr)
      for (int64_t i = 0; i < n; ++i)
        z[i] = xr[i];
    for (int64_t a = 0; a < m; ++a)
      fwht(z + a * p, p);
    if (m == 1) {
      const float f = F[0];
      for (int64_t i = 0; i < n; ++i)
        yr[i] = z[i] * f;
      continue;
    }
    for (int64_t c = 0; c < m; ++c) {
      float *__restrict out = yr + c * p;
      const float f0 = F[c];
      const float *__restrict z0 = z;
      for (int64_t d = 0; d < p; ++d)
        out[d] = f0 * z0[d];
      for (int64_t a = 1; a < m; ++a) {
        const float f = F[a * m + c];
        const float *__restrict za = z + a * p;
        for (int64_t d = 0; d < p; ++d)
          out[d] += f * za[d];
      }
    }
  }
}
} // namespace
} // namespace hadamard_detail

void hadamardRowsAVX512(const float *x, int64_t xs, float *y, int64_t ys, int64_t r0, int64_t r1,
                        int64_t n, const float *F, int64_t m, float *work);
void hadamardRowsAVX2(const float *x, int64_t xs, float *y, int64_t ys, int64_t r0, int64_t r1,
                      int64_t n, const float *F, int64_t m, float *work);

} // namespace quantc::rt

#endif
