//===- SkinnyGemmAVX512.cpp - C += A * B for a few rows of A, AVX-512 -----===//
//
// Built with -mavx512f; called only when the CPU reports AVX-512F. For the
// decode-shaped products of a language model (M = 1 .. 4 rows), B is read
// once, straight from its rows (no packing, which for M = 1 would move
// every weight through memory three times). Four rows of B at a time are
// streamed across the task's columns (contiguous runs the hardware
// prefetchers follow), each 16-column piece of C's rows updated in place
// with all four: C stays in L1 (at most 4 x kSkinnyTaskCols floats), B is
// read exactly once.
//
//===----------------------------------------------------------------------===//
#include "SkinnyGemm.h"

#include <algorithm>
#include <immintrin.h>

namespace quantc::rt {
namespace {

inline __mmask16 tailMask(int64_t cols) {
  return cols >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << cols) - 1);
}

/// C[0..MR, 0..nc] += A[0..MR, k0..k0+KK] * B[k0..k0+KK, 0..nc].
template <int MR, int KK>
void rows(int64_t k0, int64_t nc, Matrix A, const float *B, int64_t ldb, float *C, int64_t ldc) {
  __m512 a[MR][KK];
  for (int r = 0; r < MR; ++r)
    for (int i = 0; i < KK; ++i)
      a[r][i] = _mm512_set1_ps(A.ptr[r * A.rs + (k0 + i) * A.cs]);
  const float *b = B + k0 * ldb;
  for (int64_t n = 0; n < nc; n += 16) {
    __mmask16 mk = tailMask(nc - n);
    __m512 bv[KK];
    for (int i = 0; i < KK; ++i)
      bv[i] = _mm512_maskz_loadu_ps(mk, b + i * ldb + n);
    for (int r = 0; r < MR; ++r) {
      float *c = C + r * ldc + n;
      __m512 acc = _mm512_maskz_loadu_ps(mk, c);
      for (int i = 0; i < KK; ++i)
        acc = _mm512_fmadd_ps(a[r][i], bv[i], acc);
      _mm512_mask_storeu_ps(c, mk, acc);
    }
  }
}

template <int MR>
void tiles(int64_t K, int64_t nc, Matrix A, const float *B, int64_t ldb, float *C, int64_t ldc) {
  int64_t k0 = 0;
  for (; k0 + 4 <= K; k0 += 4)
    rows<MR, 4>(k0, nc, A, B, ldb, C, ldc);
  for (; k0 < K; ++k0)
    rows<MR, 1>(k0, nc, A, B, ldb, C, ldc);
}
} // namespace

void skinnyKernelAVX512(int64_t m, int64_t K, int64_t nc, Matrix A, const float *B, int64_t ldb,
                        float *C, int64_t ldc) {
  switch (m) {
  case 1: return tiles<1>(K, nc, A, B, ldb, C, ldc);
  case 2: return tiles<2>(K, nc, A, B, ldb, C, ldc);
  case 3: return tiles<3>(K, nc, A, B, ldb, C, ldc);
  default: return tiles<4>(K, nc, A, B, ldb, C, ldc);
  }
}

} // namespace quantc::rt
