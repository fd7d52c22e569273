//===- KernelEntryPoints.cpp - C-interface wrappers for compiled code -----===//
//
// Compiled models call these with strided memref descriptors. Operands
// whose innermost dimension is not unit-stride are gathered into a
// contiguous copy first; outputs are always fresh contiguous buffers from
// bufferization, which the caller guarantees (see the kernel-calls pass).
//
//===----------------------------------------------------------------------===//
#include "quantc/Runtime/Kernels.h"
#include "quantc/Runtime/ThreadPool.h"
#include "quantc/Runtime/Profile.h"

#include <algorithm>
#include <type_traits>
#include <vector>

using namespace quantc::rt;

namespace {
void gemm(int64_t M, int64_t N, int64_t K, const float *a, int64_t ars, int64_t acs,
          const float *b, int64_t brs, int64_t bcs, float *c, int64_t ldc, bool overwrite) {
  sgemm(M, N, K, Matrix{a, ars, acs}, Matrix{b, brs, bcs}, c, ldc, overwrite);
}
void gemm(int64_t M, int64_t N, int64_t K, const int8_t *a, int64_t ars, int64_t acs,
          const int8_t *b, int64_t brs, int64_t bcs, int32_t *c, int64_t ldc, bool overwrite) {
  if (overwrite)
    for (int64_t i = 0; i < M; ++i)
      std::fill(c + i * ldc, c + i * ldc + N, 0);
  igemmS8(M, N, K, MatrixS8{a, ars, acs}, MatrixS8{b, brs, bcs}, c, ldc);
}
void conv(const Conv2DShape &s, const float *x, const float *w, float *y) { conv2d(s, x, w, y); }
void conv(const Conv2DShape &s, const int8_t *x, const int8_t *w, int32_t *y) {
  conv2dS8(s, x, w, y);
}

/// C[M,N] += A[M,K] * B[K,N] (float, or int8 into int32), or with
/// `overwrite` C = A * B; C through a contiguous temporary when its columns
/// are strided.
template <typename In, typename Acc>
void matmulInto(const In *a, int64_t ars, int64_t acs, const In *b, int64_t brs, int64_t bcs,
                Acc *c, int64_t crs, int64_t ccs, int64_t M, int64_t N, int64_t K,
                bool overwrite = false) {
  if (ccs == 1) {
    gemm(M, N, K, a, ars, acs, b, brs, bcs, c, crs, overwrite);
    return;
  }
  std::vector<Acc> tmp(M * N, Acc(0));
  gemm(M, N, K, a, ars, acs, b, brs, bcs, tmp.data(), N, false);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      c[i * crs + j * ccs] = overwrite ? tmp[i * N + j] : c[i * crs + j * ccs] + tmp[i * N + j];
}

template <typename In, typename Acc>
void matmulEntry(MemRef<In, 2> *A, MemRef<In, 2> *B, MemRef<Acc, 2> *C, bool overwrite = false) {
  matmulInto(A->data(), A->strides[0], A->strides[1], B->data(), B->strides[0], B->strides[1],
             C->data(), C->strides[0], C->strides[1], C->sizes[0], C->sizes[1], A->sizes[1],
             overwrite);
}

template <typename In, typename Acc>
void batchMatmulEntry(MemRef<In, 3> *A, MemRef<In, 3> *B, MemRef<Acc, 3> *C,
                      bool overwrite = false) {
  int64_t batch = C->sizes[0], M = C->sizes[1], N = C->sizes[2], K = A->sizes[2];
  // Enough batch elements (attention heads) for every thread: one per
  // task, each single-threaded. Fewer (SmolLM2's 3 grouped K/V heads on 2
  // threads would leave one thread idle half the time): one after the
  // other, each spread over the threads.
  if (batch < 2 * getNumThreads()) {
    for (int64_t i = 0; i < batch; ++i)
      matmulInto(A->data() + i * A->strides[0], A->strides[1], A->strides[2],
                 B->data() + i * B->strides[0], B->strides[1], B->strides[2],
                 C->data() + i * C->strides[0], C->strides[1], C->strides[2], M, N, K,
                 overwrite);
    return;
  }
  parallelFor(batch, [&](int64_t i) {
    matmulInto(A->data() + i * A->strides[0], A->strides[1], A->strides[2],
               B->data() + i * B->strides[0], B->strides[1], B->strides[2],
               C->data() + i * C->strides[0], C->strides[1], C->strides[2], M, N, K, overwrite);
  });
}

template <typename T>
Conv2DShape shapeOf(const MemRef<T, 4> &x, int64_t M, int64_t KH, int64_t KW,
                    const int64_t *ySizes, int64_t sh, int64_t sw, int64_t dh, int64_t dw) {
  Conv2DShape s{};
  s.C = x.sizes[1];
  s.H = x.sizes[2];
  s.W = x.sizes[3];
  s.M = M;
  s.KH = KH;
  s.KW = KW;
  s.OH = ySizes[2];
  s.OW = ySizes[3];
  s.sh = sh;
  s.sw = sw;
  s.dh = dh;
  s.dw = dw;
  s.xsC = x.strides[1];
  s.xsH = x.strides[2];
  s.xsW = x.strides[3];
  return s;
}

bool contiguous(const int64_t *sizes, const int64_t *strides, int rank) {
  int64_t expect = 1;
  for (int i = rank - 1; i >= 0; --i) {
    if (sizes[i] != 1 && strides[i] != expect)
      return false;
    expect *= sizes[i];
  }
  return true;
}

/// Weights as a contiguous buffer (they usually are: constants).
template <typename T>
const T *contiguousWeights(const T *p, const int64_t *sizes, const int64_t *strides, int rank,
                           std::vector<T> &copy) {
  if (contiguous(sizes, strides, rank))
    return p;
  int64_t n = 1;
  for (int i = 0; i < rank; ++i)
    n *= sizes[i];
  copy.resize(n);
  for (int64_t flat = 0; flat < n; ++flat) {
    int64_t rem = flat, off = 0;
    for (int i = rank - 1; i >= 0; --i) {
      off += (rem % sizes[i]) * strides[i];
      rem /= sizes[i];
    }
    copy[flat] = p[off];
  }
  return copy.data();
}

/// Runs `body` on a contiguous output, copying back when Y is a strided view.
template <typename T, typename Body> void withContiguousOutput(MemRef<T, 4> *Y, Body body) {
  if (contiguous(Y->sizes, Y->strides, 4)) {
    body(Y->data());
    return;
  }
  std::vector<T> copy;
  const T *src = contiguousWeights(Y->data(), Y->sizes, Y->strides, 4, copy);
  std::vector<T> out(src, src + Y->sizes[0] * Y->sizes[1] * Y->sizes[2] * Y->sizes[3]);
  body(out.data());
  int64_t flat = 0;
  for (int64_t a = 0; a < Y->sizes[0]; ++a)
    for (int64_t b = 0; b < Y->sizes[1]; ++b)
      for (int64_t c = 0; c < Y->sizes[2]; ++c)
        for (int64_t d = 0; d < Y->sizes[3]; ++d)
          Y->data()[a * Y->strides[0] + b * Y->strides[1] + c * Y->strides[2] +
                    d * Y->strides[3]] = out[flat++];
}

template <typename In, typename Acc>
void conv2dEntry(MemRef<In, 4> *X, MemRef<In, 4> *W, MemRef<Acc, 4> *Y, int64_t sh, int64_t sw,
                 int64_t dh, int64_t dw, bool constW = false, bool overwrite = false,
                 const Acc *bias = nullptr) {
  std::vector<In> wcopy;
  const In *w = contiguousWeights(W->data(), W->sizes, W->strides, 4, wcopy);
  Conv2DShape s = shapeOf(*X, W->sizes[0], W->sizes[2], W->sizes[3], Y->sizes, sh, sw, dh, dw);
  // A weight packed once is keyed by its address: a strided one copied
  // here has a new address per call, so it takes the per-call path.
  constW = constW && wcopy.empty();
  withContiguousOutput(Y, [&](Acc *y) {
    for (int64_t n = 0; n < X->sizes[0]; ++n) {
      Acc *yn = y + n * s.M * s.OH * s.OW;
      if constexpr (std::is_same_v<In, int8_t>)
        if (constW) {
          conv2dS8ConstW(s, X->data() + n * X->strides[0], w, yn, overwrite);
          continue;
        }
      // f32: the kernel sets its output (to the bias plus the product).
      if constexpr (std::is_same_v<In, float>)
        if (overwrite) {
          conv2d(s, X->data() + n * X->strides[0], w, yn, true, bias);
          continue;
        }
      if (overwrite)
        std::fill(yn, yn + s.M * s.OH * s.OW, Acc(0));
      conv(s, X->data() + n * X->strides[0], w, yn);
    }
  });
}
} // namespace

