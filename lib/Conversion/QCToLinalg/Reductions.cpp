//===- Reductions.cpp - Reduce*, Softmax, LayerNormalization to linalg ----===//
#include "LoweringUtils.h"

using namespace mlir;
using namespace quantc::qc;

namespace quantc::lowering {
namespace {

/// Reduces `x` over `reduced` dims into `outType` (keepdims decides whether
/// reduced dims stay as 1). `combine(acc, x)`.
Value reduceDims(OpBuilder &b, Location l, Value x, ArrayRef<bool> reduced, bool keepdims,
                 RankedTensorType outType, TypedAttr init,
                 function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = reduced.size();
  SmallVector<AffineExpr> oE;
  SmallVector<utils::IteratorType> iters;
  for (int64_t i = 0; i < rank; ++i) {
    iters.push_back(reduced[i] ? utils::IteratorType::reduction : utils::IteratorType::parallel);
    if (!reduced[i])
      oE.push_back(getAffineDimExpr(i, ctx));
    else if (keepdims)
      oE.push_back(getAffineConstantExpr(0, ctx));
  }
  SmallVector<OpFoldResult> sizes;
  if (!outType.hasStaticShape()) {
    SmallVector<OpFoldResult> xs = mixedSizes(b, l, x);
    for (int64_t i = 0; i < rank; ++i)
      if (!reduced[i])
        sizes.push_back(xs[i]);
      else if (keepdims)
        sizes.push_back(b.getIndexAttr(1));
  }
  return linalg::GenericOp::create(
             b, l, TypeRange{outType}, ValueRange{x},
             ValueRange{buildFilled(b, l, outType, init, sizes)},
             ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, ctx),
                                 AffineMap::get(rank, 0, oE, ctx)},
             iters,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value r = combine(nb, nl, args[1], args[0]);
               // Float sums may be reassociated, so that LLVM vectorizes a
               // reduction over the innermost dimension (LayerNorm's and
               // RMSNorm's row sums) instead of one dependent add per element.
               if (Operation *def = r.getDefiningOp())
                 def->walk([&](Operation *o) {
                   if (isa<arith::AddFOp, arith::MulFOp>(o))
                     if (auto fm = dyn_cast<arith::ArithFastMathInterface>(o))
                       o->setAttr(fm.getFastMathAttrName(),
                                  arith::FastMathFlagsAttr::get(ctx, arith::FastMathFlags::reassoc));
                 });
               linalg::YieldOp::create(nb, nl, r);
             })
      .getResult(0);
}

RankedTensorType keptType(RankedTensorType xt, ArrayRef<bool> reduced) {
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < xt.getRank(); ++i)
    shape.push_back(reduced[i] ? 1 : xt.getDimSize(i));
  return RankedTensorType::get(shape, xt.getElementType());
}

bool isF(Type t) { return isa<FloatType>(t); }
Value addV(OpBuilder &b, Location l, Value x, Value y) {
  return isF(x.getType()) ? Value(arith::AddFOp::create(b, l, x, y))
                          : Value(arith::AddIOp::create(b, l, x, y));
}
Value mulV(OpBuilder &b, Location l, Value x, Value y) {
  return isF(x.getType()) ? Value(arith::MulFOp::create(b, l, x, y))
                          : Value(arith::MulIOp::create(b, l, x, y));
}

enum class Kind { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare };

