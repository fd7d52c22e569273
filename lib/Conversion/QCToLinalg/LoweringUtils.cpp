//===- LoweringUtils.cpp - shared pieces of qc-to-linalg ------------------===//
#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace quantc::lowering {

RankedTensorType requireStatic(Operation *op, Value v, StringRef what) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (t && !t.hasStaticShape()) {
    op->emitError() << "cannot lower: " << what << " has type " << v.getType()
                    << "; the lowering needs static shapes (specialize the "
                       "input shapes and run qc-infer-shapes first)";
    return {};
  }
  return requireRanked(op, v, what);
}

RankedTensorType requireRanked(Operation *op, Value v, StringRef what) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t) {
    op->emitError() << "cannot lower: " << what << " has type " << v.getType()
                    << "; the lowering needs a known rank";
    return {};
  }
  if (t.getElementType().isUnsignedInteger()) {
    op->emitError() << "cannot lower: " << what << " has unsigned element type "
                    << t.getElementType() << ", which is not lowered yet";
    return {};
  }
  return t;
}

bool isNoneValue(Value v) { return isa<NoneType>(v.getType()); }

SmallVector<OpFoldResult> mixedSizes(OpBuilder &b, Location l, Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  SmallVector<OpFoldResult> out;
  for (int64_t d = 0; d < t.getRank(); ++d)
    out.push_back(t.isDynamicDim(d) ? OpFoldResult(tensor::DimOp::create(b, l, v, d).getResult())
                                    : OpFoldResult(b.getIndexAttr(t.getDimSize(d))));
  return out;
}

std::optional<SmallVector<OpFoldResult>> sizesFromInputs(OpBuilder &b, Location l,
                                                         RankedTensorType type, ValueRange inputs,
                                                         ArrayRef<AffineMap> maps) {
  SmallVector<OpFoldResult> out;
  for (int64_t r = 0; r < type.getRank(); ++r) {
    if (!type.isDynamicDim(r)) {
      out.push_back(b.getIndexAttr(type.getDimSize(r)));
      continue;
    }
    OpFoldResult found;
    for (auto [in, map] : llvm::zip(inputs, maps)) {
      auto it = dyn_cast<RankedTensorType>(in.getType());
      if (!it)
        continue;
      for (unsigned j = 0; j < map.getNumResults() && !found; ++j) {
        auto de = dyn_cast<AffineDimExpr>(map.getResult(j));
        if (de && de.getPosition() == r && it.isDynamicDim(j))
          found = tensor::DimOp::create(b, l, in, j).getResult();
      }
      if (found)
        break;
    }
    if (!found)
      return std::nullopt;
    out.push_back(found);
  }
  return out;
}

Value emptyTensor(OpBuilder &b, Location l, RankedTensorType type, ArrayRef<OpFoldResult> sizes) {
  if (type.hasStaticShape() || sizes.empty())
    return tensor::EmptyOp::create(b, l, type.getShape(), type.getElementType());
  SmallVector<Value> dyn;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dyn.push_back(getValueOrCreateConstantIndexOp(b, l, sizes[d]));
  return tensor::EmptyOp::create(b, l, type, dyn);
}

Value productOf(OpBuilder &b, Location l, ArrayRef<OpFoldResult> sizes) {
  int64_t constant = 1;
  Value dynamic;
  for (OpFoldResult s : sizes) {
    if (auto c = getConstantIntValue(s)) {
      constant *= *c;
      continue;
    }
    Value v = cast<Value>(s);
    dynamic = dynamic ? arith::MulIOp::create(b, l, dynamic, v).getResult() : v;
  }
  Value c = arith::ConstantIndexOp::create(b, l, constant);
  return dynamic ? arith::MulIOp::create(b, l, dynamic, c).getResult() : c;
}

AffineMap broadcastMap(RankedTensorType operandType, ArrayRef<int64_t> resultShape,
                       MLIRContext *ctx) {
  int64_t rank = resultShape.size();
  int64_t opRank = operandType.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < opRank; ++i) {
    int64_t r = rank - opRank + i;
    if (operandType.getDimSize(i) == 1 && resultShape[r] != 1)  // also a dynamic result dim
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(r, ctx));
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                       ValueRange inputs, const ScalarFn &fn) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value in : inputs)
    maps.push_back(broadcastMap(cast<RankedTensorType>(in.getType()),
                                resultType.getShape(), ctx));
  return buildElementwiseWithMaps(b, loc, resultType, inputs, maps, fn);
}

Value buildElementwiseWithMaps(OpBuilder &b, Location loc, RankedTensorType resultType,
                               ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                               const ScalarFn &fn) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps(inputMaps.begin(), inputMaps.end());
  auto sizes = sizesFromInputs(b, loc, resultType, inputs, inputMaps);
  if (!sizes)
    return {};
  maps.push_back(AffineMap::getMultiDimIdentityMap(resultType.getRank(), ctx));
  Value init = emptyTensor(b, loc, resultType, *sizes);
  SmallVector<utils::IteratorType> iters(resultType.getRank(),
                                         utils::IteratorType::parallel);
  Type elem = resultType.getElementType();
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value v = fn(nb, nl, args.drop_back(), elem);
        linalg::YieldOp::create(nb, nl, v);
      });
  return generic.getResult(0);
}

Value buildPad(OpBuilder &b, Location loc, RankedTensorType resultType, Value source,
               ArrayRef<int64_t> low, ArrayRef<int64_t> high, Value padValue) {
  MLIRContext *ctx = b.getContext();
  return tensor::PadOp::create(b, loc, resultType, source, getAsIndexOpFoldResult(ctx, low),
                               getAsIndexOpFoldResult(ctx, high), padValue)
      .getResult();
}

Value buildFilled(OpBuilder &b, Location loc, RankedTensorType type, TypedAttr value,
                  ArrayRef<OpFoldResult> sizes) {
  Value init = emptyTensor(b, loc, type, sizes);
  Value scalar = arith::ConstantOp::create(b, loc, value);
  return linalg::FillOp::create(b, loc, ValueRange{scalar}, ValueRange{init})
      .getResult(0);
}

Value scalarConst(OpBuilder &b, Location loc, Type type, double value) {
  if (isa<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

std::optional<SmallVector<int64_t>> constIntOperand(Value v) {
  DenseIntElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<int64_t> out;
  for (const APInt &x : attr.getValues<APInt>())
    out.push_back(x.getSExtValue());
  return out;
}

TypedAttr lowestValue(Type type) {
  if (auto ft = dyn_cast<FloatType>(type))
    return FloatAttr::get(ft, APFloat::getInf(ft.getFloatSemantics(), /*Negative=*/true));
  auto it = cast<IntegerType>(type);
  return IntegerAttr::get(it, APInt::getSignedMinValue(it.getWidth()));
}

} // namespace quantc::lowering
