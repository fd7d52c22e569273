//===- Kernels.h - compute kernels called by compiled models ----*- C++ -*-===//
//
// Compiled models call these for the contractions (matmul, convolution);
// the code around them (elementwise ops, reshapes, reductions) is
// generated. The entry points use MLIR's C interface: each memref argument
// is a pointer to a strided memref descriptor, so views with any strides
// can be passed. Every kernel accumulates into its output (C += A * B), the
// output holding the bias or zeros beforehand, like the linalg op it
// replaces.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_RUNTIME_KERNELS_H
#define QUANTC_RUNTIME_KERNELS_H

#include <cstdint>
#include <utility>
#include <vector>

namespace quantc::rt {

template <typename T, int Rank> struct MemRef {
  T *allocated;
  T *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
  T *data() const { return aligned + offset; }
};
template <int Rank> using MemRefF32 = MemRef<float, Rank>;
template <int Rank> using MemRefI8 = MemRef<int8_t, Rank>;
template <int Rank> using MemRefI32 = MemRef<int32_t, Rank>;

/// Dense matrix operand: element (i, j) at ptr[i * rs + j * cs].
struct Matrix {
  const float *ptr;
  int64_t rs, cs;
};

/// C[M x N] (+)= A[M x K] * B[K x N]; C's columns are unit-stride, its rows
/// `ldc` apart. Spreads over the runtime's threads.
/// With `overwrite`, C = A * B: C's old contents are never read (a fresh
/// output needs no zero fill).
void sgemm(int64_t M, int64_t N, int64_t K, Matrix A, Matrix B, float *C, int64_t ldc,
           bool overwrite = false);
/// sgemm with a B that never changes (a weight): packed into the GEMM's
/// panels on the first call and kept (keyed by its address and shape), so
/// later calls skip packing. Small M streams B as sgemm does.
/// QUANTC_PREPACK=0 turns the cache off.
void sgemmConstB(int64_t M, int64_t N, int64_t K, Matrix A, Matrix B, float *C, int64_t ldc,
                 bool overwrite = false);
/// Drops every packed weight. The cache is keyed by address: whoever frees
/// weights that compiled code ran on (a JIT model going away) calls this,
/// so that other weights later at the same address are not read stale.
void releasePackedWeights();

/// 2-D convolution geometry (NCHW input, MCKhKw weights, one image).
struct Conv2DShape {
  int64_t C, H, W;           // input channels and size
  int64_t M, KH, KW;         // output channels and kernel size
  int64_t OH, OW;            // output size
  int64_t sh, sw, dh, dw;    // strides and dilations
  int64_t padT, padL;        // implicit zero padding before the first row/col
  int64_t xsC, xsH, xsW;     // input strides
};

/// out[m, oy, ox] += sum_{c,ky,kx} w[m, c, ky, kx] * x[c, oy*sh + ky*dh - padT, ...]
/// for one image; `w` is contiguous M x (C*KH*KW); out rows are OW apart and
/// channels OH*OW apart. With `overwrite`, out = bias[m] (0 without `bias`)
/// + the sum, out's old contents never read.
void conv2d(const Conv2DShape &s, const float *x, const float *w, float *out,
            bool overwrite = false, const float *bias = nullptr);
/// conv2d on the im2col GEMM alone (what conv2d does unless the direct
/// kernel below applies).
void conv2dGemm(const Conv2DShape &s, const float *x, const float *w, float *out,
                bool overwrite = false, const float *bias = nullptr);
/// The path conv2d takes for `s`: "direct-avx512" or "direct-avx2" (at
/// most 48 output channels, unit horizontal stride and dilation, a kernel
/// of 2 to 64 taps, 16 or more output columns, the ISA present and not
/// capped by QUANTC_CPU_KERNELS: the image read in place, no im2col
/// panels) or "im2col-gemm".
const char *denseConvPath(const Conv2DShape &s);
/// The direct kernel this CPU takes for such convolutions
/// ("direct-avx512", "direct-avx2" or "im2col-gemm").
const char *denseConvKernelName();

/// Integer GEMM operand: int8 element (i, j) at ptr[i * rs + j * cs].
struct MatrixS8 {
  const int8_t *ptr;
  int64_t rs, cs;
};

/// C[M x N] (+)= A[M x K] * B[K x N] on int8 operands, accumulated exactly
/// in int32 (products widened to 16 bits and summed in pairs: no
/// saturation for any int8 values). Zero points are the caller's business
/// (compiled models subtract precomputed correction terms afterwards).
void igemmS8(int64_t M, int64_t N, int64_t K, MatrixS8 A, MatrixS8 B, int32_t *C, int64_t ldc);

/// igemmS8 with B a constant (a weight): on CPUs with AVX-512 VNNI, B is
/// packed once into u8 x s8 quads (vpdpbusd, twice igemmS8's multiply-adds
/// per instruction) and kept until releasePackedWeights; elsewhere, and
/// for products of 1-3 rows (decode), igemmS8. The same exact int32 results.
/// `overwrite`: C = A * B, C not read.
void igemmS8ConstB(int64_t M, int64_t N, int64_t K, MatrixS8 A, MatrixS8 B, int32_t *C,
                   int64_t ldc, bool overwrite = false);
/// Whether AMX-INT8 tiles may be used: the CPU has them, the OS saves
/// their state and granted this process the tile data (asked once), and
/// QUANTC_CPU_KERNELS does not cap the kernels below it.
bool amxInt8Usable();
/// Whether igemmS8ConstB reads A's tiles in place (no packing): on the
/// AMX path, for A with unit column stride, K and the row stride
/// multiples of 64 and A 64-byte aligned (its whole 32-row blocks).
bool igemmConstBReadsAInPlace(int64_t M, int64_t K, MatrixS8 A);
/// The path igemmS8ConstB takes for products above decode size
/// ("avx512vnni-u8s8", or igemmKernelName()'s).
const char *igemmConstBKernelName();
/// Drops igemmS8ConstB's packed weights (releasePackedWeights calls it).
void releasePackedS8Weights();

/// conv2d on int8 image and weights into int32, one image (implicit
/// padding reads 0).
void conv2dS8(const Conv2DShape &s, const int8_t *x, const int8_t *w, int32_t *out);
/// The same with `w` a constant (a weight that stays at its address):
/// where igemmS8ConstB has its u8 x s8 quads or AMX tiles, the product is
/// taken as out^T = patches(x) * w^T, w packed once (k ordered ky, kx, c)
/// and the image transposed to channels-last so that each output pixel's
/// patch is KH x KW runs of C bytes, for K = C KH KW >= 64; elsewhere
/// conv2dS8. The same exact
/// int32 results (out += the product; with `overwrite`, out = the
/// product, its old contents never read).
void conv2dS8ConstW(const Conv2DShape &s, const int8_t *x, const int8_t *w, int32_t *out,
                    bool overwrite = false);
/// An elementwise epilogue that a kernel applies to each block of its
/// int32 result while the block is in cache, instead of storing the whole
/// result for a later pass (quantc-cpu-fuse-epilogues generates them):
/// fn(ctx, tile, ld, m0, m1, n0, n1) reads result row m (a convolution's
/// output channel, a matrix product's row) at column n (a convolution's
/// flattened output position oy * OW + ox) from
/// tile[(m - m0) * ld + (n - n0)] for m in [m0, m1), n in [n0, n1), and
/// writes the final outputs of that block itself. Called from the
/// runtime's threads on disjoint blocks.
struct Epilogue {
  void (*fn)(void *ctx, const int32_t *tile, int64_t ld, int64_t m0, int64_t m1, int64_t n0,
             int64_t n1);
  void *ctx;
  void operator()(const int32_t *tile, int64_t ld, int64_t m0, int64_t m1, int64_t n0,
                  int64_t n1) const {
    fn(ctx, tile, ld, m0, m1, n0, n1);
  }
};
/// igemmS8ConstB's product (C = A * B, B a weight) handed to `epi` (row m,
/// column n) instead of stored: on AMX each task's strip of up to 256
/// columns, all rows, from a thread-local buffer; elsewhere the whole
/// product is computed first and handed over in blocks of 32 rows.
void igemmS8ConstBEpilogue(int64_t M, int64_t N, int64_t K, MatrixS8 A, MatrixS8 B,
                           const Epilogue &epi);
/// conv2dS8's product handed to `epi` in blocks of 256 pixels (all
/// channels), each computed into a thread-local tile.
void conv2dS8Epilogue(const Conv2DShape &s, const int8_t *x, const int8_t *w,
                      const Epilogue &epi);
/// conv2dS8ConstW's product handed block by block to `epi` (one image),
/// never stored whole (conv2dS8Epilogue where conv2dS8ConstW takes
/// conv2dS8).
void conv2dS8ConstWEpilogue(const Conv2DShape &s, const int8_t *x, const int8_t *w,
                            const Epilogue &epi);
/// depthwiseConv2dS8's product handed to `epi` one channel's plane at a
/// time (m0 = c, m1 = c + 1, n over the whole plane), never stored whole.
void depthwiseConv2dS8Epilogue(const Conv2DShape &s, const int8_t *x, const int8_t *w,
                               const Epilogue &epi);
/// The path conv2dS8ConstW takes ("amx", "avx512vnni-u8s8", or
/// igemmKernelName()'s).
const char *convS8ConstWKernelName();

/// 4-bit weights for sgemmW4: element (k, n) of B is
///   (q(k, n) - zp[k / group, n]) * scale[k / group, n]
/// with q the nibble n % 2 (low first) of packed[k, n / 2], zero- or
/// sign-extended. Each operand has its row and column strides.
struct Int4Weights {
  const int8_t *packed;
  int64_t prs, pcs;
  const float *scale;
  int64_t srs, scs;
  const int8_t *zp;
  int64_t zrs, zcs;
  int64_t group;
  bool isSigned;
};

/// C[M x N] (+)= A[M x K] * B where B is dequantized from 4-bit weights
/// while packing each panel: no float copy of B is ever made.
void sgemmW4(int64_t M, int64_t N, int64_t K, Matrix A, const Int4Weights &B, float *C,
             int64_t ldc);

/// 2- and 3-bit unsigned weights in bit planes, so that no value crosses a
/// byte: element (k, n) of B is (q(k, n) - zp[k / group, n]) *
/// scale[k / group, n] with
///   q(k, n) = (low[k, n / 4] >> 2 (n % 4)) & 3                    (bits 2)
///           | ((high[k, n / 8] >> (n % 8)) & 1) << 2              (bits 3)
/// (zp and scale as Int4Weights; `high` unused at 2 bits). The planes'
/// columns are contiguous (lcs = hcs = 1).
struct LowBitWeights {
  const int8_t *low;
  int64_t lrs;
  const int8_t *high;
  int64_t hrs;
  int bits; // 2 or 3
  const float *scale;
  int64_t srs, scs;
  const int8_t *zp;
  int64_t zrs, zcs;
  int64_t group;
};

/// Rows [k0, k1) of `w` as 4-bit nibbles (Int4Weights' layout: element n
/// in nibble n % 2, low first, of byte n / 2; unsigned), `nrs` bytes apart.
void unpackLowBitRows(const LowBitWeights &w, int64_t k0, int64_t k1, int64_t N, int8_t *nibbles,
                      int64_t nrs);

/// The widening unpackLowBitRows runs ("avx2": 64 columns a step, or
/// "generic": 8 through two tables).
const char *lowBitWidenKernelName();

/// C[M x N] (+)= A[M x K] * B for 2- or 3-bit B: the planes are widened to
/// nibbles (unpackLowBitRows, in parallel, into a per-thread buffer of
/// K x ceil(N / 2) bytes) and multiplied by sgemmW4.
void sgemmLowBit(int64_t M, int64_t N, int64_t K, Matrix A, const LowBitWeights &B, float *C,
                 int64_t ldc);

/// Depthwise: out[c, oy, ox] += sum_{ky,kx} w[c, ky, kx] * x[c, ...], one image;
/// with `overwrite`, out = bias[c] (0 without `bias`) + the sum, out not read.
void depthwiseConv2d(const Conv2DShape &s, const float *x, const float *w, float *out,
                     bool overwrite = false, const float *bias = nullptr);
/// The same on int8 into int32 (exact): out[c, oy, ox] (+)= sum w * x.
/// With AVX-512 (QUANTC_CPU_KERNELS not capping it) and at most 1024 taps
/// the products are summed in f32 (exact: integers below 2^24), else in
/// int32 loops.
void depthwiseConv2dS8(const Conv2DShape &s, const int8_t *x, const int8_t *w, int32_t *out,
                       bool overwrite = false);

/// A 4-D float view: element (i, j, k, l) at
/// ptr[i * strides[0] + j * strides[1] + k * strides[2] + l * strides[3]].
struct View4 {
  float *ptr;
  int64_t sizes[4], strides[4];
};

/// Scaled dot-product attention over grouped K/V heads (qc.attention):
/// q [b, H, m, d], k [b, G, s, d], v [b, G, s, dv], out [b, H, m, dv],
/// H = R * G, mask null or [b|1, H|1, m|1, s|1] (size-1 dims broadcast):
///   out[b, h] = softmax(scale * q[b, h] k[b, h / R]^T + mask[b, h]) v[b, h / R]
/// Overwrites out. Tasks own blocks of query rows of one head (or, when
/// m = 1, the R heads of one K/V group, so each K/V row is read once per
/// group); each holds only its block's scores, at most ~64K floats.
void attentionF32(const View4 &q, const View4 &k, const View4 &v, const View4 *mask,
                  const View4 &out, float scale);
/// The row softmax it runs: "avx512", "avx2" or "generic".
const char *softmaxKernelName();

/// y = x (F (x) S) for each of `rows` rows of n floats (qc.hadamard): F an
/// m x m row-major factor, S the Sylvester matrix of order n / m (a power
/// of two). x and y have unit column stride and may be the same buffer.
void hadamardF32(int64_t rows, int64_t n, const float *x, int64_t xs, const float *F, int64_t m,
                 float *y, int64_t ys);
/// Its row kernel: "avx512", "avx2" or "generic".
const char *hadamardKernelName();

/// The micro-kernel each family runs on this CPU (after QUANTC_CPU_KERNELS
/// caps it): "generic", "avx2-fma"/"avx2", "avx512".
const char *sgemmKernelName();
const char *igemmKernelName();
/// The int8 kernel of products with at most 4 rows of A (decode-shaped):
/// "avx512bw", "avx2" or "generic".
const char *skinnyIgemmKernelName();
const char *depthwiseKernelName();

/// The symbols compiled models call, for the JIT's symbol table.
std::vector<std::pair<const char *, void *>> kernelSymbols();

} // namespace quantc::rt

