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

#include <algorithm>

namespace quantc::rt {

constexpr int64_t kSkinnyMaxRows = 4;
/// 4-bit weights: products of up to this many rows run the skinny kernel
/// on blocks of kSkinnyMaxRows rows (see sgemmW4).
constexpr int64_t kSkinnyW4BlockedRows = 64;
/// Float weights: the same up to this many rows (see sgemm).
constexpr int64_t kSkinnyBlockedRows = 8;
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

/// The same with 4-bit weights (Int4Weights, packed bytes unit-stride
/// along N): C[0..m, n0..n0+nc] += A[0..m, 0..K] * dequant(B)[0..K,
/// n0..n0+nc], n0 even. Per group g of rows, the nibbles are summed against
/// A in float, then C += scale[g] * (sum - zp[g] * sum of A over the
/// group): the nibbles are widened in registers, never written out.
/// `tmp` holds m * nc floats.
using SkinnyW4Kernel = void (*)(int64_t m, int64_t K, int64_t n0, int64_t nc, Matrix A,
                                const Int4Weights &w, float *C, int64_t ldc, float *tmp);
void skinnyW4KernelGeneric(int64_t m, int64_t K, int64_t n0, int64_t nc, Matrix A,
                           const Int4Weights &w, float *C, int64_t ldc, float *tmp);
#ifdef QUANTC_HAVE_X86_KERNELS
void skinnyW4KernelAVX2(int64_t m, int64_t K, int64_t n0, int64_t nc, Matrix A,
                        const Int4Weights &w, float *C, int64_t ldc, float *tmp);
#endif
#ifdef QUANTC_HAVE_AVX512_KERNELS
void skinnyW4KernelAVX512(int64_t m, int64_t K, int64_t n0, int64_t nc, Matrix A,
                          const Int4Weights &w, float *C, int64_t ldc, float *tmp);
#endif

/// Shared by the W4 kernels: the scalar update of columns [j0, nc) of the
/// accumulators for rows k0 .. k1 of the group, and the group's epilogue.
inline void w4ScalarColumns(int64_t m, int64_t k0, int64_t k1, int64_t n0, int64_t j0,
                            int64_t nc, Matrix A, const Int4Weights &w, float *tmp) {
  for (int64_t k = k0; k < k1; ++k) {
    const int8_t *row = w.packed + k * w.prs;
    for (int64_t j = j0; j < nc; ++j) {
      int64_t n = n0 + j;
      uint8_t byte = static_cast<uint8_t>(row[(n / 2) * w.pcs]);
      int32_t q = (n & 1) ? byte >> 4 : byte & 15;
      if (w.isSigned && q >= 8)
        q -= 16;
      for (int64_t r = 0; r < m; ++r)
        tmp[r * nc + j] += A.ptr[r * A.rs + k * A.cs] * static_cast<float>(q);
    }
  }
}

inline void w4GroupEpilogue(int64_t m, int64_t g, int64_t k0, int64_t k1, int64_t n0, int64_t nc,
                            Matrix A, const Int4Weights &w, float *C, int64_t ldc,
                            const float *tmp) {
  for (int64_t r = 0; r < m; ++r) {
    float asum = 0.0f;
    for (int64_t k = k0; k < k1; ++k)
      asum += A.ptr[r * A.rs + k * A.cs];
    const float *srow = w.scale + g * w.srs;
    const int8_t *zrow = w.zp + g * w.zrs;
    for (int64_t j = 0; j < nc; ++j) {
      int64_t n = n0 + j;
      C[r * ldc + n] +=
          srow[n * w.scs] * (tmp[r * nc + j] - static_cast<float>(zrow[n * w.zcs]) * asum);
    }
  }
}

/// The group loop every W4 kernel shares: per group of rows, the ISA's
/// `rows4(k)` / `rows1(k)` add rows k .. k+3 / row k of the vector columns
/// [0, nv) into tmp, `finish()` puts those columns in order (a kernel that
/// accumulates them permuted), the scalar code adds the columns [nv, nc),
/// then the group's epilogue into C.
struct W4InOrder {
  void operator()() const {}
};
template <typename Rows4, typename Rows1, typename Finish = W4InOrder>
void w4Groups(int64_t m, int64_t K, int64_t n0, int64_t nv, int64_t nc, Matrix A,
              const Int4Weights &w, float *C, int64_t ldc, float *tmp, Rows4 rows4, Rows1 rows1,
              Finish finish = {}) {
  for (int64_t g0 = 0, g = 0; g0 < K; g0 += w.group, ++g) {
    int64_t g1 = std::min(K, g0 + w.group);
    std::fill(tmp, tmp + m * nc, 0.0f);
    int64_t k = g0;
    for (; nv > 0 && k + 4 <= g1; k += 4)
      rows4(k);
    for (; nv > 0 && k < g1; ++k)
      rows1(k);
    if (nv > 0)
      finish();
    if (nv < nc)
      w4ScalarColumns(m, g0, g1, n0, nv, nc, A, w, tmp);
    w4GroupEpilogue(m, g, g0, g1, n0, nc, A, w, C, ldc, tmp);
  }
}

} // namespace quantc::rt

#endif
