//===- GraphImporter.cpp - ONNX GraphProto to func.func -------------------===//
#include "GraphImporter.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSet.h"

#include <functional>
#include <queue>

using namespace mlir;

namespace quantc::onnx_import {

GraphImporter::GraphImporter(MLIRContext &context, std::string displayName,
                             TensorImporter &tensors,
                             const ONNXImportOptions &options)
    : context(context), displayName(std::move(displayName)), tensors(tensors),
      options(options) {
  registerElementwiseOps(registry);
  registerNNOps(registry);
  registerShapeOps(registry);
  registerQuantOps(registry);
}

Type GraphImporter::convertType(const onnx::TypeProto &type, Type fallbackElem,
                                std::string *why) {
  if (!type.has_tensor_type()) {
    if (why)
      *why = "only tensor types are supported (sequence, map and optional "
             "values are not)";
    return {};
  }
  const auto &tt = type.tensor_type();
  Type elem = fallbackElem;
  if (tt.elem_type() != 0) {
    elem = elementTypeFromONNX(&context, tt.elem_type());
    if (!elem) {
      if (why)
        *why = "element type " + onnxDataTypeName(tt.elem_type()) +
               " is not supported";
      return {};
    }
  }
  if (!elem) {
    if (why)
      *why = "the element type is unknown";
    return {};
  }
  if (!tt.has_shape())
    return UnrankedTensorType::get(elem);
  SmallVector<int64_t> dims;
  for (const auto &d : tt.shape().dim())
    dims.push_back(d.has_dim_value() && d.dim_value() >= 0 ? d.dim_value()
                                                           : ShapedType::kDynamic);
  return RankedTensorType::get(dims, elem);
}

LogicalResult GraphImporter::checkTopology(const onnx::GraphProto &graph,
                                           std::vector<int> &order, bool subgraph) {
  auto fail = [&](const Twine &msg) {
    emitError(UnknownLoc::get(&context)) << displayName << ": " << msg;
    return failure();
  };
  auto nodeName = [&](int i) {
    const auto &n = graph.node(i);
    return (n.name().empty() ? "#" + std::to_string(i) : "'" + n.name() + "'") +
           " (" + n.op_type() + ")";
  };
  llvm::StringSet<> available;
  // A subgraph uses the values of the scopes around it by name.
  if (subgraph)
    for (const auto &entry : values)
      available.insert(entry.getKey());
  for (const auto &in : graph.input())
    available.insert(in.name());
  for (const auto &init : graph.initializer())
    available.insert(init.name());
  llvm::StringMap<int> producer;
  for (int i = 0; i < graph.node_size(); ++i)
    for (const std::string &out : graph.node(i).output()) {
      if (out.empty())
        continue;
      if (available.count(out) || producer.count(out))
        return fail("node " + nodeName(i) + ": output '" + out +
                    "' is defined more than once");
      producer[out] = i;
    }
  std::vector<int> pending(graph.node_size(), 0);
  std::vector<std::vector<int>> users(graph.node_size());
  for (int i = 0; i < graph.node_size(); ++i) {
    for (const std::string &in : graph.node(i).input()) {
      if (in.empty() || available.count(in))
        continue;
      auto it = producer.find(in);
      if (it == producer.end())
        return fail("node " + nodeName(i) + ": input '" + in +
                    "' is not a graph input, an initializer or the output of "
                    "any node (missing initializer?)");
      ++pending[i];
      users[it->second].push_back(i);
    }
  }
  // Kahn's algorithm taking the earliest ready node first, so that a graph
  // that is already sorted keeps the file's order.
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < graph.node_size(); ++i)
    if (pending[i] == 0)
      ready.push(i);
  while (!ready.empty()) {
    int n = ready.top();
    ready.pop();
    order.push_back(n);
    for (int u : users[n])
      if (--pending[u] == 0)
        ready.push(u);
  }
  if (static_cast<int>(order.size()) != graph.node_size()) {
    std::string stuck;
    int shown = 0;
    for (int i = 0; i < graph.node_size() && shown < 4; ++i)
      if (pending[i] > 0) {
        stuck += (shown++ ? ", " : "") + nodeName(i);
      }
    return fail("the graph has a cycle; these nodes wait on each other: " +
                stuck);
  }
  for (const auto &out : graph.output())
    if (!available.count(out.name()) && !producer.count(out.name()))
      return fail("graph output '" + out.name() + "' is never produced");
  return success();
}

