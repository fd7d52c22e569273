//===- QCOpsVerify.cpp - verifiers of qc ops ------------------------------===//
//
// Verifiers check what can be checked from types and attributes alone:
// ranks, axis ranges, permutations and attribute values. Dynamic or
// unranked tensors pass where the fact is not known yet.
//
//===----------------------------------------------------------------------===//
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace quantc::qc;

namespace {
std::optional<int64_t> rankOf(Value v) {
  if (auto t = dyn_cast<RankedTensorType>(v.getType()))
    return t.getRank();
  return std::nullopt;
}

bool isNone(Value v) { return isa<NoneType>(v.getType()); }

/// Checks that `axis` is in [-rank, rank) (or [-rank, rank] when
/// `inclusiveEnd`) for a known rank.
LogicalResult checkAxis(Operation *op, StringRef name, int64_t axis,
                        std::optional<int64_t> rank, bool inclusiveEnd = false) {
  if (!rank)
    return success();
  int64_t hi = inclusiveEnd ? *rank : *rank - 1;
  if (axis < -*rank || axis > hi)
    return op->emitOpError() << name << " " << axis
                             << " is out of range for rank " << *rank;
  return success();
}

LogicalResult checkSpatialAttr(Operation *op, StringRef name,
                               std::optional<ArrayRef<int64_t>> values,
                               std::optional<int64_t> spatialRank,
                               int64_t factor = 1, bool positive = true) {
  if (!values || !spatialRank)
    return success();
  if (static_cast<int64_t>(values->size()) != *spatialRank * factor)
    return op->emitOpError() << name << " has " << values->size()
                             << " values, expected " << *spatialRank * factor;
  for (int64_t v : *values)
    if (positive ? v < 1 : v < 0)
      return op->emitOpError() << name << " value " << v << " must be "
                               << (positive ? "positive" : "non-negative");
  return success();
}

LogicalResult checkAutoPad(Operation *op, StringRef autoPad) {
  if (autoPad != "NOTSET" && autoPad != "SAME_UPPER" &&
      autoPad != "SAME_LOWER" && autoPad != "VALID")
    return op->emitOpError() << "auto_pad '" << autoPad
                             << "' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID";
  return success();
}

template <typename ConvLike>
LogicalResult verifyConvLike(ConvLike op, bool transposed) {
  auto xRank = rankOf(op.getX());
  auto wRank = rankOf(op.getW());
  if (xRank && *xRank < 3)
    return op.emitOpError() << "input X must have rank >= 3, got " << *xRank;
  if (xRank && wRank && *xRank != *wRank)
    return op.emitOpError() << "weight rank " << *wRank
                            << " differs from input rank " << *xRank;
  if (op.getGroup() < 1)
    return op.emitOpError() << "group must be positive";
  if (failed(checkAutoPad(op, op.getAutoPad())))
    return failure();
  std::optional<int64_t> spatial;
  if (xRank)
    spatial = *xRank - 2;
  else if (wRank)
    spatial = *wRank - 2;
  if (failed(checkSpatialAttr(op, "kernel_shape", op.getKernelShape(), spatial)) ||
      failed(checkSpatialAttr(op, "strides", op.getStrides(), spatial)) ||
      failed(checkSpatialAttr(op, "dilations", op.getDilations(), spatial)) ||
      failed(checkSpatialAttr(op, "pads", op.getPads(), spatial, 2, false)))
    return failure();
  // Channel agreement when both are static.
  auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
  auto wt = dyn_cast<RankedTensorType>(op.getW().getType());
  if (xt && wt && !xt.isDynamicDim(1)) {
    int64_t group = op.getGroup();
    int64_t wdim = transposed ? 0 : 1;
    if (!wt.isDynamicDim(wdim)) {
      int64_t expect = transposed ? xt.getDimSize(1) : xt.getDimSize(1) / group;
      if (wt.getDimSize(wdim) != expect)
        return op.emitOpError()
               << "weight dim " << wdim << " is " << wt.getDimSize(wdim)
               << " but input has " << xt.getDimSize(1) << " channels in "
               << group << " group(s)";
    }
  }
  return success();
}

template <typename PoolLike> LogicalResult verifyPoolLike(PoolLike op) {
  auto xRank = rankOf(op.getX());
  if (xRank && *xRank < 3)
    return op.emitOpError() << "input X must have rank >= 3, got " << *xRank;
  if (failed(checkAutoPad(op, op.getAutoPad())))
    return failure();
  std::optional<int64_t> spatial = static_cast<int64_t>(op.getKernelShape().size());
  if (xRank && *spatial != *xRank - 2)
    return op.emitOpError() << "kernel_shape has " << *spatial
                            << " values, expected " << *xRank - 2;
  if (failed(checkSpatialAttr(op, "kernel_shape", op.getKernelShape(), spatial)) ||
      failed(checkSpatialAttr(op, "strides", op.getStrides(), spatial)) ||
      failed(checkSpatialAttr(op, "dilations", op.getDilations(), spatial)) ||
      failed(checkSpatialAttr(op, "pads", op.getPads(), spatial, 2, false)))
    return failure();
  return success();
}

template <typename VariadicOp> LogicalResult verifyVariadic(VariadicOp op) {
  if (op->getNumOperands() == 0)
    return op.emitOpError("needs at least one input");
  return success();
}

template <typename SoftmaxLike> LogicalResult verifySoftmaxLike(SoftmaxLike op) {
  return checkAxis(op, "axis", static_cast<int64_t>(op.getAxis()),
                   rankOf(op.getInput()));
}

/// Scale layouts of QuantizeLinear / DequantizeLinear.
LogicalResult verifyQuantScale(Operation *op, Value x, Value scale,
                               Value zeroPoint, int64_t axis, int64_t blockSize) {
  auto xRank = rankOf(x);
  auto sRank = rankOf(scale);
  if (blockSize < 0)
    return op->emitOpError() << "block_size must be non-negative";
  if (sRank && blockSize == 0 && *sRank > 1)
    return op->emitOpError() << "scale must be a scalar or 1-D without block_size, got rank "
                             << *sRank;
  if (blockSize > 0 && xRank && sRank && *xRank != *sRank)
    return op->emitOpError() << "blocked scale must have the rank of the input ("
                             << *xRank << "), got " << *sRank;
  auto st = dyn_cast<RankedTensorType>(scale.getType());
  // A one-element 1-D scale is per tensor, as ONNX Runtime treats it (its
  // quantizer writes axis = 1 on rank-1 biases): the axis is not checked.
  bool oneElement = st && st.hasStaticShape() && st.getNumElements() == 1;
  if ((blockSize > 0 || (sRank && *sRank == 1 && !oneElement)) &&
      failed(checkAxis(op, "axis", axis, xRank)))
    return failure();
  auto xt = dyn_cast<RankedTensorType>(x.getType());
  if (st && xt && blockSize == 0 && st.getRank() == 1 && !st.isDynamicDim(0) &&
      st.getDimSize(0) != 1) {
    int64_t a = axis < 0 ? axis + xt.getRank() : axis;
    if (a >= 0 && a < xt.getRank() && !xt.isDynamicDim(a) &&
        xt.getDimSize(a) != st.getDimSize(0))
      return op->emitOpError() << "per-axis scale has " << st.getDimSize(0)
                               << " values but axis " << axis << " has size "
                               << xt.getDimSize(a);
  }
  if (!isNone(zeroPoint)) {
    auto zt = dyn_cast<RankedTensorType>(zeroPoint.getType());
    bool bothOne = zt && st && zt.hasStaticShape() && st.hasStaticShape() &&
                   zt.getNumElements() == 1 && st.getNumElements() == 1;
    if (zt && st && zt.getShape() != st.getShape() && !bothOne)
      return op->emitOpError() << "zero point shape differs from scale shape";
  }
  return success();
}
} // namespace

