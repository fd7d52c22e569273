//===- DataMovement.cpp - constants, reshapes, slices, gathers to tensor --===//
#include "LoweringUtils.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace quantc::qc;

namespace quantc::lowering {
namespace {

Value idx(OpBuilder &b, Location l, int64_t v) { return arith::ConstantIndexOp::create(b, l, v); }

/// Element `i` of a 1-D integer tensor as an index value.
Value extractIndex(OpBuilder &b, Location l, Value t, int64_t i) {
  Value e = tensor::ExtractOp::create(b, l, t, ValueRange{idx(b, l, i)});
  return arith::IndexCastOp::create(b, l, b.getIndexType(), e);
}

/// A 1-D i64 tensor holding `sizes`.
Value shapeTensor(OpBuilder &b, Location l, ArrayRef<OpFoldResult> sizes) {
  SmallVector<Value> elems;
  for (OpFoldResult s : sizes) {
    if (auto c = getConstantIntValue(s))
      elems.push_back(arith::ConstantIntOp::create(b, l, *c, 64));
    else
      elems.push_back(arith::IndexCastOp::create(b, l, b.getI64Type(), cast<Value>(s)));
  }
  return tensor::FromElementsOp::create(
      b, l, RankedTensorType::get({static_cast<int64_t>(sizes.size())}, b.getI64Type()), elems);
}

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
    auto rt = requireRanked(op, op->getResult(0), "the result");
    Value in = a.getOperands()[0];
    auto it = requireRanked(op, in, "the input");
    if (!rt || !it)
      return failure();
    if (it == rt && it.hasStaticShape()) {
      rw.replaceOp(op, in);
      return success();
    }
    Location l = op.getLoc();
    if (rt.hasStaticShape() && it.hasStaticShape() && rt.getRank() != it.getRank()) {
      // A pure collapse or expansion of static dims: a view after
      // bufferization (tensor.reshape becomes memref.reshape, which later
      // passes do not see through: results copied into out-parameters).
      if (rt.getRank() < it.getRank()) {
        if (auto re = getReassociationIndicesForCollapse(it.getShape(), rt.getShape())) {
          rw.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, rt, in, *re);
          return success();
        }
      } else if (auto re = getReassociationIndicesForCollapse(rt.getShape(), it.getShape())) {
        rw.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, rt, in, *re);
        return success();
      }
    }
    if (rt.hasStaticShape()) {
      auto shapeType = RankedTensorType::get({rt.getRank()}, rw.getI64Type());
      Value shape =
          arith::ConstantOp::create(rw, l, DenseElementsAttr::get(shapeType, rt.getShape()));
      rw.replaceOpWithNewOp<tensor::ReshapeOp>(op, rt, in, shape);
      return success();
    }
    // Dynamic result dims, sized at run time.
    SmallVector<OpFoldResult> sizes;
    SmallVector<int64_t> dynDims;
    for (int64_t d = 0; d < rt.getRank(); ++d) {
      sizes.push_back(rw.getIndexAttr(rt.isDynamicDim(d) ? 0 : rt.getDimSize(d)));
      if (rt.isDynamicDim(d))
        dynDims.push_back(d);
    }
    SmallVector<OpFoldResult> inSizes = mixedSizes(rw, l, in);
    if (dynDims.size() == 1) {
      // The one unknown dim is what the static ones leave of the elements.
      int64_t staticProd = 1;
      for (int64_t d = 0; d < rt.getRank(); ++d)
        if (!rt.isDynamicDim(d))
          staticProd *= rt.getDimSize(d);
      Value total = productOf(rw, l, inSizes);
      sizes[dynDims[0]] =
          staticProd == 1 ? OpFoldResult(total)
                          : OpFoldResult(arith::DivUIOp::create(rw, l, total, idx(rw, l, staticProd))
                                             .getResult());
    } else if (auto r = dyn_cast<ReshapeOp>(op.getOperation())) {
      // Read the shape operand: 0 copies the input's dim (allowzero = 0),
      // -1 takes what the others leave.
      if (r.getAllowzero())
        return op.emitError("cannot lower: Reshape with allowzero and several dynamic dims");
      Value shape = a.getOperands()[1];
      SmallVector<Value> vals;
      Value known = idx(rw, l, 1);
      Value minusOne = idx(rw, l, -1);
      for (int64_t d = 0; d < rt.getRank(); ++d) {
        Value v = extractIndex(rw, l, shape, d);
        if (d < it.getRank()) {
          Value isZero = arith::CmpIOp::create(rw, l, arith::CmpIPredicate::eq, v, idx(rw, l, 0));
          v = arith::SelectOp::create(rw, l, isZero,
                                      getValueOrCreateConstantIndexOp(rw, l, inSizes[d]), v);
        }
        vals.push_back(v);
        Value isInfer = arith::CmpIOp::create(rw, l, arith::CmpIPredicate::eq, v, minusOne);
        known = arith::MulIOp::create(rw, l, known,
                                      arith::SelectOp::create(rw, l, isInfer, idx(rw, l, 1), v));
      }
      Value rest = arith::DivUIOp::create(rw, l, productOf(rw, l, inSizes), known);
      for (int64_t d : dynDims) {
        Value isInfer = arith::CmpIOp::create(rw, l, arith::CmpIPredicate::eq, vals[d], minusOne);
        sizes[d] = arith::SelectOp::create(rw, l, isInfer, rest, vals[d]).getResult();
      }
    } else {
      // Squeeze/Unsqueeze/Flatten of unit dims: the dynamic dims keep
      // their order.
      SmallVector<OpFoldResult> inDyn;
      for (int64_t d = 0; d < it.getRank(); ++d)
        if (it.isDynamicDim(d))
          inDyn.push_back(inSizes[d]);
      if (inDyn.size() != dynDims.size() || isa<FlattenOp>(op.getOperation()))
        return op.emitError() << "cannot lower: a reshape of " << it << " into " << rt
                              << " whose dynamic dims do not correspond";
      for (auto [d, v] : llvm::zip(dynDims, inDyn))
        sizes[d] = v;
    }
    rw.replaceOpWithNewOp<tensor::ReshapeOp>(op, rt, in, shapeTensor(rw, l, sizes));
    return success();
  }
};