LogicalResult GraphImporter::importGraph(onnx::GraphProto &graph,
                                         func::FuncOp &func) {
  std::vector<int> order;
  if (failed(checkTopology(graph, order)))
    return failure();

  for (const auto &vi : graph.value_info())
    knownTypes[vi.name()] = &vi.type();
  for (const auto &vi : graph.output())
    knownTypes[vi.name()] = &vi.type();

  llvm::StringSet<> initNames;
  for (const auto &init : graph.initializer())
    initNames.insert(init.name());

  // Arguments: graph inputs that are not initializers.
  SmallVector<Type> argTypes;
  SmallVector<const onnx::ValueInfoProto *> argInfos;
  for (const auto &in : graph.input()) {
    if (initNames.count(in.name()))
      continue;
    std::string why;
    Type t = convertType(in.type(), {}, &why);
    if (!t) {
      emitError(UnknownLoc::get(&context))
          << displayName << ": graph input '" << in.name() << "': " << why;
      return failure();
    }
    argTypes.push_back(t);
    argInfos.push_back(&in);
  }

  OpBuilder builder(&context);
  auto fileLoc = FileLineColLoc::get(&context, displayName, 0, 0);
  func = func::FuncOp::create(fileLoc, options.functionName,
                              builder.getFunctionType(argTypes, {}));
  entryBlock = func.addEntryBlock();
  builder.setInsertionPointToStart(entryBlock);
  for (auto [i, info] : llvm::enumerate(argInfos)) {
    values[info->name()] = entryBlock->getArgument(i);
    func.setArgAttr(i, "qc.name", builder.getStringAttr(info->name()));
    const auto &tt = info->type().tensor_type();
    if (tt.has_shape()) {
      bool symbolic = false;
      SmallVector<Attribute> dimNames;
      for (const auto &d : tt.shape().dim()) {
        symbolic |= d.has_dim_param();
        dimNames.push_back(builder.getStringAttr(d.has_dim_param() ? d.dim_param() : ""));
      }
      if (symbolic)
        func.setArgAttr(i, "qc.dim_params", builder.getArrayAttr(dimNames));
    }
  }
  noneValue = qc::NoneOp::create(builder, fileLoc, builder.getNoneType());

  // Initializers that some node or output uses.
  // (Subgraphs use the outer initializers by name too.)
  llvm::StringSet<> used;
  std::function<void(const onnx::GraphProto &)> collect = [&](const onnx::GraphProto &g) {
    for (const auto &n : g.node()) {
      for (const auto &in : n.input())
        used.insert(in);
      for (const auto &attr : n.attribute()) {
        if (attr.has_g())
          collect(attr.g());
        for (const auto &sub : attr.graphs())
          collect(sub);
      }
      for (const auto &out : g.output())
        used.insert(out.name());
    }
  };
  collect(graph);
  for (const auto &out : graph.output())
    used.insert(out.name());
  for (auto &init : *graph.mutable_initializer()) {
    if (!used.count(init.name()))
      continue;
    std::string why;
    ElementsAttr value = tensors.import(init, why);
    if (!value) {
      emitError(UnknownLoc::get(&context))
          << displayName << ": initializer '" << init.name() << "': " << why;
      return failure();
    }
    auto loc = NameLoc::get(builder.getStringAttr(init.name()), fileLoc);
    values[init.name()] =
        qc::ConstantOp::create(builder, loc, cast<TensorType>(value.getType()), value);
  }

  if (failed(importNodes(graph, order, builder, fileLoc)))
    return failure();

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &out : graph.output()) {
    Value v = values.lookup(out.name());
    results.push_back(v);
    resultTypes.push_back(v.getType());
  }
  builder.setInsertionPointToEnd(entryBlock);
  if (noneValue.use_empty())
    noneValue.getDefiningOp()->erase();
  func::ReturnOp::create(builder, fileLoc, results);
  func.setFunctionType(builder.getFunctionType(argTypes, resultTypes));
  for (auto [i, out] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "qc.name", builder.getStringAttr(out.name()));
  return success();
}

