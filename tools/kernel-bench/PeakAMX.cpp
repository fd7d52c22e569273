//===- PeakAMX.cpp - AMX-INT8 peak loop (-mamx-tile -mamx-int8) -----------===//
//
// tdpbssd on tiles already loaded: four 16x16 int32 accumulators, two A
// tiles (16 x 64 u8) and two B tiles (16 quads x 16 columns x 4 s8; A s8 too), the
// amx-u8s8 kernel's register blocking without its loads. Each tdpbssd is
// 16 x 16 x 64 multiply-adds. Run only where amxInt8Usable().
//
//===----------------------------------------------------------------------===//
#include "Peak.h"

#include <cstring>
#include <immintrin.h>

namespace quantc::bench {

double tdpbssdLoopAMX(int64_t iters, float *sink) {
  struct alignas(64) {
    uint8_t palette = 1, startRow = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
  } cfg;
  for (int t = 0; t < 8; ++t)
    cfg.rows[t] = 16, cfg.colsb[t] = 64;
  _tile_loadconfig(&cfg);
  alignas(64) int8_t buf[16 * 64];
  std::memset(buf, 3, sizeof buf);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, buf, 64);
  _tile_loadd(5, buf, 64);
  _tile_loadd(6, buf, 64);
  _tile_loadd(7, buf, 64);
  for (int64_t n = 0; n < iters; ++n) {
    _tile_dpbssd(0, 4, 6);
    _tile_dpbssd(1, 4, 7);
    _tile_dpbssd(2, 5, 6);
    _tile_dpbssd(3, 5, 7);
  }
  alignas(64) int32_t out[16 * 16];
  _tile_stored(0, out, 64);
  _tile_release();
  *sink += float(out[0]);
  return double(iters) * 4 * 16 * 16 * 64;
}

} // namespace quantc::bench
