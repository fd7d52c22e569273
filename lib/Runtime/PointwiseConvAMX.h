//===- PointwiseConvAMX.h - 1x1 int8 convolutions as W x X on tiles -*- C++ -*-===//
//
// A pointwise convolution of an NCHW image is out[M, N] = W[M, C] X[C, N]
// with X the image's planes (N = H W pixels): the planes are the GEMM's B
// as they are and the product's rows are the output planes, so neither
// the image nor the result is transposed (conv2dS8ConstW's general path
// takes out^T = patches W^T, with the image made channels-last and the
// int32 result transposed back: 10% of a quantized PP-OCRv4 rec run). W
// (constant) is packed once into AMX A tiles; X's quads of channels are
// interleaved per 32-pixel panel in the calling task and stay in L1
// while every 32-row block of W streams past them.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_POINTWISECONVAMX_H
#define QUANTC_LIB_RUNTIME_POINTWISECONVAMX_H

#include "quantc/Runtime/Kernels.h"

namespace quantc::rt {

/// out (+)= the 1x1 convolution of x by w on AMX tiles, where it applies
/// (AMX usable, 1 x 1 kernel, unit strides, no padding, x's planes
/// contiguous, at least 16 channels: fewer than 64 are padded to a tile,
/// which still beat the int16-pair kernel on det's 16-48 channel
/// pointwise convolutions, 61.7-62.4 -> 58.1-58.8 ms for the model):
/// returns false, touching nothing, where it does not.
/// With `epi`, `out` is not used: each task's runs of up to 8 panels (256
/// pixels) are computed into a thread-local tile of M rows and handed to
/// epi.
bool pointwiseConvS8AMX(const Conv2DShape &s, const int8_t *x, const int8_t *w, int32_t *out,
                        bool overwrite, const Epilogue *epi = nullptr);

/// Drops the packed weights (releasePackedS8Weights calls it).
void releasePointwiseConvWeights();

} // namespace quantc::rt

#endif