namespace {
/// gemm(M, N, c, ldc) accumulating into C, through a contiguous temporary
/// when C's columns are strided.
template <typename Gemm> void accumulateInto(MemRefF32<2> *C, Gemm gemm) {
  int64_t M = C->sizes[0], N = C->sizes[1];
  if (C->strides[1] == 1) {
    gemm(M, N, C->data(), C->strides[0]);
    return;
  }
  std::vector<float> tmp(M * N, 0.0f);
  gemm(M, N, tmp.data(), N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      C->data()[i * C->strides[0] + j * C->strides[1]] += tmp[i * N + j];
}
} // namespace

namespace {
/// A vector's values with unit stride: in place, or copied.
const float *contiguousVector(const MemRefF32<1> *V, std::vector<float> &copy) {
  if (V->strides[0] == 1)
    return V->data();
  copy.resize(V->sizes[0]);
  for (int64_t i = 0; i < V->sizes[0]; ++i)
    copy[i] = V->data()[i * V->strides[0]];
  return copy.data();
}

void depthwiseKernel(const Conv2DShape &s, const float *x, const float *w, float *y,
                     bool overwrite, const float *bias) {
  depthwiseConv2d(s, x, w, y, overwrite, bias);
}
void depthwiseKernel(const Conv2DShape &s, const int8_t *x, const int8_t *w, int32_t *y,
                     bool overwrite, const int32_t *) {
  depthwiseConv2dS8(s, x, w, y, overwrite);
}

template <typename In, typename Acc>
void depthwiseEntry(MemRef<In, 4> *X, MemRef<In, 3> *W, MemRef<Acc, 4> *Y, int64_t sh,
                    int64_t sw, int64_t dh, int64_t dw, bool overwrite = false,
                    const Acc *bias = nullptr, int64_t padT = 0, int64_t padL = 0) {
  std::vector<In> wcopy;
  const In *w = contiguousWeights(W->data(), W->sizes, W->strides, 3, wcopy);
  Conv2DShape s =
      shapeOf(*X, X->sizes[1], W->sizes[1], W->sizes[2], Y->sizes, sh, sw, dh, dw);
  s.padT = padT;
  s.padL = padL;
  withContiguousOutput(Y, [&](Acc *y) {
    for (int64_t n = 0; n < X->sizes[0]; ++n)
      depthwiseKernel(s, X->data() + n * X->strides[0], w, y + n * s.C * s.OH * s.OW, overwrite,
                      bias);
  });
}
} // namespace

extern "C" {
void *_mlir_memref_to_llvm_alloc(size_t size);
void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size);
void _mlir_memref_to_llvm_free(void *ptr);

void _mlir_ciface_qc_rt_matmul_f32(MemRefF32<2> *A, MemRefF32<2> *B, MemRefF32<2> *C) {
  matmulEntry(A, B, C);
}

namespace {
void constBEntry(MemRefF32<2> *A, MemRefF32<2> *B, MemRefF32<2> *C, bool overwrite) {
  if (C->strides[1] != 1) {
    matmulEntry(A, B, C, overwrite);
    return;
  }
  sgemmConstB(C->sizes[0], C->sizes[1], A->sizes[1], Matrix{A->data(), A->strides[0], A->strides[1]},
              Matrix{B->data(), B->strides[0], B->strides[1]}, C->data(), C->strides[0], overwrite);
}
} // namespace

/// B is a constant (a weight): packed once and kept (sgemmConstB).
void _mlir_ciface_qc_rt_matmul_f32_constb(MemRefF32<2> *A, MemRefF32<2> *B, MemRefF32<2> *C) {
  constBEntry(A, B, C, false);
}

// The _set variants write C = A * B without reading C (the output was
// not zero-filled: quantc-cpu-kernel-calls dropped the fill).
void _mlir_ciface_qc_rt_matmul_f32_set(MemRefF32<2> *A, MemRefF32<2> *B, MemRefF32<2> *C) {
  matmulEntry(A, B, C, true);
}
void _mlir_ciface_qc_rt_matmul_f32_constb_set(MemRefF32<2> *A, MemRefF32<2> *B, MemRefF32<2> *C) {
  constBEntry(A, B, C, true);
}
void _mlir_ciface_qc_rt_batch_matmul_f32_set(MemRefF32<3> *A, MemRefF32<3> *B, MemRefF32<3> *C) {
  batchMatmulEntry(A, B, C, true);
}

namespace {
View4 view(const MemRefF32<4> *m) {
  View4 v{m->data(), {}, {}};
  for (int i = 0; i < 4; ++i) {
    v.sizes[i] = m->sizes[i];
    v.strides[i] = m->strides[i];
  }
  return v;
}
} // namespace

void _mlir_ciface_qc_rt_attention_f32(MemRefF32<4> *Q, MemRefF32<4> *K, MemRefF32<4> *V,
                                      MemRefF32<4> *O, float scale) {
  attentionF32(view(Q), view(K), view(V), nullptr, view(O), scale);
}

void _mlir_ciface_qc_rt_attention_masked_f32(MemRefF32<4> *Q, MemRefF32<4> *K, MemRefF32<4> *V,
                                             MemRefF32<4> *Mask, MemRefF32<4> *O, float scale) {
  View4 mask = view(Mask);
  attentionF32(view(Q), view(K), view(V), &mask, view(O), scale);
}

void _mlir_ciface_qc_rt_hadamard_f32(MemRefF32<2> *X, MemRefF32<2> *F, MemRefF32<2> *Y) {
  const int64_t rows = Y->sizes[0], n = Y->sizes[1], m = F->sizes[0];
  // The factor is a small constant; x and y are read and written by rows.
  std::vector<float> f(m * m);
  for (int64_t a = 0; a < m; ++a)
    for (int64_t c = 0; c < m; ++c)
      f[a * m + c] = F->data()[a * F->strides[0] + c * F->strides[1]];
  std::vector<float> xc, yc;
  const float *x = X->data();
  int64_t xs = X->strides[0];
  if (X->strides[1] != 1) {
    xc.resize(rows * n);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < n; ++i)
        xc[r * n + i] = x[r * xs + i * X->strides[1]];
    x = xc.data();
    xs = n;
  }
  if (Y->strides[1] == 1) {
    hadamardF32(rows, n, x, xs, f.data(), m, Y->data(), Y->strides[0]);
    return;
  }
  yc.resize(rows * n);
  hadamardF32(rows, n, x, xs, f.data(), m, yc.data(), n);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < n; ++i)
      Y->data()[r * Y->strides[0] + i * Y->strides[1]] = yc[r * n + i];
}

