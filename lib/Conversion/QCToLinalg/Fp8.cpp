//===- Fp8.cpp - fp8 QuantizeLinear / DequantizeLinear ----------------------===//
//===----------------------------------------------------------------------===//
// fp8 (float8e4m3fn, float8e5m2): values are stored as their 8-bit patterns
// (i8 after lowering). Quantize computes the pattern from the f32 bits:
// normal values round the f32 mantissa to m bits, half to even (adding
// 2^(s-1) - 1 plus the lowest kept bit, s = 23 - m, carries into the
// exponent included), subnormals are round_half_even(|v| / smallest
// subnormal). Saturation clamps |v| to the largest finite value first;
// without it an overflowing value becomes NaN (e4m3fn) or Inf (e5m2). NaN
// becomes 0x7F (e4m3fn's NaN, one of e5m2's). Dequantize decodes the
// pattern the other way. Both match ml_dtypes bit for bit
// (test/Numerics/check_fp8_lowering.py).
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

Value i32c(OpBuilder &b, Location l, int64_t v) {
  return arith::ConstantOp::create(b, l, b.getI32IntegerAttr(static_cast<int32_t>(v)));
}
Value f32c(OpBuilder &b, Location l, double v) {
  return arith::ConstantOp::create(b, l, b.getF32FloatAttr(static_cast<float>(v)));
}

/// The fp8 pattern (i8) of the f32 `v`.
Value encodeFp8(OpBuilder &b, Location l, Value v, const Fp8Format &f, bool saturate) {
  Type i32 = b.getI32Type();
  int64_t s = 23 - f.mbits;
  Value isNan = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, v, v);
  Value bitsV = arith::BitcastOp::create(b, l, i32, v);
  Value sign = arith::AndIOp::create(b, l, arith::ShRUIOp::create(b, l, bitsV, i32c(b, l, 24)),
                                     i32c(b, l, 0x80));
  Value a = math::AbsFOp::create(b, l, v);
  if (saturate)
    a = arith::MinimumFOp::create(b, l, a, f32c(b, l, f.maxFinite));
  Value bits = arith::BitcastOp::create(b, l, i32, a);
  Value lowKept = arith::AndIOp::create(b, l, arith::ShRUIOp::create(b, l, bits, i32c(b, l, s)),
                                        i32c(b, l, 1));
  Value r = arith::AddIOp::create(
      b, l, arith::AddIOp::create(b, l, bits, i32c(b, l, (int64_t(1) << (s - 1)) - 1)), lowKept);
  Value e = arith::SubIOp::create(b, l, arith::ShRUIOp::create(b, l, r, i32c(b, l, 23)),
                                  i32c(b, l, 127 - f.bias));
  Value m = arith::AndIOp::create(b, l, arith::ShRUIOp::create(b, l, r, i32c(b, l, s)),
                                  i32c(b, l, (int64_t(1) << f.mbits) - 1));
  Value normal = arith::OrIOp::create(b, l, arith::ShLIOp::create(b, l, e, i32c(b, l, f.mbits)), m);
  Value sub = arith::FPToSIOp::create(
      b, l, i32,
      math::RoundEvenOp::create(
          b, l, arith::MulFOp::create(b, l, a, f32c(b, l, std::ldexp(1.0, f.bias - 1 + f.mbits)))));
  Value isSub = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, a,
                                      f32c(b, l, std::ldexp(1.0, 1 - f.bias)));
  Value code = arith::SelectOp::create(b, l, isSub, sub, normal);
  if (!saturate) {
    Value over = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt, code,
                                       i32c(b, l, f.maxCode()));
    code = arith::SelectOp::create(b, l, over, i32c(b, l, f.hasInf ? 0x7C : 0x7F), code);
  }
  code = arith::OrIOp::create(b, l, code, sign);
  code = arith::SelectOp::create(b, l, isNan, i32c(b, l, 0x7F), code);
  return arith::TruncIOp::create(b, l, b.getI8Type(), code);
}

/// The f32 value of the fp8 pattern `c` (i8).
Value decodeFp8(OpBuilder &b, Location l, Value c, const Fp8Format &f) {
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  Value u = arith::ExtUIOp::create(b, l, i32, c);
  Value mag = arith::AndIOp::create(b, l, u, i32c(b, l, 0x7F));
  Value e = arith::ShRUIOp::create(b, l, mag, i32c(b, l, f.mbits));
  Value m = arith::AndIOp::create(b, l, mag, i32c(b, l, (int64_t(1) << f.mbits) - 1));
  Value bits = arith::OrIOp::create(
      b, l,
      arith::ShLIOp::create(b, l, arith::AddIOp::create(b, l, e, i32c(b, l, 127 - f.bias)),
                            i32c(b, l, 23)),
      arith::ShLIOp::create(b, l, m, i32c(b, l, 23 - f.mbits)));
  Value normal = arith::BitcastOp::create(b, l, f32, bits);
  Value sub = arith::MulFOp::create(b, l, arith::SIToFPOp::create(b, l, f32, m),
                                    f32c(b, l, std::ldexp(1.0, 1 - f.bias - f.mbits)));
  Value isSub = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, e, i32c(b, l, 0));
  Value val = arith::SelectOp::create(b, l, isSub, sub, normal);
  if (f.hasInf) {
    Value top = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, e, i32c(b, l, 31));
    Value mZero = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, m, i32c(b, l, 0));
    Value special = arith::SelectOp::create(b, l, mZero, f32c(b, l, INFINITY), f32c(b, l, NAN));
    val = arith::SelectOp::create(b, l, top, special, val);
  } else {
    Value nan = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, mag, i32c(b, l, 0x7F));
    val = arith::SelectOp::create(b, l, nan, f32c(b, l, NAN), val);
  }
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne,
                                    arith::AndIOp::create(b, l, u, i32c(b, l, 0x80)),
                                    i32c(b, l, 0));
  return arith::SelectOp::create(b, l, neg, arith::NegFOp::create(b, l, val), val);
}

