//===- Common.cpp - helpers the driver's entry points share ---------------===//
#include "Common.h"
#include "quantc/Import/ModelFile.h"
#include "quantc/Import/ONNX/ONNXImporter.h"

#include "mlir/IR/Location.h"

namespace quantc::driver {

DiagnosticsTo::DiagnosticsTo(mlir::MLIRContext &context, llvm::raw_ostream &os) {
  if (&os == &llvm::errs())
    return;
  handler.emplace(&context, [&os](mlir::Diagnostic &diag) {
    auto print = [&os](mlir::Diagnostic &d) {
      if (!llvm::isa<mlir::UnknownLoc>(d.getLocation()))
        os << d.getLocation() << ": ";
      switch (d.getSeverity()) {
      case mlir::DiagnosticSeverity::Error:
        os << "error: ";
        break;
      case mlir::DiagnosticSeverity::Warning:
        os << "warning: ";
        break;
      case mlir::DiagnosticSeverity::Note:
        os << "note: ";
        break;
      case mlir::DiagnosticSeverity::Remark:
        os << "remark: ";
        break;
      }
      os << d << "\n";
    };
    print(diag);
    for (mlir::Diagnostic &note : diag.getNotes())
      print(note);
    return mlir::success();
  });
}

mlir::OwningOpRef<mlir::ModuleOp> openModel(mlir::MLIRContext &context, const std::string &path,
                                            llvm::raw_ostream &err) {
  registerONNXImportDialects(context);
  context.printOpOnDiagnostic(false);
  return loadModelFile(context, path);
}

std::optional<size_t> observeAndCalibrate(mlir::ModuleOp module,
                                          const calib::SampleSet &samples,
                                          const std::string &model, llvm::raw_ostream &err,
                                          bool hessians, llvm::raw_ostream *out) {
  size_t n = calib::insertObservers(module);
  calib::CalibrationOptions options;
  options.hessians = options.hessiansInIR = hessians;
  calib::CalibrationOptions::Timing timing;
  options.timing = &timing;
  if (auto e = calib::calibrate(module, samples, options)) {
    err << "quantc: error: " << model << ": " << llvm::toString(std::move(e)) << "\n";
    return std::nullopt;
  }
  if (out) {
    *out << llvm::format("calibration: %zu samples in %.1f s: the observed model compiled in "
                         "%.1f s, its first run %.1f s",
                         timing.samples,
                         timing.compileSeconds + timing.firstRunSeconds + timing.laterRunSeconds +
                             timing.statsSeconds + timing.readSeconds,
                         timing.compileSeconds, timing.firstRunSeconds);
    if (timing.laterRuns)
      *out << llvm::format("; then %.0f ms a sample running it", 1e3 * timing.laterRunSeconds /
                                                                       timing.laterRuns);
    double perSample = 1e3 / std::max<size_t>(timing.samples, 1);
    *out << llvm::format(", %.0f ms a sample of statistics, %.0f ms reading it\n",
                         perSample * timing.statsSeconds, perSample * timing.readSeconds);
  }
  return n;
}

} // namespace quantc::driver
