//===- quantc.cpp - the quantc command line -------------------------------===//
//
//   quantc import MODEL [-o OUT.mlir] [--summary] [--no-shape-inference]
//   quantc summary MODEL
//   quantc ops
//
// Errors name the file, node, op type and opset, exit non-zero and leave no
// output file behind.
//
//===----------------------------------------------------------------------===//
#include "ModelSummary.h"
#include "NpyFile.h"
#include "quantc/Target/CPU/JIT.h"
#include "quantc/Dialect/QC/QCDialect.h"
#include "quantc/Import/ONNX/ONNXImporter.h"

#include "mlir/IR/AsmState.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "llvm/Support/Path.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

using namespace mlir;

namespace {
int usage(llvm::raw_ostream &os, int code) {
  os << "usage:\n"
        "  quantc import MODEL.onnx [-o OUT.mlir] [--summary] [--no-shape-inference]\n"
        "                           [--elide-weights]\n"
        "      Import an ONNX model (binary or text syntax) into the qc dialect.\n"
        "      Without -o the IR goes to standard output.\n"
        "  quantc summary MODEL.onnx\n"
        "      Import and print inputs, outputs, op counts and parameter totals.\n"
        "  quantc run MODEL.{onnx,mlir} [--input NAME=FILE.npy | FILE.npy]... [--output-dir DIR]\n"
        "      JIT-compile the model for the given input shapes and run it; each\n"
        "      output is written to DIR/<name>.npy (default: the current directory).\n";
  return code;
}

int runImport(std::vector<std::string> args, bool summaryOnly) {
  std::string input, output;
  bool summary = summaryOnly, elide = false;
  quantc::ONNXImportOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-o" && i + 1 < args.size())
      output = args[++i];
    else if (a == "--summary")
      summary = true;
    else if (a == "--no-shape-inference")
      options.shapeInference = false;
    else if (a == "--elide-weights")
      elide = true;
    else if (!a.empty() && a[0] == '-' && a != "-")
      return (llvm::errs() << "quantc: error: unknown option '" << a << "'\n",
              usage(llvm::errs(), 2));
    else if (input.empty())
      input = a;
    else
      return (llvm::errs() << "quantc: error: more than one model given\n", 2);
  }
  if (input.empty())
    return (llvm::errs() << "quantc: error: no model given\n", usage(llvm::errs(), 2));

  MLIRContext context;
  quantc::registerONNXImportDialects(context);
  context.printOpOnDiagnostic(false);
  auto module = quantc::importONNXFile(context, input, options);
  if (!module)
    return 1;
  if (summary)
    quantc::printModelSummary(*module, summaryOnly || output.empty() ? llvm::outs()
                                                                     : llvm::errs());
  if (summaryOnly || (summary && output.empty()))
    return 0;
  OpPrintingFlags flags;
  if (elide)
    flags.elideLargeElementsAttrs(16).elideLargeResourceString(64);
  if (output.empty() || output == "-") {
    module->print(llvm::outs(), flags);
    return 0;
  }
  // Written to a temporary file and renamed only on success.
  std::error_code ec;
  llvm::ToolOutputFile out(output, ec, llvm::sys::fs::OF_None);
  if (ec) {
    llvm::errs() << "quantc: error: cannot write '" << output << "': " << ec.message()
                 << "\n";
    return 1;
  }
  module->print(out.os(), flags);
  out.os().flush();
  if (out.os().has_error()) {
    llvm::errs() << "quantc: error: writing '" << output << "' failed\n";
    out.os().clear_error();
    return 1;
  }
  out.keep();
  return 0;
}
/// A model file: ONNX (imported) or qc IR (parsed).
OwningOpRef<ModuleOp> loadModel(MLIRContext &context, const std::string &path) {
  if (llvm::StringRef(path).ends_with(".mlir")) {
    context.loadDialect<quantc::qc::QCDialect, func::FuncDialect, quant::QuantDialect>();
    return parseSourceFile<ModuleOp>(path, &context);
  }
  return quantc::importONNXFile(context, path);
}

std::string fileNameFor(const std::string &name) {
  std::string out;
  for (char c : name)
    out.push_back(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ? c : '_');
  return out.empty() ? "output" : out;
}