/// An fp8 zero point must be zero (ONNX); a constant non-zero one is an error.
LogicalResult checkFp8ZeroPoint(Operation *op, Value zp) {
  if (isNoneValue(zp))
    return success();
  auto c = zp.getDefiningOp<ConstantOp>();
  auto d = c ? dyn_cast<DenseFPElementsAttr>(c.getValue()) : DenseFPElementsAttr();
  if (d && llvm::all_of(d.getValues<APFloat>(), [](const APFloat &v) { return v.isZero(); }))
    return success();
  return op->emitError("cannot lower: an fp8 zero point must be a constant zero");
}

/// An fp8 tensor (an operand after conversion) as its i8 patterns.
Value fp8Bits(ConversionPatternRewriter &rw, Location l, Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  if (t.getElementType().isInteger(8))
    return v;
  return buildElementwise(rw, l, t.clone(rw.getI8Type()), {v},
                          [](OpBuilder &b, Location nl, ValueRange x, Type et) -> Value {
                            return arith::BitcastOp::create(b, nl, et, x[0]);
                          });
}



/// One element-wise generic over `x` (identity map) and its per-tensor,
/// per-axis or blocked `scale`, computing `fn(x, scale)` into `resultType`;
/// null after an error.
Value withScale(Operation *op, ConversionPatternRewriter &rw, Value x, Value scale, int64_t axis,
                int64_t blockSize, RankedTensorType resultType,
                function_ref<Value(OpBuilder &, Location, Value, Value)> fn) {
  auto xt = cast<RankedTensorType>(x.getType());
  auto sm = paramMap(op, scale, xt, axis, "the scale", blockSize);
  if (failed(sm))
    return {};
  return buildElementwiseWithMaps(
      rw, op->getLoc(), resultType, {x, scale}, {rw.getMultiDimIdentityMap(xt.getRank()), *sm},
      [&](OpBuilder &b, Location l, ValueRange v, Type) { return fn(b, l, v[0], v[1]); });
}

struct QuantizeFp8Lowering : OpConversionPattern<QuantizeLinearOp> {
  QuantizeFp8Lowering(MLIRContext *ctx) : OpConversionPattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(QuantizeLinearOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = cast<TensorType>(op.getY().getType());
    auto fmt = fp8Format(rt.getElementType());
    if (!fmt)
      return failure();
    auto xt = requireStatic(op, a.getX(), "the input");
    if (!xt)
      return failure();
    if (!xt.getElementType().isF32())
      return op.emitError("cannot lower: fp8 QuantizeLinear of ") << xt.getElementType()
                                                                  << " (float32 only)";
    if (op.getBlockSize() != 0)
      return op.emitError("cannot lower: blocked fp8 QuantizeLinear is not lowered yet");
    if (failed(checkFp8ZeroPoint(op, op.getYZeroPoint())))
      return failure();
    bool saturate = op.getSaturate() != 0;
    Fp8Format f = *fmt;
    Value q = withScale(op, rw, a.getX(), a.getYScale(), op.getAxis(), 0,
                        xt.clone(rw.getI8Type()),
                        [&](OpBuilder &b, Location l, Value x, Value s) -> Value {
                          return encodeFp8(b, l, arith::DivFOp::create(b, l, x, s), f, saturate);
                        });
    if (!q)
      return failure();
    rw.replaceOp(op, q);
    return success();
  }
};

struct DequantizeFp8Lowering : OpConversionPattern<DequantizeLinearOp> {
  DequantizeFp8Lowering(MLIRContext *ctx) : OpConversionPattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(DequantizeLinearOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto fmt = fp8Format(cast<TensorType>(op.getX().getType()).getElementType());
    if (!fmt)
      return failure();
    auto rt = requireStatic(op, op.getY(), "the result");
    auto xt = requireStatic(op, a.getX(), "the input");
    if (!rt || !xt)
      return failure();
    if (!rt.getElementType().isF32())
      return op.emitError("cannot lower: fp8 DequantizeLinear to ") << rt.getElementType()
                                                                    << " (float32 only)";
    if (failed(checkFp8ZeroPoint(op, op.getXZeroPoint())))
      return failure();
    Fp8Format f = *fmt;
    Value y = withScale(op, rw, fp8Bits(rw, op.getLoc(), a.getX()), a.getXScale(), op.getAxis(),
                        op.getBlockSize(), rt,
                        [&](OpBuilder &b, Location l, Value x, Value s) -> Value {
                          return arith::MulFOp::create(b, l, decodeFp8(b, l, x, f), s);
                        });
    if (!y)
      return failure();
    rw.replaceOp(op, y);
    return success();
  }
};


} // namespace

void quantc::lowering::qdq::populateFp8Patterns(RewritePatternSet &patterns) {
  patterns.add<QuantizeFp8Lowering, DequantizeFp8Lowering>(patterns.getContext());
}
