//===- IGemmAMX.cpp - the 32x32 u8 x s8 tile kernel (AMX-INT8) ------------===//
//
// Built with -mamx-tile -mamx-int8 -mavx512f; called only when
// amxInt8Usable(). Four C tiles (16 x 16 int32 each) hold a 32 x 32 block
// of C for the whole K; per 64 bytes of k two A tiles (16 rows x 64 u8)
// and two B tiles (16 quads x 16 columns x 4 s8) are loaded and tdpbusd
// multiplies them. The B tiles are read straight from igemmS8ConstB's
// packed panels (IGemmQuad.h: a quad's 32 columns are 128 bytes, the
// first 16 columns its first 64), so the packed weights serve both this
// kernel and the AVX-512 VNNI one; A is packed u8 (a + 128) in tiles.
//
//===----------------------------------------------------------------------===//
#include "IGemmAMX.h"
#include "IGemmQuad.h"

#include <cstring>
#include <immintrin.h>

namespace quantc::rt {

namespace {
struct alignas(64) TileConfig {
  uint8_t palette = 1, startRow = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};
} // namespace

void amxBeginTiles() {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);
}

void amxEndTiles() { _tile_release(); }

namespace {
/// The 32 x 32 block of C += A * Bp, A's tile for step q and row group g
/// at aTile(q, g) with rows `aStride` bytes apart.
template <bool StreamA, typename ATile>
void tileBlock(int64_t q0, int64_t q1, ATile aTile, int64_t aStride, const int8_t *Bp, int32_t *C,
               int64_t ldc, int64_t mr, int64_t nr, bool overwrite) {
  // A whole 32 x 32 block reads and writes C in tiles; a partial one goes
  // through a block on the stack.
  const bool whole = mr == 32 && nr == 32;
  alignas(64) int32_t tile[32][32];
  int32_t *base = whole ? C : &tile[0][0];
  const int64_t stride = whole ? ldc * 4 : 128;
  if (whole && !overwrite) {
    _tile_loadd(0, base, stride);
    _tile_loadd(1, base + 16, stride);
    _tile_loadd(2, base + 16 * (stride / 4), stride);
    _tile_loadd(3, base + 16 * (stride / 4) + 16, stride);
  } else {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  }
  constexpr int64_t kBStride = kQNR * 4; // bytes per quad of a B panel
  for (int64_t q = q0; q < q1; q += 16) {
    const int8_t *b = Bp + q * kBStride;
    if constexpr (StreamA)
      _tile_stream_loadd(4, aTile(q, 0), aStride);
    else
      _tile_loadd(4, aTile(q, 0), aStride);
    _tile_loadd(6, b, kBStride);
    _tile_loadd(7, b + 64, kBStride);
    _tile_dpbssd(0, 4, 6);
    _tile_dpbssd(1, 4, 7);
    if constexpr (StreamA)
      _tile_stream_loadd(5, aTile(q, 1), aStride);
    else
      _tile_loadd(5, aTile(q, 1), aStride);
    _tile_dpbssd(2, 5, 6);
    _tile_dpbssd(3, 5, 7);
  }
  _tile_stored(0, base, stride);
  _tile_stored(1, base + 16, stride);
  _tile_stored(2, base + 16 * (stride / 4), stride);
  _tile_stored(3, base + 16 * (stride / 4) + 16, stride);
  if (whole)
    return;
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t c = 0; c < nr; ++c)
      C[r * ldc + c] = overwrite ? tile[r][c] : C[r * ldc + c] + tile[r][c];
}
} // namespace

void iTileKernelAMX(int64_t kq, int64_t q0, int64_t q1, const int8_t *A, const int8_t *Bp,
                    int32_t *C, int64_t ldc, int64_t mr, int64_t nr, bool overwrite) {
  const int64_t group = kq * 64; // bytes of one 16-row group of A's tiles
  // Step q / 16: 1 KB per tile, loaded with the streaming hint (tileloaddt1)
  // so that the B panel, which the next row blocks use again, stays in L1.
  tileBlock<true>(q0, q1, [&](int64_t q, int g) { return A + g * group + q * 64; }, 64, Bp, C,
                  ldc, mr, nr, overwrite);
}

void iTileKernelAMXRows(int64_t q0, int64_t q1, const int8_t *A, int64_t lda, const int8_t *Bp,
                        int32_t *C, int64_t ldc, int64_t mr, int64_t nr, bool overwrite,
                        bool streamA) {
  auto aTile = [&](int64_t q, int g) { return A + g * 16 * lda + q * 4; };
  if (streamA)
    tileBlock<true>(q0, q1, aTile, lda, Bp, C, ldc, mr, nr, overwrite);
  else
    tileBlock<false>(q0, q1, aTile, lda, Bp, C, ldc, mr, nr, overwrite);
}

} // namespace quantc::rt
