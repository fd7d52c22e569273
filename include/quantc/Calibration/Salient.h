//===- Salient.h - salient input channels kept float (qc-split-salient) -*- C++ -*-===//
//
// Salient weights, structured (the GWQ / SliM-LLM line, issue 14): for a
// MatMul y = x W, W [K, N], a few whole input channels S (rows of W) carry
// most of the layer's output energy. They are taken out of the matrix the
// recipe rounds and kept in float beside it:
//
//   score_j = sqrt(H_jj) * ||W_j||_2      (H_jj = sum over calibration rows
//                                          of x_j^2: ||X_j||_2^2)
//   S = the ceil(percent / 100 * K) channels of largest score
//   y = x W_R + gather(x, S, axis = -1) W_S
//
// with W_R = W, rows S set to 0 (rounded by the recipe: a 4-bit group
// holds 0 exactly, and GPTQ may still use those rows to compensate other
// rows' errors, since x_S still reaches W_R), and W_S = W's rows S [|S|, N],
// float, read by a qc.matmul marked `qc.salient_side` that
// quantizationTargets skips. The float function is unchanged: W_R + W_S
// scattered = W. Storage: |S| * N * 32 bits more per layer.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_SALIENT_H
#define QUANTC_CALIBRATION_SALIENT_H

#include "quantc/Calibration/Quantize.h"
#include "quantc/Dialect/QC/QCOps.h"

#include <string>
#include <vector>

namespace quantc::calib {

/// The attribute that marks the float side product of a split layer.
inline constexpr const char *kSalientSideAttr = "qc.salient_side";

struct SalientSplit {
  std::string name;       // the layer
  int64_t K = 0, kept = 0; // input channels; how many kept float
  double scoreShare = 0;  // sum of the kept channels' score^2 over all channels'
  int64_t sideBits = 0;   // storage of the float side matrix
};

/// The rewrite above for one qc.matmul with a 2-D constant weight [K, N]
/// and the input channels S (sorted, distinct): its weight becomes W_R,
/// and gather(x, S) W_S (the side product, named `name`/salient) is added
/// to its result, gathered from `from` (default: the MatMul's current
/// input x).
void splitInputChannels(qc::MatMulOp mm, const std::string &name, llvm::ArrayRef<int64_t> S,
                        mlir::Value from = {});

/// Splits every qc.matmul target with a 2-D constant weight whose input
/// has a Hessian (stats[k].hessian, K x K). Others are left alone.
/// `percent` in (0, 100].
llvm::Expected<std::vector<SalientSplit>>
splitSalientChannels(const std::vector<Target> &targets, const std::vector<ActivationStats> &stats,
                     double percent);

} // namespace quantc::calib

#endif
