//===- QCFolding.cpp - folders and canonicalization of qc ops -------------===//
//
// Folding targets the shape arithmetic that exporters leave behind
// (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) and the obvious
// no-ops (Identity, identity Transpose, Reshape to the same type, chains of
// Reshape and of Transpose). Only `dense` constants fold; `dense_resource`
// weights are never copied here.
//
//===----------------------------------------------------------------------===//
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace quantc::qc;

std::optional<SmallVector<int64_t>> quantc::qc::getIntValues(Attribute a) {
  auto d = dyn_cast_or_null<DenseIntElementsAttr>(a);
  if (!d)
    return std::nullopt;
  bool isUnsigned = d.getElementType().isUnsignedInteger();
  SmallVector<int64_t> out;
  for (const APInt &v : d.getValues<APInt>())
    out.push_back(isUnsigned ? static_cast<int64_t>(v.getZExtValue())
                             : v.getSExtValue());
  return out;
}

namespace {
/// A statically shaped result type, or null.
RankedTensorType staticResultType(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.hasStaticShape() ? t : RankedTensorType();
}

DenseElementsAttr denseOrNull(Attribute a) {
  return dyn_cast_or_null<DenseElementsAttr>(a);
}

std::optional<SmallVector<int64_t>> intValues(Attribute a) {
  return quantc::qc::getIntValues(a);
}

DenseElementsAttr makeInts(RankedTensorType type, ArrayRef<int64_t> values) {
  auto it = dyn_cast<IntegerType>(type.getElementType());
  if (!it)
    return {};
  SmallVector<APInt> ap;
  for (int64_t v : values)
    ap.push_back(APInt(it.getWidth(), v, /*isSigned=*/true, /*implicitTrunc=*/true));
  return DenseElementsAttr::get(type, ap);
}

/// Elementwise integer folding with scalar broadcasting. Used for shape
/// arithmetic, so only small integer tensors are handled.
template <typename Fn>
OpFoldResult foldIntBinary(Value result, Attribute lhs, Attribute rhs, Fn fn) {
  RankedTensorType rt = staticResultType(result);
  if (!rt || !isa<IntegerType>(rt.getElementType()) || rt.getNumElements() > 4096)
    return {};
  auto a = intValues(lhs), b = intValues(rhs);
  if (!a || !b)
    return {};
  int64_t n = rt.getNumElements();
  auto ok = [&](size_t sz) { return sz == 1 || static_cast<int64_t>(sz) == n; };
  if (!ok(a->size()) || !ok(b->size()))
    return {};
  // Only same-shape or scalar-like operands: anything else needs full
  // broadcasting, which the lowering handles.
  auto la = cast<ShapedType>(cast<TypedAttr>(lhs).getType());
  auto lb = cast<ShapedType>(cast<TypedAttr>(rhs).getType());
  if ((a->size() != 1 && la.getShape() != rt.getShape()) ||
      (b->size() != 1 && lb.getShape() != rt.getShape()))
    return {};
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) {
    std::optional<int64_t> v = fn((*a)[a->size() == 1 ? 0 : i],
                                  (*b)[b->size() == 1 ? 0 : i]);
    if (!v)
      return {};
    out.push_back(*v);
  }
  return makeInts(rt, out);
}

/// The permutation of a transpose, defaulting to reversed dims.
std::optional<SmallVector<int64_t>> permOf(TransposeOp op) {
  if (auto p = op.getPerm())
    return SmallVector<int64_t>(p->begin(), p->end());
  auto t = dyn_cast<RankedTensorType>(op.getData().getType());
  if (!t)
    return std::nullopt;
  SmallVector<int64_t> perm;
  for (int64_t i = t.getRank() - 1; i >= 0; --i)
    perm.push_back(i);
  return perm;
}

