//===- DataMovement.cpp - constants, reshapes, slices, gathers to tensor --===//
#include "LoweringUtils.h"

#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace quantc::qc;

namespace quantc::lowering {
namespace {

struct ConstantLowering : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ConstantOp op, OpAdaptor,
                                ConversionPatternRewriter &rw) const override {
    // An unsigned constant (a uint8 zero point, say) becomes its signless
    // bit pattern; the ops that read it know the signedness from their
    // own operand types.
    auto t = dyn_cast<RankedTensorType>(op.getOutput().getType());
    auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
    if (t && t.hasStaticShape() && dense && t.getElementType().isUnsignedInteger()) {
      auto signless = t.clone(rw.getIntegerType(t.getElementType().getIntOrFloatBitWidth()));
      rw.replaceOpWithNewOp<arith::ConstantOp>(op, dense.bitcast(signless.getElementType()));
      return success();
    }
    // fp8 constants become their bit patterns (the fp8 DequantizeLinear
    // lowering reads i8).
    if (t && t.hasStaticShape() && dense &&
        isa<Float8E4M3FNType, Float8E5M2Type>(t.getElementType())) {
      rw.replaceOpWithNewOp<arith::ConstantOp>(op, dense.bitcast(rw.getI8Type()));
      return success();
    }
    auto res = dyn_cast<DenseResourceElementsAttr>(op.getValue());
    if (t && t.hasStaticShape() && res && t.getElementType().isUnsignedInteger() &&
        t.getElementType().getIntOrFloatBitWidth() % 8 == 0) {
      auto signless = t.clone(rw.getIntegerType(t.getElementType().getIntOrFloatBitWidth()));
      rw.replaceOpWithNewOp<arith::ConstantOp>(
          op, DenseResourceElementsAttr::get(signless, res.getRawHandle()));
      return success();
    }
    if (!requireStatic(op, op.getOutput(), "the constant"))
      return failure();
    rw.replaceOpWithNewOp<arith::ConstantOp>(op, cast<TypedAttr>(op.getValue()));
    return success();
  }
};

/// Values that are a reshape of their first operand to the static result
/// type (Reshape, Flatten, Squeeze, Unsqueeze).
template <typename OpTy> struct ReshapeLikeLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireStatic(op, op->getResult(0), "the result");
    Value in = a.getOperands()[0];
    auto it = requireStatic(op, in, "the input");
    if (!rt || !it)
      return failure();
    if (it == rt) {
      rw.replaceOp(op, in);
      return success();
    }
    Location l = op.getLoc();
    auto shapeType = RankedTensorType::get({rt.getRank()}, rw.getI64Type());
    Value shape = arith::ConstantOp::create(rw, l, DenseElementsAttr::get(shapeType, rt.getShape()));
    rw.replaceOpWithNewOp<tensor::ReshapeOp>(op, rt, in, shape);
    return success();
  }
};

struct TransposeLowering : OpConversionPattern<TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(TransposeOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireStatic(op, op.getTransposed(), "the result");
    auto it = requireStatic(op, a.getData(), "the input");
    if (!rt || !it)
      return failure();
    SmallVector<int64_t> perm;
    if (auto p = op.getPerm())
      perm.assign(p->begin(), p->end());
    else
      for (int64_t i = it.getRank() - 1; i >= 0; --i)
        perm.push_back(i);
    Location l = op.getLoc();
    Value init = tensor::EmptyOp::create(rw, l, rt.getShape(), rt.getElementType());
    rw.replaceOp(op, linalg::TransposeOp::create(rw, l, a.getData(), init, perm).getResult());
    return success();
  }
};

struct ConcatLowering : OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ConcatOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireStatic(op, op.getConcatResult(), "the result");
    if (!rt)
      return failure();
    int64_t rank = rt.getRank();
    int64_t axis = op.getAxis();
    if (axis < 0)
      axis += rank;
    Location l = op.getLoc();
    Value acc = tensor::EmptyOp::create(rw, l, rt.getShape(), rt.getElementType());
    int64_t offset = 0;
    for (Value in : a.getInputs()) {
      auto it = requireStatic(op, in, "an input");
      if (!it)
        return failure();
      SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
      offsets[axis] = offset;
      acc = tensor::InsertSliceOp::create(rw, l, in, acc, ValueRange{}, ValueRange{},
                                          ValueRange{}, offsets, it.getShape(), strides);
      offset += it.getDimSize(axis);
    }
    rw.replaceOp(op, acc);
    return success();
  }
};

