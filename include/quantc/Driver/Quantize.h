//===- Quantize.h - quantize, calibrate and compile a model ------*- C++ -*-===//
//
// The entry points `quantc` and the Python package share. Each takes an
// option struct (Options.h), prints what it did to `out` and what went
// wrong to `err` ("quantc: error: FILE: ..." lines), and returns the exit
// status the CLI returns: 0, 1 (bad model or data, nothing written) or 2
// (bad options, nothing written).
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_DRIVER_QUANTIZE_H
#define QUANTC_DRIVER_QUANTIZE_H

#include "quantc/Calibration/Quantize.h"
#include "quantc/Driver/Options.h"

#include "llvm/Support/raw_ostream.h"

#include <vector>

namespace quantc::driver {

/// Calibrates and quantizes `options.model` with its recipe and writes
/// `options.output` (.mlir/.mlirbc, .so or QDQ .onnx). `samples`: the
/// caller's calibration samples (checked against the model's inputs), or
/// null to read options.calibDir.
int quantizeModel(const QuantizeOptions &options, llvm::raw_ostream &out,
                  llvm::raw_ostream &err, QuantizeResult *result = nullptr,
                  const std::vector<calib::Sample> *samples = nullptr);

/// The layers as quantizeModel rounded them, for QDQ export of the
/// source ONNX model (the export rewrites that file's nodes).
struct QDQState {
  std::string sourceModel;
  std::vector<calib::LayerReport> layers;
  std::vector<std::vector<int64_t>> inputShapes;
};

/// Writes `state` as a QDQ ONNX model to `output` (what quantize -o
/// OUT.onnx writes), reporting like quantizeModel.
int writeQDQ(const QDQState &state, const std::string &output, llvm::raw_ostream &err);

/// `quantc calibrate`.
int calibrateModel(const CalibrateOptions &options, llvm::raw_ostream &out,
                   llvm::raw_ostream &err);

/// `quantc compile`.
int compileModel(const CompileModelOptions &options, llvm::raw_ostream &out,
                 llvm::raw_ostream &err);

} // namespace quantc::driver

#endif
