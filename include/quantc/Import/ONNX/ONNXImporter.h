//===- ONNXImporter.h - ONNX ModelProto to the qc dialect -------*- C++ -*-===//
//
// Public entry points of the ONNX importer. They take a path or text and
// return a module holding `func.func @main` made of qc ops; every failure is
// reported through the context's diagnostic engine with the file, node, op
// type and opset, and yields a null module.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_IMPORT_ONNX_ONNXIMPORTER_H
#define QUANTC_IMPORT_ONNX_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace quantc {

struct ONNXImportOptions {
  /// Run ONNX's C++ shape inference before import so results get ranked
  /// types wherever ONNX knows them.
  bool shapeInference = true;
  /// Initializers with at most this many elements become `dense` attributes
  /// (foldable); larger ones are `dense_resource` blobs aliasing the model.
  int64_t denseElementLimit = 64;
  /// Name of the function that holds the graph.
  std::string functionName = "main";
};

/// The ONNX opsets (default domain) the importer accepts.
constexpr int64_t kMinONNXOpset = 1;
constexpr int64_t kMaxONNXOpset = 21;

/// Registers the dialects the importer produces.
void registerONNXImportDialects(mlir::MLIRContext &context);

/// Imports an ONNX model file: binary ModelProto or ONNX text syntax
/// (detected from content). External data files are resolved relative to
/// the model's directory and memory-mapped.
mlir::OwningOpRef<mlir::ModuleOp>
importONNXFile(mlir::MLIRContext &context, llvm::StringRef path,
               const ONNXImportOptions &options = {});

/// Imports a model from memory. `bytes` is a binary ModelProto or ONNX text;
/// `displayName` names it in diagnostics and `baseDir` anchors external data.
mlir::OwningOpRef<mlir::ModuleOp>
importONNXBuffer(mlir::MLIRContext &context, llvm::StringRef bytes,
                 llvm::StringRef displayName, llvm::StringRef baseDir,
                 const ONNXImportOptions &options = {});

/// Reads a serialized TensorProto file (.pb, as ONNX's test data keeps
/// inputs) as a dense constant; `name` gets the tensor's name. Errors name
/// the file.
llvm::Expected<mlir::DenseElementsAttr>
readTensorProtoFile(mlir::MLIRContext &context, llvm::StringRef path, std::string *name);

} // namespace quantc

#endif