LogicalResult GeluOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError() << "approximate must be 'none' or 'tanh', got '"
                         << getApproximate() << "'";
  return success();
}

LogicalResult SoftmaxOp::verify() { return verifySoftmaxLike(*this); }
LogicalResult LogSoftmaxOp::verify() { return verifySoftmaxLike(*this); }
LogicalResult HardmaxOp::verify() { return verifySoftmaxLike(*this); }

LogicalResult BitShiftOp::verify() {
  if (getDirection() != "LEFT" && getDirection() != "RIGHT")
    return emitOpError() << "direction must be LEFT or RIGHT, got '"
                         << getDirection() << "'";
  return success();
}

LogicalResult MaxOp::verify() { return verifyVariadic(*this); }
LogicalResult MinOp::verify() { return verifyVariadic(*this); }
LogicalResult SumOp::verify() { return verifyVariadic(*this); }
LogicalResult MeanOp::verify() { return verifyVariadic(*this); }

LogicalResult MatMulOp::verify() {
  auto a = dyn_cast<RankedTensorType>(getA().getType());
  auto b = dyn_cast<RankedTensorType>(getB().getType());
  if ((a && a.getRank() == 0) || (b && b.getRank() == 0))
    return emitOpError("operands must have rank >= 1");
  if (a && b) {
    int64_t k1 = a.getDimSize(a.getRank() - 1);
    int64_t k2 = b.getRank() == 1 ? b.getDimSize(0) : b.getDimSize(b.getRank() - 2);
    if (!ShapedType::isDynamic(k1) && !ShapedType::isDynamic(k2) && k1 != k2)
      return emitOpError() << "contraction dims differ: " << k1 << " vs " << k2;
  }
  return success();
}

