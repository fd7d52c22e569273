//===- IGemmQuad.h - int8 GEMM on u8 x s8 quads (AVX-512 VNNI) --*- C++ -*-===//
//
// vpdpbusd multiplies four unsigned bytes by four signed bytes and adds
// the four products into an int32 lane: twice the multiply-adds per
// instruction of the int16-pair kernels (IGemm.h). A's int8 values are
// shifted to unsigned (a + 128, a xor 0x80) while A is packed, and the
// shift is taken back per column: sum_k (a + 128) b = sum_k a b + 128 *
// colsum(b), so C += acc - 128 * colsum(B). Exact: a lane adds at most 4 x
// 255 x 128 per step, far from int32's range for any K a model has.
//
// Layouts (k in quads of 4, K padded with zero B rows):
//   A panel: kQMR rows; quad q of row r at bytes (q * kQMR + r) * 4.
//   B panel: kQNR columns; quad q at bytes q * kQNR * 4, the 16 columns
//            of each half (one zmm) with column c's 4 bytes at c * 4.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_IGEMMQUAD_H
#define QUANTC_LIB_RUNTIME_IGEMMQUAD_H

#include <cstdint>

namespace quantc::rt {

constexpr int64_t kQMR = 12, kQNR = 32;

#ifdef QUANTC_HAVE_AVX512_KERNELS
/// C[mr x nr] += Ap (kq quads x kQMR rows) * Bp (kq quads x kQNR columns)
/// - corr[c] (corr null: nothing subtracted); `overwrite`: C = that, C
/// not read.
void iQuadKernelAVX512VNNI(int64_t kq, const uint8_t *Ap, const int8_t *Bp,
                           const int32_t *corr, int32_t *C, int64_t ldc, int64_t mr,
                           int64_t nr, bool overwrite);
#endif

} // namespace quantc::rt

#endif
