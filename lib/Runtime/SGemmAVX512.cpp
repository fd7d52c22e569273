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
/// The Rx32 tile: A's value of row r at step k is a(k, r). Inlined into
/// the kernels below, so each keeps its own loop; the loops over rows
/// unroll fully, so the 2R accumulators live in registers (R = 12: 24 of
/// the 32 zmm, plus two of B and one broadcast).
template <int R, typename AValue>
__attribute__((always_inline)) inline void tile(int64_t kc, AValue a, const float *Bp, float *C,
                                                int64_t ldc, int64_t mr, int64_t nr,
                                                bool overwrite, const float *pf = nullptr,
                                                int64_t pfLines = 0,
                                                const float *rowBias = nullptr) {
  // The accumulators start at zero, or at their rows' biases (rows past
  // mr, computed but never stored, repeat the last one's).
  __m512 c[R][2];
#pragma clang loop unroll(full)
  for (int r = 0; r < R; ++r)
    c[r][0] = c[r][1] =
        rowBias ? _mm512_set1_ps(rowBias[r < mr ? r : mr - 1]) : _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b0 = _mm512_loadu_ps(Bp + k * kNR);
    __m512 b1 = _mm512_loadu_ps(Bp + k * kNR + 16);
    if (k < pfLines)
      __builtin_prefetch(pf + k * 16, 0, 2);
#pragma clang loop unroll(full)
    for (int r = 0; r < R; ++r) {
      __m512 x = _mm512_set1_ps(a(k, r));
      c[r][0] = _mm512_fmadd_ps(x, b0, c[r][0]);
      c[r][1] = _mm512_fmadd_ps(x, b1, c[r][1]);
    }
  }
  __mmask16 m0 = nr >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << nr) - 1);
  __mmask16 m1 = nr >= 32 ? 0xFFFF : nr > 16 ? static_cast<__mmask16>((1u << (nr - 16)) - 1) : 0;
#pragma clang loop unroll(full)
  for (int r = 0; r < R; ++r) {
    if (r >= mr)
      break;
    float *row = C + r * ldc;
    __m512 v0 = c[r][0], v1 = c[r][1];
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
  tile<kMR>(kc, [Ap](int64_t k, int r) { return Ap[k * kMR + r]; }, Bp, C, ldc, mr, nr,
            overwrite);
}

/// The tile with A read in place: rows r of A at A + r * lda (unit column
/// stride), kDirectMR of them, rows past mr repeating the last one
/// (computed, never stored). Saves packing A when its rows are contiguous.
void microKernelAVX512DirectA12(int64_t kc, const float *A, int64_t lda, const float *Bp,
                                float *C, int64_t ldc, int64_t mr, int64_t nr, bool overwrite,
                                const float *pf, int64_t pfLines, const float *rowBias) {
  const float *rows[kDirectMR];
  for (int r = 0; r < kDirectMR; ++r)
    rows[r] = A + (r < mr ? r : mr - 1) * lda;
  auto a = [&rows](int64_t k, int r) { return rows[r][k]; };
  // A last, partial tile runs a narrower tile: 12 rows computed for 4
  // (M = 256: 21 full tiles and 4 rows) cost 3% of the whole product.
  if (mr <= 4)
    tile<4>(kc, a, Bp, C, ldc, mr, nr, overwrite, pf, pfLines, rowBias);
  else if (mr <= 8)
    tile<8>(kc, a, Bp, C, ldc, mr, nr, overwrite, pf, pfLines, rowBias);
  else
    tile<kDirectMR>(kc, a, Bp, C, ldc, mr, nr, overwrite, pf, pfLines, rowBias);
}

} // namespace quantc::rt