LogicalResult GraphImporter::importNodes(onnx::GraphProto &graph, const std::vector<int> &order,
                                         OpBuilder &builder, Location fileLoc) {
  for (int i : order) {
    onnx::NodeProto &node = *graph.mutable_node(i);
    std::string name = node.name().empty() ? node.op_type() + "_" + std::to_string(i)
                                           : node.name();
    auto loc = NameLoc::get(builder.getStringAttr(name), fileLoc);
    NodeContext ctx(*this, node, opset, i, builder, loc);
    bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
    if (defaultDomain && opset == 0)
      return ctx.error("the model imports no opset of the default ONNX domain");
    if (!defaultDomain) {
      // Contrib ops are registered under "<domain>.<op>".
      const ImportFn *fn = registry.lookup(node.domain() + "." + node.op_type());
      if (!fn)
        return ctx.error("op '" + node.op_type() + "' of domain '" + node.domain() +
                         "' is not supported");
      if (failed((*fn)(ctx)))
        return failure();
      continue;
    }
    if (node.op_type() == "If") {
      if (failed(importIf(ctx, node, builder, fileLoc)))
        return failure();
      continue;
    }
    if (node.op_type() == "Loop" || node.op_type() == "Scan")
      return ctx.error("control flow op '" + node.op_type() +
                       "' is not supported yet (its subgraphs are not imported)");
    const ImportFn *fn = registry.lookup(node.op_type());
    if (!fn)
      return ctx.error("op type '" + node.op_type() + "' is not supported");
    // Pre-opset-6 bookkeeping attribute without inference semantics.
    ctx.take("consumed_inputs");
    if (failed(checkTypeConstraints(ctx)))
      return failure();
    if (failed((*fn)(ctx)))
      return failure();
    for (const std::string &out : node.output())
      if (!out.empty() && !values.count(out))
        return ctx.error("output '" + out + "' is not supported");
  }
  return success();
}

LogicalResult GraphImporter::importBranch(NodeContext &ctx, onnx::GraphProto &graph,
                                          Block &block, Location fileLoc,
                                          SmallVectorImpl<Value> &yielded) {
  std::vector<int> order;
  if (failed(checkTopology(graph, order, /*subgraph=*/true)))
    return ctx.error("subgraph '" + graph.name() + "' is malformed (see above)");
  if (graph.input_size() != 0)
    return ctx.error("subgraph '" + graph.name() + "' of an If must have no inputs");
  OpBuilder builder(&context); // the block is detached: no context through it
  builder.setInsertionPointToEnd(&block);
  for (const auto &vi : graph.value_info())
    knownTypes[vi.name()] = &vi.type();
  for (const auto &vi : graph.output())
    knownTypes[vi.name()] = &vi.type();
  for (auto &init : *graph.mutable_initializer()) {
    std::string why;
    ElementsAttr value = tensors.import(init, why);
    if (!value)
      return ctx.error("subgraph '" + graph.name() + "': initializer '" + init.name() + "': " +
                       why);
    auto loc = NameLoc::get(builder.getStringAttr(init.name()), fileLoc);
    values[init.name()] =
        qc::ConstantOp::create(builder, loc, cast<TensorType>(value.getType()), value);
  }
  if (failed(importNodes(graph, order, builder, fileLoc)))
    return failure();
  for (const auto &out : graph.output()) {
    Value v = values.lookup(out.name());
    if (!v)
      return ctx.error("subgraph '" + graph.name() + "': output '" + out.name() +
                       "' is not defined");
    yielded.push_back(v);
  }
  qc::YieldOp::create(builder, fileLoc, yielded);
  return success();
}

/// The type both branches agree on: equal types stay; ranked types of one
/// rank get dynamic dimensions where they differ; otherwise unranked.
static Type joinTypes(Type a, Type b) {
  if (a == b)
    return a;
  auto ta = cast<TensorType>(a), tb = cast<TensorType>(b);
  auto ra = dyn_cast<RankedTensorType>(ta), rb = dyn_cast<RankedTensorType>(tb);
  if (ra && rb && ra.getRank() == rb.getRank()) {
    SmallVector<int64_t> dims;
    for (auto [x, y] : llvm::zip(ra.getShape(), rb.getShape()))
      dims.push_back(x == y ? x : ShapedType::kDynamic);
    return RankedTensorType::get(dims, ta.getElementType());
  }
  return UnrankedTensorType::get(ta.getElementType());
}

