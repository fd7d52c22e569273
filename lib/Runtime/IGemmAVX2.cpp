//===- IGemmAVX2.cpp - the 6x16 int8 micro-kernel for AVX2 ----------------===//
//
// Built with -mavx2. Per pair of k: two vectors of B (16 columns, each
// 32-bit lane holding the column's two k values as int16), and for each of
// the 6 rows a broadcast of its two A values; vpmaddwd multiplies the
// int16 pairs and adds each pair into one int32 lane, exactly (int8
// operands cannot overflow it), and vpaddd accumulates. 12 accumulators,
// 2 B vectors and 1 broadcast fit the 16 ymm registers.
//
//===----------------------------------------------------------------------===//
#include "AVX2Lanes.h"
#include "IGemm.h"
#include "IGemmAVX2Tile.h"

#include <cstring>
#include <immintrin.h>

namespace quantc::rt {
namespace {
inline void addTo(int32_t *dst, __m256i v, int64_t cols) {
  if (cols >= 8) {
    __m256i *p = reinterpret_cast<__m256i *>(dst);
    _mm256_storeu_si256(p, _mm256_add_epi32(_mm256_loadu_si256(p), v));
  } else if (cols > 0) {
    __m256i m = laneMask(cols);
    int *p = reinterpret_cast<int *>(dst);
    _mm256_maskstore_epi32(p, m, _mm256_add_epi32(_mm256_maskload_epi32(p, m), v));
  }
}

} // namespace

void iMicroKernelAVX2(int64_t kcp, const int16_t *Ap, const int16_t *Bp, int32_t *C,
                      int64_t ldc, int64_t mr, int64_t nr) {
  __m256i acc[6][2];
  accumulate6x16(
      kcp, Ap,
      [&](int64_t kp, __m256i &b0, __m256i &b1) {
        const __m256i *bp = reinterpret_cast<const __m256i *>(Bp + kp * kINR * 2);
        b0 = _mm256_loadu_si256(bp);
        b1 = _mm256_loadu_si256(bp + 1);
      },
      acc);
  for (int64_t r = 0; r < mr; ++r) {
    addTo(C + r * ldc, acc[r][0], nr);
    addTo(C + r * ldc + 8, acc[r][1], nr - 8);
  }
}

} // namespace quantc::rt
