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
                                          const std::vector<calib::Sample> &samples,
                                          const std::string &model, llvm::raw_ostream &err,
                                          bool hessians) {
  size_t n = calib::insertObservers(module);
  calib::CalibrationOptions options;
  options.hessians = options.hessiansInIR = hessians;
  if (auto e = calib::calibrate(module, samples, options)) {
    err << "quantc: error: " << model << ": " << llvm::toString(std::move(e)) << "\n";
    return std::nullopt;
  }
  return n;
}

} // namespace quantc::driver
