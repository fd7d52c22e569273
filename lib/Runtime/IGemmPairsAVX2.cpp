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

inline __m256i pairOf(const int16_t *a) {
  int32_t v;
  std::memcpy(&v, a, sizeof v);
  return _mm256_set1_epi32(v);
}

inline __m256i widen(const int8_t *b) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(b)));
}
} // namespace

void iMicroKernelAVX2Pairs(int64_t kcp, const int16_t *Ap, const int8_t *Bp, int32_t *C,
                           int64_t ldc, int64_t mr, int64_t nr, bool accumulate) {
  static_assert(kIMR == 6 && kINR == 16, "the kernel is written for a 6x16 tile");
  __m256i c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256();
  __m256i c10 = _mm256_setzero_si256(), c11 = _mm256_setzero_si256();
  __m256i c20 = _mm256_setzero_si256(), c21 = _mm256_setzero_si256();
  __m256i c30 = _mm256_setzero_si256(), c31 = _mm256_setzero_si256();
  __m256i c40 = _mm256_setzero_si256(), c41 = _mm256_setzero_si256();
  __m256i c50 = _mm256_setzero_si256(), c51 = _mm256_setzero_si256();
  for (int64_t kp = 0; kp < kcp; ++kp) {
    const int8_t *bp = Bp + kp * kINR * 2;
    __m256i b0 = widen(bp), b1 = widen(bp + 16);
    const int16_t *a = Ap + kp * kIMR * 2;
    __m256i a0 = pairOf(a);
    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(a0, b0));
    c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(a0, b1));
    __m256i a1 = pairOf(a + 2);
    c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(a1, b0));
    c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(a1, b1));
    __m256i a2 = pairOf(a + 4);
    c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(a2, b0));
    c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(a2, b1));
    __m256i a3 = pairOf(a + 6);
    c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(a3, b0));
    c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(a3, b1));
    __m256i a4 = pairOf(a + 8);
    c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(a4, b0));
    c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(a4, b1));
    __m256i a5 = pairOf(a + 10);
    c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(a5, b0));
    c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(a5, b1));
  }
  __m256i acc[6][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                       {c30, c31}, {c40, c41}, {c50, c51}};
  for (int64_t r = 0; r < mr; ++r) {
    putRow(C + r * ldc, acc[r][0], nr, accumulate);
    putRow(C + r * ldc + 8, acc[r][1], nr - 8, accumulate);
  }
}

} // namespace quantc::rt
