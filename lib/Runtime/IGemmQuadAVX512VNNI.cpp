//===- IGemmQuadAVX512VNNI.cpp - the 12x32 u8 x s8 micro-kernel -----------===//
//
// Built with -mavx512f -mavx512bw -mavx512vnni; called only when the CPU
// reports AVX-512 VNNI. 24 zmm accumulators hold the 12x32 tile of C; per
// quad of k two vectors of B are loaded and each row's four A bytes are
// broadcast (IGemmQuad.h).
//
//===----------------------------------------------------------------------===//
#include "IGemmQuad.h"

#include <cstring>
#include <immintrin.h>

namespace quantc::rt {

void iQuadKernelAVX512VNNI(int64_t kq, const uint8_t *Ap, const int8_t *Bp,
                           const int32_t *corr, int32_t *C, int64_t ldc, int64_t mr,
                           int64_t nr, bool overwrite) {
  // All in registers: the store loop below skips rows past mr with
  // `continue`; with `break` clang kept the tile in a stack array, zeroed
  // by a memset call at every entry (4-5% of a quantized MiniLM run).
  __m512i c[kQMR][2];
#pragma clang loop unroll(full)
  for (int r = 0; r < kQMR; ++r) {
    c[r][0] = _mm512_setzero_si512();
    c[r][1] = _mm512_setzero_si512();
  }
  for (int64_t q = 0; q < kq; ++q) {
    __m512i b0 = _mm512_loadu_si512(Bp + q * kQNR * 4);
    __m512i b1 = _mm512_loadu_si512(Bp + q * kQNR * 4 + 64);
    const uint8_t *a = Ap + q * kQMR * 4;
#pragma clang loop unroll(full)
    for (int r = 0; r < kQMR; ++r) {
      int32_t v;
      std::memcpy(&v, a + r * 4, sizeof v);
      __m512i x = _mm512_set1_epi32(v);
      c[r][0] = _mm512_dpbusd_epi32(c[r][0], x, b0);
      c[r][1] = _mm512_dpbusd_epi32(c[r][1], x, b1);
    }
  }
  __mmask16 m0 = nr >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << nr) - 1);
  __mmask16 m1 = nr >= 32 ? 0xFFFF : nr > 16 ? static_cast<__mmask16>((1u << (nr - 16)) - 1) : 0;
  __m512i k0 = corr ? _mm512_maskz_loadu_epi32(m0, corr) : _mm512_setzero_si512();
  __m512i k1 = corr && m1 ? _mm512_maskz_loadu_epi32(m1, corr + 16) : _mm512_setzero_si512();
#pragma clang loop unroll(full)
  for (int r = 0; r < kQMR; ++r) {
    if (r >= mr)
      continue;
    int32_t *row = C + r * ldc;
    __m512i v0 = _mm512_sub_epi32(c[r][0], k0), v1 = _mm512_sub_epi32(c[r][1], k1);
    if (!overwrite) {
      v0 = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m0, row), v0);
      if (m1)
        v1 = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m1, row + 16), v1);
    }
    _mm512_mask_storeu_epi32(row, m0, v0);
    if (m1)
      _mm512_mask_storeu_epi32(row + 16, m1, v1);
  }
}

} // namespace quantc::rt