struct SliceLowering : OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SliceOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireStatic(op, op.getOutput(), "the result");
    auto it = requireStatic(op, a.getData(), "the input");
    if (!rt || !it)
      return failure();
    auto starts = constIntOperand(a.getStarts()), ends = constIntOperand(a.getEnds());
    std::optional<SmallVector<int64_t>> axes, steps;
    if (!isNoneValue(a.getAxes()))
      axes = constIntOperand(a.getAxes());
    if (!isNoneValue(a.getSteps()))
      steps = constIntOperand(a.getSteps());
    if (!starts || !ends || (!isNoneValue(a.getAxes()) && !axes) ||
        (!isNoneValue(a.getSteps()) && !steps))
      return op.emitError("cannot lower: Slice needs constant starts, ends, axes and steps");
    int64_t rank = it.getRank();
    SmallVector<int64_t> offsets(rank, 0), sizes(it.getShape()), strides(rank, 1);
    bool reverse = false;
    for (size_t k = 0; k < starts->size(); ++k) {
      int64_t ax = axes ? (*axes)[k] : static_cast<int64_t>(k);
      if (ax < 0)
        ax += rank;
      int64_t dim = it.getDimSize(ax), step = steps ? (*steps)[k] : 1;
      int64_t s = (*starts)[k];
      if (s < 0)
        s += dim;
      if (step < 0) {
        reverse = true;
        break;
      }
      s = std::clamp<int64_t>(s, 0, dim);
      offsets[ax] = s;
      sizes[ax] = rt.getDimSize(ax);
      strides[ax] = step;
    }
    if (reverse)
      return op.emitError("cannot lower: Slice with negative steps is not lowered yet");
    rw.replaceOpWithNewOp<tensor::ExtractSliceOp>(op, rt, a.getData(), ValueRange{}, ValueRange{},
                                                  ValueRange{}, offsets, sizes, strides);
    return success();
  }
};

struct SplitLowering : OpConversionPattern<SplitOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SplitOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto it = requireStatic(op, a.getInput(), "the input");
    if (!it)
      return failure();
    int64_t rank = it.getRank();
    int64_t axis = op.getAxis();
    if (axis < 0)
      axis += rank;
    int64_t offset = 0;
    SmallVector<Value> results;
    for (Value r : op.getOutputs()) {
      auto rt = requireStatic(op, r, "a result");
      if (!rt)
        return failure();
      SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
      offsets[axis] = offset;
      results.push_back(tensor::ExtractSliceOp::create(rw, op.getLoc(), rt, a.getInput(),
                                                       ValueRange{}, ValueRange{}, ValueRange{},
                                                       offsets, rt.getShape(), strides));
      offset += rt.getDimSize(axis);
    }
    rw.replaceOp(op, results);
    return success();
  }
};

/// Gather: out[i.., j.., k..] = data[i.., indices[j..], k..] via tensor.extract.
struct GatherLowering : OpConversionPattern<GatherOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(GatherOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireStatic(op, op.getOutput(), "the result");
    auto dt = requireStatic(op, a.getData(), "the data");
    auto it = requireStatic(op, a.getIndices(), "the indices");
    if (!rt || !dt || !it)
      return failure();
    MLIRContext *ctx = rw.getContext();
    Location l = op.getLoc();
    int64_t axis = op.getAxis();
    if (axis < 0)
      axis += dt.getRank();
    int64_t q = it.getRank(), outRank = rt.getRank();
    SmallVector<AffineExpr> iE;
    for (int64_t j = 0; j < q; ++j)
      iE.push_back(getAffineDimExpr(axis + j, ctx));
    Value init = tensor::EmptyOp::create(rw, l, rt.getShape(), rt.getElementType());
    SmallVector<utils::IteratorType> iters(outRank, utils::IteratorType::parallel);
    Value data = a.getData();
    int64_t axisDim = dt.getDimSize(axis);
    Value r = linalg::GenericOp::create(
                  rw, l, TypeRange{rt}, ValueRange{a.getIndices()}, ValueRange{init},
                  ArrayRef<AffineMap>{AffineMap::get(outRank, 0, iE, ctx),
                                      AffineMap::getMultiDimIdentityMap(outRank, ctx)},
                  iters,
                  [&](OpBuilder &b, Location nl, ValueRange args) {
                    Value idx = args[0];
                    if (!idx.getType().isInteger(64))
                      idx = arith::ExtSIOp::create(b, nl, b.getI64Type(), idx);
                    // Negative indices count from the end.
                    Value neg = arith::CmpIOp::create(b, nl, arith::CmpIPredicate::slt, idx,
                                                      scalarConst(b, nl, b.getI64Type(), 0));
                    Value wrapped = arith::AddIOp::create(b, nl, idx,
                                                          scalarConst(b, nl, b.getI64Type(), axisDim));
                    idx = arith::SelectOp::create(b, nl, neg, wrapped, idx);
                    SmallVector<Value> coords;
                    for (int64_t i = 0; i < axis; ++i)
                      coords.push_back(linalg::IndexOp::create(b, nl, i));
                    coords.push_back(arith::IndexCastOp::create(b, nl, b.getIndexType(), idx));
                    for (int64_t i = axis + 1; i < dt.getRank(); ++i)
                      coords.push_back(linalg::IndexOp::create(b, nl, i - 1 + q));
                    Value v = tensor::ExtractOp::create(b, nl, data, coords);
                    linalg::YieldOp::create(b, nl, v);
                  })
                  .getResult(0);
    rw.replaceOp(op, r);
    return success();
  }
};

