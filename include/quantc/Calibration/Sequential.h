//===- Sequential.h - GPTQ stage by stage on the partly quantized model -*- C++ -*-===//
//
// GPTQ's sequential order (Frantar et al. 2023, "true sequential"): the
// Hessians of a stage's layers are taken on the model whose earlier
// stages are already quantized, so each stage's rounding compensates the
// error that reaches its inputs, not the float model's inputs. A stage is
// the run of consecutive targets (model order) sharing the name prefix
// before the first '/' (a transformer block: "layer7/q_proj", ...); when
// the names have no such prefix, runs of 8 targets.
//
// One calibration run per stage (observers on that stage's inputs only).
// For recipes whose activations are not calibrated (weight-only and the
// dynamic ones); -salient splits each stage before it is rounded.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_SEQUENTIAL_H
#define QUANTC_CALIBRATION_SEQUENTIAL_H

#include "quantc/Calibration/Quantize.h"
#include "quantc/Calibration/Salient.h"

#include <functional>

namespace quantc::calib {

/// Names of the targets in stages, in model order.
std::vector<std::vector<std::string>> sequentialStages(const std::vector<Target> &targets);

struct SequentialResult {
  std::vector<LayerReport> reports;
  std::vector<SalientSplit> salient;
  size_t stages = 0;
};

/// Quantizes every target of `module` with `recipe` (which must have
/// -gptq and no calibrated activations), stage by stage. `progress` is
/// called after each stage (done, total).
llvm::Expected<SequentialResult>
quantizeSequentially(mlir::ModuleOp module, const SampleSet &samples,
                     const Recipe &recipe, double salientPercent,
                     const std::function<void(size_t, size_t)> &progress = {});

} // namespace quantc::calib

#endif