/// Reshape of a dense constant to a static result type.
OpFoldResult reshapeConstant(Value result, Attribute input) {
  RankedTensorType rt = staticResultType(result);
  DenseElementsAttr d = denseOrNull(input);
  if (!rt || !d || d.getType().getNumElements() != rt.getNumElements() ||
      d.getElementType() != rt.getElementType())
    return {};
  return d.reshape(rt);
}
} // namespace

OpFoldResult IdentityOp::fold(FoldAdaptor) {
  if (getX().getType() == getType())
    return getX();
  return {};
}

OpFoldResult AddOp::fold(FoldAdaptor a) {
  return foldIntBinary(getC(), a.getA(), a.getB(),
                       [](int64_t x, int64_t y) -> std::optional<int64_t> { return x + y; });
}
OpFoldResult SubOp::fold(FoldAdaptor a) {
  return foldIntBinary(getC(), a.getA(), a.getB(),
                       [](int64_t x, int64_t y) -> std::optional<int64_t> { return x - y; });
}
OpFoldResult MulOp::fold(FoldAdaptor a) {
  return foldIntBinary(getC(), a.getA(), a.getB(),
                       [](int64_t x, int64_t y) -> std::optional<int64_t> { return x * y; });
}
OpFoldResult DivOp::fold(FoldAdaptor a) {
  // ONNX integer Div truncates toward zero, like C++.
  return foldIntBinary(getC(), a.getA(), a.getB(),
                       [](int64_t x, int64_t y) -> std::optional<int64_t> {
                         if (y == 0)
                           return std::nullopt;
                         return x / y;
                       });
}

//===----------------------------------------------------------------------===//
// Reshape
//===----------------------------------------------------------------------===//

OpFoldResult ReshapeOp::fold(FoldAdaptor a) {
  auto in = dyn_cast<RankedTensorType>(getData().getType());
  if (in && in.hasStaticShape() && in == getType())
    return getData();
  return reshapeConstant(getReshaped(), a.getData());
}

namespace {
/// reshape(reshape(x, s1), s2) -> reshape(x, s2) when s2 is a constant whose
/// meaning does not depend on the intermediate shape (no 0 entries, or
/// allowzero).
struct ReshapeOfReshape : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op, PatternRewriter &rewriter) const override {
    auto inner = op.getData().getDefiningOp<ReshapeOp>();
    if (!inner)
      return failure();
    DenseIntElementsAttr shape;
    if (!matchPattern(op.getShape(), m_Constant(&shape)))
      return failure();
    if (op.getAllowzero() == 0)
      for (const APInt &v : shape.getValues<APInt>())
        if (v.isZero())
          return failure();
    rewriter.modifyOpInPlace(op, [&] { op.getDataMutable().assign(inner.getData()); });
    return success();
  }
};

/// transpose(transpose(x, p1), p2) -> transpose(x, p1[p2[i]]).
struct TransposeOfTranspose : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op, PatternRewriter &rewriter) const override {
    auto inner = op.getData().getDefiningOp<TransposeOp>();
    if (!inner)
      return failure();
    auto p1 = permOf(inner), p2 = permOf(op);
    if (!p1 || !p2 || p1->size() != p2->size())
      return failure();
    SmallVector<int64_t> composed;
    for (int64_t i : *p2)
      composed.push_back((*p1)[i]);
    rewriter.modifyOpInPlace(op, [&] {
      op.getDataMutable().assign(inner.getData());
      op.setPerm(composed);
    });
    return success();
  }
};
} // namespace

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<ReshapeOfReshape>(context);
}

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<TransposeOfTranspose>(context);
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  auto perm = permOf(*this);
  if (!perm)
    return {};
  for (auto [i, p] : llvm::enumerate(*perm))
    if (static_cast<int64_t>(i) != p)
      return {};
  if (getData().getType() == getType())
    return getData();
  return {};
}

