//===- Principal.h - an activation's leading directions kept float --*- C++ -*-===//
//
// `quantc quantize --principal-components R` (pass qc-split-principal
// {rank=R}; issue 13): for every activation x [.., K] read by MatMuls
// y_c = x W_c with constant 2-D weights (a smoothing site), the R leading
// eigenvectors of its calibration second moment H = sum x^T x (the
// Hessian GPTQ uses) as the rows of U [R, K], orthonormal:
//
//   p   = x U^T                  [.., R]   float (qc.matmul, side)
//   x_r = x - p U                [.., K]   float (qc.matmul, side; qc.sub)
//   y_c = x_r W_c + p (U W_c)               (U W_c: [R, N_c] float constant)
//
// x = x U^T U + x (I - U^T U) exactly, so the float function is unchanged
// (to float32 rounding). The layers keep their weights and now read x_r,
// the activation with its R highest-energy directions taken out: what
// the recipe rounds (per tensor or per token) no longer has to cover them.
// The three side products are marked qc.salient_side and never quantized
// (R K + R K + R N_c multiply-adds per row against the layer's K N_c).
//
// What it is for: in SmolLM2 a few tokens per window (the first, some
// delimiters) put most of their energy into one or two channels of the
// residual stream, and some MLP inputs have channels thousands of times
// the median; a rotation spreads such a channel over all K coordinates,
// where it still sets each row's 4-bit grid. Those directions are the
// second moment's leading eigenvectors whatever the basis (after a
// rotation they are the rotated channels), so the split works the same
// after -rot. It is ResQ's idea (Saxena et al. 2024: the high-variance
// subspace from PCA kept at higher precision) with the subspace kept in
// float and found per activation, not folded into the stream rotation.
//
// Later statistics (calibration ranges, GPTQ's Hessians) are taken on x_r
// (the driver calibrates after the split; the pass leaves the module
// without observers, to be calibrated again).
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_PRINCIPAL_H
#define QUANTC_CALIBRATION_PRINCIPAL_H

#include "quantc/Calibration/Quantize.h"
#include "quantc/Calibration/Smooth.h"

#include <string>
#include <vector>

namespace quantc::calib {

struct PrincipalSplit {
  std::string name;       // the site (its consumers, joined with '+')
  int64_t K = 0, rank = 0;
  double energyShare = 0; // the R directions' share of trace(H)
  int64_t sideBits = 0;   // float side constants (U^T, U, U W_c), in bits
};

/// Whether the site can be split: every consumer a qc.matmul reducing over
/// the first axis of a constant 2-D weight, K > rank, and not every
/// consumer kept float (qc.keep_float).
bool principalSplittable(const std::vector<Target> &targets, const SmoothSite &site,
                         int64_t rank);

/// The rewrite above for one site, U [rank, K] row-major (orthonormal
/// rows). Consumers that read x through a qc.observe read x_r through it
/// afterwards (its statistics are stale: callers calibrate again).
llvm::Error splitSitePrincipal(const std::vector<Target> &targets, const SmoothSite &site,
                               const std::vector<double> &U, int64_t rank);

/// The split of every splittable site from the second moments `hessians`
/// (indexed like quantizationTargets(module); a site takes its first
/// consumer's): returns the sites split.
llvm::Expected<std::vector<PrincipalSplit>>
splitPrincipalWithHessians(mlir::ModuleOp module,
                           const std::vector<std::shared_ptr<const std::vector<double>>> &hessians,
                           int64_t rank);

/// collectHessians on `samples`, then splitPrincipalWithHessians.
llvm::Expected<std::vector<PrincipalSplit>>
splitPrincipalComponents(mlir::ModuleOp module, const SampleSet &samples, int64_t rank);

} // namespace quantc::calib

#endif
