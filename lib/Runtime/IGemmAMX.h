//===- IGemmAMX.h - int8 GEMM on AMX tiles ----------------------*- C++ -*-===//
//
// The AMX-INT8 form of igemmS8ConstB's product (IGemmAMX.cpp): the same
// packed B panels as the AVX-512 VNNI kernel (IGemmQuad.h), with K padded
// to whole tiles (16 quads), and A as row-major u8 rows (a + 128, K padded
// with zeros), 32 rows per call.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_IGEMMAMX_H
#define QUANTC_LIB_RUNTIME_IGEMMAMX_H

#include <cstdint>

namespace quantc::rt {

constexpr int64_t kTileRows = 32, kTileQuads = 16;

#ifdef QUANTC_HAVE_AMX_KERNELS
/// Loads the tile configuration (8 tiles of 16 rows x 64 bytes) on the
/// calling thread; amxEndTiles releases it. Around every run of
/// iTileKernelAMX calls on a thread.
void amxBeginTiles();
void amxEndTiles();
/// C[mr x nr] (mr, nr <= 32) += A (32 rows of kq quads, lda bytes apart)
/// * Bp (a packed panel of kq quads, kq a multiple of 16) - corr[c];
/// `overwrite`: C = that, C not read.
void iTileKernelAMX(int64_t kq, const uint8_t *A, int64_t lda, const int8_t *Bp,
                    const int32_t *corr, int32_t *C, int64_t ldc, int64_t mr, int64_t nr,
                    bool overwrite);
#endif

} // namespace quantc::rt

#endif
