//===- CalibrationBench.h - calibration speed against inference -*- C++ -*-===//
//
// `quantc bench MODEL --calib DIR`: after timing the float model on the
// first sample, the calibration run (every value observed, statistics
// reduced) goes over all samples, and its time per sample is printed as a
// ratio to the float model's median latency measured in the same process.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_DRIVER_CALIBRATIONBENCH_H
#define QUANTC_DRIVER_CALIBRATIONBENCH_H

#include "quantc/Calibration/Quantize.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace quantc::driver {

/// Calibrates `model` (observers on every value qc-insert-observers
/// picks) over `samples` and prints where the time went, per sample
/// after each shape's first run, as a multiple of `floatMedianMs`. The
/// CLI's exit status.
int benchCalibration(mlir::MLIRContext &context, const std::string &model,
                     const calib::SampleSet &samples, double floatMedianMs,
                     llvm::raw_ostream &out, llvm::raw_ostream &err);

} // namespace quantc::driver

#endif
