//===- TensorImporter.h - TensorProto to ElementsAttr (internal) -*- C++ -*-===//
#ifndef QUANTC_LIB_IMPORT_ONNX_TENSORIMPORTER_H
#define QUANTC_LIB_IMPORT_ONNX_TENSORIMPORTER_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/MemoryBuffer.h"

#include "onnx/onnx_pb.h"

#include <map>
#include <memory>
#include <string>

namespace quantc::onnx_import {

/// Memory-maps external data files, each once, and keeps them alive for as
/// long as any blob points into them.
class ExternalDataStore {
public:
  explicit ExternalDataStore(std::string baseDir) : baseDir(std::move(baseDir)) {}
  /// Resolves `location` against the model directory, refusing absolute
  /// paths and any path that leaves the directory (also through symlinks).
  mlir::FailureOr<std::shared_ptr<llvm::MemoryBuffer>>
  map(llvm::StringRef location, std::string &error);
  const std::string &getBaseDir() const { return baseDir; }

private:
  std::string baseDir;
  std::map<std::string, std::shared_ptr<llvm::MemoryBuffer>> files;
};

class TensorImporter {
public:
  TensorImporter(mlir::MLIRContext &context, ExternalDataStore &external,
                 int64_t denseElementLimit)
      : context(context), external(external),
        denseElementLimit(denseElementLimit) {}

  /// Converts a tensor. Large tensors become `dense_resource` blobs that own
  /// the protobuf's raw_data string (taken from `tensor` without a copy) or
  /// alias the mapped external file. On failure `error` says why.
  mlir::ElementsAttr import(onnx::TensorProto &tensor, std::string &error,
                            bool forceDense = false);

private:
  mlir::MLIRContext &context;
  ExternalDataStore &external;
  int64_t denseElementLimit;
};

} // namespace quantc::onnx_import

#endif