void _mlir_ciface_qc_rt_batch_matmul_f32(MemRefF32<3> *A, MemRefF32<3> *B, MemRefF32<3> *C) {
  batchMatmulEntry(A, B, C);
}

void _mlir_ciface_qc_rt_conv2d_nchw_f32(MemRefF32<4> *X, MemRefF32<4> *W, MemRefF32<4> *Y,
                                        int64_t sh, int64_t sw, int64_t dh, int64_t dw) {
  conv2dEntry(X, W, Y, sh, sw, dh, dw);
}

void _mlir_ciface_qc_rt_conv2d_nchw_f32_set(MemRefF32<4> *X, MemRefF32<4> *W, MemRefF32<4> *Y,
                                            int64_t sh, int64_t sw, int64_t dh, int64_t dw) {
  conv2dEntry(X, W, Y, sh, sw, dh, dw, false, true);
}

void _mlir_ciface_qc_rt_conv2d_nchw_f32_bias(MemRefF32<4> *X, MemRefF32<4> *W,
                                             MemRefF32<1> *Bias, MemRefF32<4> *Y, int64_t sh,
                                             int64_t sw, int64_t dh, int64_t dw) {
  std::vector<float> copy;
  conv2dEntry(X, W, Y, sh, sw, dh, dw, false, true, contiguousVector(Bias, copy));
}

