//===- SkinnyIGemmAVX512.cpp - int8 skinny products, AVX-512BW ------------===//
//
// Built with -mavx512f -mavx512bw; called only when the CPU reports both.
// Per pair of k rows and 32 columns: both rows' bytes widened to int16,
// interleaved within 128-bit lanes (unpacklo/hi: lanes of columns
// {0-3, 8-11, 16-19, 24-27} and {4-7, ...}), multiplied-added with the
// broadcast pair (a[k], a[k+1]). The int32 sums stay in that lane order
// in `tmp` until the end, when they are put back in column order and
// added to C. Two pairs (four rows of B) per update of `tmp`.
//
//===----------------------------------------------------------------------===//
#include "SkinnyIGemm.h"

#include <algorithm>
#include <cstring>
#include <immintrin.h>

namespace quantc::rt {
namespace {

constexpr int64_t kPrefetchRows = 16;

inline __m512i widen32(const int8_t *p) {
  return _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
}

inline __m512i pairOf(MatrixS8 A, int64_t r, int64_t k, bool second) {
  int16_t a0 = A.ptr[r * A.rs + k * A.cs];
  int16_t a1 = second ? A.ptr[r * A.rs + (k + 1) * A.cs] : 0;
  return _mm512_set1_epi32(static_cast<int32_t>(static_cast<uint16_t>(a0)) |
                           (static_cast<int32_t>(a1) << 16));
}

/// tmp (lane order) += A[0..MR, k0..k0+2*PAIRS] * B rows, columns [0, nv).
template <int MR, int PAIRS>
void pairs(int64_t k0, int64_t K, int64_t nv, MatrixS8 A, const int8_t *B, int64_t ldb,
           int32_t *tmp, int64_t ldt) {
  __m512i a[MR][PAIRS];
  for (int r = 0; r < MR; ++r)
    for (int p = 0; p < PAIRS; ++p)
      a[r][p] = pairOf(A, r, k0 + 2 * p, k0 + 2 * p + 1 < K);
  for (int64_t j = 0; j < nv; j += 32) {
    __m512i lo[PAIRS], hi[PAIRS];
    for (int p = 0; p < PAIRS; ++p) {
      int64_t k = k0 + 2 * p;
      // A task's piece of a row is short (a few cache lines), too short
      // for the hardware prefetchers: fetch the same piece of rows further
      // down (SmolLM2 w8a8-dynamic-token decode 17.4 -> 13.7 ms).
      _mm_prefetch(reinterpret_cast<const char *>(B + (k + kPrefetchRows) * ldb + j), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char *>(B + (k + 1 + kPrefetchRows) * ldb + j),
                   _MM_HINT_T0);
      __m512i r0 = widen32(B + k * ldb + j);
      __m512i r1 = k + 1 < K ? widen32(B + (k + 1) * ldb + j) : _mm512_setzero_si512();
      lo[p] = _mm512_unpacklo_epi16(r0, r1);
      hi[p] = _mm512_unpackhi_epi16(r0, r1);
    }
    for (int r = 0; r < MR; ++r) {
      int32_t *t = tmp + r * ldt + j;
      __m512i accLo = _mm512_loadu_si512(t), accHi = _mm512_loadu_si512(t + 16);
      for (int p = 0; p < PAIRS; ++p) {
        accLo = _mm512_add_epi32(accLo, _mm512_madd_epi16(lo[p], a[r][p]));
        accHi = _mm512_add_epi32(accHi, _mm512_madd_epi16(hi[p], a[r][p]));
      }
      _mm512_storeu_si512(t, accLo);
      _mm512_storeu_si512(t + 16, accHi);
    }
  }
}

template <int MR>
void tiles(int64_t K, int64_t nc, MatrixS8 A, const int8_t *B, int64_t ldb, int32_t *C,
           int64_t ldc, int32_t *tmp) {
  int64_t nv = nc / 32 * 32, ldt = nv;
  std::memset(tmp, 0, sizeof(int32_t) * MR * ldt);
  int64_t k = 0;
  for (; k + 4 <= K; k += 4)
    pairs<MR, 2>(k, K, nv, A, B, ldb, tmp, ldt);
  for (; k < K; k += 2)
    pairs<MR, 1>(k, K, nv, A, B, ldb, tmp, ldt);
  // Lane order back to columns: lane L of lo holds columns 8L..8L+3, of
  // hi 8L+4..8L+7.
  const __m512i first = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const __m512i second =
      _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  for (int r = 0; r < MR; ++r)
    for (int64_t j = 0; j < nv; j += 32) {
      __m512i lo = _mm512_loadu_si512(tmp + r * ldt + j);
      __m512i hi = _mm512_loadu_si512(tmp + r * ldt + j + 16);
      int32_t *c = C + r * ldc + j;
      _mm512_storeu_si512(c, _mm512_add_epi32(_mm512_loadu_si512(c),
                                              _mm512_permutex2var_epi32(lo, first, hi)));
      _mm512_storeu_si512(c + 16, _mm512_add_epi32(_mm512_loadu_si512(c + 16),
                                                   _mm512_permutex2var_epi32(lo, second, hi)));
    }
  if (nv < nc)
    skinnyIScalarColumns(MR, K, nv, nc, A, B, ldb, C, ldc);
}
} // namespace

void skinnyIKernelAVX512(int64_t m, int64_t K, int64_t nc, MatrixS8 A, const int8_t *B,
                         int64_t ldb, int32_t *C, int64_t ldc, int32_t *tmp) {
  switch (m) {
  case 1: return tiles<1>(K, nc, A, B, ldb, C, ldc, tmp);
  case 2: return tiles<2>(K, nc, A, B, ldb, C, ldc, tmp);
  case 3: return tiles<3>(K, nc, A, B, ldb, C, ldc, tmp);
  default: return tiles<4>(K, nc, A, B, ldb, C, ldc, tmp);
  }
}

} // namespace quantc::rt
