//===- SkinnyGemmAVX2.cpp - C += A * B for a few rows of A, AVX2 + FMA ----===//
//
// Built with -mavx2 -mfma; the AVX2 counterpart of SkinnyGemmAVX512.cpp:
// four rows of B streamed across the task's columns, 8-column pieces of
// C's rows updated in place, rows of A two at a time (16 ymm registers:
// 8 broadcasts of A, 4 of B, 2 of C). 4-bit weights the same way, 8
// nibbles widened per step.
//
//===----------------------------------------------------------------------===//
#include "SkinnyGemm.h"

#include <algorithm>
#include <cstring>
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
/// 16 nibbles (8 bytes, low nibble first) as two vectors of floats: the
/// even columns (low nibbles) and the odd ones (high nibbles), half the
/// instructions per weight of interleaving the bytes first; the
/// accumulators hold each 16 columns as 8 even then 8 odd ones until
/// w4Deinterleave puts them in order.
inline void nibbles16(const int8_t *p, bool isSigned, __m256 &even, __m256 &odd) {
  __m128i x = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(p));
  __m128i lo = _mm_and_si128(x, _mm_set1_epi8(15));
  __m128i hi = _mm_and_si128(_mm_srli_epi16(x, 4), _mm_set1_epi8(15));
  if (isSigned) { // q >= 8 means q - 16: (q ^ 8) - 8, then sign-extended
    lo = _mm_sub_epi8(_mm_xor_si128(lo, _mm_set1_epi8(8)), _mm_set1_epi8(8));
    hi = _mm_sub_epi8(_mm_xor_si128(hi, _mm_set1_epi8(8)), _mm_set1_epi8(8));
    even = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
    odd = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
  } else {
    even = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo));
    odd = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi));
  }
}

template <int MR, int KK>
void w4Rows(int64_t k0, int64_t n0, int64_t nv, int64_t nc, Matrix A, const Int4Weights &w,
            float *tmp) {
  __m256 a[MR][KK];
  for (int r = 0; r < MR; ++r)
    for (int i = 0; i < KK; ++i)
      a[r][i] = _mm256_set1_ps(A.ptr[r * A.rs + (k0 + i) * A.cs]);
  const int8_t *row = w.packed + k0 * w.prs + n0 / 2;
  for (int64_t j = 0; j < nv; j += 16) {
    __m256 qe[KK], qo[KK];
    for (int i = 0; i < KK; ++i) {
      if (j % 128 == 0) // a task's piece of a row is short: prefetch rows ahead
        _mm_prefetch(reinterpret_cast<const char *>(row + (i + 16) * w.prs + j / 2), _MM_HINT_T0);
      nibbles16(row + i * w.prs + j / 2, w.isSigned, qe[i], qo[i]);
    }
    for (int r = 0; r < MR; ++r) {
      float *t = tmp + r * nc + j;
      __m256 ae = _mm256_loadu_ps(t), ao = _mm256_loadu_ps(t + 8);
      for (int i = 0; i < KK; ++i) {
        ae = _mm256_fmadd_ps(a[r][i], qe[i], ae);
        ao = _mm256_fmadd_ps(a[r][i], qo[i], ao);
      }
      _mm256_storeu_ps(t, ae);
      _mm256_storeu_ps(t + 8, ao);
    }
  }
}

/// Each 16 columns [0, nv) of tmp's m rows from (8 even, 8 odd) to in
/// order.
void w4Deinterleave(int64_t m, int64_t nv, int64_t nc, float *tmp) {
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < nv; j += 16) {
      float *t = tmp + r * nc + j;
      __m256 e = _mm256_loadu_ps(t), o = _mm256_loadu_ps(t + 8);
      __m256 lo = _mm256_unpacklo_ps(e, o), hi = _mm256_unpackhi_ps(e, o);
      _mm256_storeu_ps(t, _mm256_permute2f128_ps(lo, hi, 0x20));
      _mm256_storeu_ps(t + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    }
}

/// Rows two at a time (8 broadcasts of A, 8 vectors of nibbles, 2
/// accumulators).
template <int MR>
void w4Tiles(int64_t K, int64_t n0, int64_t nc, Matrix A, const Int4Weights &w, float *C,
             int64_t ldc, float *tmp) {
  int64_t nv = nc / 16 * 16; // vector columns; the rest scalar
  w4Groups(MR, K, n0, nv, nc, A, w, C, ldc, tmp,
           [&](int64_t k) { w4Rows<MR, 4>(k, n0, nv, nc, A, w, tmp); },
           [&](int64_t k) { w4Rows<MR, 1>(k, n0, nv, nc, A, w, tmp); },
           [&] { w4Deinterleave(MR, nv, nc, tmp); });
}
} // namespace

void skinnyW4KernelAVX2(int64_t m, int64_t K, int64_t n0, int64_t nc, Matrix A,
                        const Int4Weights &w, float *C, int64_t ldc, float *tmp) {
  for (int64_t r = 0; r < m; r += 2) {
    Matrix a{A.ptr + r * A.rs, A.rs, A.cs};
    if (m - r >= 2)
      w4Tiles<2>(K, n0, nc, a, w, C + r * ldc, ldc, tmp);
    else
      w4Tiles<1>(K, n0, nc, a, w, C + r * ldc, ldc, tmp);
  }
}

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
