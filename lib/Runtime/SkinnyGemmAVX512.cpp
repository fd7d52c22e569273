//===- SkinnyGemmAVX512.cpp - C += A * B for a few rows of A, AVX-512 -----===//
//
// Built with -mavx512f; called only when the CPU reports AVX-512F. For the
// decode-shaped products of a language model (M = 1 .. 4 rows), B is read
// once, straight from its rows (no packing, which for M = 1 would move
// every weight through memory three times). Four rows of B at a time are
// streamed across the task's columns (contiguous runs the hardware
// prefetchers follow), each 16-column piece of C's rows updated in place
// with all four: C stays in L1 (at most 4 x kSkinnyTaskCols floats), B is
// read exactly once. 4-bit weights the same way, widened in registers.
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
/// Rows of packed nibbles ahead to prefetch: a task's piece of a row is a
/// cache line or two, too short for the hardware prefetchers.
constexpr int64_t kW4PrefetchRows = 16;

/// 32 nibbles (16 bytes, low nibble first) as two vectors of floats: the
/// even columns (low nibbles) and the odd ones (high nibbles). Splitting
/// by nibble instead of interleaving the bytes first takes half the
/// instructions per weight; the accumulators hold each 32 columns as 16
/// even then 16 odd ones until w4Deinterleave puts them in order.
inline void nibbles32(const int8_t *p, bool isSigned, __m512 &even, __m512 &odd) {
  __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
  __m128i lo = _mm_and_si128(x, _mm_set1_epi8(15));
  __m128i hi = _mm_and_si128(_mm_srli_epi16(x, 4), _mm_set1_epi8(15));
  if (isSigned) { // q >= 8 means q - 16: (q ^ 8) - 8, then sign-extended
    lo = _mm_sub_epi8(_mm_xor_si128(lo, _mm_set1_epi8(8)), _mm_set1_epi8(8));
    hi = _mm_sub_epi8(_mm_xor_si128(hi, _mm_set1_epi8(8)), _mm_set1_epi8(8));
    even = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(lo));
    odd = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(hi));
  } else {
    even = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(lo));
    odd = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(hi));
  }
}

template <int MR, int KK>
void w4Rows(int64_t k0, int64_t n0, int64_t nv, int64_t nc, Matrix A, const Int4Weights &w,
            float *tmp) {
  __m512 a[MR][KK];
  for (int r = 0; r < MR; ++r)
    for (int i = 0; i < KK; ++i)
      a[r][i] = _mm512_set1_ps(A.ptr[r * A.rs + (k0 + i) * A.cs]);
  const int8_t *row = w.packed + k0 * w.prs + n0 / 2;
  for (int64_t j = 0; j < nv; j += 32) {
    __m512 qe[KK], qo[KK];
    for (int i = 0; i < KK; ++i) {
      if (j % 128 == 0) // one cache line of nibbles per 128 columns
        _mm_prefetch(reinterpret_cast<const char *>(row + (i + kW4PrefetchRows) * w.prs + j / 2),
                     _MM_HINT_T0);
      nibbles32(row + i * w.prs + j / 2, w.isSigned, qe[i], qo[i]);
    }
    for (int r = 0; r < MR; ++r) {
      float *t = tmp + r * nc + j;
      __m512 ae = _mm512_loadu_ps(t), ao = _mm512_loadu_ps(t + 16);
      for (int i = 0; i < KK; ++i) {
        ae = _mm512_fmadd_ps(a[r][i], qe[i], ae);
        ao = _mm512_fmadd_ps(a[r][i], qo[i], ao);
      }
      _mm512_storeu_ps(t, ae);
      _mm512_storeu_ps(t + 16, ao);
    }
  }
}

/// Each 32 columns [0, nv) of tmp's m rows from (16 even, 16 odd) to in
/// order.
void w4Deinterleave(int64_t m, int64_t nv, int64_t nc, float *tmp) {
  const __m512i first = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i second =
      _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < nv; j += 32) {
      float *t = tmp + r * nc + j;
      __m512 e = _mm512_loadu_ps(t), o = _mm512_loadu_ps(t + 16);
      _mm512_storeu_ps(t, _mm512_permutex2var_ps(e, first, o));
      _mm512_storeu_ps(t + 16, _mm512_permutex2var_ps(e, second, o));
    }
}

template <int MR>
void w4Tiles(int64_t K, int64_t n0, int64_t nc, Matrix A, const Int4Weights &w, float *C,
             int64_t ldc, float *tmp) {
  int64_t nv = nc / 32 * 32; // vector columns; the rest scalar
  w4Groups(MR, K, n0, nv, nc, A, w, C, ldc, tmp,
           [&](int64_t k) { w4Rows<MR, 4>(k, n0, nv, nc, A, w, tmp); },
           [&](int64_t k) { w4Rows<MR, 1>(k, n0, nv, nc, A, w, tmp); },
           [&] { w4Deinterleave(MR, nv, nc, tmp); });
}
} // namespace

void skinnyW4KernelAVX512(int64_t m, int64_t K, int64_t n0, int64_t nc, Matrix A,
                          const Int4Weights &w, float *C, int64_t ldc, float *tmp) {
  switch (m) {
  case 1: return w4Tiles<1>(K, n0, nc, A, w, C, ldc, tmp);
  case 2: return w4Tiles<2>(K, n0, nc, A, w, C, ldc, tmp);
  case 3: return w4Tiles<3>(K, n0, nc, A, w, C, ldc, tmp);
  default: return w4Tiles<4>(K, n0, nc, A, w, C, ldc, tmp);
  }
}

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