/// Shape and Size of static tensors are constants.
template <typename OpTy> struct StaticShapeLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto it = requireStatic(op, a.getData(), "the input");
    auto rt = requireStatic(op, op->getResult(0), "the result");
    if (!it || !rt)
      return failure();
    SmallVector<int64_t> values;
    if constexpr (std::is_same_v<OpTy, SizeOp>) {
      values.push_back(it.getNumElements());
    } else {
      int64_t rank = it.getRank();
      auto clampAxis = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
      int64_t start = clampAxis(op.getStart());
      int64_t end = op.getEnd() ? clampAxis(*op.getEnd()) : rank;
      for (int64_t i = start; i < end; ++i)
        values.push_back(it.getDimSize(i));
    }
    rw.replaceOpWithNewOp<arith::ConstantOp>(op, DenseElementsAttr::get(rt, ArrayRef<int64_t>(values)));
    return success();
  }
};

struct ConstantOfShapeLowering : OpConversionPattern<ConstantOfShapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ConstantOfShapeOp op, OpAdaptor,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireStatic(op, op.getOutput(), "the result");
    if (!rt)
      return failure();
    TypedAttr v = cast<TypedAttr>(rw.getZeroAttr(rt.getElementType()));
    if (auto value = op.getValue()) {
      auto d = dyn_cast<DenseElementsAttr>(*value);
      if (!d)
        return op.emitError("cannot lower: value must be dense");
      v = cast<TypedAttr>(d.getValues<Attribute>()[0]);
    }
    rw.replaceOp(op, buildFilled(rw, op.getLoc(), rt, v));
    return success();
  }
};

struct ExpandLowering : OpConversionPattern<ExpandOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ExpandOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireStatic(op, op.getOutput(), "the result");
    if (!rt || !requireStatic(op, a.getInput(), "the input"))
      return failure();
    rw.replaceOp(op, buildElementwise(rw, op.getLoc(), rt, {a.getInput()},
                                      [](OpBuilder &, Location, ValueRange v, Type) { return v[0]; }));
    return success();
  }
};

struct TileLowering : OpConversionPattern<TileOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(TileOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireStatic(op, op.getOutput(), "the result");
    auto it = requireStatic(op, a.getInput(), "the input");
    if (!rt || !it)
      return failure();
    MLIRContext *ctx = rw.getContext();
    SmallVector<AffineExpr> e;
    for (int64_t i = 0; i < it.getRank(); ++i)
      e.push_back(getAffineDimExpr(i, ctx) % it.getDimSize(i));
    rw.replaceOp(op, buildElementwiseWithMaps(rw, op.getLoc(), rt, {a.getInput()},
                                              {AffineMap::get(rt.getRank(), 0, e, ctx)},
                                              [](OpBuilder &, Location, ValueRange v, Type) { return v[0]; }));
    return success();
  }
};