struct TransposeLowering : OpConversionPattern<TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(TransposeOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireRanked(op, op.getTransposed(), "the result");
    auto it = requireRanked(op, a.getData(), "the input");
    if (!rt || !it)
      return failure();
    SmallVector<int64_t> perm;
    if (auto p = op.getPerm())
      perm.assign(p->begin(), p->end());
    else
      for (int64_t i = it.getRank() - 1; i >= 0; --i)
        perm.push_back(i);
    Location l = op.getLoc();
    SmallVector<OpFoldResult> inSizes = mixedSizes(rw, l, a.getData()), sizes;
    for (int64_t p : perm)
      sizes.push_back(inSizes[p]);
    Value init = emptyTensor(rw, l, rt, sizes);
    rw.replaceOp(op, linalg::TransposeOp::create(rw, l, a.getData(), init, perm).getResult());
    return success();
  }
};

struct ConcatLowering : OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ConcatOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireRanked(op, op.getConcatResult(), "the result");
    if (!rt)
      return failure();
    int64_t rank = rt.getRank();
    int64_t axis = op.getAxis();
    if (axis < 0)
      axis += rank;
    Location l = op.getLoc();
    for (Value in : a.getInputs())
      if (!requireRanked(op, in, "an input"))
        return failure();
    SmallVector<OpFoldResult> sizes;
    if (!rt.hasStaticShape()) {
      // The other dims from the first input, the axis the sum of all.
      sizes = mixedSizes(rw, l, a.getInputs().front());
      SmallVector<OpFoldResult> axisSizes;
      for (Value in : a.getInputs())
        axisSizes.push_back(tensor::getMixedSize(rw, l, in, axis));
      Value total = idx(rw, l, 0);
      for (OpFoldResult s : axisSizes)
        total = arith::AddIOp::create(rw, l, total, getValueOrCreateConstantIndexOp(rw, l, s));
      sizes[axis] = total;
    }
    Value acc = emptyTensor(rw, l, rt, sizes);
    OpFoldResult offset = rw.getIndexAttr(0);
    for (Value in : a.getInputs()) {
      SmallVector<OpFoldResult> offsets(rank, rw.getIndexAttr(0)), strides(rank, rw.getIndexAttr(1));
      offsets[axis] = offset;
      SmallVector<OpFoldResult> inSizes = mixedSizes(rw, l, in);
      acc = tensor::InsertSliceOp::create(rw, l, in, acc, offsets, inSizes, strides);
      auto c0 = getConstantIntValue(offset), c1 = getConstantIntValue(inSizes[axis]);
      if (c0 && c1)
        offset = rw.getIndexAttr(*c0 + *c1);
      else
        offset = arith::AddIOp::create(rw, l, getValueOrCreateConstantIndexOp(rw, l, offset),
                                       getValueOrCreateConstantIndexOp(rw, l, inSizes[axis]))
                     .getResult();
    }
    rw.replaceOp(op, acc);
    return success();
  }
};