LogicalResult GraphImporter::importIf(NodeContext &ctx, onnx::NodeProto &node,
                                      OpBuilder &builder, Location fileLoc) {
  onnx::GraphProto *thenGraph = nullptr, *elseGraph = nullptr;
  for (auto &attr : *node.mutable_attribute()) {
    if (attr.name() == "then_branch" && attr.has_g())
      thenGraph = attr.mutable_g();
    else if (attr.name() == "else_branch" && attr.has_g())
      elseGraph = attr.mutable_g();
    else
      return ctx.error("attribute '" + attr.name() + "' is not supported");
  }
  if (!thenGraph || !elseGraph)
    return ctx.error("If needs both then_branch and else_branch subgraphs");
  if (node.input_size() != 1 || !values.count(node.input(0)))
    return ctx.error("If takes one input, the condition");
  Value cond = values.lookup(node.input(0));
  auto condType = dyn_cast<TensorType>(cond.getType());
  if (!condType || !condType.getElementType().isInteger(1))
    return ctx.error("the condition must be a bool tensor");
  // The branches are built in detached blocks first: the op's result types
  // come from what they yield.
  auto thenBlock = std::make_unique<Block>(), elseBlock = std::make_unique<Block>();
  SmallVector<Value> thenValues, elseValues;
  if (failed(importBranch(ctx, *thenGraph, *thenBlock, fileLoc, thenValues)) ||
      failed(importBranch(ctx, *elseGraph, *elseBlock, fileLoc, elseValues)))
    return failure();
  if (thenValues.size() != elseValues.size() ||
      thenValues.size() != static_cast<size_t>(node.output_size()))
    return ctx.error("the branches yield " + std::to_string(thenValues.size()) + " and " +
                     std::to_string(elseValues.size()) + " values for " +
                     std::to_string(node.output_size()) + " outputs");
  SmallVector<Type> types;
  for (auto [t, e] : llvm::zip(thenValues, elseValues)) {
    if (cast<TensorType>(t.getType()).getElementType() !=
        cast<TensorType>(e.getType()).getElementType())
      return ctx.error("the branches yield different element types");
    types.push_back(joinTypes(t.getType(), e.getType()));
  }
  auto op = qc::IfOp::create(builder, ctx.loc, types, cond);
  op.getThenBranch().push_back(thenBlock.release());
  op.getElseBranch().push_back(elseBlock.release());
  for (auto [i, out] : llvm::enumerate(node.output()))
    if (!out.empty())
      values[out] = op.getResult(i);
  return success();
}

OwningOpRef<ModuleOp> GraphImporter::importModel(onnx::ModelProto &model) {
  opset = 0;
  bool hasDefault = false;
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") {
      opset = o.version();
      hasDefault = true;
    }
  // Without a default-domain opset only nodes of other domains can appear;
  // those are rejected one by one with their names.
  if (hasDefault && (opset < kMinONNXOpset || opset > kMaxONNXOpset)) {
    emitError(UnknownLoc::get(&context))
        << displayName << ": opset " << opset << " is not supported (quantc "
        << "imports opsets " << kMinONNXOpset << " to " << kMaxONNXOpset << ")";
    return {};
  }
  OpBuilder builder(&context);
  OwningOpRef<ModuleOp> module =
      ModuleOp::create(FileLineColLoc::get(&context, displayName, 0, 0));
  module->getOperation()->setAttr("qc.opset", builder.getI64IntegerAttr(opset));
  if (!model.producer_name().empty())
    module->getOperation()->setAttr("qc.producer",
                                    builder.getStringAttr(model.producer_name()));
  func::FuncOp func;
  if (failed(importGraph(*model.mutable_graph(), func))) {
    if (func)
      func.erase();
    return {};
  }
  module->push_back(func);
  if (failed(mlir::verify(*module)))
    return {};
  return module;
}

} // namespace quantc::onnx_import