//===----------------------------------------------------------------------===//
// Shape arithmetic
//===----------------------------------------------------------------------===//

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  auto in = dyn_cast<RankedTensorType>(getData().getType());
  RankedTensorType rt = staticResultType(getShape());
  if (!in || !rt)
    return {};
  int64_t rank = in.getRank();
  auto clampAxis = [&](int64_t v) {
    if (v < 0)
      v += rank;
    return std::clamp<int64_t>(v, 0, rank);
  };
  int64_t start = clampAxis(static_cast<int64_t>(getStart()));
  int64_t end = getEnd() ? clampAxis(static_cast<int64_t>(*getEnd())) : rank;
  SmallVector<int64_t> dims;
  for (int64_t i = start; i < end; ++i) {
    if (in.isDynamicDim(i))
      return {};
    dims.push_back(in.getDimSize(i));
  }
  if (static_cast<int64_t>(dims.size()) != rt.getNumElements())
    return {};
  return makeInts(rt, dims);
}

OpFoldResult SizeOp::fold(FoldAdaptor) {
  auto in = dyn_cast<RankedTensorType>(getData().getType());
  RankedTensorType rt = staticResultType(getSize());
  if (!in || !in.hasStaticShape() || !rt || rt.getNumElements() != 1)
    return {};
  return makeInts(rt, {in.getNumElements()});
}

OpFoldResult CastOp::fold(FoldAdaptor a) {
  if (getInput().getType() == getType())
    return getInput();
  RankedTensorType rt = staticResultType(getOutput());
  auto d = dyn_cast_or_null<DenseIntElementsAttr>(a.getInput());
  if (!rt || !d || rt.getNumElements() > 4096)
    return {};
  auto values = intValues(d);
  if (!values)
    return {};
  Type to = rt.getElementType();
  if (isa<IntegerType>(to) && to.getIntOrFloatBitWidth() > 1)
    return makeInts(rt, *values);
  if (auto ft = dyn_cast<FloatType>(to)) {
    SmallVector<APFloat> fs;
    for (int64_t v : *values) {
      APFloat f(ft.getFloatSemantics());
      bool lost;
      f.convertFromAPInt(APInt(64, v, true), /*isSigned=*/true,
                         APFloat::rmNearestTiesToEven);
      (void)lost;
      fs.push_back(f);
    }
    return DenseElementsAttr::get(rt, fs);
  }
  return {};
}

OpFoldResult ConcatOp::fold(FoldAdaptor a) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  RankedTensorType rt = staticResultType(getConcatResult());
  if (!rt || rt.getRank() != 1 || !isa<IntegerType>(rt.getElementType()))
    return {};
  SmallVector<int64_t> out;
  for (Attribute in : a.getInputs()) {
    auto v = intValues(in);
    if (!v)
      return {};
    out.append(v->begin(), v->end());
  }
  if (static_cast<int64_t>(out.size()) != rt.getNumElements())
    return {};
  return makeInts(rt, out);
}

OpFoldResult GatherOp::fold(FoldAdaptor a) {
  RankedTensorType rt = staticResultType(getOutput());
  auto data = intValues(a.getData());
  auto idx = intValues(a.getIndices());
  auto dt = dyn_cast<RankedTensorType>(getData().getType());
  if (!rt || !data || !idx || !dt || dt.getRank() != 1 || getAxis() != 0)
    return {};
  SmallVector<int64_t> out;
  int64_t n = static_cast<int64_t>(data->size());
  for (int64_t i : *idx) {
    if (i < 0)
      i += n;
    if (i < 0 || i >= n)
      return {};
    out.push_back((*data)[i]);
  }
  if (static_cast<int64_t>(out.size()) != rt.getNumElements())
    return {};
  return makeInts(rt, out);
}

