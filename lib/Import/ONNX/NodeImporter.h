//===- NodeImporter.h - per-node import context (internal) ------*- C++ -*-===//
//
// The importer converts nodes generically: ONNX inputs become positional
// operands (omitted ones are `qc.none`), ONNX attributes become attributes of
// the same name, and the op's verifier checks the result. Per-op functions
// registered in an OpRegistry legalize what differs between opsets (for
// example attributes that later became inputs) before the generic build.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_IMPORT_ONNX_NODEIMPORTER_H
#define QUANTC_LIB_IMPORT_ONNX_NODEIMPORTER_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include "onnx/onnx_pb.h"

#include <functional>
#include <optional>
#include <string>

namespace quantc::onnx_import {

class GraphImporter;
class NodeContext;

/// Element type of one result, computed from the node (its inputs, its
/// attributes).
using ElemRule = std::function<mlir::Type(NodeContext &)>;
ElemRule sameAs(unsigned input);
ElemRule fixedType(std::function<mlir::Type(mlir::MLIRContext *)> make);
ElemRule boolType();
ElemRule i64Type();
ElemRule i32Type();
ElemRule f32Type();
ElemRule ui8Type();

using ImportFn = std::function<mlir::LogicalResult(NodeContext &)>;

class OpRegistry {
public:
  void add(llvm::StringRef onnxType, ImportFn fn);
  /// An op imported as is: up to `maxInputs` operands (-1: variadic) and one
  /// result per rule (`variadicResults`: one per node output, all of the
  /// first rule's type).
  void generic(llvm::StringRef onnxType, llvm::StringRef qcOp, int maxInputs,
               std::vector<ElemRule> rules, bool variadicResults = false);
  const ImportFn *lookup(llvm::StringRef onnxType) const;
  size_t size() const { return fns.size(); }
  std::vector<std::string> names() const;

private:
  llvm::StringMap<ImportFn> fns;
};

/// The op families, one file each.
void registerElementwiseOps(OpRegistry &registry);
void registerNNOps(OpRegistry &registry);
void registerShapeOps(OpRegistry &registry);
void registerQuantOps(OpRegistry &registry);

class NodeContext;
/// Inputs that share an ONNX type parameter (MatMul's A and B: T) have
/// the same element type; an error naming both otherwise.
mlir::LogicalResult checkTypeConstraints(NodeContext &c);

/// ONNX element type code -> MLIR type (null when unsupported).
mlir::Type elementTypeFromONNX(mlir::MLIRContext *ctx, int32_t dataType);
std::string onnxDataTypeName(int32_t dataType);

class NodeContext {
public:
  NodeContext(GraphImporter &graph, const onnx::NodeProto &node, int64_t opset,
              unsigned index, mlir::OpBuilder &builder, mlir::Location loc);

  const onnx::NodeProto &node;
  int64_t opset;
  mlir::OpBuilder &builder;
  mlir::Location loc;
  /// Operands in ONNX order; an omitted optional input is a `qc.none` value.
  llvm::SmallVector<mlir::Value> inputs;

  mlir::MLIRContext *ctx() { return builder.getContext(); }
  /// "node 'name' (OpType, opset N)"
  std::string describe() const;
  /// Emits an error naming the file, node, op type and opset; returns failure.
  mlir::LogicalResult error(const llvm::Twine &message);

  // Attributes. `take*` consumes the attribute so that the generic build
  // does not see it; anything left unconsumed must be an attribute of the
  // qc op or the node is rejected.
  bool has(llvm::StringRef name) const;
  const onnx::AttributeProto *take(llvm::StringRef name);
  std::optional<int64_t> takeInt(llvm::StringRef name);
  std::optional<float> takeFloat(llvm::StringRef name);
  std::optional<llvm::SmallVector<int64_t>> takeInts(llvm::StringRef name);
  std::optional<llvm::SmallVector<float>> takeFloats(llvm::StringRef name);
  std::optional<std::string> takeString(llvm::StringRef name);
  /// Adds an attribute computed by a legalizer.
  void setAttr(llvm::StringRef name, mlir::Attribute value);

  mlir::Value input(unsigned i) const;
  bool hasInput(unsigned i) const;
  mlir::Type elementType(mlir::Value v) const;
  std::optional<int64_t> rank(mlir::Value v) const;
  /// Makes inputs[i] exist (padding with none).
  void ensureInputs(unsigned count);

  mlir::Value none();
  mlir::Value constI64(llvm::ArrayRef<int64_t> values, bool scalar = false);
  mlir::Value constFloat(mlir::Type elementType, llvm::ArrayRef<double> values,
                         bool scalar = true);
  /// The constant operand behind `v`, if any.
  mlir::ElementsAttr constantOf(mlir::Value v) const;

  /// Result type of output i: ONNX's inferred type when known, else an
  /// unranked tensor of `fallback`.
  mlir::Type outputType(unsigned i, mlir::Type fallback);

  /// Builds `qcOp` from `operands` with the remaining ONNX attributes, one
  /// result per entry of `elementTypes`, verifies it and binds the node's
  /// outputs to its results.
  mlir::FailureOr<mlir::Operation *> build(llvm::StringRef qcOp,
                                           llvm::ArrayRef<mlir::Value> operands,
                                           llvm::ArrayRef<mlir::Type> elementTypes);
  /// Builds an op that does not map to a node output (legalizer helper); it
  /// uses no ONNX attributes.
  mlir::FailureOr<mlir::Operation *>
  buildInternal(llvm::StringRef qcOp, llvm::ArrayRef<mlir::Value> operands,
                llvm::ArrayRef<mlir::Type> resultTypes,
                llvm::ArrayRef<mlir::NamedAttribute> attrs = {});
  /// The generic path: pad inputs to `maxInputs`, compute result element
  /// types from `rules`, build.
  mlir::LogicalResult buildGeneric(llvm::StringRef qcOp, int maxInputs,
                                   llvm::ArrayRef<ElemRule> rules,
                                   bool variadicResults = false);
  /// Binds node output i to a value (for legalizers that build several ops).
  void bindOutput(unsigned i, mlir::Value v);

  GraphImporter &graph;
  /// When set, result element types come from the rules even where ONNX
  /// inferred another one (quantized results carry !quant.uniform types).
  bool preferRuleElementTypes = false;

private:
  unsigned index;
  llvm::StringMap<const onnx::AttributeProto *> attrs;
  llvm::SmallVector<mlir::NamedAttribute> extraAttrs;
};

/// A Cast of a float16/bfloat16/float64 constant to float32, computed at
/// import (ConstantCasts.cpp): true when it bound the node's output.
bool foldConstantFloatCast(NodeContext &c, mlir::Type to);

} // namespace quantc::onnx_import

#endif