int runModel(std::vector<std::string> args) {
  std::string model, outDir = ".";
  std::vector<std::pair<std::string, std::string>> named;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "--input" && i + 1 < args.size()) {
      std::string v = args[++i];
      size_t eq = v.find('=');
      if (eq == std::string::npos)
        positional.push_back(v);
      else
        named.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else if (a == "--output-dir" && i + 1 < args.size()) {
      outDir = args[++i];
    } else if (!a.empty() && a[0] == '-') {
      llvm::errs() << "quantc: error: unknown option '" << a << "'\n";
      return 2;
    } else if (model.empty()) {
      model = a;
    } else {
      positional.push_back(a);
    }
  }
  if (model.empty())
    return (llvm::errs() << "quantc: error: no model given\n", usage(llvm::errs(), 2));
  MLIRContext context;
  quantc::registerONNXImportDialects(context);
  context.printOpOnDiagnostic(false);
  auto module = loadModel(context, model);
  if (!module)
    return 1;
  auto specs = quantc::cpu::JITModel::inputsOf(*module);
  std::vector<quantc::cpu::HostTensor> inputs(specs.size());
  std::vector<bool> given(specs.size(), false);
  auto load = [&](size_t i, const std::string &file) -> bool {
    auto t = quantc::readNpy(file);
    if (!t) {
      llvm::errs() << "quantc: error: " << llvm::toString(t.takeError()) << "\n";
      return false;
    }
    inputs[i] = std::move(*t);
    inputs[i].name = specs[i].name;
    given[i] = true;
    return true;
  };
  size_t next = 0;
  for (const auto &file : positional) {
    while (next < specs.size() && given[next])
      ++next;
    if (next >= specs.size()) {
      llvm::errs() << "quantc: error: more inputs given than the model has (" << specs.size() << ")\n";
      return 1;
    }
    if (!load(next, file))
      return 1;
  }
  for (const auto &[name, file] : named) {
    auto it = std::find_if(specs.begin(), specs.end(), [&](auto &s) { return s.name == name; });
    if (it == specs.end()) {
      llvm::errs() << "quantc: error: the model has no input named '" << name << "'\n";
      return 1;
    }
    if (!load(it - specs.begin(), file))
      return 1;
  }
  std::vector<std::vector<int64_t>> shapes;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!given[i]) {
      llvm::errs() << "quantc: error: input '" << specs[i].name << "' was not given\n";
      return 1;
    }
    if (inputs[i].dtype != specs[i].dtype) {
      llvm::errs() << "quantc: error: input '" << specs[i].name << "' must be "
                   << quantc::cpu::dtypeName(specs[i].dtype) << ", the file holds "
                   << quantc::cpu::dtypeName(inputs[i].dtype) << "\n";
      return 1;
    }
    shapes.push_back(inputs[i].shape);
  }
  auto jit = quantc::cpu::JITModel::compile(*module, shapes);
  if (!jit) {
    llvm::errs() << "quantc: error: " << model << ": " << llvm::toString(jit.takeError()) << "\n";
    return 1;
  }
  std::vector<quantc::cpu::HostTensor> outputs;
  if (auto err = (*jit)->run(inputs, outputs)) {
    llvm::errs() << "quantc: error: " << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  llvm::sys::fs::create_directories(outDir);
  for (const auto &o : outputs) {
    llvm::SmallString<256> path(outDir);
    llvm::sys::path::append(path, fileNameFor(o.name) + ".npy");
    if (auto err = quantc::writeNpy(std::string(path), o)) {
      llvm::errs() << "quantc: error: " << llvm::toString(std::move(err)) << "\n";
      return 1;
    }
    llvm::outs() << o.name << ": " << quantc::cpu::dtypeName(o.dtype) << "[";
    for (size_t i = 0; i < o.shape.size(); ++i)
      llvm::outs() << (i ? "," : "") << o.shape[i];
    llvm::outs() << "] -> " << path << "\n";
  }
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  if (argc < 2)
    return usage(llvm::errs(), 2);
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "import")
    return runImport(args, false);
  if (cmd == "summary")
    return runImport(args, true);
  if (cmd == "run")
    return runModel(args);
  if (cmd == "-h" || cmd == "--help" || cmd == "help")
    return usage(llvm::outs(), 0);
  llvm::errs() << "quantc: error: unknown command '" << cmd << "'\n";
  return usage(llvm::errs(), 2);
}
