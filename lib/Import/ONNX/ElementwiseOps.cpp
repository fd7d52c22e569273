//===- ElementwiseOps.cpp - import of elementwise and activation ops ------===//
#include "NodeImporter.h"

using namespace mlir;

namespace quantc::onnx_import {

namespace {
/// Opsets before 7 broadcast only with `broadcast = 1`, aligning B at
/// `axis`. Trailing alignment (the default, or axis = rank(A) - rank(B)) is
/// numpy broadcasting; other alignments are rejected.
LogicalResult legalizeLegacyBroadcast(NodeContext &c) {
  auto broadcast = c.takeInt("broadcast");
  auto axis = c.takeInt("axis");
  if (!broadcast || *broadcast == 0 || !axis)
    return success();
  auto ra = c.rank(c.input(0)), rb = c.rank(c.input(1));
  if (!ra || !rb)
    return c.error("legacy broadcast with axis needs ranked inputs");
  int64_t a = *axis < 0 ? *axis + *ra : *axis;
  if (a != *ra - *rb)
    return c.error("legacy broadcast along axis " + Twine(*axis) +
                   " (not trailing) is not supported");
  return success();
}

/// Softmax, LogSoftmax and Hardmax before opset 13 flatten the input to 2-D
/// at `axis` (default 1). Unless `axis` is the last dim this is rewritten
/// as flatten -> op(axis = 1) -> reshape back to the input's shape.
LogicalResult importSoftmaxLike(NodeContext &c, StringRef qcOp) {
  if (c.opset >= 13)
    return c.buildGeneric(qcOp, 1, {sameAs(0)});
  int64_t axis = c.takeInt("axis").value_or(1);
  Value x = c.input(0);
  auto rank = c.rank(x);
  if (rank) {
    int64_t a = axis < 0 ? axis + *rank : axis;
    if (a == *rank - 1) {
      c.setAttr("axis", c.builder.getI64IntegerAttr(-1));
      return c.buildGeneric(qcOp, 1, {sameAs(0)});
    }
  }
  Type elem = c.elementType(x);
  auto flat = c.buildInternal(
      "qc.flatten", {x}, {UnrankedTensorType::get(elem)},
      {c.builder.getNamedAttr("axis", c.builder.getI64IntegerAttr(axis))});
  if (failed(flat))
    return failure();
  auto inner = c.buildInternal(
      qcOp, {(*flat)->getResult(0)}, {UnrankedTensorType::get(elem)},
      {c.builder.getNamedAttr("axis", c.builder.getI64IntegerAttr(1))});
  if (failed(inner))
    return failure();
  auto shape = c.buildInternal(
      "qc.shape", {x},
      {UnrankedTensorType::get(c.builder.getI64Type())});
  if (failed(shape))
    return failure();
  auto out = c.buildInternal("qc.reshape",
                             {(*inner)->getResult(0), (*shape)->getResult(0)},
                             {c.outputType(0, elem)});
  if (failed(out))
    return failure();
  c.bindOutput(0, (*out)->getResult(0));
  return success();
}
} // namespace

void registerElementwiseOps(OpRegistry &r) {
  // Unary math, same type in and out.
  static const std::pair<const char *, const char *> unary[] = {
      {"Abs", "qc.abs"}, {"Neg", "qc.neg"}, {"Sqrt", "qc.sqrt"},
      {"Exp", "qc.exp"}, {"Log", "qc.log"}, {"Erf", "qc.erf"},
      {"Tanh", "qc.tanh"}, {"Sigmoid", "qc.sigmoid"}, {"Relu", "qc.relu"},
      {"Reciprocal", "qc.reciprocal"}, {"Floor", "qc.floor"},
      {"Ceil", "qc.ceil"}, {"Round", "qc.round"}, {"Sin", "qc.sin"},
      {"Cos", "qc.cos"}, {"Tan", "qc.tan"}, {"Asin", "qc.asin"},
      {"Acos", "qc.acos"}, {"Atan", "qc.atan"}, {"Sinh", "qc.sinh"},
      {"Cosh", "qc.cosh"}, {"Asinh", "qc.asinh"}, {"Acosh", "qc.acosh"},
      {"Atanh", "qc.atanh"}, {"Sign", "qc.sign"}, {"Softplus", "qc.softplus"},
      {"Softsign", "qc.softsign"}, {"HardSwish", "qc.hard_swish"},
      {"Mish", "qc.mish"}, {"Not", "qc.not"},
      {"LeakyRelu", "qc.leaky_relu"}, {"Elu", "qc.elu"}, {"Celu", "qc.celu"},
      {"ThresholdedRelu", "qc.thresholded_relu"}, {"Selu", "qc.selu"},
      {"HardSigmoid", "qc.hard_sigmoid"}, {"Shrink", "qc.shrink"},
      {"Gelu", "qc.gelu"}, {"LRN", "qc.lrn"}};
  for (auto [onnx, qc] : unary)
    r.generic(onnx, qc, 1, {sameAs(0)});
  // Identity of a constant (an initializer passed through, as exporters
  // write shared or renamed weights) is that constant, so that its
  // consumers see a constant weight (kernels, quantize); see ConstantCasts.cpp.
  r.add("Identity", [](NodeContext &c) {
    if (c.constantOf(c.input(0))) {
      c.bindOutput(0, c.input(0));
      return success();
    }
    return c.buildGeneric("qc.identity", 1, {sameAs(0)});
  });
  r.generic("IsNaN", "qc.is_nan", 1, {boolType()});
  r.generic("IsInf", "qc.is_inf", 1, {boolType()});

  // Binary arithmetic with (legacy) broadcasting.
  static const std::pair<const char *, const char *> arith[] = {
      {"Add", "qc.add"}, {"Sub", "qc.sub"}, {"Mul", "qc.mul"},
      {"Div", "qc.div"}, {"Pow", "qc.pow"},
      {"Mod", "qc.mod"}, {"BitShift", "qc.bit_shift"},
      {"And", "qc.and"}, {"Or", "qc.or"}, {"Xor", "qc.xor"}};
  for (auto [onnx, qc] : arith) {
    std::string op = qc;
    r.add(onnx, [op](NodeContext &c) {
      if (failed(legalizeLegacyBroadcast(c)))
        return failure();
      return c.buildGeneric(op, 2, {sameAs(0)});
    });
  }
  static const std::pair<const char *, const char *> compare[] = {
      {"Equal", "qc.equal"}, {"Less", "qc.less"}, {"Greater", "qc.greater"},
      {"LessOrEqual", "qc.less_or_equal"},
      {"GreaterOrEqual", "qc.greater_or_equal"}};
  for (auto [onnx, qc] : compare) {
    std::string op = qc;
    r.add(onnx, [op](NodeContext &c) {
      if (failed(legalizeLegacyBroadcast(c)))
        return failure();
      return c.buildGeneric(op, 2, {boolType()});
    });
  }
  static const std::pair<const char *, const char *> variadic[] = {
      {"Max", "qc.max"}, {"Min", "qc.min"}, {"Sum", "qc.sum"}, {"Mean", "qc.mean"}};
  for (auto [onnx, qc] : variadic)
    r.generic(onnx, qc, -1, {sameAs(0)});

  // PRelu before opset 7 applied a 1-D slope along the channel axis (1);
  // later opsets broadcast numpy-style, so the slope gets trailing 1s.
  r.add("PRelu", [](NodeContext &c) {
    auto rx = c.rank(c.input(0));
    auto slopeType = dyn_cast<RankedTensorType>(c.input(1).getType());
    if (c.opset < 7 && rx && *rx > 2 && slopeType && slopeType.getRank() == 1 &&
        slopeType.getDimSize(0) != 1) {
      SmallVector<int64_t> axes, dims{slopeType.getDimSize(0)};
      for (int64_t i = 1; i < *rx - 1; ++i) {
        axes.push_back(i);
        dims.push_back(1);
      }
      auto un = c.buildInternal("qc.unsqueeze", {c.input(1), c.constI64(axes)},
                                {RankedTensorType::get(dims, slopeType.getElementType())});
      if (failed(un))
        return failure();
      c.inputs[1] = (*un)->getResult(0);
    }
    return c.buildGeneric("qc.prelu", 2, {sameAs(0)});
  });
  r.generic("Where", "qc.where", 3, {sameAs(1)});
  r.generic("CumSum", "qc.cum_sum", 2, {sameAs(0)});

  // Clip: opsets before 11 carry min/max as float attributes.
  r.add("Clip", [](NodeContext &c) {
    auto lo = c.takeFloat("min"), hi = c.takeFloat("max");
    if (lo || hi) {
      Type elem = c.elementType(c.input(0));
      if (!isa<FloatType>(elem))
        return c.error("legacy min/max attributes need a float input");
      c.ensureInputs(3);
      if (lo)
        c.inputs[1] = c.constFloat(elem, {*lo});
      if (hi)
        c.inputs[2] = c.constFloat(elem, {*hi});
    }
    return c.buildGeneric("qc.clip", 3, {sameAs(0)});
  });

  r.add("Softmax", [](NodeContext &c) { return importSoftmaxLike(c, "qc.softmax"); });
  r.add("LogSoftmax",
        [](NodeContext &c) { return importSoftmaxLike(c, "qc.log_softmax"); });
  r.add("Hardmax", [](NodeContext &c) { return importSoftmaxLike(c, "qc.hardmax"); });
}

} // namespace quantc::onnx_import
