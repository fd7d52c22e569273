//===- SkinnyGemmAVX2.cpp - C += A * B for a few rows of A, AVX2 + FMA ----===//
//
// Built with -mavx2 -mfma; the AVX2 counterpart of SkinnyGemmAVX512.cpp:
// tiles of 32 columns in 4 ymm accumulators per row, rows two at a time
// (16 ymm registers: 8 accumulators, 4 of B, a broadcast).
//
//===----------------------------------------------------------------------===//
#include "SkinnyGemm.h"

#include <algorithm>
#include <immintrin.h>

namespace quantc::rt {
namespace {

template <int MR>
void tiles(int64_t K, int64_t nc, Matrix A, const float *B, int64_t ldb, float *C, int64_t ldc) {
  for (int64_t n0 = 0; n0 < nc; n0 += 32) {
    int64_t w = std::min<int64_t>(32, nc - n0);
    __m256i mk[4];
    for (int j = 0; j < 4; ++j) {
      int64_t cols = w - 8 * j;
      alignas(32) int32_t bits[8];
      for (int i = 0; i < 8; ++i)
        bits[i] = i < cols ? -1 : 0;
      mk[j] = _mm256_load_si256(reinterpret_cast<const __m256i *>(bits));
    }
    __m256 acc[MR][4];
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < 4; ++j)
        acc[r][j] = _mm256_setzero_ps();
    const float *b = B + n0;
    for (int64_t k = 0; k < K; ++k, b += ldb) {
      const char *next = reinterpret_cast<const char *>(b + kSkinnyPrefetchRows * ldb);
      _mm_prefetch(next, _MM_HINT_T0);
      _mm_prefetch(next + 64, _MM_HINT_T0);
      __m256 bv[4];
      if (w == 32)
        for (int j = 0; j < 4; ++j)
          bv[j] = _mm256_loadu_ps(b + 8 * j);
      else
        for (int j = 0; j < 4; ++j)
          bv[j] = _mm256_maskload_ps(b + 8 * j, mk[j]);
      for (int r = 0; r < MR; ++r) {
        __m256 a = _mm256_set1_ps(A.ptr[r * A.rs + k * A.cs]);
        for (int j = 0; j < 4; ++j)
          acc[r][j] = _mm256_fmadd_ps(a, bv[j], acc[r][j]);
      }
    }
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < 4; ++j) {
        float *c = C + r * ldc + n0 + 8 * j;
        _mm256_maskstore_ps(c, mk[j], _mm256_add_ps(_mm256_maskload_ps(c, mk[j]), acc[r][j]));
      }
  }
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
