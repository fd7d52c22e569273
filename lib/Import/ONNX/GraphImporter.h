//===- GraphImporter.h - ONNX GraphProto to func.func (internal) -*- C++ -*-===//
#ifndef QUANTC_LIB_IMPORT_ONNX_GRAPHIMPORTER_H
#define QUANTC_LIB_IMPORT_ONNX_GRAPHIMPORTER_H

#include "NodeImporter.h"
#include "TensorImporter.h"
#include "quantc/Import/ONNX/ONNXImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

namespace quantc::onnx_import {

class GraphImporter {
public:
  GraphImporter(mlir::MLIRContext &context, std::string displayName,
                TensorImporter &tensors, const ONNXImportOptions &options);

  /// Imports the main graph of `model` (after shape inference) into a new
  /// module. Returns null after emitting an error.
  mlir::OwningOpRef<mlir::ModuleOp> importModel(onnx::ModelProto &model);

  mlir::MLIRContext &context;
  std::string displayName;
  TensorImporter &tensors;
  const ONNXImportOptions &options;

  /// ONNX value name -> SSA value.
  llvm::StringMap<mlir::Value> values;
  /// ONNX value name -> type known to ONNX (graph inputs, outputs,
  /// value_info after shape inference).
  llvm::StringMap<const onnx::TypeProto *> knownTypes;
  mlir::Value noneValue;
  /// Insertion point for constants materialized by legalizers.
  mlir::Block *entryBlock = nullptr;

  /// Converts an ONNX type to a tensor type; `fallbackElem` is used when
  /// ONNX does not know the element type. Null when unsupported.
  mlir::Type convertType(const onnx::TypeProto &type, mlir::Type fallbackElem,
                         std::string *why = nullptr);

private:
  mlir::LogicalResult importGraph(onnx::GraphProto &graph,
                                  mlir::func::FuncOp &func);
  mlir::LogicalResult checkTopology(const onnx::GraphProto &graph,
                                    std::vector<int> &order);
  OpRegistry registry;
  int64_t opset = 0;
};

} // namespace quantc::onnx_import

#endif