LogicalResult GemmOp::verify() {
  auto a = dyn_cast<RankedTensorType>(getA().getType());
  auto b = dyn_cast<RankedTensorType>(getB().getType());
  if (a && a.getRank() != 2)
    return emitOpError() << "A must be 2-D, got rank " << a.getRank();
  if (b && b.getRank() != 2)
    return emitOpError() << "B must be 2-D, got rank " << b.getRank();
  if (a && b) {
    int64_t k1 = a.getDimSize(getTransA() ? 0 : 1);
    int64_t k2 = b.getDimSize(getTransB() ? 1 : 0);
    if (!ShapedType::isDynamic(k1) && !ShapedType::isDynamic(k2) && k1 != k2)
      return emitOpError() << "contraction dims differ: " << k1 << " vs " << k2;
  }
  return success();
}

LogicalResult ConvOp::verify() { return verifyConvLike(*this, false); }
LogicalResult ConvTransposeOp::verify() {
  if (failed(verifyConvLike(*this, true)))
    return failure();
  auto spatial = rankOf(getX());
  if (spatial)
    *spatial -= 2;
  return checkSpatialAttr(*this, "output_padding", getOutputPadding(), spatial,
                          1, false);
}

LogicalResult BatchNormalizationOp::verify() {
  if (getTrainingMode() != 0)
    return emitOpError("training_mode = 1 is not supported (inference only)");
  auto xt = dyn_cast<RankedTensorType>(getX().getType());
  if (xt && xt.getRank() < 2)
    return emitOpError() << "input must have rank >= 2, got " << xt.getRank();
  for (Value v : {getScale(), getB(), getInputMean(), getInputVar()}) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (t && t.getRank() != 1)
      return emitOpError() << "scale, bias, mean and variance must be 1-D, got "
                           << t;
    if (t && xt && !t.isDynamicDim(0) && !xt.isDynamicDim(1) &&
        t.getDimSize(0) != xt.getDimSize(1))
      return emitOpError() << "statistic of size " << t.getDimSize(0)
                           << " does not match " << xt.getDimSize(1)
                           << " channels";
  }
  return success();
}

LogicalResult LayerNormalizationOp::verify() {
  return checkAxis(*this, "axis", static_cast<int64_t>(getAxis()), rankOf(getX()));
}

LogicalResult MaxPoolOp::verify() {
  if (getStorageOrder() != 0 && getStorageOrder() != 1)
    return emitOpError("storage_order must be 0 or 1");
  return verifyPoolLike(*this);
}
LogicalResult AveragePoolOp::verify() { return verifyPoolLike(*this); }

LogicalResult TransposeOp::verify() {
  auto perm = getPerm();
  if (!perm)
    return success();
  auto rank = rankOf(getData());
  if (rank && static_cast<int64_t>(perm->size()) != *rank)
    return emitOpError() << "perm has " << perm->size()
                         << " entries for an input of rank " << *rank;
  llvm::SmallBitVector seen(perm->size());
  for (int64_t p : *perm) {
    if (p < 0 || p >= static_cast<int64_t>(perm->size()) || seen.test(p))
      return emitOpError("perm is not a permutation");
    seen.set(p);
  }
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  std::optional<int64_t> rank;
  for (Value v : getInputs()) {
    auto r = rankOf(v);
    if (!r)
      continue;
    if (rank && *rank != *r)
      return emitOpError() << "inputs have different ranks (" << *rank
                           << " and " << *r << ")";
    rank = r;
  }
  return checkAxis(*this, "axis", static_cast<int64_t>(getAxis()), rank);
}