void _mlir_ciface_qc_rt_matmul_f32_w4(MemRefF32<2> *A, MemRefI8<2> *P, MemRefF32<2> *S,
                                      MemRefI8<2> *Z, MemRefF32<2> *C, int64_t group,
                                      int64_t isSigned) {
  Int4Weights w{P->data(), P->strides[0], P->strides[1], S->data(), S->strides[0],
                S->strides[1], Z->data(), Z->strides[0], Z->strides[1], group, isSigned != 0};
  int64_t K = A->sizes[1];
  Matrix a{A->data(), A->strides[0], A->strides[1]};
  accumulateInto(C, [&](int64_t M, int64_t N, float *c, int64_t ldc) {
    sgemmW4(M, N, K, a, w, c, ldc);
  });
}

namespace {
/// A plane's rows with unit column stride: the plane itself, or a copy.
const int8_t *contiguousRows(const MemRefI8<2> *P, std::vector<int8_t> &copy, int64_t &rs) {
  if (P->strides[1] == 1) {
    rs = P->strides[0];
    return P->data();
  }
  rs = P->sizes[1];
  copy.resize(P->sizes[0] * P->sizes[1]);
  for (int64_t i = 0; i < P->sizes[0]; ++i)
    for (int64_t j = 0; j < P->sizes[1]; ++j)
      copy[i * rs + j] = P->data()[i * P->strides[0] + j * P->strides[1]];
  return copy.data();
}

void lowBitEntry(MemRefF32<2> *A, MemRefI8<2> *L, MemRefI8<2> *H, MemRefF32<2> *S,
                 MemRefI8<2> *Z, MemRefF32<2> *C, int64_t group, int bits) {
  std::vector<int8_t> lc, hc;
  LowBitWeights w{};
  w.low = contiguousRows(L, lc, w.lrs);
  if (H)
    w.high = contiguousRows(H, hc, w.hrs);
  w.bits = bits;
  w.scale = S->data(), w.srs = S->strides[0], w.scs = S->strides[1];
  w.zp = Z->data(), w.zrs = Z->strides[0], w.zcs = Z->strides[1];
  w.group = group;
  int64_t K = A->sizes[1];
  Matrix a{A->data(), A->strides[0], A->strides[1]};
  accumulateInto(C, [&](int64_t M, int64_t N, float *c, int64_t ldc) {
    sgemmLowBit(M, N, K, a, w, c, ldc);
  });
}
} // namespace

