//===- IntegerOps.cpp - MatMulInteger, QLinear*, DynamicQuantize* -----------===//
//
// Integer ops: 8-bit MatMulInteger / ConvInteger (2-D, one group or
// depthwise) become int8 x int8 -> int32 linalg matmuls / convolutions (the runtime's int8
// kernels) with zero-point correction terms (see "The int8 GEMM path"
// below); other shapes widen their operands minus the zero points to i32
// and become a qc.matmul / qc.conv on i32 (loops); QLinearMatMul /
// QLinearConv add the requantization epilogue y = saturate(round(acc * sx
// * sw / sy) + zy) (the multiplier in f32, as ONNX Runtime computes it).
// DynamicQuantizeLinear reduces min/max and quantizes to uint8;
// DynamicQuantizeRows does it per row.
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

//===----------------------------------------------------------------------===//
// The int8 GEMM path of the integer ops.
//
// With a' = a - s and za' = za - s (s = 128 for unsigned operands, so that
// a' fits int8; 0 for signed ones), sum_k (a - za)(b - zb) =
//   P - za' * colsum(b') - zb' * rowsum(a') + K * za' * zb',   P = a' b'
// where P is an int8 x int8 -> int32 matmul or convolution (the runtime's
// kernels), colsum(b') of a constant b is computed here at compile time,
// and the terms of zero zero points are left out. A convolution pads a'
// with za' (a real zero), so the window sums cover all taps. The terms
// and the rest of the epilogue (bias, requantization) are one element-wise
// generic that fuses with its neighbours.
//===----------------------------------------------------------------------===//

/// The values of a constant 8-bit operand (the original value: a
/// qc.constant with dense or dense_resource data), minus 128 when
/// unsigned; nullopt for anything else.
std::optional<std::vector<int32_t>> shiftedConstant(Value orig) {
  auto c = orig ? orig.getDefiningOp<ConstantOp>() : ConstantOp();
  auto t = orig ? dyn_cast<RankedTensorType>(orig.getType()) : RankedTensorType();
  if (!c || !t || !t.hasStaticShape())
    return std::nullopt;
  bool u = false;
  IntegerType st = storageOf(t.getElementType(), &u);
  if (!st || st.getWidth() != 8)
    return std::nullopt;
  std::vector<int32_t> out;
  out.reserve(t.getNumElements());
  if (auto d = dyn_cast<DenseIntElementsAttr>(c.getValue())) {
    for (const APInt &x : d.getValues<APInt>())
      out.push_back(u ? int32_t(x.getZExtValue()) - 128 : int32_t(x.getSExtValue()));
  } else if (auto r = dyn_cast<DenseResourceElementsAttr>(c.getValue())) {
    AsmResourceBlob *blob = r.getRawHandle().getBlob();
    if (!blob || int64_t(blob->getData().size()) != t.getNumElements())
      return std::nullopt;
    for (char ch : blob->getData())
      out.push_back(u ? int32_t(uint8_t(ch)) - 128 : int32_t(int8_t(ch)));
  } else {
    return std::nullopt;
  }
  return out;
}

bool isByteInteger(Value original) {
  auto t = dyn_cast<RankedTensorType>(original.getType());
  IntegerType st = t ? storageOf(t.getElementType()) : IntegerType();
  return st && st.getWidth() == 8;
}

/// True when the shifted zero point za' of operand `origX` is known zero:
/// a signed operand with no zero point or a constant zero one.
bool zeroShiftedZp(Value origX, Value origZp) {
  if (isUnsignedElem(origX))
    return false;
  if (isNoneValue(origZp))
    return true;
  auto v = constIntOperand(origZp);
  if (!v) {
    if (auto c = origZp.getDefiningOp<ConstantOp>())
      if (auto d = dyn_cast<DenseIntElementsAttr>(c.getValue()))
        return d.isSplat() && d.getSplatValue<APInt>().isZero();
    return false;
  }
  return llvm::all_of(*v, [](int64_t x) { return x == 0; });
}