LogicalResult FlattenOp::verify() {
  return checkAxis(*this, "axis", static_cast<int64_t>(getAxis()),
                   rankOf(getInput()), /*inclusiveEnd=*/true);
}

LogicalResult CastOp::verify() {
  Type to = getTo();
  if (!to.isIntOrIndexOrFloat())
    return emitOpError() << "cannot cast to " << to;
  auto rt = cast<TensorType>(getOutput().getType());
  if (rt.getElementType() != to)
    return emitOpError() << "result element type " << rt.getElementType()
                         << " differs from 'to' " << to;
  return success();
}

LogicalResult ResizeOp::verify() {
  StringRef mode = getMode();
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return emitOpError() << "mode must be nearest, linear or cubic, got '"
                         << mode << "'";
  StringRef ctm = getCoordinateTransformationMode();
  if (ctm != "half_pixel" && ctm != "half_pixel_symmetric" &&
      ctm != "pytorch_half_pixel" && ctm != "align_corners" &&
      ctm != "asymmetric" && ctm != "tf_crop_and_resize" &&
      ctm != "tf_half_pixel_for_nn")
    return emitOpError() << "unknown coordinate_transformation_mode '" << ctm
                         << "'";
  StringRef nm = getNearestMode();
  if (nm != "round_prefer_floor" && nm != "round_prefer_ceil" &&
      nm != "floor" && nm != "ceil")
    return emitOpError() << "unknown nearest_mode '" << nm << "'";
  if (isNone(getScales()) && isNone(getSizes()))
    return emitOpError("needs scales or sizes");
  return success();
}

LogicalResult PadOp::verify() {
  StringRef mode = getMode();
  if (mode != "constant" && mode != "reflect" && mode != "edge" &&
      mode != "wrap")
    return emitOpError() << "mode must be constant, reflect, edge or wrap, got '"
                         << mode << "'";
  return success();
}

LogicalResult QuantizeLinearOp::verify() {
  Type et = cast<TensorType>(getY().getType()).getElementType();
  if (!isa<IntegerType, quant::UniformQuantizedType,
           quant::UniformQuantizedPerAxisType,
           quant::UniformQuantizedSubChannelType>(et) &&
      !isa<FloatType>(et))
    return emitOpError() << "result element type " << et
                         << " is not an integer, float8 or quantized type";
  return verifyQuantScale(*this, getX(), getYScale(), getYZeroPoint(),
                          static_cast<int64_t>(getAxis()),
                          static_cast<int64_t>(getBlockSize()));
}

LogicalResult DequantizeLinearOp::verify() {
  return verifyQuantScale(*this, getX(), getXScale(), getXZeroPoint(),
                          static_cast<int64_t>(getAxis()),
                          static_cast<int64_t>(getBlockSize()));
}

LogicalResult IfOp::verify() {
  if (auto t = dyn_cast<RankedTensorType>(getCond().getType())) {
    if (!t.getElementType().isInteger(1))
      return emitOpError("cond must be a tensor of booleans, got ") << t;
    if (t.hasStaticShape() && t.getNumElements() != 1)
      return emitOpError("cond must hold one element, got ") << t;
  }
  for (Region *r : {&getThenBranch(), &getElseBranch()}) {
    auto yield = dyn_cast<YieldOp>(r->front().getTerminator());
    if (!yield)
      return emitOpError("a branch must end in qc.yield");
    if (yield.getNumOperands() != getNumResults())
      return emitOpError("a branch yields ")
             << yield.getNumOperands() << " values for " << getNumResults() << " results";
    for (auto [v, res] : llvm::zip(yield.getOperands(), getResults())) {
      auto vt = cast<TensorType>(v.getType()), rt = cast<TensorType>(res.getType());
      if (vt.getElementType() != rt.getElementType() ||
          failed(verifyCompatibleShape(vt, rt)))
        return emitOpError("a branch yields ") << vt << " for a result of type " << rt;
    }
  }
  return success();
}

