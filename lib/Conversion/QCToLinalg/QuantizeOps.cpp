//===- QuantizeOps.cpp - QuantizeLinear / DequantizeLinear ----------------===//
//
//   quantize:    q = saturate(round_half_even(x / scale) + zp), NaN -> zp
//   dequantize:  x = (q - zp) * scale
//
// with one scale (per tensor) or one per index of `axis` (per channel),
// as ONNX defines them and lib/Quant computes them. Quantized values are
// signless integer tensors (unsigned ones read with uitofp/fptoui); a
// `!quant.uniform` element type is converted to and from its storage
// type with quant.scast. Blocked scales and fp8 are not lowered yet.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"

using namespace mlir;
using namespace quantc::qc;
using namespace quantc::lowering;

namespace {

/// The signless storage type of a quantized or integer element type, and
/// whether its values are unsigned (null for anything else).
IntegerType storageOf(Type elem, bool *isUnsigned = nullptr) {
  bool u = false;
  IntegerType st;
  if (auto q = dyn_cast<quant::QuantizedType>(elem)) {
    st = dyn_cast<IntegerType>(q.getStorageType());
    u = !q.isSigned();
  } else if (auto i = dyn_cast<IntegerType>(elem)) {
    st = i;
    u = i.isUnsigned();
  }
  if (!st)
    return {};
  if (isUnsigned)
    *isUnsigned = u;
  return IntegerType::get(elem.getContext(), st.getWidth());
}

/// `v` (the converted operand of an op whose original operand had type
/// `original`) as a signless integer tensor.
Value asSignless(ConversionPatternRewriter &rw, Location l, Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  // Unsigned tensors other than constants (graph inputs and outputs of
  // type uint8) have no signless form at this level yet.
  if (!t || t.getElementType().isUnsignedInteger())
    return {};
  if (auto q = dyn_cast<quant::QuantizedType>(t.getElementType()))
    return quant::StorageCastOp::create(
        rw, l, t.clone(IntegerType::get(t.getContext(), q.getStorageTypeIntegralWidth())), v);
  return v;
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

/// Appends the scale and (if present) zero point of a Quantize/Dequantize
/// op to the generic's inputs and maps. Sets `hasZp`.
LogicalResult addParams(Operation *op, ConversionPatternRewriter &rw, Value scale, Value zp,
                        RankedTensorType data, int64_t axis, SmallVectorImpl<Value> &ins,
                        SmallVectorImpl<AffineMap> &maps, bool &hasZp) {
  auto sm = paramMap(op, scale, data, axis, "the scale");
  if (failed(sm))
    return failure();
  ins.push_back(scale);
  maps.push_back(*sm);
  hasZp = !isNoneValue(zp);
  if (!hasZp)
    return success();
  zp = asSignless(rw, op->getLoc(), zp);
  if (!zp)
    return op->emitError("cannot lower: a zero point of unsigned type that is not a constant "
                         "is not lowered yet");
  auto zm = paramMap(op, zp, data, axis, "the zero point");
  if (failed(zm))
    return failure();
  ins.push_back(zp);
  maps.push_back(*zm);
  return success();
}

struct QuantizeLinearLowering : OpConversionPattern<QuantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(QuantizeLinearOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto xt = requireStatic(op, a.getX(), "the input");
    if (!xt)
      return failure();
    auto rt = cast<RankedTensorType>(op.getY().getType());
    bool isUnsigned = false;
    IntegerType storage = storageOf(rt.getElementType(), &isUnsigned);
    if (!storage || !isa<FloatType>(xt.getElementType()))
      return op.emitError("cannot lower: QuantizeLinear to ")
             << rt.getElementType() << " (only integer storage is lowered yet)";
    if (op.getBlockSize() != 0)
      return op.emitError("cannot lower: blocked QuantizeLinear is not lowered yet");
    // A plain unsigned result (not a !quant.uniform type) is lowered to its
    // signless bits, which only DequantizeLinear knows to read unsigned.
    if (rt.getElementType().isUnsignedInteger())
      for (Operation *user : op->getUsers())
        if (!isa<DequantizeLinearOp>(user))
          return op.emitError("cannot lower: QuantizeLinear to ")
                 << rt.getElementType() << " used by '" << user->getName()
                 << "' (unsigned tensors are only lowered into DequantizeLinear yet)";
    int64_t axis = op.getAxis();
    SmallVector<Value> ins{a.getX()};
    SmallVector<AffineMap> maps{rw.getMultiDimIdentityMap(xt.getRank())};
    bool hasZp;
    if (failed(addParams(op, rw, a.getYScale(), a.getYZeroPoint(), xt, axis, ins, maps, hasZp)))
      return failure();
    unsigned bits = storage.getWidth();
    double qmin = isUnsigned ? 0 : -std::ldexp(1.0, bits - 1);
    double qmax = isUnsigned ? std::ldexp(1.0, bits) - 1 : std::ldexp(1.0, bits - 1) - 1;
    auto storageTensor = RankedTensorType::get(rt.getShape(), storage);
    Type f = xt.getElementType();
    Value q = buildElementwiseWithMaps(
        rw, op.getLoc(), storageTensor, ins, maps,
        [&](OpBuilder &b, Location l, ValueRange v, Type) -> Value {
          Value r = math::RoundEvenOp::create(b, l, arith::DivFOp::create(b, l, v[0], v[1]));
          Value zpf = !hasZp ? Value(arith::ConstantOp::create(b, l, b.getFloatAttr(f, 0.0)))
                      : isUnsigned ? Value(arith::UIToFPOp::create(b, l, f, v[2]))
                                   : Value(arith::SIToFPOp::create(b, l, f, v[2]));
          Value s = arith::AddFOp::create(b, l, r, zpf);
          s = arith::MaximumFOp::create(b, l, s, arith::ConstantOp::create(b, l, b.getFloatAttr(f, qmin)));
          s = arith::MinimumFOp::create(b, l, s, arith::ConstantOp::create(b, l, b.getFloatAttr(f, qmax)));
          // NaN (which fptosi would make poison) goes to the zero point.
          Value nan = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, s, s);
          s = arith::SelectOp::create(b, l, nan, zpf, s);
          if (isUnsigned)
            return arith::FPToUIOp::create(b, l, storage, s);
          return arith::FPToSIOp::create(b, l, storage, s);
        });
    // A quantized result type wraps the storage; an unsigned one (ui8)
    // stays signless here: its users read the bits as unsigned.
    if (isa<quant::QuantizedType>(rt.getElementType()))
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
    auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
    if (!rt || !xt || !xt.hasStaticShape())
      return failure();
    bool isUnsigned = false;
    IntegerType storage =
        storageOf(cast<TensorType>(op.getX().getType()).getElementType(), &isUnsigned);
    if (!storage)
      return op.emitError("cannot lower: DequantizeLinear of ")
             << xt.getElementType() << " (only integer storage is lowered yet)";
    if (op.getBlockSize() != 0)
      return op.emitError("cannot lower: blocked DequantizeLinear is not lowered yet");
    Value x = asSignless(rw, op.getLoc(), a.getX());
    if (!x)
      return op.emitError("cannot lower: DequantizeLinear of an unsigned tensor that is not a "
                          "quantized type or a constant is not lowered yet");
    int64_t axis = op.getAxis();
    SmallVector<Value> ins{x};
    SmallVector<AffineMap> maps{rw.getMultiDimIdentityMap(xt.getRank())};
    bool hasZp;
    if (failed(addParams(op, rw, a.getXScale(), a.getXZeroPoint(), xt, axis, ins, maps, hasZp)))
      return failure();
    Type f = rt.getElementType();
    Value y = buildElementwiseWithMaps(
        rw, op.getLoc(), rt, ins, maps, [&](OpBuilder &b, Location l, ValueRange v, Type) -> Value {
          auto toFloat = [&](Value i) -> Value {
            if (isUnsigned)
              return arith::UIToFPOp::create(b, l, f, i);
            return arith::SIToFPOp::create(b, l, f, i);
          };
          Value q = toFloat(v[0]);
          if (hasZp)
            q = arith::SubFOp::create(b, l, q, toFloat(v[2]));
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
