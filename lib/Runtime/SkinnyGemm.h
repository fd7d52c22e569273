//===- SkinnyGemm.h - C += A * B when A has a few rows ----------*- C++ -*-===//
//
// Matrix products with M <= kSkinnyMaxRows (a language model decoding one
// token: every weight MatMul is a vector times a matrix) are bound by
// reading B. The packed GEMM driver would copy B into panels first and
// compute 8 rows where one is real; these kernels read B's rows in place,
// once, in long contiguous runs.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_SKINNYGEMM_H
#define QUANTC_LIB_RUNTIME_SKINNYGEMM_H

#include "quantc/Runtime/Kernels.h"

namespace quantc::rt {

constexpr int64_t kSkinnyMaxRows = 4;
/// At most this many columns of C per task of the thread pool (the rows
/// of C a task updates stay in L1).
constexpr int64_t kSkinnyTaskCols = 1024;

/// C[0..m, 0..nc] += A[0..m, 0..K] * B[0..K, 0..nc] for m <= kSkinnyMaxRows;
/// B's rows are ldb floats apart and unit-stride; C's rows ldc apart.
using SkinnyKernel = void (*)(int64_t m, int64_t K, int64_t nc, Matrix A, const float *B,
                              int64_t ldb, float *C, int64_t ldc);
void skinnyKernelGeneric(int64_t m, int64_t K, int64_t nc, Matrix A, const float *B, int64_t ldb,
                         float *C, int64_t ldc);
#ifdef QUANTC_HAVE_X86_KERNELS
void skinnyKernelAVX2(int64_t m, int64_t K, int64_t nc, Matrix A, const float *B, int64_t ldb,
                      float *C, int64_t ldc);
#endif
#ifdef QUANTC_HAVE_AVX512_KERNELS
void skinnyKernelAVX512(int64_t m, int64_t K, int64_t nc, Matrix A, const float *B, int64_t ldb,
                        float *C, int64_t ldc);
#endif

} // namespace quantc::rt

#endif
