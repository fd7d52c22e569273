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
// weights take half a byte in the compiled artifact. fp8 is not lowered.
//
// Integer ops: MatMulInteger / ConvInteger widen their operands minus the
// zero points to i32 and become a qc.matmul / qc.conv on i32 (integer
// accumulation, lowered to loops); QLinearMatMul / QLinearConv add the
// requantization epilogue y = saturate(round(acc * sx * sw / sy) + zy)
// (the multiplier in f32, as ONNX Runtime computes it). DynamicQuantizeLinear
// reduces min/max and quantizes to uint8.
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
  // Unsigned tensors other than constants and the results of the ops
  // lowered here (graph inputs of type uint8) have no signless form at this
  // level yet.
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
                              StringRef what, int64_t blockSize = 0) {
  auto t = dyn_cast<RankedTensorType>(param.getType());
  MLIRContext *ctx = op->getContext();
  int64_t rank = data.getRank();
  if (!t || !t.hasStaticShape())
    return op->emitError("cannot lower: ") << what << " needs a static shape";
  if (blockSize > 0) {
    if (axis < 0)
      axis += rank;
    SmallVector<AffineExpr> exprs;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t want = d == axis ? (data.getDimSize(d) + blockSize - 1) / blockSize
                               : data.getDimSize(d);
      if (t.getRank() != rank || t.getDimSize(d) != want)
        return op->emitError("cannot lower: blocked ")
               << what << " " << t << " does not match the input " << data << " with axis "
               << axis << " and block_size " << blockSize;
      exprs.push_back(d == axis ? getAffineDimExpr(d, ctx).floorDiv(blockSize)
                                : getAffineDimExpr(d, ctx));
    }
    return AffineMap::get(rank, 0, exprs, ctx);
  }
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
                        SmallVectorImpl<AffineMap> &maps, bool &hasZp, int64_t blockSize = 0,
                        Value originalZp = {}) {
  auto sm = paramMap(op, scale, data, axis, "the scale", blockSize);
  if (failed(sm))
    return failure();
  ins.push_back(scale);
  maps.push_back(*sm);
  hasZp = !isNoneValue(zp);
  // A constant all-zero zero point is no zero point.
  if (hasZp && originalZp)
    if (auto c = originalZp.getDefiningOp<ConstantOp>())
      if (auto d = dyn_cast<DenseIntElementsAttr>(c.getValue()))
        if (d.isSplat() && d.getSplatValue<APInt>().isZero())
          hasZp = false;
  if (!hasZp)
    return success();
  zp = asSignless(rw, op->getLoc(), zp);
  if (!zp)
    return op->emitError("cannot lower: a zero point of unsigned type that is not a constant "
                         "is not lowered yet");
  auto zm = paramMap(op, zp, data, axis, "the zero point", blockSize);
  if (failed(zm))
    return failure();
  ins.push_back(zp);
  maps.push_back(*zm);
  return success();
}

/// A static ranked tensor type (unsigned element types allowed: these ops
/// read them), or null after an error.
RankedTensorType staticType(Operation *op, Value v, StringRef what) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape()) {
    op->emitError() << "cannot lower: " << what << " has type " << v.getType()
                    << "; the lowering needs static shapes";
    return {};
  }
  return t;
}

/// Unsigned tensors that are not constants are lowered to their signless
/// bits; only these ops know to read them back as unsigned.
LogicalResult checkUnsignedUsers(Operation *op, Value v) {
  auto t = dyn_cast<TensorType>(v.getType());
  if (!t || !t.getElementType().isUnsignedInteger())
    return success();
  for (Operation *user : v.getUsers())
    if (!isa<DequantizeLinearOp, MatMulIntegerOp, ConvIntegerOp, QLinearMatMulOp,
             QLinearConvOp>(user))
      return op->emitError("cannot lower: ")
             << op->getName() << " result of " << t.getElementType() << " used by '"
             << user->getName()
             << "' (unsigned tensors are only lowered into DequantizeLinear, "
                "MatMulInteger, ConvInteger, QLinearMatMul and QLinearConv yet)";
  return success();
}

bool isUnsignedElem(Value original) {
  auto t = dyn_cast<TensorType>(original.getType());
  if (!t)
    return false;
  bool u = false;
  storageOf(t.getElementType(), &u);
  return u;
}