struct PadLowering : OpConversionPattern<PadOp> {
  using OpConversionPattern::OpConversionPattern;
  /// reflect/edge/wrap: each output element reads the input at a source
  /// index computed per axis from i = o - pad_begin (n = input size):
  ///   reflect  i < 0: -i,   i >= n: 2(n-1) - i   (pads must be < n)
  ///   edge     clamp(i, 0, n-1)
  ///   wrap     ((i mod n) + n) mod n
  LogicalResult lowerIndexed(PadOp op, OpAdaptor a, ConversionPatternRewriter &rw,
                             RankedTensorType rt, RankedTensorType it,
                             ArrayRef<int64_t> pads) const {
    StringRef mode = op.getMode();
    int64_t rank = it.getRank();
    for (int64_t d = 0; d < rank; ++d) {
      int64_t n = it.getDimSize(d);
      if (n == 0 && (pads[d] || pads[d + rank]))
        return op.emitError("cannot lower: Pad of an empty axis in mode '") << mode << "'";
      if (mode == "reflect" && (pads[d] >= n || pads[d + rank] >= n) && (pads[d] || pads[d + rank]))
        return op.emitError("cannot lower: reflect pads must be smaller than the axis (axis ")
               << d << " has " << n << ")";
    }
    Location l = op.getLoc();
    Value data = a.getData();
    auto empty = tensor::EmptyOp::create(rw, l, rt.getShape(), rt.getElementType());
    SmallVector<AffineMap> maps{rw.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rw, l, TypeRange{rt}, ValueRange{}, ValueRange{empty}, maps, iters,
        [&](OpBuilder &b, Location nl, ValueRange) {
          SmallVector<Value> idx;
          for (int64_t d = 0; d < rank; ++d) {
            int64_t n = it.getDimSize(d);
            auto c = [&](int64_t v) { return arith::ConstantIndexOp::create(b, nl, v).getResult(); };
            Value i = arith::SubIOp::create(b, nl, linalg::IndexOp::create(b, nl, d), c(pads[d]));
            if (mode == "edge") {
              i = arith::MaxSIOp::create(b, nl, i, c(0));
              i = arith::MinSIOp::create(b, nl, i, c(n - 1));
            } else if (mode == "wrap") {
              i = arith::RemSIOp::create(b, nl, i, c(n));
              i = arith::AddIOp::create(b, nl, i, c(n));
              i = arith::RemSIOp::create(b, nl, i, c(n));
            } else { // reflect
              Value neg = arith::SubIOp::create(b, nl, c(0), i);
              Value below = arith::CmpIOp::create(b, nl, arith::CmpIPredicate::slt, i, c(0));
              i = arith::SelectOp::create(b, nl, below, neg, i);
              Value back = arith::SubIOp::create(b, nl, c(2 * (n - 1)), i);
              Value above = arith::CmpIOp::create(b, nl, arith::CmpIPredicate::sge, i, c(n));
              i = arith::SelectOp::create(b, nl, above, back, i);
            }
            idx.push_back(i);
          }
          Value v = tensor::ExtractOp::create(b, nl, data, idx);
          linalg::YieldOp::create(b, nl, v);
        });
    rw.replaceOp(op, generic.getResult(0));
    return success();
  }

  LogicalResult matchAndRewrite(PadOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireStatic(op, op.getOutput(), "the result");
    auto it = requireStatic(op, a.getData(), "the input");
    if (!rt || !it)
      return failure();
    StringRef mode = op.getMode();
    if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap")
      return op.emitError() << "cannot lower: Pad mode '" << mode << "' is not lowered yet";
    auto pads = constIntOperand(a.getPads());
    int64_t rank = it.getRank();
    if (!pads || !isNoneValue(a.getAxes()) || static_cast<int64_t>(pads->size()) != 2 * rank)
      return op.emitError("cannot lower: Pad needs constant pads for every axis");
    if (llvm::any_of(*pads, [](int64_t p) { return p < 0; }))
      return op.emitError("cannot lower: negative pads are not lowered yet");
    Location l = op.getLoc();
    if (mode != "constant")
      return lowerIndexed(op, a, rw, rt, it, *pads);
    Value value;
    if (!isNoneValue(a.getConstantValue()))
      value = tensor::ExtractOp::create(rw, l, a.getConstantValue(), ValueRange{});
    else
      value = arith::ConstantOp::create(rw, l, cast<TypedAttr>(rw.getZeroAttr(it.getElementType())));
    SmallVector<int64_t> lo(pads->begin(), pads->begin() + rank), hi(pads->begin() + rank, pads->end());
    rw.replaceOp(op, buildPad(rw, l, rt, a.getData(), lo, hi, value));
    return success();
  }
};

} // namespace

void populateDataMovementPatterns(RewritePatternSet &p) {
  p.add<ConstantLowering, ReshapeLikeLowering<ReshapeOp>, ReshapeLikeLowering<FlattenOp>,
        ReshapeLikeLowering<SqueezeOp>, ReshapeLikeLowering<UnsqueezeOp>, TransposeLowering,
        ConcatLowering, SliceLowering, SplitLowering, GatherLowering,
        StaticShapeLowering<ShapeOp>, StaticShapeLowering<SizeOp>, ConstantOfShapeLowering,
        ExpandLowering, TileLowering, PadLowering>(p.getContext());
}

} // namespace quantc::lowering