/// `x` as signless i8 holding x - 128 when the original is unsigned.
Value toS8(Operation *op, ConversionPatternRewriter &rw, Value origX, Value x, StringRef what) {
  Location l = op->getLoc();
  Value xs = asSignless(rw, l, x);
  if (!xs) {
    op->emitError("cannot lower: ")
        << what << " is an unsigned graph input (uint8 at the graph boundary is not lowered yet)";
    return {};
  }
  if (!isUnsignedElem(origX))
    return xs;
  auto t = cast<RankedTensorType>(xs.getType());
  return buildElementwise(rw, l, t, {xs}, [](OpBuilder &b, Location nl, ValueRange v, Type et) {
    Value bit = arith::ConstantOp::create(b, nl, b.getIntegerAttr(et, -128));
    return arith::XOrIOp::create(b, nl, v[0], bit);
  });
}

/// Sum of an i8 tensor over `dims` into i32 (those dims dropped).
Value sumOver(OpBuilder &b, Location l, Value x, ArrayRef<int64_t> dims) {
  auto t = cast<RankedTensorType>(x.getType());
  MLIRContext *ctx = b.getContext();
  SmallVector<int64_t> shape;
  SmallVector<AffineExpr> outE;
  SmallVector<utils::IteratorType> iters;
  for (int64_t d = 0; d < t.getRank(); ++d) {
    bool reduced = llvm::is_contained(dims, d);
    iters.push_back(reduced ? utils::IteratorType::reduction : utils::IteratorType::parallel);
    if (!reduced) {
      shape.push_back(t.getDimSize(d));
      outE.push_back(getAffineDimExpr(d, ctx));
    }
  }
  auto rt = RankedTensorType::get(shape, b.getI32Type());
  SmallVector<OpFoldResult> sizes;
  if (!rt.hasStaticShape()) {
    SmallVector<OpFoldResult> xs = mixedSizes(b, l, x);
    for (int64_t d = 0; d < t.getRank(); ++d)
      if (!llvm::is_contained(dims, d))
        sizes.push_back(xs[d]);
  }
  Value init = buildFilled(b, l, rt, b.getI32IntegerAttr(0), sizes);
  return linalg::GenericOp::create(
             b, l, TypeRange{rt}, ValueRange{x}, ValueRange{init},
             ArrayRef<AffineMap>{b.getMultiDimIdentityMap(t.getRank()),
                                 AffineMap::get(t.getRank(), 0, outE, ctx)},
             iters,
             [&](OpBuilder &nb, Location nl, ValueRange a) {
               Value e = arith::ExtSIOp::create(nb, nl, nb.getI32Type(), a[0]);
               linalg::YieldOp::create(nb, nl, arith::AddIOp::create(nb, nl, a[1], e).getResult());
             })
      .getResult(0);
}

