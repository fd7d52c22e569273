//===- Common.h - helpers the driver's entry points share -------*- C++ -*-===//
#ifndef QUANTC_LIB_DRIVER_COMMON_H
#define QUANTC_LIB_DRIVER_COMMON_H

#include "quantc/Calibration/Quantize.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace quantc::driver {

/// Diagnostics of `context` written to `os` as MLIR's default handler
/// writes them to stderr ("LOC: error: MESSAGE"), while it lives; when
/// `os` is stderr nothing is installed (the default handler prints).
class DiagnosticsTo {
public:
  DiagnosticsTo(mlir::MLIRContext &context, llvm::raw_ostream &os);

private:
  std::optional<mlir::ScopedDiagnosticHandler> handler;
};

/// The model to calibrate, quantize or compile (ONNX imported, or qc IR
/// parsed) in `context`; null after an error, printed to `err`.
mlir::OwningOpRef<mlir::ModuleOp> openModel(mlir::MLIRContext &context, const std::string &path,
                                            llvm::raw_ostream &err);

/// qc-insert-observers, then the calibration run over `samples` (the
/// statistics attached to the observers). The number of observers;
/// nullopt after an error (printed to `err`). With `out`, one line there
/// saying where the run's time went (compiling, the first run, then per
/// sample the model and the statistics).
std::optional<size_t> observeAndCalibrate(mlir::ModuleOp module,
                                          const calib::SampleSet &samples,
                                          const std::string &model, llvm::raw_ostream &err,
                                          bool hessians = false,
                                          llvm::raw_ostream *out = nullptr);

} // namespace quantc::driver

#endif
