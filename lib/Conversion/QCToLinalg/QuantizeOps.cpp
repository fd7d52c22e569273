//===- QuantizeOps.cpp - QuantizeLinear / DequantizeLinear ----------------===//
//
//   quantize:    q = saturate(round_half_even(x / scale) + zp), NaN -> zp
//   dequantize:  x = (q - zp) * scale
//
// with one scale (per tensor) or one per index of `axis` (per channel),
// as ONNX defines them and lib/Quant computes them. Quantized values are
// signless integer tensors; a `!quant.uniform` element type is converted
// to and from its storage type with quant.scast. Unsigned storage, blocked
// scales and fp8 are not lowered yet.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"

using namespace mlir;
using namespace quantc::qc;
using namespace quantc::lowering;

namespace {

/// The signless storage type of a quantized or integer element type
/// (null for unsigned and anything else).
IntegerType storageOf(Type elem) {
  if (auto q = dyn_cast<quant::QuantizedType>(elem))
    return q.isSigned() ? dyn_cast<IntegerType>(q.getStorageType()) : IntegerType();
  auto i = dyn_cast<IntegerType>(elem);
  return i && i.isSignless() ? i : IntegerType();
}

/// Maps of a scale or zero-point operand: scalar (or one element) for
/// every element, or 1-D along `axis`.
FailureOr<AffineMap> paramMap(Operation *op, Value param, RankedTensorType data, int64_t axis,
                              StringRef what) {
  auto t = dyn_cast<RankedTensorType>(param.getType());
  MLIRContext *ctx = op->getContext();
  int64_t rank = data.getRank();
  if (!t || !t.hasStaticShape())
    return op->emitError("cannot lower: ") << what << " needs a static shape";
  if (t.getNumElements() == 1)
    return AffineMap::get(rank, 0,
                          SmallVector<AffineExpr>(t.getRank(), getAffineConstantExpr(0, ctx)), ctx);
  if (t.getRank() != 1)
    return op->emitError("cannot lower: blocked ") << what << " (rank " << t.getRank()
                                                    << ") is not lowered yet";
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank || t.getDimSize(0) != data.getDimSize(axis))
    return op->emitError("cannot lower: ") << what << " of " << t.getDimSize(0)
                                           << " values does not match axis " << axis;
  return AffineMap::get(rank, 0, {getAffineDimExpr(axis, ctx)}, ctx);
}

struct QuantizeLinearLowering : OpConversionPattern<QuantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(QuantizeLinearOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto xt = requireStatic(op, a.getX(), "the input");
    if (!xt)
      return failure();
    auto rt = cast<RankedTensorType>(op.getY().getType());
    IntegerType storage = storageOf(rt.getElementType());
    if (!storage || !isa<FloatType>(xt.getElementType()))
      return op.emitError("cannot lower: QuantizeLinear to ")
             << rt.getElementType() << " (only signed integer storage is lowered yet)";
    if (op.getBlockSize() != 0)
      return op.emitError("cannot lower: blocked QuantizeLinear is not lowered yet");
    int64_t axis = op.getAxis();
    SmallVector<Value> ins{a.getX(), a.getYScale()};
    SmallVector<AffineMap> maps{rw.getMultiDimIdentityMap(xt.getRank())};
    auto sm = paramMap(op, a.getYScale(), xt, axis, "the scale");
    if (failed(sm))
      return failure();
    maps.push_back(*sm);
    bool hasZp = !isNoneValue(a.getYZeroPoint());
    Value zp = a.getYZeroPoint();
    if (hasZp) {
      if (auto qt = dyn_cast<quant::QuantizedType>(
              cast<TensorType>(zp.getType()).getElementType()))
        zp = quant::StorageCastOp::create(
            rw, op.getLoc(), cast<TensorType>(zp.getType()).clone(qt.getStorageType()), zp);
      auto zm = paramMap(op, zp, xt, axis, "the zero point");
      if (failed(zm))
        return failure();
      ins.push_back(zp);
      maps.push_back(*zm);
    }
    unsigned bits = storage.getWidth();
    double qmin = -std::ldexp(1.0, bits - 1), qmax = std::ldexp(1.0, bits - 1) - 1;
    auto storageTensor = RankedTensorType::get(rt.getShape(), storage);
    Type f = xt.getElementType();
    Value q = buildElementwiseWithMaps(
        rw, op.getLoc(), storageTensor, ins, maps,
        [&](OpBuilder &b, Location l, ValueRange v, Type) -> Value {
          Value r = math::RoundEvenOp::create(b, l, arith::DivFOp::create(b, l, v[0], v[1]));
          Value zpf = hasZp ? Value(arith::SIToFPOp::create(b, l, f, v[2]))
                            : Value(arith::ConstantOp::create(b, l, b.getFloatAttr(f, 0.0)));
          Value s = arith::AddFOp::create(b, l, r, zpf);
          s = arith::MaximumFOp::create(b, l, s, arith::ConstantOp::create(b, l, b.getFloatAttr(f, qmin)));
          s = arith::MinimumFOp::create(b, l, s, arith::ConstantOp::create(b, l, b.getFloatAttr(f, qmax)));
          // NaN (which fptosi would make poison) goes to the zero point.
          Value nan = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, s, s);
          s = arith::SelectOp::create(b, l, nan, zpf, s);
          return arith::FPToSIOp::create(b, l, storage, s);
        });
    if (rt.getElementType() != storage)
      q = quant::StorageCastOp::create(rw, op.getLoc(), rt, q);
    rw.replaceOp(op, q);
    return success();
  }
};

