//===- TypeConstraints.cpp - ONNX type constraints of a node's inputs -----===//
//
// ONNX's schemas tie inputs together with type parameters (MatMul's A and
// B are both T). A model that breaks that (a float32 activation times a
// float64 initializer) is invalid; unchecked, it failed only later in the
// lowering, with a message about arith casts. Inputs that share a type
// parameter must have the same element type; the error names both inputs,
// their types and the parameter.
//
//===----------------------------------------------------------------------===//
#include "NodeImporter.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "onnx/defs/schema.h"

using namespace mlir;

namespace quantc::onnx_import {

LogicalResult checkTypeConstraints(NodeContext &c) {
  const onnx::OpSchema *schema =
      onnx::OpSchemaRegistry::Schema(c.node.op_type(), static_cast<int>(c.opset), c.node.domain());
  if (!schema)
    return success(); // an opset libonnx does not know: nothing to check against
  const auto &formals = schema->inputs();
  llvm::StringSet<> constraints;
  for (const auto &p : schema->typeConstraintParams())
    constraints.insert(p.type_param_str);
  llvm::StringMap<std::pair<Type, std::string>> seen; // parameter -> (element type, input)
  for (int i = 0; i < c.node.input_size() && !formals.empty(); ++i) {
    if (!c.hasInput(i))
      continue;
    size_t f = std::min<size_t>(i, formals.size() - 1);
    const auto &formal = formals[f];
    if (static_cast<size_t>(i) >= formals.size() &&
        (formal.GetOption() != onnx::OpSchema::Variadic || !formal.GetIsHomogeneous()))
      break;
    const std::string &param = formal.GetTypeStr();
    if (!constraints.contains(param))
      continue; // a fixed type (e.g. tensor(int64)), checked by the op's own rule
    auto shaped = dyn_cast<ShapedType>(c.input(i).getType());
    if (!shaped)
      continue;
    Type et = shaped.getElementType();
    // Values the importer typed itself (quantize/dequantize pairs folded
    // into !quant.uniform) are checked where it builds them.
    if (isa<quant::QuantizedType>(et))
      continue;
    auto [it, fresh] = seen.try_emplace(param, et, c.node.input(i));
    if (fresh || it->second.first == et)
      continue;
    std::string a, b;
    llvm::raw_string_ostream(a) << it->second.first;
    llvm::raw_string_ostream(b) << et;
    return c.error("inputs '" + it->second.second + "' (" + a + ") and '" + c.node.input(i) +
                   "' (" + b + ") must have the same element type (ONNX type constraint " +
                   param + ")");
  }
  return success();
}

} // namespace quantc::onnx_import