OpFoldResult SliceOp::fold(FoldAdaptor a) {
  RankedTensorType rt = staticResultType(getOutput());
  auto data = intValues(a.getData());
  auto starts = intValues(a.getStarts()), ends = intValues(a.getEnds());
  auto dt = dyn_cast<RankedTensorType>(getData().getType());
  if (!rt || !data || !starts || !ends || !dt || dt.getRank() != 1 ||
      starts->size() != 1 || ends->size() != 1)
    return {};
  int64_t step = 1;
  if (!isa<NoneType>(getSteps().getType())) {
    auto s = intValues(a.getSteps());
    if (!s || s->size() != 1 || (*s)[0] == 0)
      return {};
    step = (*s)[0];
  }
  if (!isa<NoneType>(getAxes().getType())) {
    auto ax = intValues(a.getAxes());
    if (!ax || ax->size() != 1 || ((*ax)[0] != 0 && (*ax)[0] != -1))
      return {};
  }
  int64_t n = static_cast<int64_t>(data->size());
  int64_t s = (*starts)[0], e = (*ends)[0];
  if (s < 0) s += n;
  if (e < 0) e += n;
  SmallVector<int64_t> out;
  if (step > 0) {
    s = std::clamp<int64_t>(s, 0, n);
    e = std::clamp<int64_t>(e, 0, n);
    for (int64_t i = s; i < e; i += step)
      out.push_back((*data)[i]);
  } else {
    s = std::clamp<int64_t>(s, -1, n - 1);
    e = std::clamp<int64_t>(e, -1, n - 1);
    for (int64_t i = s; i > e; i += step)
      out.push_back((*data)[i]);
  }
  if (static_cast<int64_t>(out.size()) != rt.getNumElements())
    return {};
  return makeInts(rt, out);
}

OpFoldResult SqueezeOp::fold(FoldAdaptor a) {
  return reshapeConstant(getSqueezed(), a.getData());
}

OpFoldResult UnsqueezeOp::fold(FoldAdaptor a) {
  return reshapeConstant(getExpanded(), a.getData());
}

OpFoldResult ConstantOfShapeOp::fold(FoldAdaptor) {
  RankedTensorType rt = staticResultType(getOutput());
  if (!rt || rt.getNumElements() > 4096)
    return {};
  if (auto v = getValue()) {
    auto d = dyn_cast<DenseElementsAttr>(*v);
    if (!d || d.getElementType() != rt.getElementType() || d.getNumElements() != 1)
      return {};
    return DenseElementsAttr::get(rt, d.getValues<Attribute>()[0]);
  }
  if (!rt.getElementType().isF32())
    return {};
  return DenseElementsAttr::get(rt, FloatAttr::get(rt.getElementType(), 0.0));
}

OpFoldResult RangeOp::fold(FoldAdaptor a) {
  RankedTensorType rt = staticResultType(getOutput());
  if (!rt || rt.getRank() != 1 || rt.getNumElements() > (1 << 20))
    return {};
  int64_t n = rt.getNumElements();
  if (isa<IntegerType>(rt.getElementType())) {
    auto s = intValues(a.getStart()), d = intValues(a.getDelta());
    if (!s || !d || s->size() != 1 || d->size() != 1)
      return {};
    SmallVector<int64_t> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back((*s)[0] + i * (*d)[0]);
    return makeInts(rt, out);
  }
  auto ft = dyn_cast<FloatType>(rt.getElementType());
  auto s = dyn_cast_or_null<DenseFPElementsAttr>(a.getStart());
  auto d = dyn_cast_or_null<DenseFPElementsAttr>(a.getDelta());
  if (!ft || !s || !d || s.getNumElements() != 1 || d.getNumElements() != 1)
    return {};
  double s0 = (*s.getValues<APFloat>().begin()).convertToDouble();
  double d0 = (*d.getValues<APFloat>().begin()).convertToDouble();
  SmallVector<APFloat> out;
  for (int64_t i = 0; i < n; ++i) {
    // ONNX: the accumulated value in the output type, start + i * delta.
    APFloat v(s0 + static_cast<double>(i) * d0);
    bool lost;
    v.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    out.push_back(v);
  }
  return DenseElementsAttr::get(rt, out);
}