/// The sum over `dims` of a constant operand (shifted), computed now, or
/// of `s8` at run time.
Value columnSums(OpBuilder &b, Location l, Value orig, Value s8, ArrayRef<int64_t> dims) {
  auto t = cast<RankedTensorType>(s8.getType());
  std::optional<std::vector<int32_t>> values = shiftedConstant(orig);
  if (!values)
    return sumOver(b, l, s8, dims);
  SmallVector<int64_t> shape, keptDims;
  for (int64_t d = 0; d < t.getRank(); ++d)
    if (!llvm::is_contained(dims, d)) {
      shape.push_back(t.getDimSize(d));
      keptDims.push_back(d);
    }
  auto rt = RankedTensorType::get(shape, b.getI32Type());
  std::vector<int32_t> sums(rt.getNumElements(), 0);
  SmallVector<int64_t> strides(t.getRank(), 1);
  for (int64_t d = t.getRank() - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * t.getDimSize(d + 1);
  if (t.getRank() == 2 && dims.size() == 1 && dims[0] == 0) {
    // A weight [K, N] summed over K (every MatMul's B): row by row, no
    // index arithmetic per element (SmolLM2's 135M weights: ~1 s less
    // of compile time).
    const int64_t N = t.getDimSize(1);
    for (int64_t flat = 0; flat < int64_t(values->size()); flat += N)
      for (int64_t n = 0; n < N; ++n)
        sums[n] += (*values)[flat + n];
  } else {
    for (int64_t flat = 0; flat < int64_t(values->size()); ++flat) {
      int64_t out = 0;
      for (int64_t d : keptDims)
        out = out * t.getDimSize(d) + (flat / strides[d]) % t.getDimSize(d);
      sums[out] += (*values)[flat];
    }
  }
  return arith::ConstantOp::create(b, l, DenseElementsAttr::get(rt, ArrayRef<int32_t>(sums)));
}

/// One operand of the zero-point epilogue: an input with its map, read by
/// the body as v[index] (index -1: not an input).
struct EpilogueInputs {
  SmallVector<Value> values;
  SmallVector<AffineMap> maps;
  int64_t add(Value v, AffineMap m) {
    values.push_back(v);
    maps.push_back(m);
    return int64_t(values.size()) - 1;
  }
};

/// Adds the zero point of `origX` (shifted, as i32 in the body) to the
/// epilogue: its index, or -1 when absent (then the body uses -shift).
FailureOr<int64_t> addZeroPoint(Operation *op, ConversionPatternRewriter &rw, EpilogueInputs &in,
                                Value zp, RankedTensorType accType, int64_t axis,
                                StringRef what) {
  if (isNoneValue(zp))
    return int64_t(-1);
  Value zs = asSignless(rw, op->getLoc(), zp);
  if (!zs)
    return op->emitError("cannot lower: ") << what << " is an unsigned graph input";
  auto m = paramMap(op, zs, accType, axis, what);
  if (failed(m))
    return failure();
  return in.add(zs, *m);
}

/// The body's value of a shifted zero point as i32.
Value shiftedZp(OpBuilder &b, Location l, ValueRange v, int64_t index, bool isUnsigned) {
  Type i32 = b.getI32Type();
  if (index < 0)
    return arith::ConstantOp::create(b, l, b.getI32IntegerAttr(isUnsigned ? -128 : 0));
  Value z = isUnsigned ? Value(arith::ExtUIOp::create(b, l, i32, v[index]))
                       : Value(arith::ExtSIOp::create(b, l, i32, v[index]));
  if (isUnsigned)
    z = arith::SubIOp::create(b, l, z, arith::ConstantOp::create(b, l, b.getI32IntegerAttr(128)));
  return z;
}

/// The zero-point-corrected accumulator (plus `bias` along `biasAxis`):
/// acc = P - za'*colsum - zb'*rowsum + K*za'*zb' + bias.
struct Correction {
  Value zpA, origA, sumB; // za and the column sums of B (null sumB: term left out)
  AffineMap sumBMap;
  int64_t zpAAxis;
  Value zpB, origB, sumA; // zb and the row sums of A (null sumA: term left out)
  AffineMap sumAMap;
  int64_t zpBAxis;
  int64_t K;
};

Value correctedAccumulator(Operation *op, ConversionPatternRewriter &rw, Value P,
                           const Correction &c, Value bias, int64_t biasAxis) {
  auto accType = cast<RankedTensorType>(P.getType());
  EpilogueInputs in;
  in.add(P, rw.getMultiDimIdentityMap(accType.getRank()));
  int64_t za = -1, sb = -1, zb = -1, sa = -1, bi = -1;
  if (c.sumB) {
    auto z = addZeroPoint(op, rw, in, c.zpA, accType, c.zpAAxis, "the first zero point");
    if (failed(z))
      return {};
    za = *z;
    sb = in.add(c.sumB, c.sumBMap);
  }
  if (c.sumA) {
    auto z = addZeroPoint(op, rw, in, c.zpB, accType, c.zpBAxis, "the second zero point");
    if (failed(z))
      return {};
    zb = *z;
    sa = in.add(c.sumA, c.sumAMap);
  }
  if (bias) {
    auto m = paramMap(op, bias, accType, biasAxis, "the bias");
    if (failed(m))
      return {};
    bi = in.add(bias, *m);
  }
  if (in.values.size() == 1)
    return P;
  bool ua = c.origA && isUnsignedElem(c.origA), ub = c.origB && isUnsignedElem(c.origB);
  return buildElementwiseWithMaps(
      rw, op->getLoc(), accType, in.values, in.maps,
      [&](OpBuilder &b, Location l, ValueRange v, Type) -> Value {
        Value acc = v[0];
        Value zA, zB;
        if (sb >= 0) {
          zA = shiftedZp(b, l, v, za, ua);
          acc = arith::SubIOp::create(b, l, acc, arith::MulIOp::create(b, l, zA, v[sb]));
        }
        if (sa >= 0) {
          zB = shiftedZp(b, l, v, zb, ub);
          acc = arith::SubIOp::create(b, l, acc, arith::MulIOp::create(b, l, zB, v[sa]));
        }
        if (sb >= 0 && sa >= 0) {
          Value k = arith::ConstantOp::create(b, l, b.getI32IntegerAttr(int32_t(c.K)));
          acc = arith::AddIOp::create(
              b, l, acc, arith::MulIOp::create(b, l, k, arith::MulIOp::create(b, l, zA, zB)));
        }
        if (bi >= 0)
          acc = arith::AddIOp::create(b, l, acc, v[bi]);
        return acc;
      });
}

/// All dims of a rank-`rank` loop nest but `skip`.
AffineMap allDimsBut(MLIRContext *ctx, int64_t rank, int64_t skip) {
  SmallVector<AffineExpr> e;
  for (int64_t d = 0; d < rank; ++d)
    if (d != skip)
      e.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(rank, 0, e, ctx);
}

/// An integer matmul on 8-bit operands through the int8 GEMM: the i32
/// accumulator with the zero points applied. Null without touching
/// anything when the shapes do not fit the named matmuls (the caller takes
/// the widening path); failure() after an error.
FailureOr<Value> fastIntMatMul(Operation *op, ConversionPatternRewriter &rw, Value origA, Value A,
                               Value origAZp, Value aZp, Value origB, Value B, Value origBZp,
                               Value bZp, ArrayRef<int64_t> shape) {
  auto at = dyn_cast<RankedTensorType>(A.getType()), bt = dyn_cast<RankedTensorType>(B.getType());
  // A's leading dims may be symbolic; K and B are static.
  if (!at || !bt || at.getRank() < 2 || at.isDynamicDim(at.getRank() - 1) ||
      !bt.hasStaticShape() || !isByteInteger(origA) || !isByteInteger(origB) ||
      bt.getRank() < 2 || (bt.getRank() != 2 && !at.hasStaticShape()))
    return Value();
  if (bt.getRank() != 2 && (at.getRank() != bt.getRank() ||
                            at.getShape().drop_back(2) != bt.getShape().drop_back(2)))
    return Value();
  Location l = op->getLoc();
  auto accType = RankedTensorType::get(shape, rw.getI32Type());
  int64_t R = accType.getRank();
  Value a8 = toS8(op, rw, origA, A, "A");
  Value b8 = a8 ? toS8(op, rw, origB, B, "B") : Value();
  if (!b8)
    return failure();
  Value P = buildNamedMatMul(rw, l, a8, b8, accType);
  if (!P)
    return op->emitError("cannot lower: the int8 matmul of ") << at << " and " << bt;
  MLIRContext *ctx = rw.getContext();
  Correction c{};
  c.origA = origA;
  c.origB = origB;
  c.zpA = aZp;
  c.zpB = bZp;
  c.zpAAxis = R - 2;
  c.zpBAxis = R - 1;
  c.K = at.getDimSize(at.getRank() - 1);
  if (!zeroShiftedZp(origA, origAZp)) {
    c.sumB = columnSums(rw, l, origB, b8, {bt.getRank() - 2});
    c.sumBMap = bt.getRank() == 2 ? AffineMap::get(R, 0, {getAffineDimExpr(R - 1, ctx)}, ctx)
                                  : allDimsBut(ctx, R, R - 2);
  }
  if (!zeroShiftedZp(origB, origBZp)) {
    c.sumA = sumOver(rw, l, a8, {at.getRank() - 1});
    c.sumAMap = allDimsBut(ctx, R, R - 1);
  }
  Value acc = correctedAccumulator(op, rw, P, c, Value(), 0);
  if (!acc)
    return failure();
  return acc;
}

/// An integer 2-D convolution with one group on 8-bit operands through the
/// int8 convolution; like fastIntMatMul. `bias` (i32 or null) is added.
/// A depthwise one (group = C = M) whose weights need no window sums (w's
/// zero point zero) goes through the int8 depthwise convolution.
template <typename ConvLike>
FailureOr<Value> fastIntConv(ConvLike op, ConversionPatternRewriter &rw, Value origX, Value x,
                             Value origXZp, Value xZp, Value origW, Value w, Value origWZp,
                             Value wZp, Value bias, ArrayRef<int64_t> shape) {
  auto xt = dyn_cast<RankedTensorType>(x.getType()), wt = dyn_cast<RankedTensorType>(w.getType());
  if (!xt || !wt || !xt.hasStaticShape() || !wt.hasStaticShape() || xt.getRank() != 4 ||
      wt.getRank() != 4 || !isByteInteger(origX) || !isByteInteger(origW))
    return Value();
  const int64_t group = op.getGroup();
  if (group != 1 && (group != xt.getDimSize(1) || group != wt.getDimSize(0) ||
                     wt.getDimSize(1) != 1 || !zeroShiftedZp(origW, origWZp)))
    return Value();
  if (!isNoneValue(xZp)) {
    auto zt = dyn_cast<RankedTensorType>(xZp.getType());
    if (!zt || !zt.hasStaticShape() || zt.getNumElements() != 1)
      return Value();
  }
  Location l = op.getLoc();
  auto accType = RankedTensorType::get(shape, rw.getI32Type());
  Value x8 = toS8(op, rw, origX, x, "x");
  Value w8 = x8 ? toS8(op, rw, origW, w, "w") : Value();
  if (!w8)
    return failure();
  // The padding value: x's zero point, shifted.
  bool xu = isUnsignedElem(origX);
  Type i8 = rw.getIntegerType(8);
  Value pad;
  if (isNoneValue(xZp)) {
    pad = arith::ConstantOp::create(rw, l, rw.getIntegerAttr(i8, xu ? -128 : 0));
  } else {
    Value zs = asSignless(rw, l, xZp);
    if (!zs)
      return op.emitError("cannot lower: x_zero_point is an unsigned graph input");
    auto zt = cast<RankedTensorType>(zs.getType());
    SmallVector<Value> idx(zt.getRank(), arith::ConstantIndexOp::create(rw, l, 0));
    pad = tensor::ExtractOp::create(rw, l, zs, idx);
    if (xu)
      pad = arith::XOrIOp::create(rw, l, pad,
                                  arith::ConstantOp::create(rw, l, rw.getIntegerAttr(i8, -128)));
  }
  bool needWindowSums = !zeroShiftedZp(origW, origWZp);
  Value windowSums;
  Value P = buildConv2DS8(op, rw, x8, w8, pad, accType, op.getStrides(), op.getDilations(),
                          op.getPads(), op.getAutoPad(), needWindowSums ? &windowSums : nullptr,
                          group);
  if (!P)
    return failure();
  MLIRContext *ctx = rw.getContext();
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  Correction c{};
  c.origA = origX;
  c.origB = origW;
  c.zpA = xZp;
  c.zpB = wZp;
  c.zpAAxis = 0;
  c.zpBAxis = 1;
  c.K = wt.getDimSize(1) * wt.getDimSize(2) * wt.getDimSize(3);
  if (!zeroShiftedZp(origX, origXZp)) {
    c.sumB = columnSums(rw, l, origW, w8, {1, 2, 3});
    c.sumBMap = AffineMap::get(4, 0, {d(1)}, ctx);
  }
  if (needWindowSums) {
    c.sumA = windowSums;
    c.sumAMap = AffineMap::get(4, 0, {d(0), getAffineConstantExpr(0, ctx), d(2), d(3)}, ctx);
  }
  Value acc = correctedAccumulator(op, rw, P, c, bias, 1);
  if (!acc)
    return failure();
  return acc;
}

/// A x B of an integer MatMul (MatMulInteger, QLinearMatMul) as an int32
/// tensor of `shape`: the int8 GEMM kernel call when it applies, else the
/// operands widened minus their zero points (a_zero_point per tensor or
/// per row, axis -2 of A; b_zero_point per tensor or per column, the last
/// axis of B) and a plain MatMul. Null on failure (diagnosed).
template <typename Op, typename Adaptor>
Value int32MatMul(Op op, Adaptor a, ConversionPatternRewriter &rw, RankedTensorType at,
                  ArrayRef<int64_t> shape, const char *aName, const char *bName) {
  auto fast = fastIntMatMul(op, rw, op.getA(), a.getA(), op.getAZeroPoint(), a.getAZeroPoint(),
                            op.getB(), a.getB(), op.getBZeroPoint(), a.getBZeroPoint(), shape);
  if (failed(fast))
    return Value();
  if (*fast)
    return *fast;
  auto [A, B] = widenOperands(op, rw, op.getA(), a.getA(), op.getAZeroPoint(), a.getAZeroPoint(),
                              at.getRank() - 2, aName, op.getB(), a.getB(), op.getBZeroPoint(),
                              a.getBZeroPoint(), -1, bName);
  if (!A)
    return Value();
  auto accType = RankedTensorType::get(shape, rw.getI32Type());
  return MatMulOp::create(rw, op.getLoc(), accType, A, B).getResult();
}

struct MatMulIntegerLowering : OpConversionPattern<MatMulIntegerOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(MatMulIntegerOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = dyn_cast<RankedTensorType>(op.getY().getType());
    auto at = dyn_cast<RankedTensorType>(a.getA().getType());
    if (rt && at && !rt.hasStaticShape()) {
      // Symbolic rows: only the int8 GEMM path.
      auto fast = fastIntMatMul(op, rw, op.getA(), a.getA(), op.getAZeroPoint(), a.getAZeroPoint(),
                                op.getB(), a.getB(), op.getBZeroPoint(), a.getBZeroPoint(),
                                rt.getShape());
      if (failed(fast))
        return failure();
      if (!*fast)
        return op.emitError("cannot lower: MatMulInteger with symbolic dims other than A's rows");
      rw.replaceOp(op, *fast);
      return success();
    }
    rt = staticType(op, op.getY(), "the result");
    at = staticType(op, a.getA(), "A");
    if (!rt || !at)
      return failure();
    Value acc = int32MatMul(op, a, rw, at, rt.getShape(), "A", "B");
    if (!acc)
      return failure();
    rw.replaceOp(op, acc);
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
    Value acc = int32MatMul(op, a, rw, at, rt.getShape(), "a", "b");
    if (!acc)
      return failure();
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
    auto fast = fastIntConv(op, rw, op.getX(), a.getX(), op.getXZeroPoint(), a.getXZeroPoint(),
                            op.getW(), a.getW(), op.getWZeroPoint(), a.getWZeroPoint(), Value(),
                            rt.getShape());
    if (failed(fast))
      return failure();
    if (*fast) {
      rw.replaceOp(op, *fast);
      return success();
    }
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
    auto fast = fastIntConv(op, rw, op.getX(), a.getX(), op.getXZeroPoint(), a.getXZeroPoint(),
                            op.getW(), a.getW(), op.getWZeroPoint(), a.getWZeroPoint(),
                            isNoneValue(a.getB()) ? Value() : a.getB(), rt.getShape());
    if (failed(fast))
      return failure();
    Value acc = *fast;
    if (!acc) {
      auto [x, w] = widenOperands(op, rw, op.getX(), a.getX(), op.getXZeroPoint(),
                                  a.getXZeroPoint(), 1, "x", op.getW(), a.getW(),
                                  op.getWZeroPoint(), a.getWZeroPoint(), 0, "w");
      if (!x)
        return failure();
      Value bias = isNoneValue(a.getB())
                       ? Value(NoneOp::create(rw, op.getLoc(), rw.getNoneType()))
                       : a.getB();
      acc = buildIntConv(op, rw, x, w, bias, rt);
    }
    Value y = requantize(op, rw, acc, a.getXScale(), a.getWScale(), a.getYScale(),
                         op.getYZeroPoint(), a.getYZeroPoint(), 1, rt);
    if (!y)
      return failure();
    rw.replaceOp(op, y);
    return success();
  }
};