extern "C" {
// C[M,N] += A[M,K] * B[K,N]
void _mlir_ciface_qc_rt_matmul_f32(quantc::rt::MemRefF32<2> *A, quantc::rt::MemRefF32<2> *B,
                                   quantc::rt::MemRefF32<2> *C);
// out = attention(Q, K, V [, mask]) (quantc::rt::attentionF32; overwrites out)
void _mlir_ciface_qc_rt_attention_f32(quantc::rt::MemRefF32<4> *Q, quantc::rt::MemRefF32<4> *K,
                                      quantc::rt::MemRefF32<4> *V, quantc::rt::MemRefF32<4> *O,
                                      float scale);
void _mlir_ciface_qc_rt_attention_masked_f32(quantc::rt::MemRefF32<4> *Q,
                                             quantc::rt::MemRefF32<4> *K,
                                             quantc::rt::MemRefF32<4> *V,
                                             quantc::rt::MemRefF32<4> *Mask,
                                             quantc::rt::MemRefF32<4> *O, float scale);
// Y = X (F (x) S) along the last axis (quantc::rt::hadamardF32; overwrites Y)
void _mlir_ciface_qc_rt_hadamard_f32(quantc::rt::MemRefF32<2> *X, quantc::rt::MemRefF32<2> *F,
                                     quantc::rt::MemRefF32<2> *Y);
// C = A * B (C not read): the three f32 matmul entries without accumulation.
void _mlir_ciface_qc_rt_matmul_f32_set(quantc::rt::MemRefF32<2> *A, quantc::rt::MemRefF32<2> *B,
                                       quantc::rt::MemRefF32<2> *C);
void _mlir_ciface_qc_rt_matmul_f32_constb_set(quantc::rt::MemRefF32<2> *A,
                                              quantc::rt::MemRefF32<2> *B,
                                              quantc::rt::MemRefF32<2> *C);
void _mlir_ciface_qc_rt_batch_matmul_f32_set(quantc::rt::MemRefF32<3> *A,
                                             quantc::rt::MemRefF32<3> *B,
                                             quantc::rt::MemRefF32<3> *C);
// C[b,M,N] += A[b,M,K] * B[b,K,N]
void _mlir_ciface_qc_rt_batch_matmul_f32(quantc::rt::MemRefF32<3> *A,
                                         quantc::rt::MemRefF32<3> *B,
                                         quantc::rt::MemRefF32<3> *C);
// linalg.conv_2d_nchw_fchw semantics (input already padded).
void _mlir_ciface_qc_rt_conv2d_nchw_f32(quantc::rt::MemRefF32<4> *X, quantc::rt::MemRefF32<4> *W,
                                        quantc::rt::MemRefF32<4> *Y, int64_t sh, int64_t sw,
                                        int64_t dh, int64_t dw);
// The same writing Y = the convolution (Y not read).
void _mlir_ciface_qc_rt_conv2d_nchw_f32_set(quantc::rt::MemRefF32<4> *X,
                                            quantc::rt::MemRefF32<4> *W,
                                            quantc::rt::MemRefF32<4> *Y, int64_t sh, int64_t sw,
                                            int64_t dh, int64_t dw);
// The same writing Y = Bias[m] + the convolution (Y not read; Bias has one
// value per output channel).
void _mlir_ciface_qc_rt_conv2d_nchw_f32_bias(quantc::rt::MemRefF32<4> *X,
                                             quantc::rt::MemRefF32<4> *W,
                                             quantc::rt::MemRefF32<1> *Bias,
                                             quantc::rt::MemRefF32<4> *Y, int64_t sh, int64_t sw,
                                             int64_t dh, int64_t dw);
// linalg.depthwise_conv_2d_nchw_chw semantics (input already padded).
void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32(quantc::rt::MemRefF32<4> *X,
                                                  quantc::rt::MemRefF32<3> *W,
                                                  quantc::rt::MemRefF32<4> *Y, int64_t sh,
                                                  int64_t sw, int64_t dh, int64_t dw);
// The same writing Y = the convolution, or Bias[c] + it (Y not read).
void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_set(quantc::rt::MemRefF32<4> *X,
                                                      quantc::rt::MemRefF32<3> *W,
                                                      quantc::rt::MemRefF32<4> *Y, int64_t sh,
                                                      int64_t sw, int64_t dh, int64_t dw);
void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_bias(quantc::rt::MemRefF32<4> *X,
                                                       quantc::rt::MemRefF32<3> *W,
                                                       quantc::rt::MemRefF32<1> *Bias,
                                                       quantc::rt::MemRefF32<4> *Y, int64_t sh,
                                                       int64_t sw, int64_t dh, int64_t dw);
// The three f32 forms on an unpadded X with implicit zero padding: padT
// rows above, padL columns left of it, and whatever the taps reach past
// its end (quantc-cpu-kernel-calls passes a small padded input this way).
void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_pad(quantc::rt::MemRefF32<4> *X,
                                                      quantc::rt::MemRefF32<3> *W,
                                                      quantc::rt::MemRefF32<4> *Y, int64_t sh,
                                                      int64_t sw, int64_t dh, int64_t dw,
                                                      int64_t padT, int64_t padL);
void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_set_pad(quantc::rt::MemRefF32<4> *X,
                                                          quantc::rt::MemRefF32<3> *W,
                                                          quantc::rt::MemRefF32<4> *Y, int64_t sh,
                                                          int64_t sw, int64_t dh, int64_t dw,
                                                          int64_t padT, int64_t padL);
void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_f32_bias_pad(
    quantc::rt::MemRefF32<4> *X, quantc::rt::MemRefF32<3> *W, quantc::rt::MemRefF32<1> *Bias,
    quantc::rt::MemRefF32<4> *Y, int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t padT,
    int64_t padL);
// linalg.depthwise_conv_2d_nchw_chw on i8 into i32 (Y += ...; _set: Y = ...).
void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_i8_i32(quantc::rt::MemRefI8<4> *X,
                                                     quantc::rt::MemRefI8<3> *W,
                                                     quantc::rt::MemRefI32<4> *Y, int64_t sh,
                                                     int64_t sw, int64_t dh, int64_t dw);
void _mlir_ciface_qc_rt_depthwise_conv2d_nchw_i8_i32_set(quantc::rt::MemRefI8<4> *X,
                                                         quantc::rt::MemRefI8<3> *W,
                                                         quantc::rt::MemRefI32<4> *Y, int64_t sh,
                                                         int64_t sw, int64_t dh, int64_t dw);
// C[M,N] += A[M,K] * B, B of 4-bit weights (Int4Weights): packed[K, ceil(N/2)],
// scale and zero point [ceil(K/group), N].
void _mlir_ciface_qc_rt_matmul_f32_w4(quantc::rt::MemRefF32<2> *A, quantc::rt::MemRefI8<2> *P,
                                      quantc::rt::MemRefF32<2> *S, quantc::rt::MemRefI8<2> *Z,
                                      quantc::rt::MemRefF32<2> *C, int64_t group,
                                      int64_t isSigned);
// The same with 2-bit (bits = 2: low[K, ceil(N/4)]) or 3-bit weights (low
// and high[K, ceil(N/8)]) in LowBitWeights' planes, unsigned.
void _mlir_ciface_qc_rt_matmul_f32_w2(quantc::rt::MemRefF32<2> *A, quantc::rt::MemRefI8<2> *L,
                                      quantc::rt::MemRefF32<2> *S, quantc::rt::MemRefI8<2> *Z,
                                      quantc::rt::MemRefF32<2> *C, int64_t group);
void _mlir_ciface_qc_rt_matmul_f32_w3(quantc::rt::MemRefF32<2> *A, quantc::rt::MemRefI8<2> *L,
                                      quantc::rt::MemRefI8<2> *H, quantc::rt::MemRefF32<2> *S,
                                      quantc::rt::MemRefI8<2> *Z, quantc::rt::MemRefF32<2> *C,
                                      int64_t group);
// The int8 x int8 -> int32 versions of the three above (C += A * B).
void _mlir_ciface_qc_rt_matmul_i8_i32(quantc::rt::MemRefI8<2> *A, quantc::rt::MemRefI8<2> *B,
                                      quantc::rt::MemRefI32<2> *C);
// The same with B a constant (igemmS8ConstB: packed once and kept).
void _mlir_ciface_qc_rt_matmul_i8_i32_constb(quantc::rt::MemRefI8<2> *A,
                                             quantc::rt::MemRefI8<2> *B,
                                             quantc::rt::MemRefI32<2> *C);
void _mlir_ciface_qc_rt_matmul_i8_i32_constb_set(quantc::rt::MemRefI8<2> *A,
                                                 quantc::rt::MemRefI8<2> *B,
                                                 quantc::rt::MemRefI32<2> *C);
void _mlir_ciface_qc_rt_batch_matmul_i8_i32(quantc::rt::MemRefI8<3> *A,
                                            quantc::rt::MemRefI8<3> *B,
                                            quantc::rt::MemRefI32<3> *C);
void _mlir_ciface_qc_rt_conv2d_nchw_i8_i32(quantc::rt::MemRefI8<4> *X,
                                           quantc::rt::MemRefI8<4> *W,
                                           quantc::rt::MemRefI32<4> *Y, int64_t sh, int64_t sw,
                                           int64_t dh, int64_t dw);
// conv2dS8ConstWEpilogue from generated code (scalars and the epilogue's
// trampoline; KernelEntryPoints.cpp).
void qc_rt_conv2d_nchw_i8_epilogue(int64_t xAddr, int64_t C, int64_t H, int64_t W, int64_t xsC,
                                   int64_t xsH, int64_t xsW, int64_t wAddr, int64_t M,
                                   int64_t KH, int64_t KW, int64_t OH, int64_t OW, int64_t sh,
                                   int64_t sw, int64_t dh, int64_t dw,
                                   void (*fn)(void *, const int32_t *, int64_t, int64_t, int64_t,
                                              int64_t, int64_t),
                                   void *ctx);
// igemmS8ConstBEpilogue from generated code: A at aAddr (M x K, rows aRs
// and columns aCs apart), B at bAddr (contiguous K x N, a weight).
void qc_rt_matmul_i8_epilogue(int64_t aAddr, int64_t M, int64_t K, int64_t aRs, int64_t aCs,
                              int64_t bAddr, int64_t N,
                              void (*fn)(void *, const int32_t *, int64_t, int64_t, int64_t,
                                         int64_t, int64_t),
                              void *ctx);
// depthwiseConv2dS8Epilogue from generated code: the same scalars (w
// contiguous C x KH x KW, M = C).
void qc_rt_depthwise_conv2d_nchw_i8_epilogue(
    int64_t xAddr, int64_t C, int64_t H, int64_t W, int64_t xsC, int64_t xsH, int64_t xsW,
    int64_t wAddr, int64_t M, int64_t KH, int64_t KW, int64_t OH, int64_t OW, int64_t sh,
    int64_t sw, int64_t dh, int64_t dw,
    void (*fn)(void *, const int32_t *, int64_t, int64_t, int64_t, int64_t, int64_t), void *ctx);
// The same with W a constant (conv2dS8ConstW: packed once and kept).
void _mlir_ciface_qc_rt_conv2d_nchw_i8_i32_constw(quantc::rt::MemRefI8<4> *X,
                                                  quantc::rt::MemRefI8<4> *W,
                                                  quantc::rt::MemRefI32<4> *Y, int64_t sh,
                                                  int64_t sw, int64_t dh, int64_t dw);
// The same writing Y (its zero fill dropped): Y = the convolution.
void _mlir_ciface_qc_rt_conv2d_nchw_i8_i32_constw_set(quantc::rt::MemRefI8<4> *X,
                                                      quantc::rt::MemRefI8<4> *W,
                                                      quantc::rt::MemRefI32<4> *Y, int64_t sh,
                                                      int64_t sw, int64_t dh, int64_t dw);
}

#endif
