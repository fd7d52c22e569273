//===- SGemmAVX512.cpp - the 8x32 AVX-512 micro-kernel --------------------===//
//
// Built with -mavx512f; called only when the CPU reports AVX-512F. 16 zmm
// accumulators hold the 8x32 tile of C; per k step two vectors of B are
// loaded and each of the 8 values of A is broadcast.
//
//===----------------------------------------------------------------------===//
#include "GemmDriver.h"

#include <immintrin.h>

namespace quantc::rt {

namespace {
/// The 8x32 tile: A's value of row r at step k is a(k, r). Inlined into
/// both kernels below, so each keeps its own loop.
template <typename AValue>
__attribute__((always_inline)) inline void tile(int64_t kc, AValue a, const float *Bp, float *C,
                                                int64_t ldc, int64_t mr, int64_t nr,
                                                bool overwrite) {
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
  __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
  __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
  __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps();
  __m512 c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b0 = _mm512_loadu_ps(Bp + k * kNR);
    __m512 b1 = _mm512_loadu_ps(Bp + k * kNR + 16);
    __m512 x = _mm512_set1_ps(a(k, 0));
    c00 = _mm512_fmadd_ps(x, b0, c00);
    c01 = _mm512_fmadd_ps(x, b1, c01);
    x = _mm512_set1_ps(a(k, 1));
    c10 = _mm512_fmadd_ps(x, b0, c10);
    c11 = _mm512_fmadd_ps(x, b1, c11);
    x = _mm512_set1_ps(a(k, 2));
    c20 = _mm512_fmadd_ps(x, b0, c20);
    c21 = _mm512_fmadd_ps(x, b1, c21);
    x = _mm512_set1_ps(a(k, 3));
    c30 = _mm512_fmadd_ps(x, b0, c30);
    c31 = _mm512_fmadd_ps(x, b1, c31);
    x = _mm512_set1_ps(a(k, 4));
    c40 = _mm512_fmadd_ps(x, b0, c40);
    c41 = _mm512_fmadd_ps(x, b1, c41);
    x = _mm512_set1_ps(a(k, 5));
    c50 = _mm512_fmadd_ps(x, b0, c50);
    c51 = _mm512_fmadd_ps(x, b1, c51);
    x = _mm512_set1_ps(a(k, 6));
    c60 = _mm512_fmadd_ps(x, b0, c60);
    c61 = _mm512_fmadd_ps(x, b1, c61);
    x = _mm512_set1_ps(a(k, 7));
    c70 = _mm512_fmadd_ps(x, b0, c70);
    c71 = _mm512_fmadd_ps(x, b1, c71);
  }
  __mmask16 m0 = nr >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << nr) - 1);
  __mmask16 m1 = nr >= 32 ? 0xFFFF : nr > 16 ? static_cast<__mmask16>((1u << (nr - 16)) - 1) : 0;
  __m512 rows[8][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31},
                       {c40, c41}, {c50, c51}, {c60, c61}, {c70, c71}};
  for (int64_t r = 0; r < mr; ++r) {
    float *row = C + r * ldc;
    __m512 v0 = rows[r][0], v1 = rows[r][1];
    if (!overwrite) {
      v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, row), v0);
      if (m1)
        v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, row + 16), v1);
    }
    _mm512_mask_storeu_ps(row, m0, v0);
    if (m1)
      _mm512_mask_storeu_ps(row + 16, m1, v1);
  }
}
} // namespace

void microKernelAVX512(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc,
                       int64_t mr, int64_t nr, bool overwrite) {
  tile(kc, [Ap](int64_t k, int r) { return Ap[k * kMR + r]; }, Bp, C, ldc, mr, nr, overwrite);
}

/// The same tile with A read in place: rows r of A at A + r * lda (unit
/// column stride), rows past mr repeating the last one (computed, never
/// stored). Saves packing A when its rows are contiguous.
void microKernelAVX512DirectA(int64_t kc, const float *A, int64_t lda, const float *Bp, float *C,
                              int64_t ldc, int64_t mr, int64_t nr, bool overwrite) {
  const float *rows[8];
  for (int r = 0; r < 8; ++r)
    rows[r] = A + (r < mr ? r : mr - 1) * lda;
  tile(kc, [&rows](int64_t k, int r) { return rows[r][k]; }, Bp, C, ldc, mr, nr, overwrite);
}

} // namespace quantc::rt