/// x - zero_point as an i32 tensor; x and the zero point (scalar, or 1-D
/// along `axis`) are read unsigned when their original types are.
Value widenMinusZp(Operation *op, ConversionPatternRewriter &rw, Value origX, Value x,
                   Value origZp, Value zp, int64_t axis, StringRef what) {
  Location l = op->getLoc();
  auto xt = dyn_cast<RankedTensorType>(x.getType());
  if (!xt || !xt.hasStaticShape()) {
    op->emitError("cannot lower: ") << what << " needs a static shape";
    return {};
  }
  Value xs = asSignless(rw, l, x);
  if (!xs) {
    op->emitError("cannot lower: ")
        << what << " is an unsigned graph input (uint8 at the graph boundary is not lowered yet)";
    return {};
  }
  xt = cast<RankedTensorType>(xs.getType());
  bool xu = isUnsignedElem(origX);
  SmallVector<Value> ins{xs};
  SmallVector<AffineMap> maps{rw.getMultiDimIdentityMap(xt.getRank())};
  bool hasZp = !isNoneValue(zp), zu = hasZp && isUnsignedElem(origZp);
  if (hasZp) {
    Value zs = asSignless(rw, l, zp);
    if (!zs) {
      op->emitError("cannot lower: the zero point of ")
          << what << " is an unsigned graph input (not lowered yet)";
      return {};
    }
    auto m = paramMap(op, zs, xt, axis, "the zero point");
    if (failed(m))
      return {};
    ins.push_back(zs);
    maps.push_back(*m);
  }
  Type i32 = rw.getI32Type();
  return buildElementwiseWithMaps(
      rw, l, RankedTensorType::get(xt.getShape(), i32), ins, maps,
      [&](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
        auto ext = [&](Value s, bool u) -> Value {
          if (s.getType() == i32)
            return s;
          return u ? Value(arith::ExtUIOp::create(b, nl, i32, s))
                   : Value(arith::ExtSIOp::create(b, nl, i32, s));
        };
        Value r = ext(v[0], xu);
        if (hasZp)
          r = arith::SubIOp::create(b, nl, r, ext(v[1], zu));
        return r;
      });
}

/// An op like `op` (a qc.conv_integer or qc.qlinear_conv) as a qc.conv of
/// i32 operands with the same attributes: lowered by the Conv patterns.
Value buildIntConv(Operation *op, ConversionPatternRewriter &rw, Value x, Value w, Value bias,
                   RankedTensorType resultType) {
  OperationState st(op->getLoc(), ConvOp::getOperationName());
  st.addOperands({x, w, bias});
  st.addTypes(RankedTensorType::get(resultType.getShape(), rw.getI32Type()));
  for (NamedAttribute a : op->getAttrs())
    st.addAttribute(a.getName(), a.getValue());
  return rw.create(st)->getResult(0);
}

/// y = saturate(round_half_even(acc * multiplier) + y_zero_point) with
/// multiplier = x_scale * w_scale / y_scale in f32 (w_scale scalar or along
/// `axis`), into the result's storage (signless for unsigned results).
Value requantize(Operation *op, ConversionPatternRewriter &rw, Value acc, Value xScale,
                 Value wScale, Value yScale, Value origYZp, Value yZp, int64_t axis,
                 RankedTensorType resultType) {
  Location l = op->getLoc();
  auto at = cast<RankedTensorType>(acc.getType());
  bool isUnsigned = false;
  IntegerType storage = storageOf(resultType.getElementType(), &isUnsigned);
  if (!storage) {
    op->emitError("cannot lower: result of ") << resultType.getElementType();
    return {};
  }
  Value zs = asSignless(rw, l, yZp);
  if (!zs) {
    op->emitError("cannot lower: an unsigned y_zero_point that is not a constant");
    return {};
  }
  SmallVector<Value> ins{acc, xScale, wScale, yScale, zs};
  SmallVector<AffineMap> maps{rw.getMultiDimIdentityMap(at.getRank())};
  for (auto [v, ax, what] : {std::tuple{xScale, int64_t(0), "x_scale"},
                             std::tuple{wScale, axis, "w_scale"},
                             std::tuple{yScale, int64_t(0), "y_scale"},
                             std::tuple{zs, int64_t(0), "y_zero_point"}}) {
    auto m = paramMap(op, v, at, ax, what);
    if (failed(m))
      return {};
    maps.push_back(*m);
  }
  bool zu = isUnsignedElem(origYZp);
  unsigned bits = storage.getWidth();
  double qmin = isUnsigned ? 0 : -std::ldexp(1.0, bits - 1);
  double qmax = isUnsigned ? std::ldexp(1.0, bits) - 1 : std::ldexp(1.0, bits - 1) - 1;
  Value q = buildElementwiseWithMaps(
      rw, l, RankedTensorType::get(at.getShape(), storage), ins, maps,
      [&](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
        Type f = b.getF32Type();
        auto toF = [&](Value s) -> Value {
          return s.getType() == f ? s : Value(arith::ExtFOp::create(b, nl, f, s));
        };
        Value mult = arith::DivFOp::create(
            b, nl, arith::MulFOp::create(b, nl, toF(v[1]), toF(v[2])), toF(v[3]));
        Value x = arith::MulFOp::create(b, nl, arith::SIToFPOp::create(b, nl, f, v[0]), mult);
        Value zpf = zu ? Value(arith::UIToFPOp::create(b, nl, f, v[4]))
                       : Value(arith::SIToFPOp::create(b, nl, f, v[4]));
        Value s = arith::AddFOp::create(b, nl, math::RoundEvenOp::create(b, nl, x), zpf);
        s = arith::MaximumFOp::create(b, nl, s, arith::ConstantOp::create(b, nl, b.getFloatAttr(f, qmin)));
        s = arith::MinimumFOp::create(b, nl, s, arith::ConstantOp::create(b, nl, b.getFloatAttr(f, qmax)));
        return isUnsigned ? Value(arith::FPToUIOp::create(b, nl, storage, s))
                          : Value(arith::FPToSIOp::create(b, nl, storage, s));
      });
  if (isa<quant::QuantizedType>(resultType.getElementType()))
    q = quant::StorageCastOp::create(rw, l, resultType, q);
  return q;
}

