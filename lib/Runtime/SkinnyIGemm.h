//===- SkinnyIGemm.h - int8 C += A * B when A has a few rows ----*- C++ -*-===//
//
// The int8 twin of SkinnyGemm.h, for the decode-shaped products of
// dynamically quantized language models (one token: A is one row of int8
// activations). B's rows are read in place, once; pairs of k rows are
// widened to int16 and interleaved in registers so that one multiply-add
// of 16-bit pairs (pmaddwd) adds a[k]*b[k] + a[k+1]*b[k+1] exactly into
// 32-bit lanes (the packed GEMM's arithmetic, IGemm.h). Results equal the
// int64 sums bit for bit while they fit int32, as the packed GEMM's do.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_SKINNYIGEMM_H
#define QUANTC_LIB_RUNTIME_SKINNYIGEMM_H

#include "quantc/Runtime/Kernels.h"

namespace quantc::rt {

constexpr int64_t kSkinnyIMaxRows = 4;
/// Products of up to this many rows run the kernel on blocks of
/// kSkinnyIMaxRows rows (see igemmS8).
constexpr int64_t kSkinnyIBlockedRows = 32;

/// C[0..m, 0..nc] += A[0..m, 0..K] * B[0..K, 0..nc] for m <= 4; B's rows
/// ldb bytes apart and unit-stride; `tmp` holds m * (nc + 32) int32.
using SkinnyIKernel = void (*)(int64_t m, int64_t K, int64_t nc, MatrixS8 A, const int8_t *B,
                               int64_t ldb, int32_t *C, int64_t ldc, int32_t *tmp);
void skinnyIKernelGeneric(int64_t m, int64_t K, int64_t nc, MatrixS8 A, const int8_t *B,
                          int64_t ldb, int32_t *C, int64_t ldc, int32_t *tmp);
#ifdef QUANTC_HAVE_X86_KERNELS
void skinnyIKernelAVX2(int64_t m, int64_t K, int64_t nc, MatrixS8 A, const int8_t *B,
                       int64_t ldb, int32_t *C, int64_t ldc, int32_t *tmp);
#endif
#ifdef QUANTC_HAVE_AVX512_KERNELS
void skinnyIKernelAVX512(int64_t m, int64_t K, int64_t nc, MatrixS8 A, const int8_t *B,
                         int64_t ldb, int32_t *C, int64_t ldc, int32_t *tmp);
#endif

/// The scalar update of columns [j0, nc) (the kernels' column tails).
inline void skinnyIScalarColumns(int64_t m, int64_t K, int64_t j0, int64_t nc, MatrixS8 A,
                                 const int8_t *B, int64_t ldb, int32_t *C, int64_t ldc) {
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = j0; j < nc; ++j) {
      int32_t acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += int32_t(A.ptr[r * A.rs + k * A.cs]) * int32_t(B[k * ldb + j]);
      C[r * ldc + j] += acc;
    }
}

} // namespace quantc::rt

#endif
