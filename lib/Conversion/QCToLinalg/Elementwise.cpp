//===- Elementwise.cpp - elementwise qc ops to linalg.generic -------------===//
#include "LoweringUtils.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace quantc::qc;

namespace quantc::lowering {
namespace {

bool isF(Type t) { return isa<FloatType>(t); }

Value cst(OpBuilder &b, Location l, Type t, double v) { return scalarConst(b, l, t, v); }

/// Converts a scalar between element types with ONNX Cast semantics
/// (float -> int truncates toward zero; to bool is != 0).
Value convertScalar(OpBuilder &b, Location l, Value v, Type to) {
  Type from = v.getType();
  if (from == to)
    return v;
  if (to.isInteger(1)) {
    if (isF(from))
      return arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNE, v, cst(b, l, from, 0));
    return arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, v, cst(b, l, from, 0));
  }
  if (isF(from) && isF(to)) {
    if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
      return arith::ExtFOp::create(b, l, to, v);
    return arith::TruncFOp::create(b, l, to, v);
  }
  if (isF(from))
    return arith::FPToSIOp::create(b, l, to, v);
  if (isF(to)) {
    if (from.isInteger(1))
      return arith::UIToFPOp::create(b, l, to, v);
    return arith::SIToFPOp::create(b, l, to, v);
  }
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (fw < tw)
    return from.isInteger(1) ? Value(arith::ExtUIOp::create(b, l, to, v))
                             : Value(arith::ExtSIOp::create(b, l, to, v));
  return arith::TruncIOp::create(b, l, to, v);
}

Value maxOf(OpBuilder &b, Location l, Value x, Value y) {
  return isF(x.getType()) ? Value(arith::MaximumFOp::create(b, l, x, y))
                          : Value(arith::MaxSIOp::create(b, l, x, y));
}
Value minOf(OpBuilder &b, Location l, Value x, Value y) {
  return isF(x.getType()) ? Value(arith::MinimumFOp::create(b, l, x, y))
                          : Value(arith::MinSIOp::create(b, l, x, y));
}
Value add(OpBuilder &b, Location l, Value x, Value y) {
  return isF(x.getType()) ? Value(arith::AddFOp::create(b, l, x, y))
                          : Value(arith::AddIOp::create(b, l, x, y));
}
Value mul(OpBuilder &b, Location l, Value x, Value y) {
  return isF(x.getType()) ? Value(arith::MulFOp::create(b, l, x, y))
                          : Value(arith::MulIOp::create(b, l, x, y));
}
Value sigmoid(OpBuilder &b, Location l, Value x) {
  Type t = x.getType();
  Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, x));
  return arith::DivFOp::create(b, l, cst(b, l, t, 1),
                               arith::AddFOp::create(b, l, cst(b, l, t, 1), e));
}
Value compare(OpBuilder &b, Location l, Value x, Value y, arith::CmpFPredicate fp,
              arith::CmpIPredicate ip) {
  if (isF(x.getType()))
    return arith::CmpFOp::create(b, l, fp, x, y);
  return arith::CmpIOp::create(b, l, ip, x, y);
}
float attrF(APFloat v) { return v.convertToFloat(); }

template <typename OpTy>
using OpScalarFn = std::function<Value(OpTy, OpBuilder &, Location, ValueRange, Type)>;

/// Any op whose result element i is fn(operand elements at i), with numpy
/// broadcasting; none operands are skipped.
template <typename OpTy> struct ElementwiseLowering : OpConversionPattern<OpTy> {
  ElementwiseLowering(MLIRContext *ctx, OpScalarFn<OpTy> fn)
      : OpConversionPattern<OpTy>(ctx), fn(std::move(fn)) {}
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireRanked(op, op->getResult(0), "the result");
    if (!rt)
      return failure();
    SmallVector<Value> ins;
    for (Value v : adaptor.getOperands()) {
      if (isNoneValue(v))
        continue;
      if (!requireRanked(op, v, "an operand"))
        return failure();
      ins.push_back(v);
    }
    Value r = buildElementwise(rw, op.getLoc(), rt, ins,
                               [&](OpBuilder &b, Location l, ValueRange a, Type et) {
                                 return fn(op, b, l, a, et);
                               });
    if (!r)
      return op->emitError() << "cannot lower: a dynamic dimension of the result " << rt
                             << " is in no operand";
    rw.replaceOp(op, r);
    return success();
  }
  OpScalarFn<OpTy> fn;
};