void _mlir_ciface_qc_rt_matmul_f32_w2(MemRefF32<2> *A, MemRefI8<2> *L, MemRefF32<2> *S,
                                      MemRefI8<2> *Z, MemRefF32<2> *C, int64_t group) {
  lowBitEntry(A, L, nullptr, S, Z, C, group, 2);
}

void _mlir_ciface_qc_rt_matmul_f32_w3(MemRefF32<2> *A, MemRefI8<2> *L, MemRefI8<2> *H,
                                      MemRefF32<2> *S, MemRefI8<2> *Z, MemRefF32<2> *C,
                                      int64_t group) {
  lowBitEntry(A, L, H, S, Z, C, group, 3);
}

void _mlir_ciface_qc_rt_matmul_i8_i32(MemRefI8<2> *A, MemRefI8<2> *B, MemRefI32<2> *C) {
  matmulEntry(A, B, C);
}

namespace {
void constBS8Entry(MemRefI8<2> *A, MemRefI8<2> *B, MemRefI32<2> *C, bool overwrite) {
  if (C->strides[1] != 1) {
    matmulEntry(A, B, C, overwrite);
    return;
  }
  igemmS8ConstB(C->sizes[0], C->sizes[1], A->sizes[1],
                MatrixS8{A->data(), A->strides[0], A->strides[1]},
                MatrixS8{B->data(), B->strides[0], B->strides[1]}, C->data(), C->strides[0],
                overwrite);
}
} // namespace

/// B is a constant (a weight): packed once and kept (igemmS8ConstB).
void _mlir_ciface_qc_rt_matmul_i8_i32_constb(MemRefI8<2> *A, MemRefI8<2> *B, MemRefI32<2> *C) {
  constBS8Entry(A, B, C, false);
}
/// The same writing C = A * B (its zero fill dropped).
void _mlir_ciface_qc_rt_matmul_i8_i32_constb_set(MemRefI8<2> *A, MemRefI8<2> *B,
                                                 MemRefI32<2> *C) {
  constBS8Entry(A, B, C, true);
}

void _mlir_ciface_qc_rt_batch_matmul_i8_i32(MemRefI8<3> *A, MemRefI8<3> *B, MemRefI32<3> *C) {
  batchMatmulEntry(A, B, C);
}

