//===- QuantizeOps.cpp - QuantizeLinear / DequantizeLinear ----------------===//
//
//   quantize:    q = saturate(round_half_even(x / scale) + zp), NaN -> zp
//   dequantize:  x = (q - zp) * scale
//
// with one scale (per tensor) or one per index of `axis` (per channel),
// as ONNX defines them and lib/Quant computes them. Quantized values are
// signless integer tensors (unsigned ones read with uitofp/fptoui); a
// `!quant.uniform` element type is converted to and from its storage
// type with quant.scast. Blocked scales (a scale of the input's rank whose
// `axis` dim is ceil(dim / block_size)) are lowered for DequantizeLinear.
// A 4-bit constant input is stored packed two per byte (along its last
// dim, low nibble first) and unpacked in the dequantizing loop, so int4
// weights take half a byte in the compiled artifact. fp8 (e4m3fn, e5m2)
// values are bit patterns in i8, encoded and decoded with integer ops.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"
#include "QuantizeCommon.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace quantc::qc;
using namespace quantc::lowering;
using namespace quantc::lowering::qdq;

namespace {

struct QuantizeLinearLowering : OpConversionPattern<QuantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(QuantizeLinearOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto xt = requireStatic(op, a.getX(), "the input");
    if (!xt)
      return failure();
    auto rt = cast<RankedTensorType>(op.getY().getType());
    if (fp8Format(rt.getElementType()))
      return failure(); // QuantizeFp8Lowering's (and its errors)
    bool isUnsigned = false;
    IntegerType storage = storageOf(rt.getElementType(), &isUnsigned);
    if (!storage || !isa<FloatType>(xt.getElementType()))
      return op.emitError("cannot lower: QuantizeLinear to ")
             << rt.getElementType() << " (integer and fp8 results are lowered)";
    if (op.getBlockSize() != 0)
      return op.emitError("cannot lower: blocked QuantizeLinear is not lowered yet");
    // A plain unsigned result (not a !quant.uniform type) is lowered to its
    // signless bits, which only some ops know to read unsigned.
    if (failed(checkUnsignedUsers(op, op.getY())))
      return failure();
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
    if (fp8Format(xt.getElementType()))
      return failure(); // DequantizeFp8Lowering's (and its errors)
    bool isUnsigned = false;
    IntegerType storage =
        storageOf(cast<TensorType>(op.getX().getType()).getElementType(), &isUnsigned);
    if (!storage)
      return op.emitError("cannot lower: DequantizeLinear of ")
             << xt.getElementType() << " (integer and fp8 inputs are lowered)";
    int64_t rank = xt.getRank();
    SmallVector<Value> ins;
    SmallVector<AffineMap> maps;
    // 4-bit constants: packed along the last dim, two per byte.
    bool packed = false;
    if (storage.getWidth() == 4 && rank > 0)
      if (Value pc = packNibbles(rw, op.getLoc(), op.getX())) {
        ins.push_back(pc);
        SmallVector<AffineExpr> exprs;
        for (int64_t d = 0; d < rank; ++d)
          exprs.push_back(d == rank - 1 ? rw.getAffineDimExpr(d).floorDiv(2)
                                        : rw.getAffineDimExpr(d));
        maps.push_back(AffineMap::get(rank, 0, exprs, rw.getContext()));
        packed = true;
      }
    if (!packed) {
      Value x = asSignless(rw, op.getLoc(), a.getX());
      if (!x)
        return op.emitError("cannot lower: DequantizeLinear of an unsigned tensor that is not a "
                            "quantized type or a constant is not lowered yet");
      ins.push_back(x);
      maps.push_back(rw.getMultiDimIdentityMap(rank));
    }
    int64_t axis = op.getAxis();
    bool hasZp;
    if (failed(addParams(op, rw, a.getXScale(), a.getXZeroPoint(), xt, axis, ins, maps, hasZp,
                         op.getBlockSize(), op.getXZeroPoint())))
      return failure();
    Type f = rt.getElementType();
    Value y = buildElementwiseWithMaps(
        rw, op.getLoc(), rt, ins, maps, [&](OpBuilder &b, Location l, ValueRange v, Type) -> Value {
          auto toFloat = [&](Value i) -> Value {
            if (isUnsigned)
              return arith::UIToFPOp::create(b, l, f, i);
            return arith::SIToFPOp::create(b, l, f, i);
          };
          Value stored = v[0];
          if (packed)
            stored = nibbleAt(b, l, stored, linalg::IndexOp::create(b, l, rank - 1), !isUnsigned);
          Value q = toFloat(stored);
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

bool quantc::lowering::isUnsignedToSignlessCast(UnrealizedConversionCastOp op) {
  if (op->getNumOperands() != 1 || op->getNumResults() != 1)
    return false;
  auto from = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  auto to = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  return from && to && from.getElementType().isUnsignedInteger() &&
         to.getElementType().isSignlessInteger() && from.getShape() == to.getShape() &&
         from.getElementType().getIntOrFloatBitWidth() == to.getElementType().getIntOrFloatBitWidth();
}

namespace {
/// An unsigned value leaving @main: the lowered value is its signless bits.
struct UnsignedResultCastLowering : OpConversionPattern<UnrealizedConversionCastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(UnrealizedConversionCastOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    if (!isUnsignedToSignlessCast(op) || a.getOperands().size() != 1 ||
        a.getOperands()[0].getType() != op->getResult(0).getType())
      return failure();
    rw.replaceOp(op, a.getOperands()[0]);
    return success();
  }
};
} // namespace

void quantc::lowering::populateQuantizePatterns(RewritePatternSet &patterns) {
  // The order of registration as before the split (QDQ, fp8, 4-bit and
  // integer ops were one file).
  patterns.add<UnsignedResultCastLowering>(patterns.getContext());
  qdq::populateFp8Patterns(patterns);
  qdq::populateInt4Patterns(patterns);
  patterns.add<QuantizeLinearLowering, DequantizeLinearLowering>(patterns.getContext());
  qdq::populateIntegerOpPatterns(patterns);
}

