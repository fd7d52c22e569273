//===- Plain.cpp - the driver in standard C++ types, for bindings ---------===//
#include "quantc/Driver/Plain.h"
#include "Common.h"
#include "quantc/Calibration/Passes.h"
#include "quantc/Conversion/Passes.h"
#include "quantc/Dialect/QC/QCDialect.h"
#include "quantc/Driver/ModelSummary.h"
#include "quantc/Driver/Quantize.h"
#include "quantc/Import/ModelFile.h"
#include "quantc/Import/ONNX/ONNXImporter.h"
#include "quantc/Target/CPU/CPUPipeline.h"
#include "quantc/Target/CPU/JIT.h"
#include "quantc/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <mutex>

namespace quantc::driver::plain {

struct Module::Impl {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::string path;
};

Module::Module(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Module::~Module() = default;

namespace {
/// quant-opt's passes and dialects, registered once per process.
void registerEverything(mlir::MLIRContext &context) {
  static std::once_flag once;
  std::call_once(once, [] {
    mlir::registerAllPasses();
    registerQuantCPasses();
    registerQuantCConversionPasses();
    calib::registerQuantCCalibrationPasses();
    cpu::registerCPUPipelines();
  });
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<qc::QCDialect>();
  context.appendDialectRegistry(registry);
}

int dtypeCode(cpu::DType t) { return static_cast<int>(t) + 1; }
} // namespace

std::unique_ptr<Module> Module::open(const std::string &path, bool shapeInference,
                                     Outcome &outcome) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  llvm::raw_string_ostream err(outcome.err);
  DiagnosticsTo diagnostics(impl->context, err);
  registerEverything(impl->context);
  registerONNXImportDialects(impl->context);
  impl->context.printOpOnDiagnostic(false);
  if (llvm::StringRef(path).ends_with(".onnx")) {
    ONNXImportOptions options;
    options.shapeInference = shapeInference;
    impl->module = importONNXFile(impl->context, path, options);
  } else {
    impl->module = loadModelFile(impl->context, path);
  }
  if (!impl->module) {
    outcome.status = 1;
    if (outcome.err.empty())
      err << "quantc: error: cannot open '" << path << "'\n";
    return nullptr;
  }
  return std::unique_ptr<Module>(new Module(std::move(impl)));
}

std::string Module::text(bool elideWeights) const {
  std::string s;
  llvm::raw_string_ostream os(s);
  mlir::OpPrintingFlags flags;
  if (elideWeights)
    flags.elideLargeElementsAttrs(16).elideLargeResourceString(64);
  impl->module->print(os, flags);
  return s;
}

std::string Module::summary() const {
  std::string s;
  llvm::raw_string_ostream os(s);
  printModelSummary(*impl->module, os);
  return s;
}

std::vector<TensorInfo> Module::inputs() const {
  std::vector<TensorInfo> out;
  for (const cpu::TensorSpec &s : cpu::JITModel::inputsOf(*impl->module)) {
    TensorInfo t;
    t.name = s.name;
    t.dtype = dtypeCode(s.dtype);
    t.shape = s.shape;
    t.rank = static_cast<int64_t>(s.shape.size());
    out.push_back(std::move(t));
  }
  return out;
}

Outcome Module::runPasses(const std::string &pipeline) {
  Outcome outcome;
  llvm::raw_string_ostream err(outcome.err);
  DiagnosticsTo diagnostics(impl->context, err);
  // The pass manager runs on the module itself: a pipeline anchored on it
  // ("builtin.module(...)", quant-opt's --pass-pipeline form) gives its
  // inner passes; parsed as written, it would nest a second module pass
  // manager that runs on modules inside this one (none: nothing ran).
  llvm::StringRef inner = llvm::StringRef(pipeline).trim();
  if (inner.consume_front("builtin.module(") && inner.consume_back(")"))
    inner = inner.trim();
  else
    inner = llvm::StringRef(pipeline).trim();
  mlir::PassManager pm(&impl->context);
  if (mlir::failed(mlir::parsePassPipeline(inner, pm, err))) {
    err << "quantc: error: cannot parse the pass pipeline '" << pipeline << "'\n";
    outcome.status = 2;
    return outcome;
  }
  if (mlir::failed(pm.run(*impl->module))) {
    err << "quantc: error: " << impl->path << ": the pass pipeline '" << pipeline
        << "' failed\n";
    outcome.status = 1;
  }
  return outcome;
}

Outcome Module::save(const std::string &path) const {
  Outcome outcome;
  if (!isQCIRPath(path)) {
    outcome.err = "quantc: error: a module is saved as .mlir or .mlirbc, not '" + path + "'\n";
    outcome.status = 2;
    return outcome;
  }
  if (auto e = writeModelFile(*impl->module, path)) {
    outcome.err = "quantc: error: " + llvm::toString(std::move(e)) + "\n";
    outcome.status = 1;
  }
  return outcome;
}

Outcome quantize(const QuantizeOptions &options, const std::vector<Sample> *samples,
                 QuantizeResult *result) {
  Outcome outcome;
  llvm::raw_string_ostream out(outcome.out), err(outcome.err);
  std::vector<calib::Sample> converted;
  if (samples) {
    for (size_t s = 0; s < samples->size(); ++s) {
      calib::Sample sample;
      for (const Tensor &t : (*samples)[s]) {
        if (t.dtype < 1 || t.dtype > 9) {
          err << "quantc: error: calibration sample " << s << ": input '" << t.name
              << "': unsupported dtype code " << t.dtype << "\n";
          outcome.status = 1;
          return outcome;
        }
        cpu::HostTensor h;
        h.name = t.name;
        h.dtype = static_cast<cpu::DType>(t.dtype - 1);
        h.shape = t.shape;
        size_t bytes = size_t(h.numElements()) * cpu::dtypeSize(h.dtype);
        h.data.resize(bytes);
        if (bytes)
          std::memcpy(h.data.data(), t.data, bytes);
        sample.push_back(std::move(h));
      }
      converted.push_back(std::move(sample));
    }
  }
  QuantizeResult local;
  outcome.status =
      quantizeModel(options, out, err, result ? result : &local, samples ? &converted : nullptr);
  return outcome;
}

Outcome exportQDQ(const QuantizeResult &result, const std::string &path) {
  Outcome outcome;
  llvm::raw_string_ostream err(outcome.err);
  if (!llvm::StringRef(path).ends_with(".onnx")) {
    err << "quantc: error: QDQ export writes .onnx, not '" << path << "'\n";
    outcome.status = 2;
  } else if (!result.qdq) {
    err << "quantc: error: "
        << (result.qdqRefusal.empty() ? std::string("nothing quantized to export")
                                      : result.qdqRefusal)
        << "\n";
    outcome.status = 2;
  } else {
    outcome.status = writeQDQ(*result.qdq, path, err);
  }
  return outcome;
}

Outcome compile(const CompileModelOptions &options) {
  Outcome outcome;
  llvm::raw_string_ostream out(outcome.out), err(outcome.err);
  outcome.status = compileModel(options, out, err);
  return outcome;
}

} // namespace quantc::driver::plain