template <typename OpTy, Kind K> struct ReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto xt = requireRanked(op, a.getData(), "the input");
    auto rt = requireRanked(op, op.getReduced(), "the result");
    if (!xt || !rt)
      return failure();
    Location l = op.getLoc();
    int64_t rank = xt.getRank();
    SmallVector<bool> reduced(rank, false);
    if (!isNoneValue(a.getAxes())) {
      auto axes = constIntOperand(a.getAxes());
      if (!axes)
        return op.emitError("cannot lower: axes must be a constant");
      for (int64_t ax : *axes)
        reduced[ax < 0 ? ax + rank : ax] = true;
    }
    bool none = llvm::none_of(reduced, [](bool r) { return r; });
    if (none) {
      if (op.getNoopWithEmptyAxes()) {
        rw.replaceOp(op, a.getData());
        return success();
      }
      reduced.assign(rank, true);
    }
    bool keep = op.getKeepdims() != 0;
    Type et = xt.getElementType();
    int64_t count = 1;
    for (int64_t i = 0; i < rank; ++i)
      if (reduced[i])
        count *= xt.getDimSize(i);
    // A reduced dynamic dim: the count is read at run time (Mean only).
    Value dynCount;
    if (K == Kind::Mean && llvm::any_of(llvm::seq<int64_t>(0, rank), [&](int64_t i) {
          return reduced[i] && xt.isDynamicDim(i);
        })) {
      SmallVector<OpFoldResult> xs = mixedSizes(rw, l, a.getData()), rs;
      for (int64_t i = 0; i < rank; ++i)
        if (reduced[i])
          rs.push_back(xs[i]);
      Value n = arith::IndexCastOp::create(rw, l, rw.getI64Type(), productOf(rw, l, rs));
      if (isF(et))
        dynCount = arith::SIToFPOp::create(rw, l, et, n);
      else if (et.isInteger(64))
        dynCount = n;
      else
        dynCount = arith::TruncIOp::create(rw, l, et, n);
    }
    if (K != Kind::Mean && K != Kind::Sum && K != Kind::Max && !xt.hasStaticShape())
      return op.emitError("cannot lower: this reduction needs static shapes");
    TypedAttr zero = cast<TypedAttr>(rw.getZeroAttr(et));
    Value x = a.getData();
    auto sum = [](OpBuilder &b, Location nl, Value acc, Value v) { return addV(b, nl, acc, v); };
    Value r;
    switch (K) {
    case Kind::Max:
      r = reduceDims(rw, l, x, reduced, keep, rt, lowestValue(et),
                     [](OpBuilder &b, Location nl, Value acc, Value v) -> Value {
                       return isF(v.getType()) ? Value(arith::MaximumFOp::create(b, nl, acc, v))
                                               : Value(arith::MaxSIOp::create(b, nl, acc, v));
                     });
      break;
    case Kind::Min: {
      TypedAttr highest = isF(et) ? TypedAttr(FloatAttr::get(et, APFloat::getInf(cast<FloatType>(et).getFloatSemantics())))
                                  : TypedAttr(IntegerAttr::get(et, APInt::getSignedMaxValue(et.getIntOrFloatBitWidth())));
      r = reduceDims(rw, l, x, reduced, keep, rt, highest,
                     [](OpBuilder &b, Location nl, Value acc, Value v) -> Value {
                       return isF(v.getType()) ? Value(arith::MinimumFOp::create(b, nl, acc, v))
                                               : Value(arith::MinSIOp::create(b, nl, acc, v));
                     });
      break;
    }
    case Kind::Prod:
      r = reduceDims(rw, l, x, reduced, keep, rt,
                     isF(et) ? TypedAttr(rw.getFloatAttr(et, 1.0)) : TypedAttr(rw.getIntegerAttr(et, 1)),
                     [](OpBuilder &b, Location nl, Value acc, Value v) { return mulV(b, nl, acc, v); });
      break;
    case Kind::L1:
      r = reduceDims(rw, l, x, reduced, keep, rt, zero,
                     [](OpBuilder &b, Location nl, Value acc, Value v) -> Value {
                       Value av = isF(v.getType()) ? Value(math::AbsFOp::create(b, nl, v))
                                                   : Value(math::AbsIOp::create(b, nl, v));
                       return addV(b, nl, acc, av);
                     });
      break;
    case Kind::L2:
    case Kind::SumSquare:
      r = reduceDims(rw, l, x, reduced, keep, rt, zero,
                     [](OpBuilder &b, Location nl, Value acc, Value v) {
                       return addV(b, nl, acc, mulV(b, nl, v, v));
                     });
      if (K == Kind::L2)
        r = buildElementwise(rw, l, rt, {r}, [](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
          return math::SqrtOp::create(b, nl, v[0]);
        });
      break;
    case Kind::LogSumExp: {
      // max-stabilized: log(sum(exp(x - m))) + m
      auto kt = keptType(xt, reduced);
      Value m = reduceDims(rw, l, x, reduced, true, kt, lowestValue(et),
                           [](OpBuilder &b, Location nl, Value acc, Value v) -> Value {
                             return arith::MaximumFOp::create(b, nl, acc, v);
                           });
      Value e = buildElementwise(rw, l, xt, {x, m}, [](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
        return math::ExpOp::create(b, nl, arith::SubFOp::create(b, nl, v[0], v[1]));
      });
      Value s = reduceDims(rw, l, e, reduced, true, kt, zero, sum);
      Value lse = buildElementwise(rw, l, kt, {s, m}, [](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
        return arith::AddFOp::create(b, nl, math::LogOp::create(b, nl, v[0]), v[1]);
      });
      r = tensor::ReshapeOp::create(
              rw, l, rt, lse,
              arith::ConstantOp::create(rw, l, DenseElementsAttr::get(
                  RankedTensorType::get({rt.getRank()}, rw.getI64Type()), rt.getShape())))
              .getResult();
      break;
    }
    case Kind::Sum:
    case Kind::Mean:
    case Kind::LogSum:
      r = reduceDims(rw, l, x, reduced, keep, rt, zero, sum);
      if (K == Kind::Mean)
        r = buildElementwise(rw, l, rt, {r}, [&](OpBuilder &b, Location nl, ValueRange v, Type t) -> Value {
          Value c = dynCount ? dynCount : scalarConst(b, nl, t, count);
          if (!isF(t))
            return arith::DivSIOp::create(b, nl, v[0], c);
          return arith::DivFOp::create(b, nl, v[0], c);
        });
      if (K == Kind::LogSum)
        r = buildElementwise(rw, l, rt, {r}, [](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
          return math::LogOp::create(b, nl, v[0]);
        });
      break;
    }
    rw.replaceOp(op, r);
    return success();
  }
};