/// An f32 clamped to [0, hi] (DynamicQuantizeLinear's uint8 range: 255).
Value clamp255(OpBuilder &b, Location l, Value v, double hi = 255.0) {
  Type f = b.getF32Type();
  v = arith::MaximumFOp::create(b, l, v, arith::ConstantOp::create(b, l, b.getFloatAttr(f, 0.0)));
  return arith::MinimumFOp::create(b, l, v, arith::ConstantOp::create(b, l, b.getFloatAttr(f, hi)));
}

/// DynamicQuantizeLinear: uint8 with the range [min(0, min x), max(0, max
/// x)]: scale = range / 255, zero point = saturate(round(-min / scale)),
/// y = saturate(round(x / scale) + zero point), rounding half to even. An
/// all-zero x (range 0) gives y = 0, zero point 0 and scale 1, as ONNX
/// Runtime does (test/Numerics/check_numerics.py).
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
                      // nnan/nsz/reassoc: vectorized by LLVM (see the
                      // per-row version below).
                      auto fm = arith::FastMathFlagsAttr::get(
                          b.getContext(), arith::FastMathFlags::nnan | arith::FastMathFlags::nsz |
                                              arith::FastMathFlags::reassoc);
                      Value m = isMax ? Value(arith::MaxNumFOp::create(b, nl, v[0], v[1], fm))
                                      : Value(arith::MinNumFOp::create(b, nl, v[0], v[1], fm));
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
    Value scaleT = tensor::FromElementsOp::create(rw, l, scalarT, ValueRange{divisor});
    Value zpT = tensor::FromElementsOp::create(rw, l, RankedTensorType::get({}, i8),
                                               ValueRange{arith::FPToUIOp::create(rw, l, i8, zpf)});
    rw.replaceOp(op, {y, scaleT, zpT});
    return success();
  }
};

