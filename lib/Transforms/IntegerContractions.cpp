//===- IntegerContractions.cpp - DQ -> Conv/MatMul on integers ------------===//
//
// See QCIntegerContractions in Passes.td. Static W8A8 models (ours and
// ONNX Runtime's QDQ models) carry their quantized convolutions and
// matmuls as DequantizeLinear -> float op; this pass hands them to the
// integer ops so that they run on the int8 kernels.
//
//===----------------------------------------------------------------------===//
#include "quantc/Dialect/QC/ConstantValues.h"
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"

namespace quantc {
#define GEN_PASS_DEF_QCINTEGERCONTRACTIONS
#include "quantc/Transforms/Passes.h.inc"
} // namespace quantc

using namespace mlir;
using namespace quantc::qc;

namespace {

bool isNone(Value v) { return !v || isa<NoneType>(v.getType()); }

/// Whether a tensor's elements are 8-bit integers (or quantized with an
/// 8-bit storage type).
bool isByteTensor(Value v) {
  auto t = dyn_cast<ShapedType>(v.getType());
  if (!t)
    return false;
  Type e = t.getElementType();
  if (auto q = dyn_cast<quant::QuantizedType>(e))
    return q.getStorageTypeIntegralWidth() == 8;
  auto i = dyn_cast<IntegerType>(e);
  return i && i.getWidth() == 8;
}

/// A constant's f32 values (dense or a resource blob: the ONNX importer
/// keeps large initializers, PP-OCRv4 rec's conv biases among them, as
/// resources, and those convolutions stayed float).
std::optional<std::vector<float>> floatConstant(Value v) { return floatConstantValues(v); }

int64_t numElements(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.hasStaticShape() ? t.getNumElements() : -1;
}

/// A DequantizeLinear of 8-bit values per tensor (scale and zero point of
/// one element, scale constant): the input side.
DequantizeLinearOp activationDQ(Value v, float &scale) {
  auto dq = v.getDefiningOp<DequantizeLinearOp>();
  if (!dq || dq.getBlockSize() != 0 || !isByteTensor(dq.getX()))
    return {};
  auto s = floatConstant(dq.getXScale());
  if (!s || s->size() != 1 || (!isNone(dq.getXZeroPoint()) && numElements(dq.getXZeroPoint()) != 1))
    return {};
  scale = (*s)[0];
  return dq;
}

/// A DequantizeLinear of constant 8-bit weights, per tensor or per index
/// of `channelAxis` (of `channels` entries): the weight side. `scales`
/// gets one scale per channel.
DequantizeLinearOp weightDQ(Value v, int64_t channelAxis, int64_t channels,
                            SmallVector<float> &scales) {
  auto dq = v.getDefiningOp<DequantizeLinearOp>();
  if (!dq || dq.getBlockSize() != 0 || !isByteTensor(dq.getX()) ||
      !dq.getX().getDefiningOp<ConstantOp>())
    return {};
  auto wt = dyn_cast<RankedTensorType>(dq.getX().getType());
  auto s = floatConstant(dq.getXScale());
  if (!wt || !s)
    return {};
  int64_t axis = dq.getAxis() < 0 ? dq.getAxis() + wt.getRank() : dq.getAxis();
  int64_t n = int64_t(s->size());
  if (n != 1 && (axis != channelAxis || n != channels))
    return {};
  if (!isNone(dq.getXZeroPoint()) && numElements(dq.getXZeroPoint()) != n)
    return {};
  scales.assign(channels, (*s)[0]);
  if (n != 1)
    scales.assign(s->begin(), s->end());
  return dq;
}

/// Whether a weight DequantizeLinear's zero point is absent or all zeros
/// of a signed type (symmetric weights).
bool zeroWeightZeroPoint(DequantizeLinearOp dq) {
  Value zp = dq.getXZeroPoint();
  if (isNone(zp))
    return true;
  auto c = zp.getDefiningOp<ConstantOp>();
  auto d = c ? dyn_cast<DenseIntElementsAttr>(c.getValue()) : DenseIntElementsAttr();
  if (!d || !d.getElementType().isSignlessInteger(8))
    return false;
  return llvm::all_of(d.getValues<APInt>(), [](const APInt &v) { return v.isZero(); });
}

Value createOp(OpBuilder &b, Location l, StringRef name, Type result, ValueRange operands,
               ArrayRef<NamedAttribute> attrs = {}) {
  OperationState st(l, name);
  st.addOperands(operands);
  st.addTypes(result);
  st.addAttributes(attrs);
  return b.create(st)->getResult(0);
}

Value f32Constant(OpBuilder &b, Location l, ArrayRef<int64_t> shape, ArrayRef<float> values) {
  auto t = RankedTensorType::get(shape, b.getF32Type());
  return ConstantOp::create(b, l, t, DenseElementsAttr::get(t, values));
}

/// Replaces `op` by float(acc) * (sx * sw[c]) (+ bias), the scales shaped
/// `scaleShape`.
void replaceWithEpilogue(OpBuilder &b, Operation *op, Value acc, ArrayRef<int64_t> scaleShape,
                         float sx, ArrayRef<float> sw, Value bias) {
  Location l = op->getLoc();
  Type resultType = op->getResult(0).getType();
  SmallVector<float> scales;
  for (float s : sw)
    scales.push_back(sx * s);
  auto at = cast<RankedTensorType>(acc.getType());
  auto ft = at.clone(b.getF32Type());
  Value f = createOp(b, l, CastOp::getOperationName(), ft, {acc},
                     {b.getNamedAttr("to", TypeAttr::get(b.getF32Type()))});
  bool uniform = llvm::all_equal(scales);
  Value s = uniform ? f32Constant(b, l, {}, {scales[0]}) : f32Constant(b, l, scaleShape, scales);
  Value y = createOp(b, l, MulOp::getOperationName(), bias ? Type(ft) : resultType, {f, s});
  if (bias)
    y = createOp(b, l, AddOp::getOperationName(), resultType, {y, bias});
  op->getResult(0).replaceAllUsesWith(y);
  op->erase();
}

struct IntegerContractionsPass
    : quantc::impl::QCIntegerContractionsBase<IntegerContractionsPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<ConvOp, MatMulOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      if (auto c = dyn_cast<ConvOp>(op))
        rewriteConv(c);
      else
        rewriteMatMul(cast<MatMulOp>(op));
    }
    // Dequantizations left without users.
    getOperation().walk([](DequantizeLinearOp dq) {
      if (dq->use_empty())
        dq->erase();
    });
  }

  void rewriteConv(ConvOp op) {
    auto wt = dyn_cast<RankedTensorType>(op.getW().getType());
    auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
    if (!wt || wt.getRank() != 4 || !wt.hasStaticShape())
      return;
    int64_t M = wt.getDimSize(0);
    // Depthwise: one input channel per output channel (group = C = M).
    const bool depthwise = op.getGroup() != 1 && xt && xt.getRank() == 4 &&
                           op.getGroup() == M && xt.getDimSize(1) == M && wt.getDimSize(1) == 1;
    if (op.getGroup() != 1 && !depthwise)
      return;
    float sx = 0;
    SmallVector<float> sw;
    DequantizeLinearOp xdq = activationDQ(op.getX(), sx);
    DequantizeLinearOp wdq = xdq ? weightDQ(op.getW(), 0, M, sw) : DequantizeLinearOp();
    if (!wdq)
      return;
    // The int8 depthwise kernel takes symmetric weights (no window sums).
    if (depthwise && !zeroWeightZeroPoint(wdq))
      return;
    auto yt = dyn_cast<RankedTensorType>(op.getY().getType());
    if (!yt) // unranked before shape inference: left as it is
      return;
    // A constant bias, as [M, 1, 1] to broadcast over the channel axis.
    OpBuilder b(op);
    Location l = op.getLoc();
    Value bias;
    if (!isNone(op.getB())) {
      auto values = floatConstant(op.getB());
      if (!values || int64_t(values->size()) != M)
        return;
      bias = f32Constant(b, l, {M, 1, 1}, *values);
    }
    SmallVector<NamedAttribute> attrs;
    for (NamedAttribute a : op->getAttrs())
      attrs.push_back(a);
    Value acc = createOp(b, l, ConvIntegerOp::getOperationName(), yt.clone(b.getI32Type()),
                         {xdq.getX(), wdq.getX(), xdq.getXZeroPoint(), wdq.getXZeroPoint()},
                         attrs);
    replaceWithEpilogue(b, op, acc, {M, 1, 1}, sx, sw, bias);
  }

  void rewriteMatMul(MatMulOp op) {
    auto bt = dyn_cast<RankedTensorType>(op.getB().getType());
    auto at = dyn_cast<RankedTensorType>(op.getA().getType());
    if (!bt || !at || bt.getRank() != 2 || at.getRank() < 2 || !bt.hasStaticShape())
      return;
    int64_t N = bt.getDimSize(1);
    float sx = 0;
    SmallVector<float> sw;
    DequantizeLinearOp xdq = activationDQ(op.getA(), sx);
    DequantizeLinearOp wdq = xdq ? weightDQ(op.getB(), 1, N, sw) : DequantizeLinearOp();
    if (!wdq)
      return;
    OpBuilder b(op);
    Location l = op.getLoc();
    auto yt = dyn_cast<RankedTensorType>(op.getY().getType());
    if (!yt) // unranked before shape inference: left as it is
      return;
    Value acc = createOp(b, l, MatMulIntegerOp::getOperationName(), yt.clone(b.getI32Type()),
                         {xdq.getX(), wdq.getX(), xdq.getXZeroPoint(), wdq.getXZeroPoint()});
    replaceWithEpilogue(b, op, acc, {N}, sx, sw, Value());
  }
};

} // namespace
