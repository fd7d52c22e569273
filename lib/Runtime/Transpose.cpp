//===- Transpose.cpp - byte and int32 blocks with SSE2 unpacks ------------===//
#include "Transpose.h"

#include <algorithm>
#include <emmintrin.h>

namespace quantc::rt {

namespace {
/// Rows r[0..15] of 16 bytes -> their columns, in four rounds of unpacks
/// (8-, 16-, 32-, 64-bit): after round one, b[2i] / b[2i+1] interleave rows
/// 2i and 2i+1 (columns 0-7 / 8-15); after two, c holds 4 columns of 4
/// rows; after three, d holds 2 columns of 8 rows; round four joins rows
/// 0-7 and 8-15 of each column.
inline void transpose16(__m128i r[16]) {
  __m128i b[16], c[16], d[16];
  for (int i = 0; i < 8; ++i) {
    b[2 * i] = _mm_unpacklo_epi8(r[2 * i], r[2 * i + 1]);
    b[2 * i + 1] = _mm_unpackhi_epi8(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 4; ++g) { // rows 4g .. 4g+3
    __m128i *bb = b + 4 * g, *cc = c + 4 * g;
    cc[0] = _mm_unpacklo_epi16(bb[0], bb[2]);
    cc[1] = _mm_unpackhi_epi16(bb[0], bb[2]);
    cc[2] = _mm_unpacklo_epi16(bb[1], bb[3]);
    cc[3] = _mm_unpackhi_epi16(bb[1], bb[3]);
  }
  for (int h = 0; h < 2; ++h) { // rows 8h .. 8h+7
    __m128i *cc = c + 8 * h, *dd = d + 8 * h;
    for (int k = 0; k < 4; ++k) {
      dd[2 * k] = _mm_unpacklo_epi32(cc[k], cc[k + 4]);
      dd[2 * k + 1] = _mm_unpackhi_epi32(cc[k], cc[k + 4]);
    }
  }
  for (int k = 0; k < 8; ++k) {
    r[2 * k] = _mm_unpacklo_epi64(d[k], d[k + 8]);
    r[2 * k + 1] = _mm_unpackhi_epi64(d[k], d[k + 8]);
  }
}
} // namespace

void transposeBytes(const int8_t *src, int64_t lds, int64_t rows, int64_t cols, int8_t *dst,
                    int64_t ldd) {
  if (rows < 16 || cols < 16) {
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        dst[j * ldd + i] = src[i * lds + j];
    return;
  }
  // Whole blocks; a partial last block of rows or columns is the last 16,
  // overlapping the block before it (those bytes are written twice, alike).
  for (int64_t ib = 0; ib < rows; ib += 16) {
    const int64_t i0 = ib + 16 <= rows ? ib : rows - 16;
    for (int64_t jb = 0; jb < cols; jb += 16) {
      const int64_t j0 = jb + 16 <= cols ? jb : cols - 16;
      __m128i r[16];
      for (int i = 0; i < 16; ++i)
        r[i] = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + (i0 + i) * lds + j0));
      transpose16(r);
      for (int j = 0; j < 16; ++j)
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + (j0 + j) * ldd + i0), r[j]);
    }
  }
}

void transposeInt32(const int32_t *src, int64_t lds, int64_t rows, int64_t cols, int32_t *dst,
                    int64_t ldd, bool add) {
  auto scalar = [&](int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j)
      for (int64_t i = i0; i < i1; ++i)
        dst[j * ldd + i] = add ? dst[j * ldd + i] + src[i * lds + j] : src[i * lds + j];
  };
  const int64_t rows4 = rows / 4 * 4, cols4 = cols / 4 * 4;
  // Columns in strips of 16 (a cache line of each source row), all rows
  // per strip: each source line is read once, each destination row
  // written in one sweep.
  for (int64_t jb = 0; jb < cols4; jb += 16)
    for (int64_t i = 0; i < rows4; i += 4)
      for (int64_t j = jb; j < std::min(jb + 16, cols4); j += 4) {
      // Rows i..i+3 of columns j..j+3, transposed by 32- and 64-bit unpacks.
      __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i * lds + j));
      __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + (i + 1) * lds + j));
      __m128i r2 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + (i + 2) * lds + j));
      __m128i r3 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + (i + 3) * lds + j));
      __m128i t0 = _mm_unpacklo_epi32(r0, r1), t1 = _mm_unpacklo_epi32(r2, r3);
      __m128i t2 = _mm_unpackhi_epi32(r0, r1), t3 = _mm_unpackhi_epi32(r2, r3);
      __m128i c[4] = {_mm_unpacklo_epi64(t0, t1), _mm_unpackhi_epi64(t0, t1),
                      _mm_unpacklo_epi64(t2, t3), _mm_unpackhi_epi64(t2, t3)};
      for (int k = 0; k < 4; ++k) {
        auto *d = reinterpret_cast<__m128i *>(dst + (j + k) * ldd + i);
        _mm_storeu_si128(d, add ? _mm_add_epi32(_mm_loadu_si128(d), c[k]) : c[k]);
      }
    }
  scalar(rows4, rows, 0, cols4);
  scalar(0, rows, cols4, cols);
}

} // namespace quantc::rt