/// Both operands of an integer matmul or conv minus their zero points, as
/// i32 (A's zero point along `aAxis`, B's along `bAxis`); null after an
/// error.
std::pair<Value, Value> widenOperands(Operation *op, ConversionPatternRewriter &rw, Value origA,
                                      Value a, Value origAZp, Value aZp, int64_t aAxis,
                                      StringRef aName, Value origB, Value b, Value origBZp,
                                      Value bZp, int64_t bAxis, StringRef bName) {
  Value A = widenMinusZp(op, rw, origA, a, origAZp, aZp, aAxis, aName);
  if (!A)
    return {};
  Value B = widenMinusZp(op, rw, origB, b, origBZp, bZp, bAxis, bName);
  if (!B)
    return {};
  return {A, B};
}

struct MatMulIntegerLowering : OpConversionPattern<MatMulIntegerOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(MatMulIntegerOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = staticType(op, op.getY(), "the result");
    auto at = staticType(op, a.getA(), "A");
    if (!rt || !at)
      return failure();
    // a_zero_point: per tensor or per row (axis -2 of A); b_zero_point: per
    // tensor or per column (the last axis of B).
    auto [A, B] = widenOperands(op, rw, op.getA(), a.getA(), op.getAZeroPoint(),
                                a.getAZeroPoint(), at.getRank() - 2, "A", op.getB(), a.getB(),
                                op.getBZeroPoint(), a.getBZeroPoint(), -1, "B");
    if (!A)
      return failure();
    rw.replaceOp(op, MatMulOp::create(rw, op.getLoc(), rt, A, B).getResult());
    return success();
  }
};

struct QLinearMatMulLowering : OpConversionPattern<QLinearMatMulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(QLinearMatMulOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = staticType(op, op.getY(), "the result");
    auto at = staticType(op, a.getA(), "a");
    if (!rt || !at || failed(checkUnsignedUsers(op, op.getY())))
      return failure();
    auto [A, B] = widenOperands(op, rw, op.getA(), a.getA(), op.getAZeroPoint(),
                                a.getAZeroPoint(), at.getRank() - 2, "a", op.getB(), a.getB(),
                                op.getBZeroPoint(), a.getBZeroPoint(), -1, "b");
    if (!A)
      return failure();
    auto accType = RankedTensorType::get(rt.getShape(), rw.getI32Type());
    Value acc = MatMulOp::create(rw, op.getLoc(), accType, A, B).getResult();
    Value y = requantize(op, rw, acc, a.getAScale(), a.getBScale(), a.getYScale(),
                         op.getYZeroPoint(), a.getYZeroPoint(), rt.getRank() - 1, rt);
    if (!y)
      return failure();
    rw.replaceOp(op, y);
    return success();
  }
};