/// Softmax / LogSoftmax along one axis: exp(x - max) / sum(exp(x - max)).
template <typename OpTy, bool IsLog> struct SoftmaxLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto xt = requireRanked(op, a.getInput(), "the input");
    if (!xt || !requireRanked(op, op->getResult(0), "the result"))
      return failure();
    Location l = op.getLoc();
    int64_t rank = xt.getRank();
    int64_t axis = op.getAxis();
    if (axis < 0)
      axis += rank;
    SmallVector<bool> reduced(rank, false);
    reduced[axis] = true;
    auto kt = keptType(xt, reduced);
    Type et = xt.getElementType();
    Value x = a.getInput();
    Value m = reduceDims(rw, l, x, reduced, true, kt, lowestValue(et),
                         [](OpBuilder &b, Location nl, Value acc, Value v) -> Value {
                           return arith::MaximumFOp::create(b, nl, acc, v);
                         });
    Value shifted = buildElementwise(rw, l, xt, {x, m}, [](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
      return arith::SubFOp::create(b, nl, v[0], v[1]);
    });
    Value e = buildElementwise(rw, l, xt, {shifted}, [](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
      return math::ExpOp::create(b, nl, v[0]);
    });
    Value s = reduceDims(rw, l, e, reduced, true, kt, cast<TypedAttr>(rw.getZeroAttr(et)),
                         [](OpBuilder &b, Location nl, Value acc, Value v) -> Value {
                           return arith::AddFOp::create(b, nl, acc, v);
                         });
    Value r = IsLog ? buildElementwise(rw, l, xt, {shifted, s},
                                       [](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
                                         return arith::SubFOp::create(b, nl, v[0],
                                                                      math::LogOp::create(b, nl, v[1]));
                                       })
                    : buildElementwise(rw, l, xt, {e, s},
                                       [](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
                                         return arith::DivFOp::create(b, nl, v[0], v[1]);
                                       });
    rw.replaceOp(op, r);
    return success();
  }
};

