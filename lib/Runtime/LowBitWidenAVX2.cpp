//===- LowBitWidenAVX2.cpp - 2/3-bit planes to nibbles, 64 columns a step -===//
//
// Built with -mavx2; called only when the CPU has AVX2 (and
// QUANTC_CPU_KERNELS is not generic). Per 64 columns: 16 bytes of the low
// plane are split into their two 4-bit halves and interleaved, so byte j
// holds the low bits of columns 2j and 2j+1 as t = v0 | v1 << 2, which a
// 16-entry table (vpshufb) turns into v0 | v1 << 4; 8 bytes of the high
// plane are split into their four 2-bit fields and interleaved the same
// way, so byte j holds bit 2 of both columns as u = h0 | h1 << 1, which a
// second table turns into h0 << 2 | h1 << 6. Their OR is the 32 bytes of
// nibbles (LowBitWeights.cpp's layout).
//
//===----------------------------------------------------------------------===//
#include "LowBitWiden.h"

#include <immintrin.h>

namespace quantc::rt {

void widenLowBitRowAVX2(const uint8_t *lo, const uint8_t *hi, int64_t blocks, int8_t *out) {
  const __m128i m4 = _mm_set1_epi8(0x0F), m2 = _mm_set1_epi8(0x03);
  // t = v0 | v1 << 2  ->  v0 | v1 << 4
  const __m128i lowTable = _mm_setr_epi8(0x00, 0x01, 0x02, 0x03, 0x10, 0x11, 0x12, 0x13, 0x20,
                                         0x21, 0x22, 0x23, 0x30, 0x31, 0x32, 0x33);
  // u = h0 | h1 << 1  ->  h0 << 2 | h1 << 6
  const __m128i highTable = _mm_setr_epi8(0x00, 0x04, 0x40, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                          0, 0);
  for (int64_t b = 0; b < blocks; ++b) {
    __m128i l = _mm_loadu_si128(reinterpret_cast<const __m128i *>(lo + 16 * b));
    __m128i l0 = _mm_and_si128(l, m4), l1 = _mm_and_si128(_mm_srli_epi16(l, 4), m4);
    __m128i t0 = _mm_unpacklo_epi8(l0, l1), t1 = _mm_unpackhi_epi8(l0, l1);
    __m128i r0 = _mm_shuffle_epi8(lowTable, t0), r1 = _mm_shuffle_epi8(lowTable, t1);
    if (hi) {
      __m128i h = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(hi + 8 * b));
      __m128i c0 = _mm_and_si128(h, m2), c1 = _mm_and_si128(_mm_srli_epi16(h, 2), m2),
              c2 = _mm_and_si128(_mm_srli_epi16(h, 4), m2),
              c3 = _mm_and_si128(_mm_srli_epi16(h, 6), m2);
      __m128i p01 = _mm_unpacklo_epi8(c0, c1), p23 = _mm_unpacklo_epi8(c2, c3);
      __m128i u0 = _mm_unpacklo_epi16(p01, p23), u1 = _mm_unpackhi_epi16(p01, p23);
      r0 = _mm_or_si128(r0, _mm_shuffle_epi8(highTable, u0));
      r1 = _mm_or_si128(r1, _mm_shuffle_epi8(highTable, u1));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i *>(out + 32 * b), r0);
    _mm_storeu_si128(reinterpret_cast<__m128i *>(out + 32 * b + 16), r1);
  }
}

} // namespace quantc::rt
