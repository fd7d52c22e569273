//===- SkinnyGemmAVX2.cpp - C += A * B for a few rows of A, AVX2 + FMA ----===//
//
// Built with -mavx2 -mfma; the AVX2 counterpart of SkinnyGemmAVX512.cpp:
// four rows of B streamed across the task's columns, 8-column pieces of
// C's rows updated in place, rows of A two at a time (16 ymm registers:
// 8 broadcasts of A, 4 of B, 2 of C).
//
//===----------------------------------------------------------------------===//
#include "SkinnyGemm.h"

#include <algorithm>
#include <immintrin.h>

namespace quantc::rt {
namespace {

inline __m256i tailMask(int64_t cols) {
  alignas(32) int32_t bits[8];
  for (int i = 0; i < 8; ++i)
    bits[i] = i < cols ? -1 : 0;
  return _mm256_load_si256(reinterpret_cast<const __m256i *>(bits));
}

template <int MR, int KK>
void rows(int64_t k0, int64_t nc, Matrix A, const float *B, int64_t ldb, float *C, int64_t ldc) {
  __m256 a[MR][KK];
  for (int r = 0; r < MR; ++r)
    for (int i = 0; i < KK; ++i)
      a[r][i] = _mm256_set1_ps(A.ptr[r * A.rs + (k0 + i) * A.cs]);
  const float *b = B + k0 * ldb;
  int64_t n = 0;
  for (; n + 8 <= nc; n += 8) {
    __m256 bv[KK];
    for (int i = 0; i < KK; ++i)
      bv[i] = _mm256_loadu_ps(b + i * ldb + n);
    for (int r = 0; r < MR; ++r) {
      float *c = C + r * ldc + n;
      __m256 acc = _mm256_loadu_ps(c);
      for (int i = 0; i < KK; ++i)
        acc = _mm256_fmadd_ps(a[r][i], bv[i], acc);
      _mm256_storeu_ps(c, acc);
    }
  }
  if (n < nc) {
    __m256i mk = tailMask(nc - n);
    __m256 bv[KK];
    for (int i = 0; i < KK; ++i)
      bv[i] = _mm256_maskload_ps(b + i * ldb + n, mk);
    for (int r = 0; r < MR; ++r) {
      float *c = C + r * ldc + n;
      __m256 acc = _mm256_maskload_ps(c, mk);
      for (int i = 0; i < KK; ++i)
        acc = _mm256_fmadd_ps(a[r][i], bv[i], acc);
      _mm256_maskstore_ps(c, mk, acc);
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

void skinnyKernelAVX2(int64_t m, int64_t K, int64_t nc, Matrix A, const float *B, int64_t ldb,
                      float *C, int64_t ldc) {
  for (int64_t r = 0; r < m; r += 2) {
    Matrix a{A.ptr + r * A.rs, A.rs, A.cs};
    if (m - r >= 2)
      tiles<2>(K, nc, a, B, ldb, C + r * ldc, ldc);
    else
      tiles<1>(K, nc, a, B, ldb, C + r * ldc, ldc);
  }
}

} // namespace quantc::rt