/// LayerNormalization over dims [axis, rank).
struct LayerNormLowering : OpConversionPattern<LayerNormalizationOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(LayerNormalizationOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto xt = requireRanked(op, a.getX(), "X");
    if (!xt || !requireRanked(op, op.getY(), "Y"))
      return failure();
    Location l = op.getLoc();
    int64_t rank = xt.getRank();
    int64_t axis = op.getAxis();
    if (axis < 0)
      axis += rank;
    SmallVector<bool> reduced(rank, false);
    int64_t count = 1;
    for (int64_t i = axis; i < rank; ++i) {
      reduced[i] = true;
      count *= xt.getDimSize(i);
      if (xt.isDynamicDim(i))
        return op.emitError("cannot lower: LayerNormalization over a dynamic dimension");
    }
    auto kt = keptType(xt, reduced);
    Type et = xt.getElementType();
    TypedAttr zero = cast<TypedAttr>(rw.getZeroAttr(et));
    auto sum = [](OpBuilder &b, Location nl, Value acc, Value v) -> Value {
      return arith::AddFOp::create(b, nl, acc, v);
    };
    float eps = op.getEpsilon().convertToFloat();
    Value s = reduceDims(rw, l, a.getX(), reduced, true, kt, zero, sum);
    Value mean = buildElementwise(rw, l, kt, {s}, [&](OpBuilder &b, Location nl, ValueRange v, Type t) -> Value {
      return arith::DivFOp::create(b, nl, v[0], scalarConst(b, nl, t, count));
    });
    Value centered = buildElementwise(rw, l, xt, {a.getX(), mean}, [](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
      return arith::SubFOp::create(b, nl, v[0], v[1]);
    });
    Value sq = reduceDims(rw, l, centered, reduced, true, kt, zero,
                          [](OpBuilder &b, Location nl, Value acc, Value v) -> Value {
                            return arith::AddFOp::create(b, nl, acc, arith::MulFOp::create(b, nl, v, v));
                          });
    Value inv = buildElementwise(rw, l, kt, {sq}, [&](OpBuilder &b, Location nl, ValueRange v, Type t) -> Value {
      Value var = arith::DivFOp::create(b, nl, v[0], scalarConst(b, nl, t, count));
      return math::RsqrtOp::create(b, nl, arith::AddFOp::create(b, nl, var, scalarConst(b, nl, t, eps)));
    });
    SmallVector<Value> ins{centered, inv, a.getScale()};
    bool hasB = !isNoneValue(a.getB());
    if (hasB)
      ins.push_back(a.getB());
    Value y = buildElementwise(rw, l, xt, ins, [&](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
      Value r = arith::MulFOp::create(b, nl, arith::MulFOp::create(b, nl, v[0], v[1]), v[2]);
      return hasB ? Value(arith::AddFOp::create(b, nl, r, v[3])) : r;
    });
    auto fit = [&](Value v, Type want) -> Value {
      return v.getType() == want ? v : Value(tensor::CastOp::create(rw, l, want, v));
    };
    if ((!op.getMean().use_empty() || !op.getInvStdDev().use_empty()) &&
        et != cast<TensorType>(op.getMean().getType()).getElementType())
      return op.emitError("cannot lower: Mean/InvStdDev in another type than X");
    rw.replaceOp(op, {fit(y, op.getY().getType()), fit(mean, op.getMean().getType()),
                      fit(inv, op.getInvStdDev().getType())});
    return success();
  }
};

