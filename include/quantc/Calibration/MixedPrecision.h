//===- MixedPrecision.h - layers kept float below an SQNR floor -*- C++ -*-===//
//
// Mixed precision by a floor on each layer's sensitivity, in two steps
// that the pipeline and quant-opt share:
//
//  1. measureSensitivity: on calibrated IR, the model output's SQNR with
//     only that layer quantized per the recipe (layerSensitivity), stored
//     on each quantization target as `qc.sqnr_alone_db` (f64), and what it
//     was measured for on the module as `qc.sensitivity` {recipe,
//     calibrator, percentile, samples}. `quantc calibrate --sensitivity R`.
//  2. keepFloatBelow (pass qc-keep-float{min-sqnr=DB}): every target whose
//     qc.sqnr_alone_db < DB gets `qc.keep_float`, which
//     quantizationTargets skips, so qc-quantize leaves it float.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_MIXEDPRECISION_H
#define QUANTC_CALIBRATION_MIXEDPRECISION_H

#include "quantc/Calibration/Quantize.h"

namespace quantc::calib {

inline constexpr const char *kSqnrAloneAttr = "qc.sqnr_alone_db";
inline constexpr const char *kKeepFloatAttr = "qc.keep_float";
inline constexpr const char *kSensitivityAttr = "qc.sensitivity";

/// Measures each target's sensitivity (see the file comment) with the
/// statistics `stats` of `targets` (= quantizationTargets(module), as
/// takeObservations returns them) on `samples`, and stores it on the
/// targets' ops; returns the values in target order.
llvm::Expected<std::vector<double>>
measureSensitivity(mlir::ModuleOp module, const std::vector<Target> &targets,
                   const std::vector<ActivationStats> &stats, const Recipe &recipe,
                   const std::string &calibratorName, Calibrator calibrator, double percentile,
                   const SampleSet &samples);

/// The same on IR whose observers still carry their statistics (quantc
/// calibrate): measured on a clone, stored on `module`'s targets.
llvm::Expected<std::vector<double>>
measureSensitivityOfCalibrated(mlir::ModuleOp module, const Recipe &recipe,
                               const std::string &calibratorName, Calibrator calibrator,
                               double percentile, const SampleSet &samples);

struct KeptFloat {
  std::string name;
  double sqnr;
};
/// qc-keep-float: marks every quantization target whose qc.sqnr_alone_db
/// is below `minSqnr` with qc.keep_float; returns them in walk order. An
/// error naming the layer when a target has no measured sensitivity.
llvm::Expected<std::vector<KeptFloat>> keepFloatBelow(mlir::ModuleOp module, double minSqnr);

/// The recipe, calibrator and percentile the module's sensitivity was
/// measured for (its qc.sensitivity attribute), if any.
struct SensitivityBasis {
  std::string recipe, calibrator;
  double percentile = 0;
};
std::optional<SensitivityBasis> sensitivityBasis(mlir::ModuleOp module);

} // namespace quantc::calib

#endif
