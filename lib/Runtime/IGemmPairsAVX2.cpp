//===- IGemmPairsAVX2.cpp - the 6x16 int8 micro-kernel on int8 B pairs ----===//
//
// Built with -mavx2. iMicroKernelAVX2's arithmetic (vpmaddwd on int16
// pairs, exact in int32) with B read from a panel packed once as int8
// pairs (IGemmPairs.h): each step sign-extends 16 bytes to the 16 int16 of
// one B vector (vpmovsxbw), so the packed weight is half the bytes of the
// int16 panels and is not packed again per call.
//
//===----------------------------------------------------------------------===//
#include "AVX2Lanes.h"
#include "IGemm.h"
#include "IGemmPairs.h"
#include "IGemmAVX2Tile.h"

#include <cstring>
#include <immintrin.h>

namespace quantc::rt {
namespace {
inline void putRow(int32_t *dst, __m256i v, int64_t cols, bool accumulate) {
  if (cols >= 8) {
    __m256i *p = reinterpret_cast<__m256i *>(dst);
    _mm256_storeu_si256(p, accumulate ? _mm256_add_epi32(_mm256_loadu_si256(p), v) : v);
  } else if (cols > 0) {
    __m256i m = laneMask(cols);
    int *p = reinterpret_cast<int *>(dst);
    _mm256_maskstore_epi32(p, m, accumulate ? _mm256_add_epi32(_mm256_maskload_epi32(p, m), v)
                                            : v);
  }
}


inline __m256i widen(const int8_t *b) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(b)));
}
} // namespace

void iMicroKernelAVX2Pairs(int64_t kcp, const int16_t *Ap, const int8_t *Bp, int32_t *C,
                           int64_t ldc, int64_t mr, int64_t nr, bool accumulate) {
  __m256i acc[6][2];
  accumulate6x16(
      kcp, Ap,
      [&](int64_t kp, __m256i &b0, __m256i &b1) {
        const int8_t *bp = Bp + kp * kINR * 2;
        b0 = widen(bp);
        b1 = widen(bp + 16);
      },
      acc);
  for (int64_t r = 0; r < mr; ++r) {
    putRow(C + r * ldc, acc[r][0], nr, accumulate);
    putRow(C + r * ldc + 8, acc[r][1], nr - 8, accumulate);
  }
}

} // namespace quantc::rt