struct ConvIntegerLowering : OpConversionPattern<ConvIntegerOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ConvIntegerOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = staticType(op, op.getY(), "the result");
    if (!rt)
      return failure();
    // Padding with x_zero_point is padding the difference with zeros.
    auto [x, w] = widenOperands(op, rw, op.getX(), a.getX(), op.getXZeroPoint(),
                                a.getXZeroPoint(), 1, "x", op.getW(), a.getW(), op.getWZeroPoint(),
                                a.getWZeroPoint(), 0, "w");
    if (!x)
      return failure();
    rw.replaceOp(op, buildIntConv(op, rw, x, w, NoneOp::create(rw, op.getLoc(), rw.getNoneType()), rt));
    return success();
  }
};

struct QLinearConvLowering : OpConversionPattern<QLinearConvOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(QLinearConvOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = staticType(op, op.getY(), "the result");
    if (!rt || failed(checkUnsignedUsers(op, op.getY())))
      return failure();
    auto [x, w] = widenOperands(op, rw, op.getX(), a.getX(), op.getXZeroPoint(),
                                a.getXZeroPoint(), 1, "x", op.getW(), a.getW(), op.getWZeroPoint(),
                                a.getWZeroPoint(), 0, "w");
    if (!x)
      return failure();
    Value bias = isNoneValue(a.getB()) ? Value(NoneOp::create(rw, op.getLoc(), rw.getNoneType())) : a.getB();
    Value acc = buildIntConv(op, rw, x, w, bias, rt);
    Value y = requantize(op, rw, acc, a.getXScale(), a.getWScale(), a.getYScale(),
                         op.getYZeroPoint(), a.getYZeroPoint(), 1, rt);
    if (!y)
      return failure();
    rw.replaceOp(op, y);
    return success();
  }
};

