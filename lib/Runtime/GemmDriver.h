//===- GemmDriver.h - blocked, packed single-precision GEMM -----*- C++ -*-===//
//
// C += A * B, blocked BLIS-style: A is packed into MR-row panels and B into
// NR-column panels per KC-deep slice, and a register-tiled micro-kernel
// multiplies one panel pair. B comes from a packer so that convolutions
// can pack their im2col matrix straight from the image, never building it.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_GEMMDRIVER_H
#define QUANTC_LIB_RUNTIME_GEMMDRIVER_H

#include "AlignedVector.h"
#include "quantc/Runtime/Kernels.h"

#include <cstddef>
#include <vector>

namespace quantc::rt {


constexpr int64_t kMR = 8, kNR = 32;

/// Writes B[k0 .. k0+kc, n0 .. n0+nc] as NR-column panels: element (k, n)
/// of panel p at dst[p*kc*NR + k*NR + (n - p*NR)], columns past nc zero.
class BPacker {
public:
  virtual ~BPacker() = default;
  virtual void pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, float *dst) const = 0;
};

/// B given as a strided matrix.
class DenseBPacker : public BPacker {
public:
  explicit DenseBPacker(Matrix b) : b(b) {}
  void pack(int64_t k0, int64_t kc, int64_t n0, int64_t nc, float *dst) const override;

private:
  Matrix b;
};

/// C += A * B, or with `overwrite` C = A * B (C's old contents never read),
/// plus rowBias[i] on row i where `rowBias` is given (with `overwrite` only).
/// `sliceK`: the depth of the K slices (0: sliceDepth(K), see SGemm.cpp).
void gemmWithPacker(int64_t M, int64_t N, int64_t K, Matrix A, const BPacker &B, float *C,
                    int64_t ldc, const float *prepacked = nullptr, bool overwrite = false,
                    int64_t sliceK = 0, const float *rowBias = nullptr);

/// C[mr x nr] += Ap (kc x MR, packed) * Bp (kc x NR, packed); with
/// `overwrite`, C[mr x nr] = the product (the first K slice of a product
/// whose output is not initialized).
using MicroKernel = void (*)(int64_t kc, const float *Ap, const float *Bp, float *C,
                             int64_t ldc, int64_t mr, int64_t nr, bool overwrite);
void microKernelGeneric(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc,
                        int64_t mr, int64_t nr, bool overwrite);
#ifdef QUANTC_HAVE_X86_KERNELS
void microKernelAVX2(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc,
                     int64_t mr, int64_t nr, bool overwrite);
#endif
#ifdef QUANTC_HAVE_AVX512_KERNELS
void microKernelAVX512(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc,
                       int64_t mr, int64_t nr, bool overwrite);
/// Rows of the direct-A tile: 12 (24 accumulators; fewer B loads and C
/// updates per multiply-add than the packed kernel's 8).
constexpr int64_t kDirectMR = 12;
/// The AVX-512 tile reading A in place: kDirectMR rows (mr <= kDirectMR),
/// row r at A + r * lda. While it runs, it prefetches pfLines 64-byte
/// lines from pf (the next panel's share), one per k step. `rowBias`
/// (with `overwrite`): C = rowBias[r] + the product on row r.
void microKernelAVX512DirectA12(int64_t kc, const float *A, int64_t lda, const float *Bp,
                                float *C, int64_t ldc, int64_t mr, int64_t nr, bool overwrite,
                                const float *pf = nullptr, int64_t pfLines = 0,
                                const float *rowBias = nullptr);
#endif

} // namespace quantc::rt

#endif
