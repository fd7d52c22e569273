//===- ModelFile.h - Model files by extension: ONNX or qc IR ----*- C++ -*-===//
//
// One place that knows the file kinds a model can be kept in: ONNX (imported
// through the ONNX importer) and qc IR, as MLIR text (`.mlir`) or MLIR
// bytecode (`.mlirbc`). Bytecode keeps tensors as raw bytes: a quantized
// SmolLM2-135M is about 3x smaller than its text form (hex) and parses faster,
// which matters for the tests and scripts that pass whole models between
// tools.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_IMPORT_MODELFILE_H
#define QUANTC_IMPORT_MODELFILE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace quantc {

/// True for the paths qc IR is read from and written to: `.mlir` (text) and
/// `.mlirbc` (bytecode).
bool isQCIRPath(llvm::StringRef path);

/// A model file in `context`: qc IR (text or bytecode, told by the
/// extension) parsed, anything else imported as ONNX. Null after an error,
/// reported through the context's diagnostics with the file's name.
mlir::OwningOpRef<mlir::ModuleOp> loadModelFile(mlir::MLIRContext &context,
                                                llvm::StringRef path);

/// Writes `module` to `path`, as bytecode when it ends in `.mlirbc` and as
/// text (with `flags`) otherwise; "-" is standard output (text). The file
/// is removed again unless the whole write succeeded, so a failure (a full
/// disk) leaves nothing half-written. Errors name the file.
llvm::Error writeModelFile(mlir::ModuleOp module, llvm::StringRef path,
                           const mlir::OpPrintingFlags &flags = {});

} // namespace quantc

#endif // QUANTC_IMPORT_MODELFILE_H
