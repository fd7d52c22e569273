//===- IGemm.h - blocked, packed int8 GEMM into int32 -----------*- C++ -*-===//
//
// The integer twin of GemmDriver.h. Operands are packed as int16 pairs
// along K: a panel holds, for each pair of k (k even, k + 1), the two
// values of each row (A) or column (B) side by side, so that one 32-bit
// lane carries both and one multiply-add of 16-bit pairs (x86 pmaddwd)
// gives a[k]*b[k] + a[k+1]*b[k+1] exactly in 32 bits. An odd K is padded
// with a zero k.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_IGEMM_H
#define QUANTC_LIB_RUNTIME_IGEMM_H

#include "quantc/Runtime/Kernels.h"

namespace quantc::rt {

constexpr int64_t kIMR = 6, kINR = 16;

/// Writes B[k0 .. k0+kc, n0 .. n0+nc] as NR-column panels of k pairs:
/// element (k, n) of panel p at
///   dst[p*kcp*NR*2 + (k/2)*NR*2 + (n - p*NR)*2 + k%2],  kcp = ceil(kc/2),
/// columns past nc and the k past an odd kc zero.
class IBPacker {
public:
  virtual ~IBPacker() = default;
  virtual void pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, int16_t *dst) const = 0;
};

/// A[m0 .. m0+mc, k0 .. k0+kc] as MR-row panels of k pairs: element (r, k)
/// of panel q at dst[q*kcp*MR*2 + (k/2)*MR*2 + r*2 + k%2]; rows past mc and
/// the k past an odd kc zero.
void packAPairs(MatrixS8 a, int64_t m0, int64_t mc, int64_t k0, int64_t kc, int16_t *dst);

void igemmWithPacker(int64_t M, int64_t N, int64_t K, MatrixS8 A, const IBPacker &B,
                     int32_t *C, int64_t ldc);

/// C[mr x nr] += Ap (kcp pairs x MR, packed) * Bp (kcp pairs x NR, packed).
using IMicroKernel = void (*)(int64_t kcp, const int16_t *Ap, const int16_t *Bp, int32_t *C,
                              int64_t ldc, int64_t mr, int64_t nr);
void iMicroKernelGeneric(int64_t kcp, const int16_t *Ap, const int16_t *Bp, int32_t *C,
                         int64_t ldc, int64_t mr, int64_t nr);
#ifdef QUANTC_HAVE_X86_KERNELS
void iMicroKernelAVX2(int64_t kcp, const int16_t *Ap, const int16_t *Bp, int32_t *C,
                      int64_t ldc, int64_t mr, int64_t nr);
#endif
#ifdef QUANTC_HAVE_AVX512_KERNELS
void iMicroKernelAVX512VNNI(int64_t kcp, const int16_t *Ap, const int16_t *Bp, int32_t *C,
                            int64_t ldc, int64_t mr, int64_t nr);
#endif

} // namespace quantc::rt

#endif
