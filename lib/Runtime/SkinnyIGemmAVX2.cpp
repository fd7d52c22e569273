//===- SkinnyIGemmAVX2.cpp - int8 skinny products, AVX2 -------------------===//
//
// Built with -mavx2; the AVX2 counterpart of SkinnyIGemmAVX512.cpp with 16
// columns per step: lanes of columns {0-3, 8-11} (unpacklo) and {4-7,
// 12-15} (unpackhi), put back in column order at the end.
//
//===----------------------------------------------------------------------===//
#include "SkinnyIGemm.h"

#include <algorithm>
#include <cstring>
#include <immintrin.h>

namespace quantc::rt {
namespace {

constexpr int64_t kPrefetchRows = 16;

inline __m256i widen16(const int8_t *p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}

inline __m256i pairOf(MatrixS8 A, int64_t r, int64_t k, bool second) {
  int16_t a0 = A.ptr[r * A.rs + k * A.cs];
  int16_t a1 = second ? A.ptr[r * A.rs + (k + 1) * A.cs] : 0;
  return _mm256_set1_epi32(static_cast<int32_t>(static_cast<uint16_t>(a0)) |
                           (static_cast<int32_t>(a1) << 16));
}

template <int MR, int PAIRS>
void pairs(int64_t k0, int64_t K, int64_t nv, MatrixS8 A, const int8_t *B, int64_t ldb,
           int32_t *tmp, int64_t ldt) {
  __m256i a[MR][PAIRS];
  for (int r = 0; r < MR; ++r)
    for (int p = 0; p < PAIRS; ++p)
      a[r][p] = pairOf(A, r, k0 + 2 * p, k0 + 2 * p + 1 < K);
  for (int64_t j = 0; j < nv; j += 16) {
    __m256i lo[PAIRS], hi[PAIRS];
    for (int p = 0; p < PAIRS; ++p) {
      int64_t k = k0 + 2 * p;
      if (j % 64 == 0) { // the same piece of rows further down (see the AVX-512 kernel)
        _mm_prefetch(reinterpret_cast<const char *>(B + (k + kPrefetchRows) * ldb + j), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char *>(B + (k + 1 + kPrefetchRows) * ldb + j),
                     _MM_HINT_T0);
      }
      __m256i r0 = widen16(B + k * ldb + j);
      __m256i r1 = k + 1 < K ? widen16(B + (k + 1) * ldb + j) : _mm256_setzero_si256();
      lo[p] = _mm256_unpacklo_epi16(r0, r1);
      hi[p] = _mm256_unpackhi_epi16(r0, r1);
    }
    for (int r = 0; r < MR; ++r) {
      int32_t *t = tmp + r * ldt + j;
      __m256i accLo = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(t));
      __m256i accHi = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(t + 8));
      for (int p = 0; p < PAIRS; ++p) {
        accLo = _mm256_add_epi32(accLo, _mm256_madd_epi16(lo[p], a[r][p]));
        accHi = _mm256_add_epi32(accHi, _mm256_madd_epi16(hi[p], a[r][p]));
      }
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(t), accLo);
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(t + 8), accHi);
    }
  }
}

template <int MR>
void tiles(int64_t K, int64_t nc, MatrixS8 A, const int8_t *B, int64_t ldb, int32_t *C,
           int64_t ldc, int32_t *tmp) {
  int64_t nv = nc / 16 * 16, ldt = nv;
  std::memset(tmp, 0, sizeof(int32_t) * MR * ldt);
  int64_t k = 0;
  for (; k + 4 <= K; k += 4)
    pairs<MR, 2>(k, K, nv, A, B, ldb, tmp, ldt);
  for (; k < K; k += 2)
    pairs<MR, 1>(k, K, nv, A, B, ldb, tmp, ldt);
  // lo = [c0-3 | c8-11], hi = [c4-7 | c12-15] -> [c0-7], [c8-15].
  for (int r = 0; r < MR; ++r)
    for (int64_t j = 0; j < nv; j += 16) {
      __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(tmp + r * ldt + j));
      __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(tmp + r * ldt + j + 8));
      int32_t *c = C + r * ldc + j;
      __m256i c0 = _mm256_permute2x128_si256(lo, hi, 0x20);
      __m256i c1 = _mm256_permute2x128_si256(lo, hi, 0x31);
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(c),
                          _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<__m256i *>(c)), c0));
      _mm256_storeu_si256(
          reinterpret_cast<__m256i *>(c + 8),
          _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<__m256i *>(c + 8)), c1));
    }
  if (nv < nc)
    skinnyIScalarColumns(MR, K, nv, nc, A, B, ldb, C, ldc);
}
} // namespace

void skinnyIKernelAVX2(int64_t m, int64_t K, int64_t nc, MatrixS8 A, const int8_t *B,
                       int64_t ldb, int32_t *C, int64_t ldc, int32_t *tmp) {
  for (int64_t r = 0; r < m; r += 2) {
    MatrixS8 a{A.ptr + r * A.rs, A.rs, A.cs};
    if (m - r >= 2)
      tiles<2>(K, nc, a, B, ldb, C + r * ldc, ldc, tmp);
    else
      tiles<1>(K, nc, a, B, ldb, C + r * ldc, ldc, tmp);
  }
}

} // namespace quantc::rt