LogicalResult DynamicQuantizeRowsOp::verify() {
  auto xt = dyn_cast<RankedTensorType>(getX().getType());
  if (!xt)
    return success(); // unranked until shape inference
  if (xt.getRank() < 1)
    return emitOpError("x must have at least one axis (the rows are its last)");
  if (!xt.getElementType().isF32())
    return emitOpError("x must be f32, not ") << xt.getElementType();
  if (getLevels() < 1 || getLevels() > 255)
    return emitOpError("levels must be in [1, 255] (uint8 storage), not ") << getLevels();
  if (!(getClip().convertToFloat() > 0.0f && getClip().convertToFloat() <= 1.0f))
    return emitOpError("clip must be in (0, 1], not ") << getClip().convertToFloat();
  for (Value r : {getYScale(), getYZeroPoint()}) {
    auto rt = dyn_cast<RankedTensorType>(r.getType());
    if (rt && (rt.getRank() != xt.getRank() - 1 ||
               failed(verifyCompatibleShape(rt.getShape(), xt.getShape().drop_back()))))
      return emitOpError("the scale and zero point have x's shape without its last axis ")
             << "(x " << xt << ", got " << rt << ")";
  }
  return success();
}

LogicalResult HadamardOp::verify() {
  auto xt = cast<RankedTensorType>(getX().getType());
  auto ft = cast<RankedTensorType>(getFactor().getType());
  auto yt = cast<RankedTensorType>(getY().getType());
  if (xt.getRank() < 1 || !xt.getElementType().isF32() || yt.getElementType() != xt.getElementType() ||
      failed(verifyCompatibleShape(xt.getShape(), yt.getShape())))
    return emitOpError("x must be an f32 tensor of rank >= 1 and y of x's type (x ")
           << xt << ", y " << yt << ")";
  int64_t n = xt.getDimSize(xt.getRank() - 1);
  if (ShapedType::isDynamic(n))
    return emitOpError("the last axis of x (the rotated one) must be static");
  if (ft.getRank() != 2 || !ft.hasStaticShape() || ft.getDimSize(0) != ft.getDimSize(1) ||
      !ft.getElementType().isF32())
    return emitOpError("factor must be a static square f32 matrix, not ") << ft;
  int64_t m = ft.getDimSize(0);
  if (m < 1 || n % m != 0 || ((n / m) & (n / m - 1)) != 0)
    return emitOpError("the last axis (") << n << ") must be the factor's order (" << m
                                          << ") times a power of two";
  return success();
}

LogicalResult AttentionOp::verify() {
  auto q = cast<RankedTensorType>(getQuery().getType());
  auto k = cast<RankedTensorType>(getKey().getType());
  auto v = cast<RankedTensorType>(getValue().getType());
  auto o = cast<RankedTensorType>(getOutput().getType());
  if (q.getRank() != 4 || k.getRank() != 4 || v.getRank() != 4 || o.getRank() != 4)
    return emitOpError() << "query, key, value and output must be rank 4";
  auto known = [](int64_t a, int64_t b) { return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b; };
  if (!known(q.getDimSize(3), k.getDimSize(3)))
    return emitOpError() << "query and key head sizes differ";
  if (!known(k.getDimSize(1), v.getDimSize(1)) || !known(k.getDimSize(2), v.getDimSize(2)))
    return emitOpError() << "key and value differ in heads or length";
  int64_t h = q.getDimSize(1), g = k.getDimSize(1);
  if (!ShapedType::isDynamic(h) && !ShapedType::isDynamic(g) && (g == 0 || h % g != 0))
    return emitOpError() << "query heads (" << h << ") are not a multiple of key heads (" << g
                         << ")";
  if (!isNone(getMask())) {
    auto m = dyn_cast<RankedTensorType>(getMask().getType());
    if (!m || m.getRank() > 4)
      return emitOpError() << "mask must be ranked with rank at most 4";
  }
  return success();
}

void AttentionKernelOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>> &effects) {
  for (OpOperand &o : getOperation()->getOpOperands()) {
    if (!isa<MemRefType>(o.get().getType()))
      continue;
    if (&o == &getInitMutable())
      effects.emplace_back(MemoryEffects::Write::get(), &o, SideEffects::DefaultResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &o, SideEffects::DefaultResource::get());
  }
}