void _mlir_ciface_qc_rt_conv2d_nchw_i8_i32(MemRefI8<4> *X, MemRefI8<4> *W, MemRefI32<4> *Y,
                                           int64_t sh, int64_t sw, int64_t dh, int64_t dw) {
  conv2dEntry(X, W, Y, sh, sw, dh, dw);
}

/// W is a constant (a weight): packed once and kept (conv2dS8ConstW).
void _mlir_ciface_qc_rt_conv2d_nchw_i8_i32_constw(MemRefI8<4> *X, MemRefI8<4> *W,
                                                  MemRefI32<4> *Y, int64_t sh, int64_t sw,
                                                  int64_t dh, int64_t dw) {
  conv2dEntry(X, W, Y, sh, sw, dh, dw, /*constW=*/true);
}

/// The same with Y overwritten (its zero fill dropped by
/// quantc-cpu-kernel-calls): Y = the convolution, Y never read.
void _mlir_ciface_qc_rt_conv2d_nchw_i8_i32_constw_set(MemRefI8<4> *X, MemRefI8<4> *W,
                                                      MemRefI32<4> *Y, int64_t sh, int64_t sw,
                                                      int64_t dh, int64_t dw) {
  conv2dEntry(X, W, Y, sh, sw, dh, dw, /*constW=*/true, /*overwrite=*/true);
}

void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32(MemRefF32<4> *X, MemRefF32<3> *W,
                                                  MemRefF32<4> *Y, int64_t sh, int64_t sw,
                                                  int64_t dh, int64_t dw) {
  depthwiseEntry(X, W, Y, sh, sw, dh, dw);
}

void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_set(MemRefF32<4> *X, MemRefF32<3> *W,
                                                      MemRefF32<4> *Y, int64_t sh, int64_t sw,
                                                      int64_t dh, int64_t dw) {
  depthwiseEntry(X, W, Y, sh, sw, dh, dw, true);
}

void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_bias(MemRefF32<4> *X, MemRefF32<3> *W,
                                                       MemRefF32<1> *Bias, MemRefF32<4> *Y,
                                                       int64_t sh, int64_t sw, int64_t dh,
                                                       int64_t dw) {
  std::vector<float> copy;
  depthwiseEntry(X, W, Y, sh, sw, dh, dw, true, contiguousVector(Bias, copy));
}

void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_pad(MemRefF32<4> *X, MemRefF32<3> *W,
                                                      MemRefF32<4> *Y, int64_t sh, int64_t sw,
                                                      int64_t dh, int64_t dw, int64_t padT,
                                                      int64_t padL) {
  depthwiseEntry(X, W, Y, sh, sw, dh, dw, false, static_cast<const float *>(nullptr), padT, padL);
}

void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_set_pad(MemRefF32<4> *X, MemRefF32<3> *W,
                                                          MemRefF32<4> *Y, int64_t sh,
                                                          int64_t sw, int64_t dh, int64_t dw,
                                                          int64_t padT, int64_t padL) {
  depthwiseEntry(X, W, Y, sh, sw, dh, dw, true, static_cast<const float *>(nullptr), padT,
                 padL);
}

void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_bias_pad(MemRefF32<4> *X, MemRefF32<3> *W,
                                                           MemRefF32<1> *Bias, MemRefF32<4> *Y,
                                                           int64_t sh, int64_t sw, int64_t dh,
                                                           int64_t dw, int64_t padT,
                                                           int64_t padL) {
  std::vector<float> copy;
  depthwiseEntry(X, W, Y, sh, sw, dh, dw, true, contiguousVector(Bias, copy), padT, padL);
}

void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_i8_i32(MemRefI8<4> *X, MemRefI8<3> *W,
                                                     MemRefI32<4> *Y, int64_t sh, int64_t sw,
                                                     int64_t dh, int64_t dw) {
  depthwiseEntry(X, W, Y, sh, sw, dh, dw);
}

void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_i8_i32_set(MemRefI8<4> *X, MemRefI8<3> *W,
                                                         MemRefI32<4> *Y, int64_t sh, int64_t sw,
                                                         int64_t dh, int64_t dw) {
  depthwiseEntry(X, W, Y, sh, sw, dh, dw, true);
}