struct DequantizeLinearLowering : OpConversionPattern<DequantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(DequantizeLinearOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireStatic(op, op.getY(), "the result");
    auto xt = dyn_cast<RankedTensorType>(a.getX().getType());
    if (!rt || !xt || !xt.hasStaticShape())
      return failure();
    IntegerType storage = storageOf(xt.getElementType());
    if (!storage)
      return op.emitError("cannot lower: DequantizeLinear of ")
             << xt.getElementType() << " (only signed integer storage is lowered yet)";
    if (op.getBlockSize() != 0)
      return op.emitError("cannot lower: blocked DequantizeLinear is not lowered yet");
    Value x = a.getX();
    if (xt.getElementType() != storage)
      x = quant::StorageCastOp::create(rw, op.getLoc(), xt.clone(storage), x);
    int64_t axis = op.getAxis();
    SmallVector<Value> ins{x, a.getXScale()};
    SmallVector<AffineMap> maps{rw.getMultiDimIdentityMap(xt.getRank())};
    auto sm = paramMap(op, a.getXScale(), xt, axis, "the scale");
    if (failed(sm))
      return failure();
    maps.push_back(*sm);
    bool hasZp = !isNoneValue(a.getXZeroPoint());
    if (hasZp) {
      Value zp = a.getXZeroPoint();
      if (auto qt = dyn_cast<quant::QuantizedType>(
              cast<TensorType>(zp.getType()).getElementType()))
        zp = quant::StorageCastOp::create(
            rw, op.getLoc(), cast<TensorType>(zp.getType()).clone(qt.getStorageType()), zp);
      if (!storageOf(cast<TensorType>(zp.getType()).getElementType()))
        return op.emitError("cannot lower: an unsigned zero point is not lowered yet");
      auto zm = paramMap(op, zp, xt, axis, "the zero point");
      if (failed(zm))
        return failure();
      ins.push_back(zp);
      maps.push_back(*zm);
    }
    Type f = rt.getElementType();
    Value y = buildElementwiseWithMaps(
        rw, op.getLoc(), rt, ins, maps, [&](OpBuilder &b, Location l, ValueRange v, Type) -> Value {
          Value q = arith::SIToFPOp::create(b, l, f, v[0]);
          if (hasZp)
            q = arith::SubFOp::create(b, l, q, arith::SIToFPOp::create(b, l, f, v[2]));
          Value s = v[1];
          if (s.getType() != f)
            s = arith::ExtFOp::create(b, l, f, s);
          return arith::MulFOp::create(b, l, q, s);
        });
    rw.replaceOp(op, y);
    return success();
  }
};

} // namespace

void quantc::lowering::populateQuantizePatterns(RewritePatternSet &patterns) {
  patterns.add<QuantizeLinearLowering, DequantizeLinearLowering>(patterns.getContext());
}
