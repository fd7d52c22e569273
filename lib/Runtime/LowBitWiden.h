//===- LowBitWiden.h - widening 2/3-bit planes, per ISA ---------*- C++ -*-===//
#ifndef QUANTC_LIB_RUNTIME_LOWBITWIDEN_H
#define QUANTC_LIB_RUNTIME_LOWBITWIDEN_H

#include <cstdint>

namespace quantc::rt {

#ifdef QUANTC_HAVE_X86_KERNELS
/// `blocks` x 64 columns of one row: 16 bytes of the low plane and (3 bits;
/// null at 2) 8 bytes of the high plane per block into 32 bytes of
/// nibbles per block (Kernels.h, LowBitWeights).
void widenLowBitRowAVX2(const uint8_t *lo, const uint8_t *hi, int64_t blocks, int8_t *out);
#endif

} // namespace quantc::rt

#endif
