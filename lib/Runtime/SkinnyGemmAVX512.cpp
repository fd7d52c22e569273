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

/// 16 nibbles (8 bytes, low nibble first) as floats.
inline __m512 nibbles16(const int8_t *p, bool isSigned) {
  __m128i x = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(p));
  __m128i lo = _mm_and_si128(x, _mm_set1_epi8(15));
  __m128i hi = _mm_and_si128(_mm_srli_epi16(x, 4), _mm_set1_epi8(15));
  __m512i q = _mm512_cvtepu8_epi32(_mm_unpacklo_epi8(lo, hi));
  if (isSigned) // q >= 8 means q - 16: (q ^ 8) - 8
    q = _mm512_sub_epi32(_mm512_xor_si512(q, _mm512_set1_epi32(8)), _mm512_set1_epi32(8));
  return _mm512_cvtepi32_ps(q);
}

template <int MR, int KK>
void w4Rows(int64_t k0, int64_t n0, int64_t nv, int64_t nc, Matrix A, const Int4Weights &w,
            float *tmp) {
  __m512 a[MR][KK];
  for (int r = 0; r < MR; ++r)
    for (int i = 0; i < KK; ++i)
      a[r][i] = _mm512_set1_ps(A.ptr[r * A.rs + (k0 + i) * A.cs]);
  const int8_t *row = w.packed + k0 * w.prs + n0 / 2;
  for (int64_t j = 0; j < nv; j += 16) {
    __m512 q[KK];
    for (int i = 0; i < KK; ++i) {
      if (j % 128 == 0) // one cache line of nibbles per 128 columns
        _mm_prefetch(reinterpret_cast<const char *>(row + (i + kW4PrefetchRows) * w.prs + j / 2),
                     _MM_HINT_T0);
      q[i] = nibbles16(row + i * w.prs + j / 2, w.isSigned);
    }
    for (int r = 0; r < MR; ++r) {
      float *t = tmp + r * nc + j;
      __m512 acc = _mm512_loadu_ps(t);
      for (int i = 0; i < KK; ++i)
        acc = _mm512_fmadd_ps(a[r][i], q[i], acc);
      _mm512_storeu_ps(t, acc);
    }
  }
}

template <int MR>
void w4Tiles(int64_t K, int64_t n0, int64_t nc, Matrix A, const Int4Weights &w, float *C,
             int64_t ldc, float *tmp) {
  int64_t nv = nc / 16 * 16; // vector columns; the rest scalar
  w4Groups(MR, K, n0, nv, nc, A, w, C, ldc, tmp,
           [&](int64_t k) { w4Rows<MR, 4>(k, n0, nv, nc, A, w, tmp); },
           [&](int64_t k) { w4Rows<MR, 1>(k, n0, nv, nc, A, w, tmp); });
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
