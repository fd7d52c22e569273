//===- NodeImporter.cpp - generic node import -----------------------------===//
#include "NodeImporter.h"
#include "GraphImporter.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;

namespace quantc::onnx_import {

ElemRule sameAs(unsigned input) {
  return [input](NodeContext &c) -> Type {
    Value v = c.input(input);
    return v ? c.elementType(v) : Type();
  };
}
ElemRule fixedType(std::function<Type(MLIRContext *)> make) {
  return [make](NodeContext &c) { return make(c.ctx()); };
}
ElemRule boolType() {
  return fixedType([](MLIRContext *c) { return IntegerType::get(c, 1); });
}
ElemRule i64Type() {
  return fixedType([](MLIRContext *c) { return IntegerType::get(c, 64); });
}
ElemRule i32Type() {
  return fixedType([](MLIRContext *c) { return IntegerType::get(c, 32); });
}
ElemRule f32Type() {
  return fixedType([](MLIRContext *c) { return Float32Type::get(c); });
}
ElemRule ui8Type() {
  return fixedType(
      [](MLIRContext *c) { return IntegerType::get(c, 8, IntegerType::Unsigned); });
}

void OpRegistry::add(StringRef onnxType, ImportFn fn) {
  fns[onnxType] = std::move(fn);
}

void OpRegistry::generic(StringRef onnxType, StringRef qcOp, int maxInputs,
                         std::vector<ElemRule> rules, bool variadicResults) {
  std::string op = qcOp.str();
  add(onnxType, [op, maxInputs, rules, variadicResults](NodeContext &c) {
    return c.buildGeneric(op, maxInputs, rules, variadicResults);
  });
}

const ImportFn *OpRegistry::lookup(StringRef onnxType) const {
  auto it = fns.find(onnxType);
  return it == fns.end() ? nullptr : &it->second;
}

std::vector<std::string> OpRegistry::names() const {
  std::vector<std::string> out;
  for (const auto &e : fns)
    out.push_back(e.getKey().str());
  std::sort(out.begin(), out.end());
  return out;
}

NodeContext::NodeContext(GraphImporter &graph, const onnx::NodeProto &node,
                         int64_t opset, unsigned index, OpBuilder &builder,
                         Location loc)
    : node(node), opset(opset), builder(builder), loc(loc), graph(graph),
      index(index) {
  for (const auto &a : node.attribute())
    attrs[a.name()] = &a;
  for (const std::string &name : node.input())
    inputs.push_back(name.empty() ? graph.noneValue : graph.values.lookup(name));
}

std::string NodeContext::describe() const {
  std::string name = node.name().empty()
                         ? "#" + std::to_string(index)
                         : "'" + node.name() + "'";
  return "node " + name + " (" + node.op_type() + ", opset " +
         std::to_string(opset) + ")";
}

LogicalResult NodeContext::error(const Twine &message) {
  emitError(UnknownLoc::get(ctx()))
      << graph.displayName << ": " << describe() << ": " << message;
  return failure();
}

bool NodeContext::has(StringRef name) const { return attrs.count(name); }

const onnx::AttributeProto *NodeContext::take(StringRef name) {
  auto it = attrs.find(name);
  if (it == attrs.end())
    return nullptr;
  const onnx::AttributeProto *a = it->second;
  attrs.erase(it);
  return a;
}

std::optional<int64_t> NodeContext::takeInt(StringRef name) {
  if (auto *a = take(name))
    return a->i();
  return std::nullopt;
}
std::optional<float> NodeContext::takeFloat(StringRef name) {
  if (auto *a = take(name))
    return a->f();
  return std::nullopt;
}
std::optional<SmallVector<int64_t>> NodeContext::takeInts(StringRef name) {
  if (auto *a = take(name))
    return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
  return std::nullopt;
}
std::optional<SmallVector<float>> NodeContext::takeFloats(StringRef name) {
  if (auto *a = take(name))
    return SmallVector<float>(a->floats().begin(), a->floats().end());
  return std::nullopt;
}
std::optional<std::string> NodeContext::takeString(StringRef name) {
  if (auto *a = take(name))
    return a->s();
  return std::nullopt;
}

void NodeContext::setAttr(StringRef name, Attribute value) {
  extraAttrs.push_back(builder.getNamedAttr(name, value));
}

Value NodeContext::input(unsigned i) const {
  return i < inputs.size() ? inputs[i] : Value();
}
bool NodeContext::hasInput(unsigned i) const {
  return i < inputs.size() && !isa<NoneType>(inputs[i].getType());
}
Type NodeContext::elementType(Value v) const {
  if (auto t = dyn_cast<TensorType>(v.getType()))
    return t.getElementType();
  return {};
}
std::optional<int64_t> NodeContext::rank(Value v) const {
  if (auto t = dyn_cast<RankedTensorType>(v.getType()))
    return t.getRank();
  return std::nullopt;
}
void NodeContext::ensureInputs(unsigned count) {
  while (inputs.size() < count)
    inputs.push_back(graph.noneValue);
}

Value NodeContext::none() { return graph.noneValue; }

Value NodeContext::constI64(ArrayRef<int64_t> values, bool scalar) {
  auto type = scalar ? RankedTensorType::get({}, builder.getI64Type())
                     : RankedTensorType::get({static_cast<int64_t>(values.size())},
                                             builder.getI64Type());
  auto attr = DenseElementsAttr::get(type, values);
  return qc::ConstantOp::create(builder, loc, type, attr);
}

Value NodeContext::constFloat(Type elementType, ArrayRef<double> values,
                              bool scalar) {
  auto type = scalar ? RankedTensorType::get({}, elementType)
                     : RankedTensorType::get({static_cast<int64_t>(values.size())},
                                             elementType);
  SmallVector<Attribute> attrs;
  for (double v : values)
    attrs.push_back(FloatAttr::get(elementType, v));
  return qc::ConstantOp::create(builder, loc, type,
                                DenseElementsAttr::get(type, attrs));
}

ElementsAttr NodeContext::constantOf(Value v) const {
  if (!v)
    return {};
  if (auto c = v.getDefiningOp<qc::ConstantOp>())
    return c.getValue();
  return {};
}

Type NodeContext::outputType(unsigned i, Type fallback) {
  if (i < static_cast<unsigned>(node.output_size()) && !node.output(i).empty()) {
    if (const onnx::TypeProto *t = graph.knownTypes.lookup(node.output(i)))
      if (Type converted = graph.convertType(*t, fallback)) {
        if (preferRuleElementTypes)
          return cast<TensorType>(converted).clone(fallback);
        return converted;
      }
  }
  return UnrankedTensorType::get(fallback);
}

namespace {
/// ONNX attribute -> MLIR attribute, by the ONNX attribute's kind.
FailureOr<Attribute> convertAttribute(NodeContext &c, const onnx::AttributeProto &a,
                                      std::string &why) {
  Builder &b = c.builder;
  switch (a.type()) {
  case onnx::AttributeProto::INT:
    return Attribute(b.getI64IntegerAttr(a.i()));
  case onnx::AttributeProto::FLOAT:
    return Attribute(b.getF32FloatAttr(a.f()));
  case onnx::AttributeProto::STRING:
    return Attribute(b.getStringAttr(a.s()));
  case onnx::AttributeProto::INTS:
    return Attribute(b.getDenseI64ArrayAttr(
        SmallVector<int64_t>(a.ints().begin(), a.ints().end())));
  case onnx::AttributeProto::FLOATS:
    return Attribute(b.getDenseF32ArrayAttr(
        SmallVector<float>(a.floats().begin(), a.floats().end())));
  case onnx::AttributeProto::TENSOR: {
    onnx::TensorProto t = a.t();
    ElementsAttr e = c.graph.tensors.import(t, why, /*forceDense=*/true);
    if (!e)
      return failure();
    return Attribute(e);
  }
  default:
    why = "attribute kind " + onnx::AttributeProto::AttributeType_Name(a.type()) +
          " is not supported";
    return failure();
  }
}
} // namespace

FailureOr<Operation *> NodeContext::buildInternal(StringRef qcOp,
                                                  ArrayRef<Value> operands,
                                                  ArrayRef<Type> resultTypes,
                                                  ArrayRef<NamedAttribute> attrs) {
  OperationState state(loc, qcOp);
  state.addOperands(operands);
  state.addTypes(resultTypes);
  state.addAttributes(attrs);
  Operation *op = builder.create(state);
  std::string diag;
  {
    ScopedDiagnosticHandler handler(ctx(), [&](Diagnostic &d) {
      if (!diag.empty())
        diag += "; ";
      diag += d.str();
      return success();
    });
    if (succeeded(mlir::verify(op)))
      return op;
  }
  op->erase();
  (void)error(diag);
  return failure();
}

FailureOr<Operation *> NodeContext::build(StringRef qcOp, ArrayRef<Value> operands,
                                          ArrayRef<Type> elementTypes) {
  auto opName = RegisteredOperationName::lookup(qcOp, ctx());
  if (!opName) {
    (void)error("internal: op '" + qcOp + "' is not registered");
    return failure();
  }
  SmallVector<NamedAttribute> named(extraAttrs.begin(), extraAttrs.end());
  ArrayRef<StringAttr> known = opName->getAttributeNames();
  // Deterministic order: walk the node's attribute list.
  for (const auto &a : node.attribute()) {
    if (!attrs.count(a.name()))
      continue; // consumed by a legalizer
    bool isKnown = llvm::any_of(known, [&](StringAttr s) { return s == a.name(); });
    if (!isKnown) {
      (void)error("attribute '" + a.name() + "' is not supported");
      return failure();
    }
    std::string why;
    auto converted = convertAttribute(*this, a, why);
    if (failed(converted)) {
      (void)error("attribute '" + a.name() + "': " + why);
      return failure();
    }
    named.push_back(builder.getNamedAttr(a.name(), *converted));
  }
  for (Value v : operands)
    if (!v) {
      (void)error("internal: missing operand");
      return failure();
    }
  SmallVector<Type> resultTypes;
  for (auto [i, et] : llvm::enumerate(elementTypes)) {
    if (!et) {
      (void)error("cannot determine the element type of output " + Twine(i));
      return failure();
    }
    resultTypes.push_back(outputType(i, et));
  }
  auto op = buildInternal(qcOp, operands, resultTypes, named);
  if (failed(op))
    return failure();
  for (unsigned i = 0; i < (*op)->getNumResults(); ++i)
    bindOutput(i, (*op)->getResult(i));
  return op;
}

LogicalResult NodeContext::buildGeneric(StringRef qcOp, int maxInputs,
                                        ArrayRef<ElemRule> rules,
                                        bool variadicResults) {
  if (maxInputs >= 0) {
    if (inputs.size() > static_cast<size_t>(maxInputs))
      return error("has " + Twine(inputs.size()) + " inputs; at most " +
                   Twine(maxInputs) + " are supported");
    ensureInputs(maxInputs);
  }
  unsigned numResults = variadicResults ? node.output_size() : rules.size();
  if (!variadicResults && static_cast<size_t>(node.output_size()) > rules.size())
    return error("has " + Twine(node.output_size()) + " outputs; at most " +
                 Twine(rules.size()) + " are supported");
  SmallVector<Type> elems;
  for (unsigned i = 0; i < numResults; ++i) {
    const ElemRule &rule = rules[std::min<size_t>(i, rules.size() - 1)];
    elems.push_back(rule(*this));
  }
  return failure(failed(build(qcOp, inputs, elems)));
}

void NodeContext::bindOutput(unsigned i, Value v) {
  if (i < static_cast<unsigned>(node.output_size()) && !node.output(i).empty())
    graph.values[node.output(i)] = v;
}

} // namespace quantc::onnx_import
