//===- IGemmPairs.h - int8 GEMM with B packed once as int8 pairs -*- C++ -*-===//
//
// The AVX2 path of a product whose B is a weight (igemmS8ConstB on CPUs
// without AVX-512 VNNI): igemmS8 packs B into int16 pairs (IGemm.h) in
// every task of every call; here B is packed once, kept with the other
// packed weights, as int8 pairs that the micro-kernel widens while it
// loads them (half the bytes of int16 panels).
//
// Layout: B in k blocks of kPairKC (the last may be shorter), each block
// in kINR-column panels; block kb (kcp = ceil(kc / 2) pairs) starts at
// byte kb * panels * (kPairKC / 2) * kINR * 2, its panel p at
// p * kcp * kINR * 2 within it, and element (k, n) of the panel at byte
// ((k - k0) / 2) * kINR * 2 + (n - p * kINR) * 2 + (k - k0) % 2; columns
// past N and the k past an odd K are zero.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_IGEMMPAIRS_H
#define QUANTC_LIB_RUNTIME_IGEMMPAIRS_H

#include "AlignedVector.h"
#include "quantc/Runtime/Kernels.h"

#include <cstdint>

namespace quantc::rt {

/// k per block: a panel's block (16 columns x 512 k, 8 KB) stays in L1
/// while A's row panels stream past it.
constexpr int64_t kPairKC = 512;

struct PackedPairsS8 {
  int64_t K = 0, N = 0, panels = 0;
  AlignedVector<int8_t> b;
};

/// Whether igemmS8ConstB takes this path: the AVX2 int16-pair kernel is
/// the selected one (no AVX-512 VNNI, or QUANTC_CPU_KERNELS=avx2) and
/// QUANTC_PREPACK is not 0.
bool pairsAvailable();

/// B (K x N) packed, kept under its address and shape until
/// releasePackedPairs.
const PackedPairsS8 &packPairsOnce(MatrixS8 B, int64_t K, int64_t N);
void releasePackedPairs();

/// C = A * B (`overwrite`) or C += A * B, B packed by packPairsOnce. The
/// callers (igemmS8ConstB and its epilogue form, takesPairs) pass M, N
/// and K > 0; anything else does nothing.
void igemmS8Pairs(int64_t M, int64_t N, int64_t K, MatrixS8 A, const PackedPairsS8 &pb,
                  int32_t *C, int64_t ldc, bool overwrite);

/// A * B handed to `epi` in blocks of rows and columns (a task's columns,
/// up to 256, for up to 192 rows at a time) from a buffer of the task's thread.
void igemmS8PairsEpilogue(int64_t M, int64_t N, int64_t K, MatrixS8 A,
                          const PackedPairsS8 &pb, const Epilogue &epi);

#ifdef QUANTC_HAVE_X86_KERNELS
/// C[mr x nr] (+)= Ap (kcp pairs x kIMR rows, int16 as IGemm.h packs them)
/// * Bp (kcp pairs x kINR columns, int8 pairs); `accumulate` false: C is
/// written, not read.
void iMicroKernelAVX2Pairs(int64_t kcp, const int16_t *Ap, const int8_t *Bp, int32_t *C,
                           int64_t ldc, int64_t mr, int64_t nr, bool accumulate);
#endif

} // namespace quantc::rt

#endif
