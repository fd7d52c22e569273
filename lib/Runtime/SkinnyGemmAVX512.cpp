//===- SkinnyGemmAVX512.cpp - C += A * B for a few rows of A, AVX-512 -----===//
//
// Built with -mavx512f; called only when the CPU reports AVX-512F. For the
// decode-shaped products of a language model (M = 1 .. 4 rows), B is read
// once, straight from its rows (no packing, which for M = 1 would move
// every weight through memory three times). A tile of 64 columns of C per
// row stays in 4 zmm accumulators over all of K; B's next rows are
// prefetched.
//
//===----------------------------------------------------------------------===//
#include "SkinnyGemm.h"

#include <algorithm>
#include <immintrin.h>

namespace quantc::rt {
namespace {

template <int MR>
void tiles(int64_t K, int64_t nc, Matrix A, const float *B, int64_t ldb, float *C, int64_t ldc) {
  for (int64_t n0 = 0; n0 < nc; n0 += 64) {
    int64_t w = std::min<int64_t>(64, nc - n0);
    __mmask16 mk[4];
    for (int j = 0; j < 4; ++j) {
      int64_t cols = w - 16 * j;
      mk[j] = cols >= 16 ? 0xFFFF : cols > 0 ? static_cast<__mmask16>((1u << cols) - 1) : 0;
    }
    __m512 acc[MR][4];
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < 4; ++j)
        acc[r][j] = _mm512_setzero_ps();
    const float *b = B + n0;
    for (int64_t k = 0; k < K; ++k, b += ldb) {
      const char *next = reinterpret_cast<const char *>(b + kSkinnyPrefetchRows * ldb);
      _mm_prefetch(next, _MM_HINT_T0);
      _mm_prefetch(next + 64, _MM_HINT_T0);
      _mm_prefetch(next + 128, _MM_HINT_T0);
      _mm_prefetch(next + 192, _MM_HINT_T0);
      __m512 bv[4];
      for (int j = 0; j < 4; ++j)
        bv[j] = _mm512_maskz_loadu_ps(mk[j], b + 16 * j);
      for (int r = 0; r < MR; ++r) {
        __m512 a = _mm512_set1_ps(A.ptr[r * A.rs + k * A.cs]);
        for (int j = 0; j < 4; ++j)
          acc[r][j] = _mm512_fmadd_ps(a, bv[j], acc[r][j]);
      }
    }
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < 4; ++j) {
        float *c = C + r * ldc + n0 + 16 * j;
        if (mk[j])
          _mm512_mask_storeu_ps(c, mk[j], _mm512_add_ps(_mm512_maskz_loadu_ps(mk[j], c), acc[r][j]));
      }
  }
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