struct SliceLowering : OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  /// Starts and ends read at run time (clamped as ONNX says), positive
  /// constant steps; the axes must be constant.
  LogicalResult lowerDynamic(SliceOp op, OpAdaptor a, ConversionPatternRewriter &rw,
                             RankedTensorType rt, RankedTensorType it) const {
    Location l = op.getLoc();
    int64_t rank = it.getRank();
    auto startsT = dyn_cast<RankedTensorType>(a.getStarts().getType());
    if (!startsT || startsT.getRank() != 1 || startsT.isDynamicDim(0))
      return op.emitError("cannot lower: Slice with dynamic shapes needs starts of a static length");
    int64_t n = startsT.getDimSize(0);
    std::optional<SmallVector<int64_t>> axes, steps;
    if (!isNoneValue(a.getAxes()) && !(axes = constIntOperand(a.getAxes())))
      return op.emitError("cannot lower: Slice with dynamic shapes needs constant axes");
    if (!isNoneValue(a.getSteps()) && !(steps = constIntOperand(a.getSteps())))
      return op.emitError("cannot lower: Slice with dynamic shapes needs constant steps");
    SmallVector<OpFoldResult> offsets(rank, rw.getIndexAttr(0)), sizes = mixedSizes(rw, l, a.getData()),
        strides(rank, rw.getIndexAttr(1));
    auto clampTo = [&](Value v, Value dim) -> Value {
      // v < 0 counts from the end; then clamp to [0, dim].
      Value neg = arith::CmpIOp::create(rw, l, arith::CmpIPredicate::slt, v, idx(rw, l, 0));
      v = arith::SelectOp::create(rw, l, neg, arith::AddIOp::create(rw, l, v, dim), v);
      v = arith::MaxSIOp::create(rw, l, v, idx(rw, l, 0));
      return arith::MinSIOp::create(rw, l, v, dim);
    };
    for (int64_t k = 0; k < n; ++k) {
      int64_t ax = axes ? (*axes)[k] : k;
      if (ax < 0)
        ax += rank;
      int64_t step = steps ? (*steps)[k] : 1;
      if (step <= 0)
        return op.emitError("cannot lower: Slice with dynamic shapes needs positive steps");
      Value dim = getValueOrCreateConstantIndexOp(rw, l, sizes[ax]);
      // Ends beyond int64's index range (INT64_MAX) clamp the same way.
      Value s = clampTo(extractIndex(rw, l, a.getStarts(), k), dim);
      Value e = clampTo(extractIndex(rw, l, a.getEnds(), k), dim);
      Value len = arith::MaxSIOp::create(rw, l, arith::SubIOp::create(rw, l, e, s), idx(rw, l, 0));
      if (step != 1)
        len = arith::CeilDivSIOp::create(rw, l, len, idx(rw, l, step));
      offsets[ax] = s;
      sizes[ax] = len;
      strides[ax] = rw.getIndexAttr(step);
    }
    Value r = tensor::ExtractSliceOp::create(rw, l, a.getData(), offsets, sizes, strides);
    if (r.getType() != rt)
      r = tensor::CastOp::create(rw, l, rt, r);
    rw.replaceOp(op, r);
    return success();
  }
  LogicalResult matchAndRewrite(SliceOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    // An unsigned tensor already lowered to its signless bits (e.g. a
    // dynamic quantization's result, which checks that the slice feeds an
    // integer product) is sliced as those bits; its users read the slice's
    // original type as unsigned.
    RankedTensorType rt;
    auto ot = dyn_cast<RankedTensorType>(op.getOutput().getType());
    auto dt = dyn_cast<RankedTensorType>(a.getData().getType());
    if (ot && dt && ot.getElementType().isUnsignedInteger() &&
        dt.getElementType().isSignlessInteger() &&
        dt.getElementType().getIntOrFloatBitWidth() == ot.getElementType().getIntOrFloatBitWidth())
      rt = ot.clone(dt.getElementType());
    else
      rt = requireRanked(op, op.getOutput(), "the result");
    auto it = requireRanked(op, a.getData(), "the input");
    if (!rt || !it)
      return failure();
    if (!rt.hasStaticShape() || !it.hasStaticShape())
      return lowerDynamic(op, a, rw, rt, it);
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
    auto rt = requireRanked(op, op.getOutput(), "the result");
    auto dt = requireRanked(op, a.getData(), "the data");
    auto it = requireRanked(op, a.getIndices(), "the indices");
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
    SmallVector<OpFoldResult> dSizes = mixedSizes(rw, l, a.getData()),
                              iSizes = mixedSizes(rw, l, a.getIndices()), sizes;
    sizes.append(dSizes.begin(), dSizes.begin() + axis);
    sizes.append(iSizes.begin(), iSizes.end());
    sizes.append(dSizes.begin() + axis + 1, dSizes.end());
    Value init = emptyTensor(rw, l, rt, sizes);
    SmallVector<utils::IteratorType> iters(outRank, utils::IteratorType::parallel);
    Value data = a.getData();
    int64_t axisDim = dt.getDimSize(axis);
    Value axisDimV;
    if (dt.isDynamicDim(axis))
      axisDimV = arith::IndexCastOp::create(rw, l, rw.getI64Type(),
                                            cast<Value>(dSizes[axis]));
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
                    Value wrapped = arith::AddIOp::create(
                        b, nl, idx,
                        axisDimV ? axisDimV : scalarConst(b, nl, b.getI64Type(), axisDim));
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

/// Shape and Size: constants for static tensors, read at run time for
/// symbolic ones.
template <typename OpTy> struct StaticShapeLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto it = requireRanked(op, a.getData(), "the input");
    auto rt = requireStatic(op, op->getResult(0), "the result");
    if (!it || !rt)
      return failure();
    // The dims [start, end) (Shape), or all of them (Size).
    int64_t rank = it.getRank(), start = 0, end = rank;
    if constexpr (!std::is_same_v<OpTy, SizeOp>) {
      auto clampAxis = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
      start = clampAxis(op.getStart());
      end = std::max(start, op.getEnd() ? clampAxis(*op.getEnd()) : rank);
    }
    if (!it.hasStaticShape()) {
      // Read the dims at run time.
      Location l = op.getLoc();
      SmallVector<OpFoldResult> sizes = mixedSizes(rw, l, a.getData()), picked;
      if constexpr (std::is_same_v<OpTy, SizeOp>)
        picked.push_back(productOf(rw, l, sizes));
      else
        picked.assign(sizes.begin() + start, sizes.begin() + end);
      Value t = shapeTensor(rw, l, picked);
      if (t.getType() != rt)
        t = tensor::ReshapeOp::create(
            rw, l, rt, t,
            arith::ConstantOp::create(rw, l, DenseElementsAttr::get(
                RankedTensorType::get({rt.getRank()}, rw.getI64Type()), rt.getShape())));
      rw.replaceOp(op, t);
      return success();
    }
    SmallVector<int64_t> values;
    if constexpr (std::is_same_v<OpTy, SizeOp>)
      values.push_back(it.getNumElements());
    else
      values.assign(it.getShape().begin() + start, it.getShape().begin() + end);
    rw.replaceOpWithNewOp<arith::ConstantOp>(op, DenseElementsAttr::get(rt, ArrayRef<int64_t>(values)));
    return success();
  }
};