template <typename OpTy>
void add(RewritePatternSet &p, OpScalarFn<OpTy> fn) {
  p.add<ElementwiseLowering<OpTy>>(p.getContext(), std::move(fn));
}

/// Unary float math with an upstream math op.
template <typename OpTy, typename MathOp> void addMath(RewritePatternSet &p) {
  add<OpTy>(p, [](OpTy, OpBuilder &b, Location l, ValueRange a, Type) -> Value {
    return MathOp::create(b, l, a[0]);
  });
}

struct ClipLowering : OpConversionPattern<ClipOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ClipOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireStatic(op, op.getOutput(), "the result");
    if (!rt)
      return failure();
    SmallVector<Value> ins{adaptor.getInput()};
    bool hasMin = !isNoneValue(adaptor.getMin()), hasMax = !isNoneValue(adaptor.getMax());
    if (hasMin)
      ins.push_back(adaptor.getMin());
    if (hasMax)
      ins.push_back(adaptor.getMax());
    for (Value v : ins)
      if (!requireStatic(op, v, "an operand"))
        return failure();
    Value r = buildElementwise(rw, op.getLoc(), rt, ins,
                               [&](OpBuilder &b, Location l, ValueRange a, Type) {
                                 Value x = a[0];
                                 unsigned i = 1;
                                 if (hasMin)
                                   x = maxOf(b, l, x, a[i++]);
                                 if (hasMax)
                                   x = minOf(b, l, x, a[i++]);
                                 return x;
                               });
    rw.replaceOp(op, r);
    return success();
  }
};

/// Identity-like ops forward their operand.
template <typename OpTy> struct ForwardLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    if (auto d = dyn_cast<DropoutOp>(op.getOperation()); d && !isNoneValue(d.getTrainingMode())) {
      // Training mode drops random elements: only a constant false (or a
      // constant ratio of 0) leaves the identity.
      auto isConst = [](Value v, double want) {
        DenseElementsAttr a;
        if (!matchPattern(v, m_Constant(&a)) || a.getNumElements() != 1)
          return false;
        if (a.getElementType().isInteger(1))
          return a.getSplatValue<bool>() == (want != 0);
        if (isa<FloatType>(a.getElementType()))
          return a.getSplatValue<APFloat>().convertToDouble() == want;
        return false;
      };
      if (!isConst(d.getTrainingMode(), 0) &&
          !(!isNoneValue(d.getRatio()) && isConst(d.getRatio(), 0)))
        return op.emitError("cannot lower: Dropout with training_mode that is not a constant "
                            "false (random masks are not supported)");
    }
    Value in = adaptor.getOperands()[0];
    if (in.getType() != op->getResult(0).getType())
      in = tensor::CastOp::create(rw, op.getLoc(), op->getResult(0).getType(), in);
    SmallVector<Value> results{in};
    // Dropout's mask: all true at inference.
    for (unsigned i = 1; i < op->getNumResults(); ++i) {
      auto mt = requireStatic(op, op->getResult(i), "the mask");
      if (!mt)
        return failure();
      results.push_back(buildFilled(rw, op.getLoc(), mt, rw.getBoolAttr(true)));
    }
    rw.replaceOp(op, results);
    return success();
  }
};