namespace {
Conv2DShape epilogueShape(int64_t C, int64_t H, int64_t W, int64_t xsC, int64_t xsH,
                          int64_t xsW, int64_t M, int64_t KH, int64_t KW, int64_t OH, int64_t OW,
                          int64_t sh, int64_t sw, int64_t dh, int64_t dw) {
  Conv2DShape s{};
  s.C = C, s.H = H, s.W = W, s.M = M, s.KH = KH, s.KW = KW, s.OH = OH, s.OW = OW;
  s.sh = sh, s.sw = sw, s.dh = dh, s.dw = dw;
  s.xsC = xsC, s.xsH = xsH, s.xsW = xsW;
  return s;
}
} // namespace

/// An int8 convolution with a constant weight (one image) whose int32
/// product goes block by block to a generated epilogue instead of a
/// buffer (quantc-cpu-fuse-epilogues): x at xAddr, C x H x W elements
/// xsC/xsH/xsW apart; w at wAddr, contiguous M x C x KH x KW (a weight:
/// its address keys the packed copy).
void qc_rt_conv2d_nchw_i8_epilogue(int64_t xAddr, int64_t C, int64_t H, int64_t W, int64_t xsC,
                                   int64_t xsH, int64_t xsW, int64_t wAddr, int64_t M,
                                   int64_t KH, int64_t KW, int64_t OH, int64_t OW, int64_t sh,
                                   int64_t sw, int64_t dh, int64_t dw,
                                   void (*fn)(void *, const int32_t *, int64_t, int64_t, int64_t,
                                              int64_t, int64_t),
                                   void *ctx) {
  conv2dS8ConstWEpilogue(epilogueShape(C, H, W, xsC, xsH, xsW, M, KH, KW, OH, OW, sh, sw, dh, dw),
                         reinterpret_cast<const int8_t *>(xAddr),
                         reinterpret_cast<const int8_t *>(wAddr), Epilogue{fn, ctx});
}

/// An int8 matrix product with a constant B whose int32 product goes to a
/// generated epilogue (quantc-cpu-fuse-epilogues): A at aAddr, M x K with
/// rows aRs and columns aCs apart; B at bAddr, contiguous K x N (a weight:
/// its address keys the packed copy).
void qc_rt_matmul_i8_epilogue(int64_t aAddr, int64_t M, int64_t K, int64_t aRs, int64_t aCs,
                              int64_t bAddr, int64_t N,
                              void (*fn)(void *, const int32_t *, int64_t, int64_t, int64_t,
                                         int64_t, int64_t),
                              void *ctx) {
  igemmS8ConstBEpilogue(M, N, K, MatrixS8{reinterpret_cast<const int8_t *>(aAddr), aRs, aCs},
                        MatrixS8{reinterpret_cast<const int8_t *>(bAddr), N, 1},
                        Epilogue{fn, ctx});
}

/// The same for an int8 depthwise convolution (w: C x KH x KW, M = C).
void qc_rt_depthwise_conv2d_nchw_i8_epilogue(
    int64_t xAddr, int64_t C, int64_t H, int64_t W, int64_t xsC, int64_t xsH, int64_t xsW,
    int64_t wAddr, int64_t M, int64_t KH, int64_t KW, int64_t OH, int64_t OW, int64_t sh,
    int64_t sw, int64_t dh, int64_t dw,
    void (*fn)(void *, const int32_t *, int64_t, int64_t, int64_t, int64_t, int64_t), void *ctx) {
  depthwiseConv2dS8Epilogue(
      epilogueShape(C, H, W, xsC, xsH, xsW, M, KH, KW, OH, OW, sh, sw, dh, dw),
      reinterpret_cast<const int8_t *>(xAddr), reinterpret_cast<const int8_t *>(wAddr),
      Epilogue{fn, ctx});
}

/// The loops quantc-cpu-parallel-dispatch hands over: fn(ctx, lo, hi) on
/// one contiguous range of [0, n) per thread (the whole range when the
/// pool has one thread or this is already a pool task).
void qc_rt_parallel_for(void (*fn)(void *, int64_t, int64_t), void *ctx, int64_t n) {
  int64_t tasks = std::min<int64_t>(n, getNumThreads());
  if (tasks <= 1) {
    fn(ctx, 0, n);
    return;
  }
  parallelFor(tasks, [&](int64_t t) { fn(ctx, t * n / tasks, (t + 1) * n / tasks); });
}

} // extern "C"

