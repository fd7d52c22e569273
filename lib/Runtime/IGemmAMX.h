//===- IGemmAMX.h - int8 GEMM on AMX tiles ----------------------*- C++ -*-===//
//
// The AMX-INT8 form of igemmS8ConstB's product (IGemmAMX.cpp): the same
// packed B panels as the AVX-512 VNNI kernel (IGemmQuad.h), with K padded
// to whole tiles (16 quads), and A as s8 in 16 x 64-byte tiles (K and M
// padded with zeros), 32 rows per call.
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
/// C[mr x nr] (mr, nr <= 32) += A (32 rows of kq quads of s8 in tiles:
/// two groups of 16 rows, kq * 64 bytes each, one 16 x 64 tile of 1 KB
/// per 16 quads) * Bp (a packed panel of kq quads, kq a multiple of 16),
/// over quads [q0, q1) (multiples of 16), by tdpbssd (s8 x s8: no shift,
/// no correction); `overwrite`: C = that, C not read. A's tiles are
/// loaded with the streaming hint: call it for the row blocks of one B
/// panel slice in a row, the slice then stays in L1.
void iTileKernelAMX(int64_t kq, int64_t q0, int64_t q1, const int8_t *A, const int8_t *Bp,
                    int32_t *C, int64_t ldc, int64_t mr, int64_t nr, bool overwrite);
/// The same with A's 32 rows row-major, `lda` bytes apart (q1 quads
/// readable in each; those past K meet B's zero quads): tiles loaded
/// straight from the rows, with the streaming hint if `streamA`.
void iTileKernelAMXRows(int64_t q0, int64_t q1, const int8_t *A, int64_t lda, const int8_t *Bp,
                        int32_t *C, int64_t ldc, int64_t mr, int64_t nr, bool overwrite,
                        bool streamA);
#endif

} // namespace quantc::rt

#endif