/// DynamicQuantizeLinear: uint8 with the range [min(0, min x), max(0, max
/// x)]: scale = range / 255, zero point = saturate(round(-min / scale)),
/// y = saturate(round(x / scale) + zero point), rounding half to even. An
/// all-zero x (scale 0) gives y = 0 and zero point 0.
struct DynamicQuantizeLinearLowering : OpConversionPattern<DynamicQuantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(DynamicQuantizeLinearOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto xt = staticType(op, a.getX(), "x");
    if (!xt || !xt.getElementType().isF32())
      return op.emitError("cannot lower: DynamicQuantizeLinear needs a static float32 input");
    if (failed(checkUnsignedUsers(op, op.getY())) ||
        failed(checkUnsignedUsers(op, op.getYZeroPoint())))
      return failure();
    Location l = op.getLoc();
    Type f = rw.getF32Type(), i8 = rw.getI8Type();
    int64_t rank = xt.getRank();
    auto scalarT = RankedTensorType::get({}, f);
    auto reduce = [&](bool isMax) -> Value {
      Value init = linalg::FillOp::create(
                       rw, l, ValueRange{arith::ConstantOp::create(
                                  rw, l, rw.getFloatAttr(f, isMax ? -INFINITY : INFINITY))},
                       ValueRange{tensor::EmptyOp::create(rw, l, ArrayRef<int64_t>{}, f)})
                       .getResult(0);
      SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::reduction);
      Value r = linalg::GenericOp::create(
                    rw, l, TypeRange{scalarT}, ValueRange{a.getX()}, ValueRange{init},
                    ArrayRef<AffineMap>{rw.getMultiDimIdentityMap(rank),
                                        AffineMap::get(rank, 0, {}, rw.getContext())},
                    iters,
                    [&](OpBuilder &b, Location nl, ValueRange v) {
                      Value m = isMax ? Value(arith::MaxNumFOp::create(b, nl, v[0], v[1]))
                                      : Value(arith::MinNumFOp::create(b, nl, v[0], v[1]));
                      linalg::YieldOp::create(b, nl, m);
                    })
                    .getResult(0);
      return tensor::ExtractOp::create(rw, l, r, ValueRange{});
    };
    Value zero = arith::ConstantOp::create(rw, l, rw.getFloatAttr(f, 0.0));
    Value mn = arith::MinimumFOp::create(rw, l, reduce(false), zero);
    Value mx = arith::MaximumFOp::create(rw, l, reduce(true), zero);
    Value scale = arith::DivFOp::create(rw, l, arith::SubFOp::create(rw, l, mx, mn),
                                        arith::ConstantOp::create(rw, l, rw.getFloatAttr(f, 255.0)));
    Value isZero = arith::CmpFOp::create(rw, l, arith::CmpFPredicate::OEQ, scale, zero);
    Value divisor = arith::SelectOp::create(
        rw, l, isZero, arith::ConstantOp::create(rw, l, rw.getFloatAttr(f, 1.0)), scale);
    auto clamp255 = [&](OpBuilder &b, Location nl, Value v) -> Value {
      v = arith::MaximumFOp::create(b, nl, v, arith::ConstantOp::create(b, nl, b.getFloatAttr(f, 0.0)));
      return arith::MinimumFOp::create(b, nl, v, arith::ConstantOp::create(b, nl, b.getFloatAttr(f, 255.0)));
    };
    Value zpf = clamp255(rw, l, math::RoundEvenOp::create(
                                    rw, l, arith::DivFOp::create(
                                               rw, l, arith::NegFOp::create(rw, l, mn), divisor)));
    Value y = buildElementwise(rw, l, RankedTensorType::get(xt.getShape(), i8), {a.getX()},
                               [&](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
                                 Value q = math::RoundEvenOp::create(
                                     b, nl, arith::DivFOp::create(b, nl, v[0], divisor));
                                 q = clamp255(b, nl, arith::AddFOp::create(b, nl, q, zpf));
                                 return arith::FPToUIOp::create(b, nl, i8, q);
                               });
    Value scaleT = tensor::FromElementsOp::create(rw, l, scalarT, ValueRange{scale});
    Value zpT = tensor::FromElementsOp::create(rw, l, RankedTensorType::get({}, i8),
                                               ValueRange{arith::FPToUIOp::create(rw, l, i8, zpf)});
    rw.replaceOp(op, {y, scaleT, zpT});
    return success();
  }
};

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
    bool isUnsigned = false;
    IntegerType storage =
        storageOf(cast<TensorType>(op.getX().getType()).getElementType(), &isUnsigned);
    if (!storage)
      return op.emitError("cannot lower: DequantizeLinear of ")
             << xt.getElementType() << " (only integer storage is lowered yet)";
    int64_t rank = xt.getRank();
    SmallVector<Value> ins;
    SmallVector<AffineMap> maps;
    // 4-bit constants: packed along the last dim, two per byte.
    bool packed = false;
    if (storage.getWidth() == 4 && rank > 0)
      if (auto c = op.getX().getDefiningOp<ConstantOp>())
        if (auto dense = dyn_cast<DenseIntElementsAttr>(c.getValue())) {
          int64_t last = xt.getDimSize(rank - 1), half = (last + 1) / 2;
          int64_t rows = xt.getNumElements() / std::max<int64_t>(1, last);
          std::vector<int8_t> bytes(rows * half, 0);
          int64_t i = 0;
          for (const APInt &v : dense.getValues<APInt>()) {
            int64_t row = i / last, col = i % last;
            uint8_t nib = static_cast<uint8_t>(v.getZExtValue() & 0xF);
            bytes[row * half + col / 2] |= static_cast<int8_t>(col % 2 ? nib << 4 : nib);
            ++i;
          }
          SmallVector<int64_t> shape(xt.getShape());
          shape.back() = half;
          auto pt = RankedTensorType::get(shape, rw.getI8Type());
          ins.push_back(arith::ConstantOp::create(
              rw, op.getLoc(), DenseElementsAttr::get(pt, ArrayRef<int8_t>(bytes))));
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
          if (packed) {
            // The nibble of this element: the low one at even positions.
            Type i8 = b.getI8Type();
            Value idx = linalg::IndexOp::create(b, l, rank - 1);
            Value odd = arith::IndexCastOp::create(
                b, l, i8,
                arith::AndIOp::create(b, l, idx, arith::ConstantIndexOp::create(b, l, 1)));
            Value four = arith::ConstantOp::create(b, l, b.getI8IntegerAttr(4));
            Value shift = arith::MulIOp::create(b, l, odd, four); // 0 or 4
            if (isUnsigned) {
              stored = arith::AndIOp::create(
                  b, l, arith::ShRUIOp::create(b, l, stored, shift),
                  arith::ConstantOp::create(b, l, b.getI8IntegerAttr(15)));
            } else {
              Value up = arith::ShLIOp::create(b, l, stored,
                                               arith::SubIOp::create(b, l, four, shift));
              stored = arith::ShRSIOp::create(b, l, up, four);
            }
          }
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

void quantc::lowering::populateQuantizePatterns(RewritePatternSet &patterns) {
  patterns.add<QuantizeLinearLowering, DequantizeLinearLowering, MatMulIntegerLowering,
               QLinearMatMulLowering, ConvIntegerLowering, QLinearConvLowering,
               DynamicQuantizeLinearLowering>(patterns.getContext());
}