std::vector<std::pair<const char *, void *>> quantc::rt::kernelSymbols() {
  return {
      {"_mlir_ciface_qc_rt_matmul_f32", reinterpret_cast<void *>(&_mlir_ciface_qc_rt_matmul_f32)},
      {"_mlir_ciface_qc_rt_matmul_f32_constb",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_matmul_f32_constb)},
      {"_mlir_ciface_qc_rt_batch_matmul_f32",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_batch_matmul_f32)},
      {"_mlir_ciface_qc_rt_matmul_f32_set",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_matmul_f32_set)},
      {"_mlir_ciface_qc_rt_matmul_f32_constb_set",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_matmul_f32_constb_set)},
      {"_mlir_ciface_qc_rt_batch_matmul_f32_set",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_batch_matmul_f32_set)},
      {"_mlir_ciface_qc_rt_attention_f32",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_attention_f32)},
      {"_mlir_ciface_qc_rt_attention_masked_f32",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_attention_masked_f32)},
      {"_mlir_ciface_qc_rt_conv2d_nchw_f32",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_conv2d_nchw_f32)},
      {"_mlir_ciface_qc_rt_conv2d_nchw_f32_set",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_conv2d_nchw_f32_set)},
      {"_mlir_ciface_qc_rt_conv2d_nchw_f32_bias",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_conv2d_nchw_f32_bias)},
      {"_mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32)},
      {"_mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_set",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_set)},
      {"_mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_bias",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_bias)},
      {"_mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_pad",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_pad)},
      {"_mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_set_pad",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_set_pad)},
      {"_mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_bias_pad",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_bias_pad)},
      {"_mlir_ciface_qc_rt_depthwise_conv2d_nchw_i8_i32",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_depthwise_conv2d_nchw_i8_i32)},
      {"_mlir_ciface_qc_rt_depthwise_conv2d_nchw_i8_i32_set",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_depthwise_conv2d_nchw_i8_i32_set)},
      {"_mlir_ciface_qc_rt_hadamard_f32",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_hadamard_f32)},
      {"_mlir_ciface_qc_rt_matmul_f32_w4",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_matmul_f32_w4)},
      {"_mlir_ciface_qc_rt_matmul_f32_w2",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_matmul_f32_w2)},
      {"_mlir_ciface_qc_rt_matmul_f32_w3",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_matmul_f32_w3)},
      {"_mlir_ciface_qc_rt_matmul_i8_i32",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_matmul_i8_i32)},
      {"_mlir_ciface_qc_rt_matmul_i8_i32_constb",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_matmul_i8_i32_constb)},
      {"_mlir_ciface_qc_rt_matmul_i8_i32_constb_set",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_matmul_i8_i32_constb_set)},
      {"_mlir_ciface_qc_rt_batch_matmul_i8_i32",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_batch_matmul_i8_i32)},
      {"_mlir_ciface_qc_rt_conv2d_nchw_i8_i32",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_conv2d_nchw_i8_i32)},
      {"_mlir_ciface_qc_rt_conv2d_nchw_i8_i32_constw",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_conv2d_nchw_i8_i32_constw)},
      {"_mlir_ciface_qc_rt_conv2d_nchw_i8_i32_constw_set",
       reinterpret_cast<void *>(&_mlir_ciface_qc_rt_conv2d_nchw_i8_i32_constw_set)},
      {"qc_rt_prof_mark", reinterpret_cast<void *>(&qc_rt_prof_mark)},
      {"qc_rt_parallel_for", reinterpret_cast<void *>(&qc_rt_parallel_for)},
      {"qc_rt_conv2d_nchw_i8_epilogue",
       reinterpret_cast<void *>(&qc_rt_conv2d_nchw_i8_epilogue)},
      {"qc_rt_matmul_i8_epilogue", reinterpret_cast<void *>(&qc_rt_matmul_i8_epilogue)},
      {"qc_rt_depthwise_conv2d_nchw_i8_epilogue",
       reinterpret_cast<void *>(&qc_rt_depthwise_conv2d_nchw_i8_epilogue)},
      {"_mlir_memref_to_llvm_alloc", reinterpret_cast<void *>(&_mlir_memref_to_llvm_alloc)},
      {"_mlir_memref_to_llvm_aligned_alloc",
       reinterpret_cast<void *>(&_mlir_memref_to_llvm_aligned_alloc)},
      {"_mlir_memref_to_llvm_free", reinterpret_cast<void *>(&_mlir_memref_to_llvm_free)},
  };
}