struct ConstantOfShapeLowering : OpConversionPattern<ConstantOfShapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ConstantOfShapeOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireRanked(op, op.getOutput(), "the result");
    if (!rt)
      return failure();
    SmallVector<OpFoldResult> sizes;
    if (!rt.hasStaticShape())
      for (int64_t d = 0; d < rt.getRank(); ++d)
        sizes.push_back(rt.isDynamicDim(d)
                            ? OpFoldResult(extractIndex(rw, op.getLoc(), a.getInput(), d))
                            : OpFoldResult(rw.getIndexAttr(rt.getDimSize(d))));
    TypedAttr v = cast<TypedAttr>(rw.getZeroAttr(rt.getElementType()));
    if (auto value = op.getValue()) {
      auto d = dyn_cast<DenseElementsAttr>(*value);
      if (!d)
        return op.emitError("cannot lower: value must be dense");
      v = cast<TypedAttr>(d.getValues<Attribute>()[0]);
    }
    rw.replaceOp(op, buildFilled(rw, op.getLoc(), rt, v, sizes));
    return success();
  }
};

/// Range: n = max(ceil((limit - start) / delta), 0) elements start + i * delta.
struct RangeLowering : OpConversionPattern<RangeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(RangeOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireRanked(op, op.getOutput(), "the result");
    if (!rt || rt.getRank() != 1)
      return failure();
    Location l = op.getLoc();
    Type et = rt.getElementType();
    Value s = tensor::ExtractOp::create(rw, l, a.getStart(), ValueRange{});
    Value lim = tensor::ExtractOp::create(rw, l, a.getLimit(), ValueRange{});
    Value d = tensor::ExtractOp::create(rw, l, a.getDelta(), ValueRange{});
    Value n;
    if (isa<FloatType>(et)) {
      Value q = arith::DivFOp::create(rw, l, arith::SubFOp::create(rw, l, lim, s), d);
      Value c = math::CeilOp::create(rw, l, q);
      n = arith::FPToSIOp::create(rw, l, rw.getI64Type(), c);
    } else {
      Value diff = arith::SubIOp::create(rw, l, lim, s);
      n = arith::CeilDivSIOp::create(rw, l, diff, d);
      if (!et.isInteger(64))
        n = arith::ExtSIOp::create(rw, l, rw.getI64Type(), n);
    }
    n = arith::MaxSIOp::create(rw, l, n, arith::ConstantIntOp::create(rw, l, 0, 64));
    Value ni = arith::IndexCastOp::create(rw, l, rw.getIndexType(), n);
    SmallVector<OpFoldResult> sizes{rt.isDynamicDim(0) ? OpFoldResult(ni)
                                                      : OpFoldResult(rw.getIndexAttr(rt.getDimSize(0)))};
    Value init = emptyTensor(rw, l, rt, sizes);
    MLIRContext *ctx = rw.getContext();
    Value r = linalg::GenericOp::create(
                  rw, l, TypeRange{rt}, ValueRange{}, ValueRange{init},
                  ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(1, ctx)},
                  ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
                  [&](OpBuilder &b, Location nl, ValueRange) {
                    Value i = linalg::IndexOp::create(b, nl, 0);
                    Value i64 = arith::IndexCastOp::create(b, nl, b.getI64Type(), i);
                    Value v;
                    if (isa<FloatType>(et))
                      v = arith::AddFOp::create(
                          b, nl, s,
                          arith::MulFOp::create(b, nl, arith::SIToFPOp::create(b, nl, et, i64), d));
                    else {
                      Value iv = et.isInteger(64) ? i64 : Value(arith::TruncIOp::create(b, nl, et, i64));
                      v = arith::AddIOp::create(b, nl, s, arith::MulIOp::create(b, nl, iv, d));
                    }
                    linalg::YieldOp::create(b, nl, v);
                  })
                  .getResult(0);
    rw.replaceOp(op, r);
    return success();
  }
};

