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
                                    std::vector<int> &order, bool subgraph = false);
  /// The nodes of `graph` in `order`, at the builder's insertion point.
  mlir::LogicalResult importNodes(onnx::GraphProto &graph, const std::vector<int> &order,
                                  mlir::OpBuilder &builder, mlir::Location fileLoc);
  /// If -> qc.if with one region per subgraph.
  mlir::LogicalResult importIf(NodeContext &ctx, onnx::NodeProto &node, mlir::OpBuilder &builder,
                               mlir::Location fileLoc);
  mlir::LogicalResult importBranch(NodeContext &ctx, onnx::GraphProto &graph, mlir::Block &block,
                                   mlir::Location fileLoc,
                                   llvm::SmallVectorImpl<mlir::Value> &yielded);
  OpRegistry registry;
  int64_t opset = 0;
};

} // namespace quantc::onnx_import

#endif
