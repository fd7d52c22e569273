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
// of p (k butterfly stages, p log p additions; this file, plain loops the
// compiler vectorizes for the ISA of the file that includes it:
// HadamardAVX512.cpp, HadamardAVX2.cpp, the portable copy in Hadamard.cpp);
// Hadamard.cpp then mixes the blocks of a whole block of rows with one
// GEMM, F^T [m, m] x Z [m, rows * p].
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_HADAMARDROWS_H
#define QUANTC_LIB_RUNTIME_HADAMARDROWS_H

#include <cstdint>

namespace quantc::rt {

/// The fast Walsh-Hadamard transform of `count` contiguous blocks of p
/// floats (p a power of two), in place, then a scale.
using HadamardBlocksFn = void (*)(float *v, int64_t count, int64_t p, float scale);

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

/// `count` contiguous blocks of p floats, each transformed in place, then
/// scaled by `scale`.
inline void blocks(float *v, int64_t count, int64_t p, float scale) {
  for (int64_t b = 0; b < count; ++b)
    fwht(v + b * p, p);
  if (scale != 1.0f)
    for (int64_t i = 0; i < count * p; ++i)
      v[i] *= scale;
}
} // namespace
} // namespace hadamard_detail

void hadamardBlocksAVX512(float *v, int64_t count, int64_t p, float scale);
void hadamardBlocksAVX2(float *v, int64_t count, int64_t p, float scale);

} // namespace quantc::rt

#endif