/// ArgMax / ArgMin: a two-output reduction keeping the best value and its
/// index along `axis`; ties keep the first index unless select_last_index.
template <typename OpTy, bool IsMax> struct ArgLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto xt = requireRanked(op, a.getData(), "the input");
    auto rt = requireRanked(op, op.getReduced(), "the result");
    if (!xt || !rt)
      return failure();
    MLIRContext *ctx = rw.getContext();
    Location l = op.getLoc();
    int64_t rank = xt.getRank();
    int64_t axis = op.getAxis();
    if (axis < 0)
      axis += rank;
    bool keep = op.getKeepdims() != 0, last = op.getSelectLastIndex() != 0;
    Type et = xt.getElementType();
    SmallVector<AffineExpr> oE;
    SmallVector<utils::IteratorType> iters;
    for (int64_t i = 0; i < rank; ++i) {
      iters.push_back(i == axis ? utils::IteratorType::reduction : utils::IteratorType::parallel);
      if (i != axis)
        oE.push_back(getAffineDimExpr(i, ctx));
      else if (keep)
        oE.push_back(getAffineConstantExpr(0, ctx));
    }
    auto vt = RankedTensorType::get(rt.getShape(), et);
    TypedAttr init = IsMax ? lowestValue(et)
                           : (isF(et) ? TypedAttr(FloatAttr::get(et, APFloat::getInf(cast<FloatType>(et).getFloatSemantics())))
                                      : TypedAttr(IntegerAttr::get(et, APInt::getSignedMaxValue(et.getIntOrFloatBitWidth()))));
    Value vals = buildFilled(rw, l, vt, init);
    Value idxs = buildFilled(rw, l, rt, rw.getI64IntegerAttr(0));
    AffineMap om = AffineMap::get(rank, 0, oE, ctx);
    auto generic = linalg::GenericOp::create(
        rw, l, TypeRange{vt, rt}, ValueRange{a.getData()}, ValueRange{vals, idxs},
        ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, ctx), om, om}, iters,
        [&](OpBuilder &b, Location nl, ValueRange args) {
          Value x = args[0], best = args[1], bestIdx = args[2];
          Value i = arith::IndexCastOp::create(b, nl, b.getI64Type(),
                                               linalg::IndexOp::create(b, nl, axis));
          Value better;
          if (isF(et))
            better = arith::CmpFOp::create(b, nl, IsMax ? (last ? arith::CmpFPredicate::OGE : arith::CmpFPredicate::OGT)
                                                        : (last ? arith::CmpFPredicate::OLE : arith::CmpFPredicate::OLT), x, best);
          else
            better = arith::CmpIOp::create(b, nl, IsMax ? (last ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sgt)
                                                        : (last ? arith::CmpIPredicate::sle : arith::CmpIPredicate::slt), x, best);
          linalg::YieldOp::create(b, nl, ValueRange{arith::SelectOp::create(b, nl, better, x, best),
                                                    arith::SelectOp::create(b, nl, better, i, bestIdx)});
        });
    rw.replaceOp(op, generic.getResult(1));
    return success();
  }
};

} // namespace

void populateReductionPatterns(RewritePatternSet &p) {
  p.add<ReduceLowering<ReduceSumOp, Kind::Sum>, ReduceLowering<ReduceMeanOp, Kind::Mean>,
        ReduceLowering<ReduceMaxOp, Kind::Max>, ReduceLowering<ReduceMinOp, Kind::Min>,
        ReduceLowering<ReduceProdOp, Kind::Prod>, ReduceLowering<ReduceL1Op, Kind::L1>,
        ReduceLowering<ReduceL2Op, Kind::L2>, ReduceLowering<ReduceLogSumOp, Kind::LogSum>,
        ReduceLowering<ReduceLogSumExpOp, Kind::LogSumExp>,
        ReduceLowering<ReduceSumSquareOp, Kind::SumSquare>, SoftmaxLowering<SoftmaxOp, false>,
        SoftmaxLowering<LogSoftmaxOp, true>, LayerNormLowering, ArgLowering<ArgMaxOp, true>,
        ArgLowering<ArgMinOp, false>>(p.getContext());
}

} // namespace quantc::lowering
