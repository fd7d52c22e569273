//===- IGemmAVX512VNNI.cpp - the 6x16 int8 micro-kernel for AVX-512 VNNI ---===//
//
// Built with -mavx512f -mavx512vnni; called only when the CPU reports both.
// The panels are the AVX2 kernel's (IGemm.h: int16 pairs along K), so
// packing and the driver are shared: one zmm of B holds the 16 columns'
// pairs of a k pair, and vpdpwssd multiplies each int16 pair by the row's
// broadcast pair and adds both products into the int32 lane in one
// instruction, exactly (int8 operands: |a b| <= 2^14, a pair sum < 2^15,
// far from int32 overflow over any K the driver slices). Two k pairs per
// step into two sets of 6 accumulators hide vpdpwssd's latency; they are
// summed at the end.
//
//===----------------------------------------------------------------------===//
#include "IGemm.h"

#include <cstring>
#include <immintrin.h>

namespace quantc::rt {
namespace {
inline __m512i pairOf(const int16_t *a) {
  int32_t v;
  std::memcpy(&v, a, sizeof v);
  return _mm512_set1_epi32(v);
}

/// One k pair of the tile: c_r += A's pair of row r times B's 16 columns.
__attribute__((always_inline)) inline void step(const int16_t *a, __m512i b, __m512i &c0,
                                                __m512i &c1, __m512i &c2, __m512i &c3,
                                                __m512i &c4, __m512i &c5) {
  c0 = _mm512_dpwssd_epi32(c0, pairOf(a), b);
  c1 = _mm512_dpwssd_epi32(c1, pairOf(a + 2), b);
  c2 = _mm512_dpwssd_epi32(c2, pairOf(a + 4), b);
  c3 = _mm512_dpwssd_epi32(c3, pairOf(a + 6), b);
  c4 = _mm512_dpwssd_epi32(c4, pairOf(a + 8), b);
  c5 = _mm512_dpwssd_epi32(c5, pairOf(a + 10), b);
}
} // namespace

void iMicroKernelAVX512VNNI(int64_t kcp, const int16_t *Ap, const int16_t *Bp, int32_t *C,
                            int64_t ldc, int64_t mr, int64_t nr) {
  static_assert(kIMR == 6 && kINR == 16, "the kernel is written for a 6x16 tile");
  __m512i c0 = _mm512_setzero_si512(), c1 = _mm512_setzero_si512(), c2 = _mm512_setzero_si512();
  __m512i c3 = _mm512_setzero_si512(), c4 = _mm512_setzero_si512(), c5 = _mm512_setzero_si512();
  __m512i d0 = _mm512_setzero_si512(), d1 = _mm512_setzero_si512(), d2 = _mm512_setzero_si512();
  __m512i d3 = _mm512_setzero_si512(), d4 = _mm512_setzero_si512(), d5 = _mm512_setzero_si512();
  int64_t kp = 0;
  for (; kp + 1 < kcp; kp += 2) {
    const int16_t *a = Ap + kp * kIMR * 2;
    step(a, _mm512_loadu_si512(Bp + kp * kINR * 2), c0, c1, c2, c3, c4, c5);
    step(a + kIMR * 2, _mm512_loadu_si512(Bp + (kp + 1) * kINR * 2), d0, d1, d2, d3, d4, d5);
  }
  if (kp < kcp)
    step(Ap + kp * kIMR * 2, _mm512_loadu_si512(Bp + kp * kINR * 2), c0, c1, c2, c3, c4, c5);
  const __m512i acc[6] = {_mm512_add_epi32(c0, d0), _mm512_add_epi32(c1, d1),
                          _mm512_add_epi32(c2, d2), _mm512_add_epi32(c3, d3),
                          _mm512_add_epi32(c4, d4), _mm512_add_epi32(c5, d5)};
  const __mmask16 m = nr >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << nr) - 1);
  for (int64_t r = 0; r < mr; ++r) {
    int32_t *p = C + r * ldc;
    _mm512_mask_storeu_epi32(p, m, _mm512_add_epi32(_mm512_maskz_loadu_epi32(m, p), acc[r]));
  }
}

} // namespace quantc::rt