/// qc.dynamic_quantize_rows: DynamicQuantizeLinear of each row (the last
/// axis) on its own. One reduction of min and max per row, the row's
/// scale and zero point, then y elementwise (the same arithmetic
/// as DynamicQuantizeLinearLowering, per row).
struct DynamicQuantizeRowsLowering : OpConversionPattern<DynamicQuantizeRowsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(DynamicQuantizeRowsOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    // The rows may be symbolic (a sequence length); sized from x.
    auto xt = dyn_cast<RankedTensorType>(a.getX().getType());
    if (!xt || xt.isDynamicDim(xt.getRank() - 1))
      return op.emitError("cannot lower: x needs a known rank and a static last dim");
    if (failed(checkUnsignedUsers(op, op.getY())) ||
        failed(checkUnsignedUsers(op, op.getYZeroPoint())))
      return failure();
    Location l = op.getLoc();
    MLIRContext *ctx = rw.getContext();
    const double levels = static_cast<double>(op.getLevels());
    const double clip = op.getClip().convertToDouble();
    Type f = rw.getF32Type(), i8 = rw.getI8Type();
    int64_t rank = xt.getRank();
    auto rowsT = RankedTensorType::get(xt.getShape().drop_back(), f);
    SmallVector<OpFoldResult> rowSizes = mixedSizes(rw, l, a.getX());
    rowSizes.pop_back();
    AffineMap id = rw.getMultiDimIdentityMap(rank);
    AffineMap rowMap = allDimsBut(ctx, rank, rank - 1);
    auto filled = [&](double v) {
      return linalg::FillOp::create(rw, l, ValueRange{arith::ConstantOp::create(rw, l, rw.getFloatAttr(f, v))},
                                    ValueRange{emptyTensor(rw, l, rowsT, rowSizes)})
          .getResult(0);
    };
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.back() = utils::IteratorType::reduction;
    // min(0, min r) and max(0, max r): the reductions start at 0. Two
    // loops of one result each (with both in one, LLVM kept one
    // accumulator in memory, not knowing that the two outputs do not
    // alias, and ran it scalar), each marked nnan (with reassoc and nsz)
    // so that LLVM vectorizes it: the scalar min/max was 35% of a
    // w8a8-dynamic-token MiniLM run (perf). A NaN activation makes the
    // row's range undefined instead of ignored; garbage either way.
    auto mmFlags = arith::FastMathFlagsAttr::get(
        ctx, arith::FastMathFlags::nnan | arith::FastMathFlags::nsz | arith::FastMathFlags::reassoc);
    auto reduceRows = [&](bool isMax) {
      return linalg::GenericOp::create(
                 rw, l, TypeRange{rowsT}, ValueRange{a.getX()}, ValueRange{filled(0.0)},
                 ArrayRef<AffineMap>{id, rowMap}, iters,
                 [&](OpBuilder &b, Location nl, ValueRange v) {
                   Value r = isMax ? Value(arith::MaxNumFOp::create(b, nl, v[0], v[1], mmFlags))
                                   : Value(arith::MinNumFOp::create(b, nl, v[0], v[1], mmFlags));
                   linalg::YieldOp::create(b, nl, r);
                 })
          .getResult(0);
    };
    Value rowMin = reduceRows(false), rowMax = reduceRows(true);
    // Per row: the scale (1 where the range is 0, as ONNX Runtime reports
    // it; also the divisor) and the zero point as a float.
    SmallVector<utils::IteratorType> rowIters(rank - 1, utils::IteratorType::parallel);
    AffineMap rowId = rw.getMultiDimIdentityMap(rank - 1);
    auto params = linalg::GenericOp::create(
        rw, l, TypeRange{rowsT, rowsT}, ValueRange{rowMin, rowMax},
        ValueRange{emptyTensor(rw, l, rowsT, rowSizes), emptyTensor(rw, l, rowsT, rowSizes)},
        SmallVector<AffineMap>(4, rowId), rowIters, [&](OpBuilder &b, Location nl, ValueRange vr) {
          SmallVector<Value> v(vr.begin(), vr.end());
          if (clip != 1.0) { // [c lo, c hi]; the values beyond saturate
            Value c = arith::ConstantOp::create(b, nl, b.getFloatAttr(f, clip));
            v[0] = arith::MulFOp::create(b, nl, v[0], c);
            v[1] = arith::MulFOp::create(b, nl, v[1], c);
          }
          Value zero = arith::ConstantOp::create(b, nl, b.getFloatAttr(f, 0.0));
          Value range = arith::DivFOp::create(b, nl, arith::SubFOp::create(b, nl, v[1], v[0]),
                                              arith::ConstantOp::create(b, nl, b.getFloatAttr(f, levels)));
          Value isZero = arith::CmpFOp::create(b, nl, arith::CmpFPredicate::OEQ, range, zero);
          Value scale = arith::SelectOp::create(
              b, nl, isZero, arith::ConstantOp::create(b, nl, b.getFloatAttr(f, 1.0)), range);
          Value zpf = clamp255(b, nl, math::RoundEvenOp::create(
                                          b, nl, arith::DivFOp::create(b, nl, arith::NegFOp::create(b, nl, v[0]),
                                                                       scale)), levels);
          linalg::YieldOp::create(b, nl, ValueRange{scale, zpf});
        });
    Value scale = params.getResult(0), divisor = scale, zpf = params.getResult(1);
    Value y = buildElementwiseWithMaps(
        rw, l, RankedTensorType::get(xt.getShape(), i8), {a.getX(), divisor, zpf}, {id, rowMap, rowMap},
        [&](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
          Value q = math::RoundEvenOp::create(b, nl, arith::DivFOp::create(b, nl, v[0], v[1]));
          q = clamp255(b, nl, arith::AddFOp::create(b, nl, q, v[2]), levels);
          return arith::FPToUIOp::create(b, nl, i8, q);
        });
    Value zp = buildElementwise(rw, l, RankedTensorType::get(rowsT.getShape(), i8), {zpf},
                                [&](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
                                  return arith::FPToUIOp::create(b, nl, i8, v[0]);
                                });
    rw.replaceOp(op, {y, scale, zp});
    return success();
  }
};


} // namespace

void quantc::lowering::qdq::populateIntegerOpPatterns(RewritePatternSet &patterns) {
  patterns.add<MatMulIntegerLowering, QLinearMatMulLowering, ConvIntegerLowering,
               QLinearConvLowering, DynamicQuantizeLinearLowering, DynamicQuantizeRowsLowering>(
      patterns.getContext());
}
