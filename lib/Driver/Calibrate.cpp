//===- Calibrate.cpp - quantc calibrate: observers and their statistics ---===//
#include "Common.h"
#include "quantc/Driver/Quantize.h"
#include "quantc/Driver/Samples.h"
#include "quantc/Import/ModelFile.h"
#include "quantc/Target/CPU/JIT.h"

namespace quantc::driver {

int calibrateModel(const CalibrateOptions &o, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  if (o.model.empty() || o.output.empty() || o.calibDir.empty()) {
    err << "quantc: error: calibrate needs MODEL, --calib DIR and -o OUT.mlir\n";
    return 2;
  }
  if (!isQCIRPath(o.output)) {
    err << "quantc: error: calibrate writes qc IR: -o must end in .mlir or .mlirbc\n";
    return 2;
  }
  mlir::MLIRContext context;
  DiagnosticsTo diagnostics(context, err);
  auto module = openModel(context, o.model, err);
  if (!module)
    return 1;
  auto specs = cpu::JITModel::inputsOf(*module);
  auto samples = loadSamples(context, o.calibDir, specs);
  if (!samples) {
    err << "quantc: error: " << llvm::toString(samples.takeError()) << "\n";
    return 1;
  }
  std::optional<size_t> n = observeAndCalibrate(*module, *samples, o.model, err, o.hessians);
  if (!n)
    return 1;
  if (auto e = writeModelFile(*module, o.output)) {
    err << "quantc: error: " << llvm::toString(std::move(e)) << "\n";
    return 1;
  }
  out << samples->size() << " samples, " << *n << " observers; wrote " << o.output << "\n";
  return 0;
}

} // namespace quantc::driver
