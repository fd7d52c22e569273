//===- Outliers.h - activation outlier channels kept float ------*- C++ -*-===//
//
// Recipe suffix -outliers (issue 13): LLM.int8()'s decomposition with the
// channels fixed at calibration. In SmolLM2 a handful of input channels
// carry activations hundreds to thousands of times the typical channel's
// (layer 11's down projection: two channels at 2312x and 835x the median
// channel's absmax, the next at 9x); one per-tensor activation scale has
// to cover them. For a site (the activation x [.., K] read by MatMuls
// y_c = x W_c with 2-D constant weights):
//
//   a_j = max |x_j| over the calibration samples, m = median_j a_j
//   S   = the channels with a_j > ratio * m, largest first, at most
//         ceil(K / 100) of them (none when the site has no such channel)
//   y_c = (x * mask_S) W_c,R + gather(x, S) W_c,S
//
// mask_S is 0 on S and 1 elsewhere (one qc.mul per site, fused into the
// activation's quantize loop), W_c,R = W_c with rows S zeroed, W_c,S those
// rows in f32 (the side product of quantc/Calibration/Salient.h, marked
// qc.salient_side, never quantized). The float function is unchanged;
// the quantized x no longer contains the outlier channels, so its scale
// (per tensor, or per token) is set by the others.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_OUTLIERS_H
#define QUANTC_CALIBRATION_OUTLIERS_H

#include "quantc/Calibration/Quantize.h"
#include "quantc/Calibration/Smooth.h"

#include <string>
#include <vector>

namespace quantc::calib {

struct OutlierOptions {
  /// A channel is an outlier when its absmax exceeds ratio x the median
  /// channel's.
  double ratio = 32.0;
};

struct OutlierSplit {
  std::string name;        // the site (its consumers, joined with '+')
  int64_t K = 0;           // input channels
  std::vector<int64_t> channels; // those kept float, sorted
  double largest = 0;      // the largest channel's absmax over the median's
  double nextKept = 0;     // the largest channel left quantized, over the median
  int64_t sideBits = 0;    // storage of the float side matrices
};

/// S for one site from its per-channel ranges (channelMin/Max, K each):
/// sorted; empty when no channel is above ratio x the median's absmax.
/// `largest` / `nextKept` (optional) receive the ratios reported above.
std::vector<int64_t> outlierChannels(const std::vector<double> &channelMin,
                                     const std::vector<double> &channelMax, double ratio,
                                     double *largest = nullptr, double *nextKept = nullptr);

/// Whether every consumer of the site is a qc.matmul with a constant 2-D
/// weight reducing over its first axis (the sites the split applies to).
bool outlierSplittable(const std::vector<Target> &targets, const SmoothSite &site);

/// The rewrite above for one site (quantc/Calibration/Smooth.h's
/// SmoothSite) and its channels S. Consumers that are not qc.matmul with a
/// 2-D constant weight reducing over its first axis: an error, nothing
/// changed. Where a consumer reads x through a calibrated qc.observe, the
/// mask goes before the observer and its statistics follow exactly
/// (channels S become [0, 0], the per-tensor range is taken over the
/// others, a Hessian loses rows and columns S; the histogram cannot
/// follow, so the stats are marked `smoothed`: minmax calibrator only).
/// Returns the float side weights' storage in bits.
llvm::Expected<int64_t> splitSiteOutliers(const std::vector<Target> &targets,
                                          const SmoothSite &site, llvm::ArrayRef<int64_t> S);

/// Calibrates `module` (observers inserted, run on `samples`, removed
/// again), then splits every site whose consumers are all qc.matmul with
/// 2-D constant weights. Returns the sites split.
llvm::Expected<std::vector<OutlierSplit>> splitOutlierChannels(mlir::ModuleOp module,
                                                               const SampleSet &samples,
                                                               const OutlierOptions &options);

} // namespace quantc::calib

#endif
