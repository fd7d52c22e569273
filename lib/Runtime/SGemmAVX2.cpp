//===- SGemmAVX2.cpp - the 8x32 micro-kernel for AVX2 + FMA ---------------===//
//
// Built with -mavx2 -mfma; called when the CPU has both but not AVX-512F.
// AVX2 has 16 ymm registers, too few to hold the 8x32 tile of C (32
// registers), so the tile is computed as four 4x16 sub-tiles: 8
// accumulators, two vectors of B and one broadcast of A per k step, 8 FMAs
// for 6 loads. The packed panels (8 KiB of A, 32 KiB of B at kc = 256)
// stay in L1/L2 between sub-tiles.
//
//===----------------------------------------------------------------------===//
#include "AVX2Lanes.h"
#include "GemmDriver.h"

#include <immintrin.h>

namespace quantc::rt {
namespace {

inline void addTo(float *dst, __m256 v, int64_t cols, bool overwrite) {
  if (overwrite) {
    if (cols >= 8)
      _mm256_storeu_ps(dst, v);
    else if (cols > 0)
      _mm256_maskstore_ps(dst, laneMask(cols), v);
    return;
  }
  if (cols >= 8) {
    _mm256_storeu_ps(dst, _mm256_add_ps(_mm256_loadu_ps(dst), v));
  } else if (cols > 0) {
    __m256i m = laneMask(cols);
    _mm256_maskstore_ps(dst, m, _mm256_add_ps(_mm256_maskload_ps(dst, m), v));
  }
}

/// C[r0 .. r0+4, c0 .. c0+16] of the 8x32 tile.
inline void subTile(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc,
                    int64_t rows, int64_t cols, bool overwrite) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m256 b0 = _mm256_loadu_ps(Bp + k * kNR);
    __m256 b1 = _mm256_loadu_ps(Bp + k * kNR + 8);
    const float *a = Ap + k * kMR;
    __m256 a0 = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(a0, b0, c00);
    c01 = _mm256_fmadd_ps(a0, b1, c01);
    __m256 a1 = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(a1, b0, c10);
    c11 = _mm256_fmadd_ps(a1, b1, c11);
    __m256 a2 = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(a2, b0, c20);
    c21 = _mm256_fmadd_ps(a2, b1, c21);
    __m256 a3 = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(a3, b0, c30);
    c31 = _mm256_fmadd_ps(a3, b1, c31);
  }
  __m256 acc[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
  for (int64_t r = 0; r < rows; ++r) {
    addTo(C + r * ldc, acc[r][0], cols, overwrite);
    addTo(C + r * ldc + 8, acc[r][1], cols - 8, overwrite);
  }
}
} // namespace

void microKernelAVX2(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc,
                     int64_t mr, int64_t nr, bool overwrite) {
  for (int64_t r0 = 0; r0 < mr; r0 += 4)
    for (int64_t c0 = 0; c0 < nr; c0 += 16)
      subTile(kc, Ap + r0, Bp + c0, C + r0 * ldc + c0, ldc, mr - r0 < 4 ? mr - r0 : 4,
              nr - c0 < 16 ? nr - c0 : 16, overwrite);
}

} // namespace quantc::rt
