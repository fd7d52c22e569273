//===- QuadStore.h - the u8 x s8 kernels' corrected store -------*- C++ -*-===//
//
// Shared by the AVX-512 VNNI quad kernel and the AMX tile kernel (both
// built with -mavx512f): a row of up to 32 int32 accumulators, less
// 128 * colsum(B) per column (the a + 128 shift taken back), added to C or
// written over it, columns past nr untouched.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_QUADSTORE_H
#define QUANTC_LIB_RUNTIME_QUADSTORE_H

#include <cstdint>
#include <immintrin.h>

namespace quantc::rt {

struct QuadStore {
  __mmask16 m0, m1;
  __m512i k0, k1;
  bool overwrite;
  /// corr: kQNR column corrections (null: none); nr <= 32 columns.
  QuadStore(const int32_t *corr, int64_t nr, bool overwrite) : overwrite(overwrite) {
    m0 = nr >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << nr) - 1);
    m1 = nr >= 32 ? 0xFFFF : nr > 16 ? static_cast<__mmask16>((1u << (nr - 16)) - 1) : 0;
    k0 = corr ? _mm512_maskz_loadu_epi32(m0, corr) : _mm512_setzero_si512();
    k1 = corr && m1 ? _mm512_maskz_loadu_epi32(m1, corr + 16) : _mm512_setzero_si512();
  }
  /// Columns 0-15 (c0) and 16-31 (c1) of one row of C.
  inline void row(int32_t *out, __m512i c0, __m512i c1) const {
    __m512i v0 = _mm512_sub_epi32(c0, k0), v1 = _mm512_sub_epi32(c1, k1);
    if (!overwrite) {
      v0 = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m0, out), v0);
      if (m1)
        v1 = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m1, out + 16), v1);
    }
    _mm512_mask_storeu_epi32(out, m0, v0);
    if (m1)
      _mm512_mask_storeu_epi32(out + 16, m1, v1);
  }
};

} // namespace quantc::rt

#endif
