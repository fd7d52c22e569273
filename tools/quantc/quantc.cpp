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
#include "quantc/Dialect/QC/QCDialect.h"
#include "quantc/Import/ONNX/ONNXImporter.h"

#include "mlir/IR/AsmState.h"
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
        "      Import and print inputs, outputs, op counts and parameter totals.\n";
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
  if (cmd == "-h" || cmd == "--help" || cmd == "help")
    return usage(llvm::outs(), 0);
  llvm::errs() << "quantc: error: unknown command '" << cmd << "'\n";
  return usage(llvm::errs(), 2);
}