struct ExpandLowering : OpConversionPattern<ExpandOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ExpandOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireRanked(op, op.getOutput(), "the result");
    auto it = requireRanked(op, a.getInput(), "the input");
    if (!rt || !it)
      return failure();
    Location l = op.getLoc();
    MLIRContext *ctx = rw.getContext();
    AffineMap map = broadcastMap(it, rt.getShape(), ctx);
    // A dynamic result dim: the input's where it has a dynamic one there
    // (assumed not to broadcast), else the shape operand's.
    SmallVector<OpFoldResult> sizes;
    int64_t off = rt.getRank() - it.getRank();
    for (int64_t d = 0; d < rt.getRank(); ++d) {
      if (!rt.isDynamicDim(d))
        sizes.push_back(rw.getIndexAttr(rt.getDimSize(d)));
      else if (d >= off && it.isDynamicDim(d - off))
        sizes.push_back(tensor::DimOp::create(rw, l, a.getInput(), d - off).getResult());
      else
        sizes.push_back(extractIndex(rw, l, a.getShape(), d));
    }
    Value init = emptyTensor(rw, l, rt, sizes);
    SmallVector<utils::IteratorType> iters(rt.getRank(), utils::IteratorType::parallel);
    Value r = linalg::GenericOp::create(
                  rw, l, TypeRange{rt}, ValueRange{a.getInput()}, ValueRange{init},
                  ArrayRef<AffineMap>{map, AffineMap::getMultiDimIdentityMap(rt.getRank(), ctx)},
                  iters,
                  [](OpBuilder &b, Location nl, ValueRange args) {
                    linalg::YieldOp::create(b, nl, args[0]);
                  })
                  .getResult(0);
    rw.replaceOp(op, r);
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
        ExpandLowering, TileLowering, PadLowering, RangeLowering>(p.getContext());
}

} // namespace quantc::lowering
