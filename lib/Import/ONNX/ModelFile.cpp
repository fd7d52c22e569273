//===- ModelFile.cpp - Model files by extension: ONNX or qc IR ------------===//
//
// See ModelFile.h. The qc IR parser and writer are MLIR's own; this file
// only decides by extension and keeps the write atomic.
//
//===----------------------------------------------------------------------===//
#include "quantc/Import/ModelFile.h"
#include "quantc/Import/ONNX/ONNXImporter.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace quantc {

namespace {
bool isBytecodePath(llvm::StringRef path) { return path.ends_with(".mlirbc"); }
} // namespace

bool isQCIRPath(llvm::StringRef path) {
  return path.ends_with(".mlir") || isBytecodePath(path);
}

OwningOpRef<ModuleOp> loadModelFile(MLIRContext &context, llvm::StringRef path) {
  registerONNXImportDialects(context);
  if (isQCIRPath(path))
    return parseSourceFile<ModuleOp>(path, &context);
  return importONNXFile(context, path);
}

llvm::Error writeModelFile(ModuleOp module, llvm::StringRef path, const OpPrintingFlags &flags) {
  if (path.empty() || path == "-") {
    module->print(llvm::outs(), flags);
    llvm::outs().flush();
    return llvm::Error::success();
  }
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createStringError("cannot write '" + path.str() + "': " + ec.message());
  if (isBytecodePath(path)) {
    if (failed(writeBytecodeToFile(module, out.os())))
      return llvm::createStringError("cannot write '" + path.str() + "' as MLIR bytecode");
  } else {
    module->print(out.os(), flags);
  }
  out.os().flush();
  if (out.os().has_error()) {
    out.os().clear_error();
    return llvm::createStringError("writing '" + path.str() + "' failed (disk full?)");
  }
  out.keep();
  return llvm::Error::success();
}

} // namespace quantc