/// BatchNormalization: statistics broadcast along dim 1.
struct BatchNormLowering : OpConversionPattern<BatchNormalizationOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(BatchNormalizationOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireStatic(op, op.getY(), "the result");
    if (!rt)
      return failure();
    MLIRContext *ctx = rw.getContext();
    int64_t rank = rt.getRank();
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap ch = AffineMap::get(rank, 0, {getAffineDimExpr(1, ctx)}, ctx);
    float eps = attrF(op.getEpsilon());
    Value r = buildElementwiseWithMaps(
        rw, op.getLoc(), rt,
        {a.getX(), a.getScale(), a.getB(), a.getInputMean(), a.getInputVar()},
        {id, ch, ch, ch, ch}, [&](OpBuilder &b, Location l, ValueRange v, Type t) -> Value {
          Value centered = arith::SubFOp::create(b, l, v[0], v[3]);
          Value denom = math::SqrtOp::create(
              b, l, arith::AddFOp::create(b, l, v[4], cst(b, l, t, eps)));
          Value norm = arith::DivFOp::create(b, l, centered, denom);
          return arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, norm, v[1]), v[2]);
        });
    rw.replaceOp(op, r);
    return success();
  }
};

} // namespace

void populateElementwisePatterns(RewritePatternSet &p) {
  using B = OpBuilder;
  using L = Location;
  using V = ValueRange;
  addMath<SqrtOp, math::SqrtOp>(p);
  addMath<ExpOp, math::ExpOp>(p);
  addMath<LogOp, math::LogOp>(p);
  addMath<ErfOp, math::ErfOp>(p);
  addMath<TanhOp, math::TanhOp>(p);
  addMath<FloorOp, math::FloorOp>(p);
  addMath<CeilOp, math::CeilOp>(p);
  addMath<RoundOp, math::RoundEvenOp>(p);
  addMath<SinOp, math::SinOp>(p);
  addMath<CosOp, math::CosOp>(p);
  addMath<TanOp, math::TanOp>(p);
  addMath<AsinOp, math::AsinOp>(p);
  addMath<AcosOp, math::AcosOp>(p);
  addMath<AtanOp, math::AtanOp>(p);
  addMath<SinhOp, math::SinhOp>(p);
  addMath<CoshOp, math::CoshOp>(p);
  addMath<AsinhOp, math::AsinhOp>(p);
  addMath<AcoshOp, math::AcoshOp>(p);
  addMath<AtanhOp, math::AtanhOp>(p);
  add<AbsOp>(p, [](AbsOp, B &b, L l, V a, Type t) -> Value {
    return isF(t) ? Value(math::AbsFOp::create(b, l, a[0])) : Value(math::AbsIOp::create(b, l, a[0]));
  });
  add<NegOp>(p, [](NegOp, B &b, L l, V a, Type t) -> Value {
    return isF(t) ? Value(arith::NegFOp::create(b, l, a[0]))
                  : Value(arith::SubIOp::create(b, l, cst(b, l, t, 0), a[0]));
  });
  add<ReciprocalOp>(p, [](ReciprocalOp, B &b, L l, V a, Type t) -> Value {
    return arith::DivFOp::create(b, l, cst(b, l, t, 1), a[0]);
  });
  add<SigmoidOp>(p, [](SigmoidOp, B &b, L l, V a, Type) { return sigmoid(b, l, a[0]); });
  add<ReluOp>(p, [](ReluOp, B &b, L l, V a, Type t) { return maxOf(b, l, a[0], cst(b, l, t, 0)); });
  add<SignOp>(p, [](SignOp, B &b, L l, V a, Type t) -> Value {
    Value zero = cst(b, l, t, 0);
    Value pos = compare(b, l, a[0], zero, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt);
    Value neg = compare(b, l, a[0], zero, arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt);
    Value s = arith::SelectOp::create(b, l, neg, cst(b, l, t, -1), zero);
    return arith::SelectOp::create(b, l, pos, cst(b, l, t, 1), s);
  });
  add<SoftplusOp>(p, [](SoftplusOp, B &b, L l, V a, Type) -> Value {
    return math::Log1pOp::create(b, l, math::ExpOp::create(b, l, a[0]));
  });
  add<SoftsignOp>(p, [](SoftsignOp, B &b, L l, V a, Type t) -> Value {
    Value den = arith::AddFOp::create(b, l, cst(b, l, t, 1), math::AbsFOp::create(b, l, a[0]));
    return arith::DivFOp::create(b, l, a[0], den);
  });
  add<HardSigmoidOp>(p, [](HardSigmoidOp op, B &b, L l, V a, Type t) -> Value {
    Value y = arith::AddFOp::create(
        b, l, arith::MulFOp::create(b, l, a[0], cst(b, l, t, attrF(op.getAlpha()))),
        cst(b, l, t, attrF(op.getBeta())));
    return minOf(b, l, maxOf(b, l, y, cst(b, l, t, 0)), cst(b, l, t, 1));
  });
  add<HardSwishOp>(p, [](HardSwishOp, B &b, L l, V a, Type t) -> Value {
    Value y = arith::AddFOp::create(
        b, l, arith::MulFOp::create(b, l, a[0], cst(b, l, t, 1.0 / 6.0)), cst(b, l, t, 0.5));
    y = minOf(b, l, maxOf(b, l, y, cst(b, l, t, 0)), cst(b, l, t, 1));
    return arith::MulFOp::create(b, l, a[0], y);
  });
  add<LeakyReluOp>(p, [](LeakyReluOp op, B &b, L l, V a, Type t) -> Value {
    Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, a[0], cst(b, l, t, 0));
    Value scaled = arith::MulFOp::create(b, l, a[0], cst(b, l, t, attrF(op.getAlpha())));
    return arith::SelectOp::create(b, l, neg, scaled, a[0]);
  });
  add<PReluOp>(p, [](PReluOp, B &b, L l, V a, Type t) -> Value {
    Value neg = compare(b, l, a[0], cst(b, l, t, 0), arith::CmpFPredicate::OLT,
                        arith::CmpIPredicate::slt);
    return arith::SelectOp::create(b, l, neg, mul(b, l, a[0], a[1]), a[0]);
  });
  add<EluOp>(p, [](EluOp op, B &b, L l, V a, Type t) -> Value {
    Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, a[0], cst(b, l, t, 0));
    Value e = arith::MulFOp::create(b, l, math::ExpM1Op::create(b, l, a[0]),
                                    cst(b, l, t, attrF(op.getAlpha())));
    return arith::SelectOp::create(b, l, neg, e, a[0]);
  });
  add<SeluOp>(p, [](SeluOp op, B &b, L l, V a, Type t) -> Value {
    Value alpha = cst(b, l, t, attrF(op.getAlpha())), gamma = cst(b, l, t, attrF(op.getGamma()));
    Value pos = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, a[0], cst(b, l, t, 0));
    Value negPart = arith::MulFOp::create(b, l, alpha, math::ExpM1Op::create(b, l, a[0]));
    Value v = arith::SelectOp::create(b, l, pos, a[0], negPart);
    return arith::MulFOp::create(b, l, gamma, v);
  });
  add<CeluOp>(p, [](CeluOp op, B &b, L l, V a, Type t) -> Value {
    Value alpha = cst(b, l, t, attrF(op.getAlpha()));
    Value e = arith::MulFOp::create(
        b, l, alpha, math::ExpM1Op::create(b, l, arith::DivFOp::create(b, l, a[0], alpha)));
    return arith::AddFOp::create(b, l, maxOf(b, l, a[0], cst(b, l, t, 0)),
                                 minOf(b, l, e, cst(b, l, t, 0)));
  });
  add<ThresholdedReluOp>(p, [](ThresholdedReluOp op, B &b, L l, V a, Type t) -> Value {
    Value gt = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, a[0],
                                     cst(b, l, t, attrF(op.getAlpha())));
    return arith::SelectOp::create(b, l, gt, a[0], cst(b, l, t, 0));
  });
  add<GeluOp>(p, [](GeluOp op, B &b, L l, V a, Type t) -> Value {
    Value x = a[0];
    Value inner;
    if (op.getApproximate() == "tanh") {
      Value x3 = arith::MulFOp::create(b, l, x, arith::MulFOp::create(b, l, x, x));
      Value s = arith::AddFOp::create(b, l, x,
                                      arith::MulFOp::create(b, l, x3, cst(b, l, t, 0.044715)));
      inner = math::TanhOp::create(
          b, l, arith::MulFOp::create(b, l, s, cst(b, l, t, 0.7978845608028654)));
    } else {
      inner = math::ErfOp::create(
          b, l, arith::MulFOp::create(b, l, x, cst(b, l, t, 0.7071067811865476)));
    }
    Value onePlus = arith::AddFOp::create(b, l, cst(b, l, t, 1), inner);
    return arith::MulFOp::create(b, l, arith::MulFOp::create(b, l, x, cst(b, l, t, 0.5)), onePlus);
  });
  add<MishOp>(p, [](MishOp, B &b, L l, V a, Type) -> Value {
    Value sp = math::Log1pOp::create(b, l, math::ExpOp::create(b, l, a[0]));
    return arith::MulFOp::create(b, l, a[0], math::TanhOp::create(b, l, sp));
  });
  add<ShrinkOp>(p, [](ShrinkOp op, B &b, L l, V a, Type t) -> Value {
    Value lambd = cst(b, l, t, attrF(op.getLambd())), bias = cst(b, l, t, attrF(op.getBias()));
    Value lo = compare(b, l, a[0], isF(t) ? Value(arith::NegFOp::create(b, l, lambd))
                                          : Value(arith::SubIOp::create(b, l, cst(b, l, t, 0), lambd)),
                       arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt);
    Value hi = compare(b, l, a[0], lambd, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt);
    Value plus = add(b, l, a[0], bias);
    Value minus = isF(t) ? Value(arith::SubFOp::create(b, l, a[0], bias))
                         : Value(arith::SubIOp::create(b, l, a[0], bias));
    return arith::SelectOp::create(b, l, lo, plus,
                                   arith::SelectOp::create(b, l, hi, minus, cst(b, l, t, 0)));
  });
  add<NotOp>(p, [](NotOp, B &b, L l, V a, Type t) -> Value {
    return arith::XOrIOp::create(b, l, a[0], cst(b, l, t, 1));
  });
  add<IsNaNOp>(p, [](IsNaNOp, B &b, L l, V a, Type) -> Value {
    return arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, a[0], a[0]);
  });
  add<IsInfOp>(p, [](IsInfOp op, B &b, L l, V a, Type) -> Value {
    Type t = a[0].getType();
    auto ft = cast<FloatType>(t);
    Value pinf = arith::ConstantOp::create(
        b, l, b.getFloatAttr(t, APFloat::getInf(ft.getFloatSemantics(), false)));
    Value ninf = arith::ConstantOp::create(
        b, l, b.getFloatAttr(t, APFloat::getInf(ft.getFloatSemantics(), true)));
    Value isP = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, a[0], pinf);
    Value isN = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, a[0], ninf);
    Value f = arith::ConstantOp::create(b, l, b.getBoolAttr(false));
    Value r = op.getDetectPositive() ? isP : f;
    if (op.getDetectNegative())
      r = arith::OrIOp::create(b, l, r, isN);
    return r;
  });

  add<AddOp>(p, [](AddOp, B &b, L l, V a, Type) { return add(b, l, a[0], a[1]); });
  add<SubOp>(p, [](SubOp, B &b, L l, V a, Type t) -> Value {
    return isF(t) ? Value(arith::SubFOp::create(b, l, a[0], a[1]))
                  : Value(arith::SubIOp::create(b, l, a[0], a[1]));
  });
  add<MulOp>(p, [](MulOp, B &b, L l, V a, Type) { return mul(b, l, a[0], a[1]); });
  add<DivOp>(p, [](DivOp, B &b, L l, V a, Type t) -> Value {
    return isF(t) ? Value(arith::DivFOp::create(b, l, a[0], a[1]))
                  : Value(arith::DivSIOp::create(b, l, a[0], a[1]));
  });
  add<PowOp>(p, [](PowOp, B &b, L l, V a, Type t) -> Value {
    if (!isF(t)) {
      // Integer power through f64: exact for the magnitudes ONNX tests use.
      Type f64 = b.getF64Type();
      Value r = math::PowFOp::create(b, l, convertScalar(b, l, a[0], f64),
                                     convertScalar(b, l, a[1], f64));
      return convertScalar(b, l, math::RoundEvenOp::create(b, l, r), t);
    }
    Value e = convertScalar(b, l, a[1], t);
    return math::PowFOp::create(b, l, a[0], e);
  });
  add<ModOp>(p, [](ModOp op, B &b, L l, V a, Type t) -> Value {
    if (isF(t))
      return arith::RemFOp::create(b, l, a[0], a[1]);
    Value r = arith::RemSIOp::create(b, l, a[0], a[1]);
    if (op.getFmod())
      return r;
    // Python-style: the result takes the divisor's sign.
    Value zero = cst(b, l, t, 0);
    Value rNeg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, r, zero);
    Value dNeg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, a[1], zero);
    Value rNonZero = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, r, zero);
    Value fix = arith::AndIOp::create(b, l, rNonZero,
                                      arith::XOrIOp::create(b, l, rNeg, dNeg));
    return arith::SelectOp::create(b, l, fix, arith::AddIOp::create(b, l, r, a[1]), r);
  });
  add<MaxOp>(p, [](MaxOp, B &b, L l, V a, Type) {
    Value r = a[0];
    for (Value v : a.drop_front())
      r = maxOf(b, l, r, v);
    return r;
  });
  add<MinOp>(p, [](MinOp, B &b, L l, V a, Type) {
    Value r = a[0];
    for (Value v : a.drop_front())
      r = minOf(b, l, r, v);
    return r;
  });
  add<SumOp>(p, [](SumOp, B &b, L l, V a, Type) {
    Value r = a[0];
    for (Value v : a.drop_front())
      r = add(b, l, r, v);
    return r;
  });
  add<MeanOp>(p, [](MeanOp, B &b, L l, V a, Type t) -> Value {
    Value r = a[0];
    for (Value v : a.drop_front())
      r = add(b, l, r, v);
    return arith::DivFOp::create(b, l, r, cst(b, l, t, a.size()));
  });
  add<EqualOp>(p, [](EqualOp, B &b, L l, V a, Type) {
    return compare(b, l, a[0], a[1], arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq);
  });
  add<LessOp>(p, [](LessOp, B &b, L l, V a, Type) {
    return compare(b, l, a[0], a[1], arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt);
  });
  add<GreaterOp>(p, [](GreaterOp, B &b, L l, V a, Type) {
    return compare(b, l, a[0], a[1], arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt);
  });
  add<LessOrEqualOp>(p, [](LessOrEqualOp, B &b, L l, V a, Type) {
    return compare(b, l, a[0], a[1], arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle);
  });
  add<GreaterOrEqualOp>(p, [](GreaterOrEqualOp, B &b, L l, V a, Type) {
    return compare(b, l, a[0], a[1], arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge);
  });
  add<AndOp>(p, [](AndOp, B &b, L l, V a, Type) -> Value { return arith::AndIOp::create(b, l, a[0], a[1]); });
  add<OrOp>(p, [](OrOp, B &b, L l, V a, Type) -> Value { return arith::OrIOp::create(b, l, a[0], a[1]); });
  add<XorOp>(p, [](XorOp, B &b, L l, V a, Type) -> Value { return arith::XOrIOp::create(b, l, a[0], a[1]); });
  add<WhereOp>(p, [](WhereOp, B &b, L l, V a, Type) -> Value {
    return arith::SelectOp::create(b, l, a[0], a[1], a[2]);
  });
  add<CastOp>(p, [](CastOp, B &b, L l, V a, Type t) { return convertScalar(b, l, a[0], t); });
  p.add<ClipLowering, BatchNormLowering, ForwardLowering<IdentityOp>,
        ForwardLowering<DropoutOp>, ForwardLowering<ObserveOp>>(p.getContext());
}

} // namespace quantc::lowering
