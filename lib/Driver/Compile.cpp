//===- Compile.cpp - quantc compile: a model as a shared library ----------===//
#include "Common.h"
#include "quantc/Driver/Quantize.h"
#include "quantc/Target/CPU/AOT.h"
#include "quantc/Target/CPU/JIT.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"

#include <algorithm>
#include <sys/resource.h>
#include <chrono>

using namespace mlir;

namespace quantc::driver {

int compileModel(const CompileModelOptions &o, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  if (o.model.empty() || o.output.empty()) {
    err << "quantc: error: compile needs a model and an output path (-o OUT.so)\n";
    return 2;
  }
  mlir::MLIRContext context;
  DiagnosticsTo diagnostics(context, err);
  auto module = openModel(context, o.model, err);
  if (!module)
    return 1;
  // Shapes per input; an input given several shapes makes one variant per
  // shape (inputs with one shape keep it in every variant).
  auto specs = cpu::JITModel::inputsOf(*module);
  std::vector<std::vector<std::vector<int64_t>>> perInput(specs.size());
  for (const auto &entry : o.shapes) {
    const std::string &name = entry.first;
    auto it = std::find_if(specs.begin(), specs.end(), [&](auto &s) {
      return name.empty() ? specs.size() == 1 : s.name == name;
    });
    if (it == specs.end()) {
      err << "quantc: error: " << o.model << ": the model has no input named '" << name
                   << "'" << (name.empty() ? " (write --shape NAME=DIMS)" : "") << "\n";
      return 1;
    }
    perInput[it - specs.begin()].push_back(entry.second);
  }
  size_t numVariants = 1;
  for (size_t i = 0; i < specs.size(); ++i) {
    size_t n = perInput[i].size();
    if (n > 1 && numVariants > 1 && n != numVariants) {
      err << "quantc: error: " << o.model << ": input '" << specs[i].name << "' has "
                   << n << " shapes but another input has " << numVariants
                   << " (give each input one shape, or the same number of shapes)\n";
      return 1;
    }
    numVariants = std::max(numVariants, n);
    if (n > 0)
      continue;
    if (specs[i].shape.empty() && !llvm::isa<RankedTensorType>(
                                      module->lookupSymbol<func::FuncOp>("main").getArgumentTypes()[i])) {
      err << "quantc: error: " << o.model << ": input '" << specs[i].name
                   << "' has no known rank: give --shape " << specs[i].name << "=DIMS\n";
      return 1;
    }
    if (llvm::is_contained(specs[i].shape, -1)) {
      err << "quantc: error: " << o.model << ": input '" << specs[i].name
                   << "' has symbolic dimensions: give --shape " << specs[i].name
                   << "=DIMS ('?' keeps a dimension symbolic, e.g. 1x?)\n";
      return 1;
    }
    perInput[i].push_back(specs[i].shape);
  }
  std::vector<cpu::ShapeVariant> variants(numVariants);
  for (size_t v = 0; v < numVariants; ++v)
    for (size_t i = 0; i < specs.size(); ++i)
      variants[v].push_back(perInput[i].size() == 1 ? perInput[i][0] : perInput[i][v]);
  cpu::AOTOptions options;
  options.compile.cpu = o.cpu;
  options.compile.features = o.features;
  options.keepObject = o.keepObject;
  options.runtimeDir = cpu::defaultRuntimeDir();
  auto t0 = std::chrono::steady_clock::now();
  if (auto e = cpu::compileSharedLibrary(*module, variants, o.output, options)) {
    err << "quantc: error: " << o.model << ": " << llvm::toString(std::move(e))
                 << "\n";
    return 1;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint64_t size = 0;
  llvm::sys::fs::file_size(o.output, size);
  // Peak memory: this process's maximum resident set (the linker, a child,
  // is not in it: a forked child's maximum starts at its parent's).
  struct rusage self;
  getrusage(RUSAGE_SELF, &self);
  out << llvm::format("%s: %.1f MiB, %zu shape variant%s, compiled in %.2f s, peak memory "
                      "%.1f MiB\n",
                      o.output.c_str(), size / 1048576.0, numVariants,
                      numVariants == 1 ? "" : "s", seconds, self.ru_maxrss / 1024.0);
  return 0;
}

} // namespace quantc::driver
