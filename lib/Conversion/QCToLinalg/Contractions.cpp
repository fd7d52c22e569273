//===- Contractions.cpp - MatMul, Gemm, Conv and pooling to linalg --------===//
#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"

using namespace mlir;
using namespace quantc::qc;

namespace quantc::lowering {
namespace {

bool isF(Type t) { return isa<FloatType>(t); }

Value mulAdd(OpBuilder &b, Location l, Value acc, Value x, Value y) {
  Type t = acc.getType();
  if (x.getType() != t)
    x = isF(t) ? Value(arith::ExtFOp::create(b, l, t, x)) : Value(arith::ExtSIOp::create(b, l, t, x));
  if (y.getType() != t)
    y = isF(t) ? Value(arith::ExtFOp::create(b, l, t, y)) : Value(arith::ExtSIOp::create(b, l, t, y));
  if (isF(t))
    return arith::AddFOp::create(b, l, acc, arith::MulFOp::create(b, l, x, y));
  return arith::AddIOp::create(b, l, acc, arith::MulIOp::create(b, l, x, y));
}

Value zeroFilled(OpBuilder &b, Location l, RankedTensorType t, ArrayRef<OpFoldResult> sizes = {}) {
  return buildFilled(b, l, t, cast<TypedAttr>(b.getZeroAttr(t.getElementType())), sizes);
}

/// numpy matmul as one contraction linalg.generic.
Value buildMatMul(OpBuilder &b, Location l, Value A, Value B, RankedTensorType rt) {
  MLIRContext *ctx = b.getContext();
  auto at = cast<RankedTensorType>(A.getType()), bt = cast<RankedTensorType>(B.getType());
  bool aVec = at.getRank() == 1, bVec = bt.getRank() == 1;
  int64_t nb = rt.getRank() - (aVec ? 0 : 1) - (bVec ? 0 : 1);
  // Loops: batch..., [m], [n], k.
  int64_t m = nb, n = nb + (aVec ? 0 : 1), k = n + (bVec ? 0 : 1);
  int64_t nLoops = k + 1;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  auto batchExprs = [&](RankedTensorType t, int64_t matDims) {
    SmallVector<AffineExpr> e;
    int64_t tb = t.getRank() - matDims;
    for (int64_t i = 0; i < tb; ++i) {
      int64_t loop = nb - tb + i;
      e.push_back(t.getDimSize(i) == 1 && rt.getDimSize(loop) != 1
                      ? getAffineConstantExpr(0, ctx) : d(loop));
    }
    return e;
  };
  SmallVector<AffineExpr> aE = aVec ? SmallVector<AffineExpr>{} : batchExprs(at, 2);
  if (!aVec)
    aE.push_back(d(m));
  aE.push_back(d(k));
  SmallVector<AffineExpr> bE = bVec ? SmallVector<AffineExpr>{} : batchExprs(bt, 2);
  bE.push_back(d(k));
  if (!bVec)
    bE.push_back(d(n));
  SmallVector<AffineExpr> oE;
  for (int64_t i = 0; i < nb; ++i)
    oE.push_back(d(i));
  if (!aVec)
    oE.push_back(d(m));
  if (!bVec)
    oE.push_back(d(n));
  SmallVector<AffineMap> maps{AffineMap::get(nLoops, 0, aE, ctx),
                              AffineMap::get(nLoops, 0, bE, ctx),
                              AffineMap::get(nLoops, 0, oE, ctx)};
  SmallVector<utils::IteratorType> iters(nLoops, utils::IteratorType::parallel);
  iters.back() = utils::IteratorType::reduction;
  return linalg::GenericOp::create(
             b, l, TypeRange{rt}, ValueRange{A, B}, ValueRange{zeroFilled(b, l, rt)}, maps,
             iters,
             [&](OpBuilder &nb2, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb2, nl, mulAdd(nb2, nl, args[2], args[0], args[1]));
             })
      .getResult(0);
}

/// Reassociation grouping dims [0, n) into one, the other dims of a rank
/// `rank` tensor alone.
SmallVector<ReassociationIndices> leadingGroups(int64_t n, int64_t rank) {
  SmallVector<ReassociationIndices> groups(1);
  for (int64_t i = 0; i < n; ++i)
    groups[0].push_back(i);
  for (int64_t i = n; i < rank; ++i)
    groups.push_back({i});
  return groups;
}

} // namespace

Value collapseLeading(OpBuilder &b, Location l, Value v, int64_t n) {
  auto t = cast<RankedTensorType>(v.getType());
  if (n == 1)
    return v;
  return tensor::CollapseShapeOp::create(b, l, v, leadingGroups(n, t.getRank()));
}

Value expandLeading(OpBuilder &b, Location l, Value v, RankedTensorType type, Value like) {
  int64_t n = type.getRank() - cast<RankedTensorType>(v.getType()).getRank() + 1;
  if (n == 1)
    return v;
  if (type.hasStaticShape())
    return tensor::ExpandShapeOp::create(b, l, type, v, leadingGroups(n, type.getRank()));
  // Dynamic: the leading group may hold one dynamic dim (dim 0 of v over
  // the group's static ones); the others are v's.
  SmallVector<OpFoldResult> vs = mixedSizes(b, l, v), out;
  int64_t staticProd = 1, dynCount = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (type.isDynamicDim(i))
      ++dynCount;
    else
      staticProd *= type.getDimSize(i);
  }
  if (dynCount > 1) {
    // Several unknown dims in the group: read them from `like`, whose
    // leading dims are the result's (the product's A).
    if (!like)
      return {};
    SmallVector<OpFoldResult> ls = mixedSizes(b, l, like);
    out.assign(ls.begin(), ls.begin() + n);
    out.append(vs.begin() + 1, vs.end());
    return tensor::ExpandShapeOp::create(b, l, type, v, leadingGroups(n, type.getRank()), out);
  }
  for (int64_t i = 0; i < n; ++i) {
    if (!type.isDynamicDim(i)) {
      out.push_back(b.getIndexAttr(type.getDimSize(i)));
      continue;
    }
    Value d0 = getValueOrCreateConstantIndexOp(b, l, vs[0]);
    out.push_back(arith::DivUIOp::create(b, l, d0, arith::ConstantIndexOp::create(b, l, staticProd))
                      .getResult());
  }
  out.append(vs.begin() + 1, vs.end());
  return tensor::ExpandShapeOp::create(b, l, type, v, leadingGroups(n, type.getRank()), out);
}

/// numpy matmul as linalg.matmul / linalg.batch_matmul when no operand is
/// a vector and the batch dims need no broadcasting: [..., M, K] x [K, N]
/// folds the batch into M; equal batch dims fold into one. f32 operands
/// into f32, or i8 ones into i32 (signed). These named ops reach the
/// runtime's GEMMs (quantc-cpu-kernel-calls). Null otherwise.
Value buildNamedMatMul(OpBuilder &b, Location l, Value A, Value B, RankedTensorType rt) {
  auto at = cast<RankedTensorType>(A.getType()), bt = cast<RankedTensorType>(B.getType());
  bool isF32 = rt.getElementType().isF32() && at.getElementType().isF32() &&
             bt.getElementType().isF32();
  bool s8 = rt.getElementType().isInteger(32) && at.getElementType().isInteger(8) &&
            bt.getElementType().isInteger(8);
  if (at.getRank() < 2 || bt.getRank() < 2 || !(isF32 || s8))
    return {};
  int64_t M = at.getDimSize(at.getRank() - 2), K = at.getDimSize(at.getRank() - 1);
  int64_t N = bt.getDimSize(bt.getRank() - 1);
  Type f32 = rt.getElementType(); // the accumulator type
  if (bt.getRank() == 2 && (ShapedType::isDynamic(K) || ShapedType::isDynamic(N)))
    return {};
  if (bt.getRank() == 2) {
    int64_t rows = at.hasStaticShape() ? at.getNumElements() / K : ShapedType::kDynamic;
    Value a2 = collapseLeading(b, l, A, at.getRank() - 1);
    auto mt = RankedTensorType::get({rows, N}, f32);
    SmallVector<OpFoldResult> sizes;
    if (!mt.hasStaticShape())
      sizes = {tensor::DimOp::create(b, l, a2, 0).getResult(), b.getIndexAttr(N)};
    Value r = linalg::MatmulOp::create(b, l, TypeRange{mt}, ValueRange{a2, B},
                                       ValueRange{zeroFilled(b, l, mt, sizes)})
                  .getResult(0);
    return expandLeading(b, l, r, rt, A);
  }
  // Equal static batch dims. (Symbolic ones lower, but MLIR 22's
  // expand-strided-metadata then crashes on the result; not yet.)
  if (at.getRank() != bt.getRank() || at.getShape().drop_back(2) != bt.getShape().drop_back(2) ||
      llvm::any_of(at.getShape().drop_back(2), ShapedType::isDynamic))
    return {};
  int64_t nb = at.getRank() - 2;
  int64_t batch = 1;
  for (int64_t i = 0; i < nb; ++i)
    batch = at.isDynamicDim(i) || ShapedType::isDynamic(batch) ? ShapedType::kDynamic
                                                              : batch * at.getDimSize(i);
  auto to3 = [&](Value v) -> Value {
    if (nb == 1)
      return v;
    if (nb == 0)
      return tensor::ExpandShapeOp::create(
          b, l, RankedTensorType::get({1, cast<RankedTensorType>(v.getType()).getDimSize(0),
                                       cast<RankedTensorType>(v.getType()).getDimSize(1)},
                                      cast<RankedTensorType>(v.getType()).getElementType()),
          v, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    return collapseLeading(b, l, v, nb);
  };
  if (nb == 0)
    return {};
  auto bt3 = RankedTensorType::get({batch, M, N}, f32);
  Value a3 = to3(A), b3 = to3(B);
  SmallVector<OpFoldResult> sizes;
  if (!bt3.hasStaticShape())
    sizes = {tensor::getMixedSize(b, l, a3, 0), tensor::getMixedSize(b, l, a3, 1),
             tensor::getMixedSize(b, l, b3, 2)};
  Value r = linalg::BatchMatmulOp::create(b, l, TypeRange{bt3}, ValueRange{a3, b3},
                                          ValueRange{zeroFilled(b, l, bt3, sizes)})
                .getResult(0);
  return expandLeading(b, l, r, rt, A);
}

namespace {
struct MatMulLowering : OpConversionPattern<MatMulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(MatMulOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireRanked(op, op.getY(), "the result");
    if (!rt || !requireRanked(op, a.getA(), "A") || !requireRanked(op, a.getB(), "B"))
      return failure();
    if (Value named = buildNamedMatMul(rw, op.getLoc(), a.getA(), a.getB(), rt)) {
      rw.replaceOp(op, named);
      return success();
    }
    if (!rt.hasStaticShape() || !requireStatic(op, a.getA(), "A") ||
        !requireStatic(op, a.getB(), "B"))
      return op.emitError("cannot lower: this MatMul with dynamic dimensions (only [..., M, K] x "
                          "[K, N] and equal static batch dims are)");
    rw.replaceOp(op, buildMatMul(rw, op.getLoc(), a.getA(), a.getB(), rt));
    return success();
  }
};

struct GemmLowering : OpConversionPattern<GemmOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(GemmOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireStatic(op, op.getY(), "the result");
    if (!rt || !requireStatic(op, a.getA(), "A") || !requireStatic(op, a.getB(), "B"))
      return failure();
    MLIRContext *ctx = rw.getContext();
    Location l = op.getLoc();
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    AffineMap am = AffineMap::get(3, 0, op.getTransA() ? ArrayRef<AffineExpr>{d(2), d(0)}
                                                       : ArrayRef<AffineExpr>{d(0), d(2)}, ctx);
    AffineMap bm = AffineMap::get(3, 0, op.getTransB() ? ArrayRef<AffineExpr>{d(1), d(2)}
                                                       : ArrayRef<AffineExpr>{d(2), d(1)}, ctx);
    AffineMap om = AffineMap::get(3, 0, {d(0), d(1)}, ctx);
    Value acc = linalg::GenericOp::create(
                    rw, l, TypeRange{rt}, ValueRange{a.getA(), a.getB()},
                    ValueRange{zeroFilled(rw, l, rt)}, ArrayRef<AffineMap>{am, bm, om},
                    ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                                  utils::IteratorType::parallel,
                                                  utils::IteratorType::reduction},
                    [&](OpBuilder &b, Location nl, ValueRange args) {
                      linalg::YieldOp::create(b, nl, mulAdd(b, nl, args[2], args[0], args[1]));
                    })
                    .getResult(0);
    float alpha = op.getAlpha().convertToFloat(), beta = op.getBeta().convertToFloat();
    bool hasC = !isNoneValue(a.getC()) && beta != 0.0f;
    if (hasC && !requireStatic(op, a.getC(), "C"))
      return failure();
    if (alpha != 1.0f || hasC) {
      SmallVector<Value> ins{acc};
      if (hasC)
        ins.push_back(a.getC());
      acc = buildElementwise(rw, l, rt, ins, [&](OpBuilder &b, Location nl, ValueRange v, Type t) {
        Value r = v[0];
        if (alpha != 1.0f)
          r = arith::MulFOp::create(b, nl, r, scalarConst(b, nl, t, alpha));
        if (hasC) {
          Value c = v[1];
          if (beta != 1.0f)
            c = arith::MulFOp::create(b, nl, c, scalarConst(b, nl, t, beta));
          r = arith::AddFOp::create(b, nl, r, c);
        }
        return r;
      });
    }
    rw.replaceOp(op, acc);
    return success();
  }
};

/// Explicit begin/end padding of the spatial dims (auto_pad resolved), with
/// extra end padding so that every output window fits (ceil_mode).
struct Window {
  SmallVector<int64_t> kernel, strides, dilations, padBegin, padEnd;
};

LogicalResult resolveWindow(Operation *op, RankedTensorType xt, RankedTensorType yt,
                            ArrayRef<int64_t> kernel,
                            std::optional<ArrayRef<int64_t>> strides,
                            std::optional<ArrayRef<int64_t>> dilations,
                            std::optional<ArrayRef<int64_t>> pads, StringRef autoPad,
                            Window &w) {
  int64_t n = xt.getRank() - 2;
  if (static_cast<int64_t>(kernel.size()) != n)
    return op->emitError("cannot lower: kernel rank does not match the input");
  for (int64_t i = 0; i < n; ++i) {
    int64_t k = kernel[i], s = strides ? (*strides)[i] : 1, d = dilations ? (*dilations)[i] : 1;
    int64_t in = xt.getDimSize(i + 2), out = yt.getDimSize(i + 2);
    int64_t pb = 0, pe = 0;
    int64_t span = (k - 1) * d + 1;
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t total = std::max<int64_t>(0, (out - 1) * s + span - in);
      pb = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    } else if (autoPad != "VALID" && pads) {
      pb = (*pads)[i];
      pe = (*pads)[i + n];
    }
    // Room for the last window (ceil_mode may need more than the pads).
    pe = std::max(pe, (out - 1) * s + span - in - pb);
    w.kernel.push_back(k);
    w.strides.push_back(s);
    w.dilations.push_back(d);
    w.padBegin.push_back(pb);
    w.padEnd.push_back(pe);
  }
  return success();
}

Value padSpatial(OpBuilder &b, Location l, Value x, ArrayRef<int64_t> pb,
                 ArrayRef<int64_t> pe, TypedAttr value) {
  bool any = llvm::any_of(pb, [](int64_t v) { return v != 0; }) ||
             llvm::any_of(pe, [](int64_t v) { return v != 0; });
  if (!any)
    return x;
  auto xt = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> lo{0, 0}, hi{0, 0}, shape{xt.getDimSize(0), xt.getDimSize(1)};
  lo.append(pb.begin(), pb.end());
  hi.append(pe.begin(), pe.end());
  for (size_t i = 0; i < pb.size(); ++i)
    shape.push_back(xt.getDimSize(i + 2) + pb[i] + pe[i]);
  auto pt = RankedTensorType::get(shape, xt.getElementType());
  Value pad = arith::ConstantOp::create(b, l, value);
  return buildPad(b, l, pt, x, lo, hi, pad);
}

/// The spatial index expressions o*s + k*d for loops starting at `oBase`
/// (outputs) and `kBase` (window).
SmallVector<AffineExpr> windowExprs(MLIRContext *ctx, const Window &w, int64_t oBase,
                                   int64_t kBase) {
  SmallVector<AffineExpr> e;
  for (size_t i = 0; i < w.kernel.size(); ++i)
    e.push_back(getAffineDimExpr(oBase + i, ctx) * w.strides[i] +
                getAffineDimExpr(kBase + i, ctx) * w.dilations[i]);
  return e;
}

/// The initial value of a convolution's output: the bias B broadcast
/// along the channel axis (1), or zeros without one. Null (after an error)
/// for a bias of unknown shape.
static Value biasOrZeros(Operation *op, ConversionPatternRewriter &rw, Location l, Value bias,
                         RankedTensorType yt) {
  if (isNoneValue(bias))
    return zeroFilled(rw, l, yt);
  if (!requireStatic(op, bias, "B"))
    return {};
  MLIRContext *ctx = rw.getContext();
  AffineMap ch = AffineMap::get(yt.getRank(), 0, {getAffineDimExpr(1, ctx)}, ctx);
  return buildElementwiseWithMaps(rw, l, yt, {bias}, {ch},
                                  [](OpBuilder &, Location, ValueRange v, Type) { return v[0]; });
}

struct ConvLowering : OpConversionPattern<ConvOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ConvOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto yt = requireStatic(op, op.getY(), "the result");
    auto xt = requireStatic(op, a.getX(), "X");
    auto wt = requireStatic(op, a.getW(), "W");
    if (!yt || !xt || !wt)
      return failure();
    MLIRContext *ctx = rw.getContext();
    Location l = op.getLoc();
    SmallVector<int64_t> kernel(wt.getShape().drop_front(2));
    Window w;
    if (failed(resolveWindow(op, xt, yt, kernel, op.getStrides(), op.getDilations(),
                             op.getPads(), op.getAutoPad(), w)))
      return failure();
    Value xp = padSpatial(rw, l, a.getX(), w.padBegin, w.padEnd,
                          cast<TypedAttr>(rw.getZeroAttr(xt.getElementType())));
    int64_t n = kernel.size();
    int64_t group = op.getGroup();
    int64_t M = wt.getDimSize(0), Cg = wt.getDimSize(1), Mg = M / group;
    Value init = biasOrZeros(op, rw, l, a.getB(), yt);
    if (!init)
      return failure();
    // 2-D f32 convolutions with one group, and depthwise ones, become the
    // named linalg ops that the CPU pipeline hands to the runtime's kernels.
    bool f32 = xt.getElementType().isF32() && wt.getElementType().isF32() &&
               yt.getElementType().isF32();
    if (n == 2 && f32 && (group == 1 || (Cg == 1 && M == group &&
                                         xt.getDimSize(1) == group))) {
      auto strides = rw.getI64TensorAttr(w.strides);
      auto dilations = rw.getI64TensorAttr(w.dilations);
      Value r;
      if (group == 1) {
        r = linalg::Conv2DNchwFchwOp::create(rw, l, TypeRange{yt}, ValueRange{xp, a.getW()},
                                             ValueRange{init}, strides, dilations)
                .getResult(0);
      } else {
        Value w3 = tensor::CollapseShapeOp::create(
            rw, l, a.getW(), ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}});
        r = linalg::DepthwiseConv2DNchwChwOp::create(rw, l, TypeRange{yt}, ValueRange{xp, w3},
                                                     ValueRange{init}, strides, dilations)
                .getResult(0);
      }
      rw.replaceOp(op, r);
      return success();
    }
    // Loops: n, f, o1..on, c, k1..kn.
    int64_t nLoops = 2 + n + 1 + n;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    int64_t cLoop = 2 + n, kBase = 3 + n;
    SmallVector<AffineExpr> xE{d(0), d(1).floorDiv(Mg) * Cg + d(cLoop)};
    xE.append(windowExprs(ctx, w, 2, kBase));
    SmallVector<AffineExpr> wE{d(1), d(cLoop)};
    SmallVector<AffineExpr> oE{d(0), d(1)};
    for (int64_t i = 0; i < n; ++i) {
      wE.push_back(d(kBase + i));
      oE.push_back(d(2 + i));
    }
    SmallVector<utils::IteratorType> iters(nLoops, utils::IteratorType::reduction);
    for (int64_t i = 0; i < 2 + n; ++i)
      iters[i] = utils::IteratorType::parallel;
    Value r = linalg::GenericOp::create(
                  rw, l, TypeRange{yt}, ValueRange{xp, a.getW()}, ValueRange{init},
                  ArrayRef<AffineMap>{AffineMap::get(nLoops, 0, xE, ctx),
                                      AffineMap::get(nLoops, 0, wE, ctx),
                                      AffineMap::get(nLoops, 0, oE, ctx)},
                  iters,
                  [&](OpBuilder &b, Location nl, ValueRange args) {
                    linalg::YieldOp::create(b, nl, mulAdd(b, nl, args[2], args[0], args[1]));
                  })
                  .getResult(0);
    rw.replaceOp(op, r);
    return success();
  }
};

/// ConvTranspose as a stride-1 convolution: the input is dilated by the
/// strides (zeros in between), padded by (k - 1) * d - pad on each side
/// (output_padding extra at the end; negative amounts crop), and convolved
/// with the spatially flipped kernel, W'[f, c, k] = W[g * Cg + c, f mod Mg,
/// K - 1 - k].
struct ConvTransposeLowering : OpConversionPattern<ConvTransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  /// Stride equal to the kernel (dilation 1, one group): the windows do
  /// not overlap, so the op is one GEMM and a permutation:
  /// R[n, i, j, m, u, v] = sum_c X[n, c, i, j] W[c, m, u, v], then
  /// Y[n, m, i*s0+u, j*s1+v] = R[n, i, j, m, u, v], cropped by the pads.
  /// One image (N = 1) takes the GEMM the other way round, R' = W^T X
  /// with R'[m, u, v, i, j]: X's planes are the GEMM's B as they are, and
  /// the permutation reads whole rows of R' (PP-OCRv4 det's two
  /// upsampling ConvTransposes: float 68.5-71.4 -> 66.0-67.1 ms).
  LogicalResult lowerNonOverlapping(ConvTransposeOp op, OpAdaptor a,
                                    ConversionPatternRewriter &rw, RankedTensorType xt,
                                    RankedTensorType wt, RankedTensorType yt,
                                    ArrayRef<int64_t> k, ArrayRef<int64_t> pb,
                                    ArrayRef<int64_t> pe, ArrayRef<int64_t> opad) const {
    Location l = op.getLoc();
    MLIRContext *ctx = rw.getContext();
    Type f32 = xt.getElementType();
    int64_t N = xt.getDimSize(0), C = xt.getDimSize(1), H = xt.getDimSize(2),
            W = xt.getDimSize(3), M = wt.getDimSize(1);
    int64_t MK = M * k[0] * k[1];
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    bool bias = !isNoneValue(a.getB());
    if (bias && !requireStatic(op, a.getB(), "B"))
      return failure();
    Value src;       // R in the layout of its branch
    AffineMap srcMap; // Y6's loops [n, m, i, u, j, v] -> src's index
    auto full6 = RankedTensorType::get({N, M, H, k[0], W, k[1]}, f32);
    if (N == 1) {
      // One image: R'[m, u, v, i, j] = sum_c W[c, m, u, v] X[c, i, j], the
      // GEMM W^T X with X's planes as they are (no transpose of the
      // image), and Y's rows [m, i, u, :] interleave R' rows [m, u, v, i, :]
      // over v: each read row is used whole (the other orientation read
      // R[i, j, m, u, v] at a stride of M k0 k1 floats per output pair).
      auto wtT = RankedTensorType::get({M, k[0], k[1], C}, f32);
      Value wT = linalg::TransposeOp::create(rw, l, a.getW(),
                                             tensor::EmptyOp::create(rw, l, wtT.getShape(), f32),
                                             ArrayRef<int64_t>{1, 2, 3, 0})
                     .getResult()[0];
      Value w2 = tensor::CollapseShapeOp::create(
          rw, l, wT, ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}});
      Value x2 = tensor::CollapseShapeOp::create(
          rw, l, a.getX(), ArrayRef<ReassociationIndices>{{0, 1}, {2, 3}});
      auto rt = RankedTensorType::get({MK, H * W}, f32);
      Value r = linalg::MatmulOp::create(rw, l, TypeRange{rt}, ValueRange{w2, x2},
                                         ValueRange{zeroFilled(rw, l, rt)})
                    .getResult(0);
      auto r5t = RankedTensorType::get({M, k[0], k[1], H, W}, f32);
      Value r5 = tensor::ExpandShapeOp::create(
          rw, l, r5t, r, ArrayRef<ReassociationIndices>{{0, 1, 2}, {3, 4}});
      // Y6[n, m, i, u, j, v] = R'[m, u, v, i, j].
      src = r5;
      srcMap = AffineMap::get(6, 0, {d(1), d(3), d(5), d(2), d(4)}, ctx);
    } else {
      // X^T: [N, H, W, C] -> [N*H*W, C].
      auto xtT = RankedTensorType::get({N, H, W, C}, f32);
      Value xT = linalg::TransposeOp::create(rw, l, a.getX(),
                                             tensor::EmptyOp::create(rw, l, xtT.getShape(), f32),
                                             ArrayRef<int64_t>{0, 2, 3, 1})
                     .getResult()[0];
      Value x2 = tensor::CollapseShapeOp::create(
          rw, l, xT, ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}});
      Value w2 = tensor::CollapseShapeOp::create(
          rw, l, a.getW(), ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
      auto rt = RankedTensorType::get({N * H * W, MK}, f32);
      Value r = linalg::MatmulOp::create(rw, l, TypeRange{rt}, ValueRange{x2, w2},
                                         ValueRange{zeroFilled(rw, l, rt)})
                    .getResult(0);
      auto r6t = RankedTensorType::get({N, H, W, M, k[0], k[1]}, f32);
      Value r6 = tensor::ExpandShapeOp::create(
          rw, l, r6t, r, ArrayRef<ReassociationIndices>{{0, 1, 2}, {3, 4, 5}});
      // [N, M, H, k0, W, k1] <- [N, H, W, M, k0, k1].
      src = r6;
      srcMap = AffineMap::get(6, 0, {d(0), d(2), d(4), d(1), d(3), d(5)}, ctx);
    }
    // The permutation, plus the bias.
    SmallVector<Value> ins{src};
    SmallVector<AffineMap> maps{srcMap};
    if (bias) {
      ins.push_back(a.getB());
      maps.push_back(AffineMap::get(6, 0, {d(1)}, ctx));
    }
    Value y6 = buildElementwiseWithMaps(
        rw, l, full6, ins, maps, [&](OpBuilder &b, Location nl, ValueRange v, Type) {
          return bias ? Value(arith::AddFOp::create(b, nl, v[0], v[1])) : v[0];
        });
    auto fullT = RankedTensorType::get({N, M, H * k[0], W * k[1]}, f32);
    Value y = tensor::CollapseShapeOp::create(
        rw, l, fullT, y6, ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}, {4, 5}});
    // Pads crop the full output; output_padding extends it with zeros (or
    // the bias) at the end.
    int64_t outH = yt.getDimSize(2), outW = yt.getDimSize(3);
    // (A leading crop with output padding can keep the size unchanged.)
    if (fullT.getShape() != yt.getShape() || pb[0] != 0 || pb[1] != 0) {
      int64_t cropH = std::min(outH, H * k[0] - pb[0]), cropW = std::min(outW, W * k[1] - pb[1]);
      auto ct = RankedTensorType::get({N, M, cropH, cropW}, f32);
      Value c = tensor::ExtractSliceOp::create(rw, l, ct, y, ValueRange{}, ValueRange{},
                                               ValueRange{}, ArrayRef<int64_t>{0, 0, pb[0], pb[1]},
                                               ct.getShape(), ArrayRef<int64_t>{1, 1, 1, 1});
      if (cropH != outH || cropW != outW) {
        Value init;
        if (bias) {
          AffineMap ch = AffineMap::get(4, 0, {d(1)}, ctx);
          init = buildElementwiseWithMaps(
              rw, l, yt, {a.getB()}, {ch},
              [](OpBuilder &, Location, ValueRange v, Type) { return v[0]; });
        } else {
          init = zeroFilled(rw, l, yt);
        }
        c = tensor::InsertSliceOp::create(rw, l, c, init, ValueRange{}, ValueRange{},
                                          ValueRange{}, ArrayRef<int64_t>{0, 0, 0, 0},
                                          ct.getShape(), ArrayRef<int64_t>{1, 1, 1, 1});
      }
      y = c;
    }
    (void)pe;
    (void)opad;
    rw.replaceOp(op, y);
    return success();
  }

  LogicalResult matchAndRewrite(ConvTransposeOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto yt = requireStatic(op, op.getY(), "the result");
    auto xt = requireStatic(op, a.getX(), "X");
    auto wt = requireStatic(op, a.getW(), "W");
    if (!yt || !xt || !wt)
      return failure();
    if (op.getAutoPad() != "NOTSET" && op.getAutoPad() != "VALID")
      return op.emitError("cannot lower: ConvTranspose with SAME auto_pad is not lowered yet");
    MLIRContext *ctx = rw.getContext();
    Location l = op.getLoc();
    Type et = xt.getElementType();
    int64_t n = xt.getRank() - 2;
    int64_t group = op.getGroup();
    int64_t Cg = wt.getDimSize(0) / group, Mg = wt.getDimSize(1);
    SmallVector<int64_t> k(wt.getShape().drop_front(2)), s(n, 1), d(n, 1), pb(n, 0), pe(n, 0), opad(n, 0);
    for (int64_t i = 0; i < n; ++i) {
      if (op.getStrides()) s[i] = (*op.getStrides())[i];
      if (op.getDilations()) d[i] = (*op.getDilations())[i];
      if (op.getPads() && op.getAutoPad() == "NOTSET") {
        pb[i] = (*op.getPads())[i];
        pe[i] = (*op.getPads())[i + n];
      }
      if (op.getOutputPadding()) opad[i] = (*op.getOutputPadding())[i];
    }
    if (op.getOutputShape())
      return op.emitError("cannot lower: ConvTranspose output_shape is not lowered yet");
    if (n == 2 && group == 1 && et.isF32() && yt.getElementType().isF32() &&
        k[0] == s[0] && k[1] == s[1] && d[0] == 1 && d[1] == 1)
      return lowerNonOverlapping(op, a, rw, xt, wt, yt, k, pb, pe, opad);
    // Dilate: insert the input with strides s into zeros.
    SmallVector<int64_t> dilShape{xt.getDimSize(0), xt.getDimSize(1)};
    for (int64_t i = 0; i < n; ++i)
      dilShape.push_back((xt.getDimSize(i + 2) - 1) * s[i] + 1);
    auto dilType = RankedTensorType::get(dilShape, et);
    Value zero = arith::ConstantOp::create(rw, l, cast<TypedAttr>(rw.getZeroAttr(et)));
    Value dil = a.getX();
    if (llvm::any_of(s, [](int64_t v) { return v != 1; })) {
      Value z = buildFilled(rw, l, dilType, cast<TypedAttr>(rw.getZeroAttr(et)));
      SmallVector<int64_t> offs(n + 2, 0), strides{1, 1};
      strides.append(s.begin(), s.end());
      dil = tensor::InsertSliceOp::create(rw, l, a.getX(), z, ValueRange{}, ValueRange{}, ValueRange{},
                                          offs, xt.getShape(), strides);
    }
    // Pad (or crop) to (k - 1) * d - pads.
    SmallVector<int64_t> lo{0, 0}, hi{0, 0}, cropLo(n + 2, 0), padShape{dilShape[0], dilShape[1]};
    bool crop = false;
    for (int64_t i = 0; i < n; ++i) {
      int64_t span = (k[i] - 1) * d[i];
      int64_t l0 = span - pb[i], h0 = span - pe[i] + opad[i];
      lo.push_back(std::max<int64_t>(l0, 0));
      hi.push_back(std::max<int64_t>(h0, 0));
      crop |= l0 < 0 || h0 < 0;
      padShape.push_back(dilShape[i + 2] + lo.back() + hi.back());
    }
    Value padded = buildPad(rw, l, RankedTensorType::get(padShape, et), dil, lo, hi, zero);
    if (crop) {
      SmallVector<int64_t> offs{0, 0}, sizes{padShape[0], padShape[1]}, ones(n + 2, 1);
      for (int64_t i = 0; i < n; ++i) {
        int64_t span = (k[i] - 1) * d[i];
        int64_t l0 = span - pb[i], h0 = span - pe[i] + opad[i];
        offs.push_back(l0 < 0 ? -l0 : 0);
        sizes.push_back(padShape[i + 2] - (l0 < 0 ? -l0 : 0) - (h0 < 0 ? -h0 : 0));
      }
      padded = tensor::ExtractSliceOp::create(rw, l, RankedTensorType::get(sizes, et), padded,
                                              ValueRange{}, ValueRange{}, ValueRange{}, offs,
                                              sizes, ones);
    }
    // The flipped, regrouped kernel Wf[f, c, k..] = W[(f / Mg) * Cg + c,
    // f % Mg, K-1-k..] turns the transposed convolution into an ordinary
    // one (stride 1, dilation d) over the dilated, padded input.
    auto dim = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    int64_t M = Mg * group;
    SmallVector<int64_t> wfShape{M, Cg};
    wfShape.append(k.begin(), k.end());
    auto wfType = RankedTensorType::get(wfShape, wt.getElementType());
    SmallVector<AffineExpr> wSrc{group == 1 ? dim(1) : dim(0).floorDiv(Mg) * Cg + dim(1),
                                 group == 1 ? dim(0) : dim(0) % Mg};
    for (int64_t i = 0; i < n; ++i)
      wSrc.push_back(getAffineConstantExpr(k[i] - 1, ctx) - dim(2 + i));
    Value wf = buildElementwiseWithMaps(
        rw, l, wfType, {a.getW()}, {AffineMap::get(2 + n, 0, wSrc, ctx)},
        [](OpBuilder &, Location, ValueRange v, Type) { return v[0]; });
    Value init = biasOrZeros(op, rw, l, a.getB(), yt);
    if (!init)
      return failure();
    Value r;
    if (n == 2 && group == 1 && et.isF32() && yt.getElementType().isF32()) {
      r = linalg::Conv2DNchwFchwOp::create(rw, l, TypeRange{yt}, ValueRange{padded, wf},
                                           ValueRange{init}, rw.getI64TensorAttr({1, 1}),
                                           rw.getI64TensorAttr(d))
              .getResult(0);
    } else {
      // Loops: n, f, o.., c, k..
      int64_t nLoops = 2 + n + 1 + n;
      int64_t cLoop = 2 + n, kBase = 3 + n;
      SmallVector<AffineExpr> xE{dim(0), group == 1 ? dim(cLoop)
                                                    : dim(1).floorDiv(Mg) * Cg + dim(cLoop)};
      SmallVector<AffineExpr> wE{dim(1), dim(cLoop)};
      SmallVector<AffineExpr> oE{dim(0), dim(1)};
      for (int64_t i = 0; i < n; ++i) {
        xE.push_back(dim(2 + i) + dim(kBase + i) * d[i]);
        wE.push_back(dim(kBase + i));
        oE.push_back(dim(2 + i));
      }
      SmallVector<utils::IteratorType> iters(nLoops, utils::IteratorType::reduction);
      for (int64_t i = 0; i < 2 + n; ++i)
        iters[i] = utils::IteratorType::parallel;
      r = linalg::GenericOp::create(
              rw, l, TypeRange{yt}, ValueRange{padded, wf}, ValueRange{init},
              ArrayRef<AffineMap>{AffineMap::get(nLoops, 0, xE, ctx),
                                  AffineMap::get(nLoops, 0, wE, ctx),
                                  AffineMap::get(nLoops, 0, oE, ctx)},
              iters,
              [&](OpBuilder &b, Location nl, ValueRange args) {
                linalg::YieldOp::create(b, nl, mulAdd(b, nl, args[2], args[0], args[1]));
              })
              .getResult(0);
    }
    rw.replaceOp(op, r);
    return success();
  }
};

/// Sliding-window reduction of a padded input: out[n, c, o..] =
/// combine over k.. of xp[n, c, o * s + k * d].
Value windowReduce(OpBuilder &b, Location l, Value xp, RankedTensorType outType,
                   const Window &w, Value init,
                   function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  MLIRContext *ctx = b.getContext();
  int64_t n = w.kernel.size();
  int64_t nLoops = 2 + 2 * n;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> xE{d(0), d(1)};
  xE.append(windowExprs(ctx, w, 2, 2 + n));
  SmallVector<AffineExpr> kE, oE{d(0), d(1)};
  for (int64_t i = 0; i < n; ++i) {
    kE.push_back(d(2 + n + i));
    oE.push_back(d(2 + i));
  }
  Value window = tensor::EmptyOp::create(b, l, w.kernel, outType.getElementType());
  SmallVector<utils::IteratorType> iters(nLoops, utils::IteratorType::parallel);
  for (int64_t i = 0; i < n; ++i)
    iters[2 + n + i] = utils::IteratorType::reduction;
  return linalg::GenericOp::create(
             b, l, TypeRange{outType}, ValueRange{xp, window}, ValueRange{init},
             ArrayRef<AffineMap>{AffineMap::get(nLoops, 0, xE, ctx),
                                 AffineMap::get(nLoops, 0, kE, ctx),
                                 AffineMap::get(nLoops, 0, oE, ctx)},
             iters,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, combine(nb, nl, args[2], args[0]));
             })
      .getResult(0);
}

struct MaxPoolLowering : OpConversionPattern<MaxPoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(MaxPoolOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    if (!op.getIndices().use_empty())
      return op.emitError("cannot lower: the Indices output of MaxPool is not lowered yet");
    auto yt = requireStatic(op, op.getY(), "the result");
    auto xt = requireStatic(op, a.getX(), "X");
    if (!yt || !xt)
      return failure();
    Window w;
    if (failed(resolveWindow(op, xt, yt, op.getKernelShape(), op.getStrides(),
                             op.getDilations(), op.getPads(), op.getAutoPad(), w)))
      return failure();
    Location l = op.getLoc();
    TypedAttr lowest = lowestValue(xt.getElementType());
    Value xp = padSpatial(rw, l, a.getX(), w.padBegin, w.padEnd, lowest);
    Value r = windowReduce(rw, l, xp, yt, w, buildFilled(rw, l, yt, lowest),
                           [](OpBuilder &b, Location nl, Value acc, Value x) -> Value {
                             return isF(x.getType()) ? Value(arith::MaximumFOp::create(b, nl, acc, x))
                                                     : Value(arith::MaxSIOp::create(b, nl, acc, x));
                           });
    auto it = RankedTensorType::get(yt.getShape(), rw.getI64Type());
    Value indices = tensor::EmptyOp::create(rw, l, it.getShape(), it.getElementType());
    if (indices.getType() != op.getIndices().getType())
      indices = tensor::CastOp::create(rw, l, op.getIndices().getType(), indices);
    rw.replaceOp(op, {r, indices});
    return success();
  }
};

struct AveragePoolLowering : OpConversionPattern<AveragePoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(AveragePoolOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto yt = requireStatic(op, op.getY(), "the result");
    auto xt = requireStatic(op, a.getX(), "X");
    if (!yt || !xt)
      return failure();
    Window w;
    if (failed(resolveWindow(op, xt, yt, op.getKernelShape(), op.getStrides(),
                             op.getDilations(), op.getPads(), op.getAutoPad(), w)))
      return failure();
    Location l = op.getLoc();
    Type et = xt.getElementType();
    TypedAttr zero = cast<TypedAttr>(rw.getZeroAttr(et));
    auto sum = [](OpBuilder &b, Location nl, Value acc, Value x) -> Value {
      return arith::AddFOp::create(b, nl, acc, x);
    };
    Value xp = padSpatial(rw, l, a.getX(), w.padBegin, w.padEnd, zero);
    Value total = windowReduce(rw, l, xp, yt, w, buildFilled(rw, l, yt, zero), sum);
    // The divisor: how many elements of each window count, found by pooling
    // ones (the declared pads count with count_include_pad, the extra
    // ceil_mode room never does).
    auto onesType = RankedTensorType::get(
        SmallVector<int64_t>{1, 1}, et);
    SmallVector<int64_t> onesShape{1, 1};
    for (int64_t i = 2; i < xt.getRank(); ++i)
      onesShape.push_back(xt.getDimSize(i));
    onesType = RankedTensorType::get(onesShape, et);
    Value ones = buildFilled(rw, l, onesType, rw.getFloatAttr(et, 1.0));
    int64_t n = w.kernel.size();
    SmallVector<int64_t> declBegin(n, 0), declEnd(n, 0), extraEnd(n, 0);
    for (int64_t i = 0; i < n; ++i) {
      int64_t pb = 0, pe = 0;
      if (op.getAutoPad() == "NOTSET" && op.getPads()) {
        pb = (*op.getPads())[i];
        pe = (*op.getPads())[i + n];
      } else if (op.getAutoPad() != "NOTSET" && op.getAutoPad() != "VALID") {
        pb = w.padBegin[i];
        pe = w.padEnd[i];
      }
      declBegin[i] = pb;
      declEnd[i] = std::min(pe, w.padEnd[i]);
      extraEnd[i] = w.padEnd[i] - declEnd[i];
    }
    Value onesPadded;
    if (op.getCountIncludePad()) {
      onesPadded = padSpatial(rw, l, ones, declBegin, declEnd, rw.getFloatAttr(et, 1.0));
      onesPadded = padSpatial(rw, l, onesPadded, SmallVector<int64_t>(n, 0), extraEnd, zero);
    } else {
      onesPadded = padSpatial(rw, l, ones, w.padBegin, w.padEnd, zero);
    }
    SmallVector<int64_t> countShape{1, 1};
    countShape.append(yt.getShape().begin() + 2, yt.getShape().end());
    auto countType = RankedTensorType::get(countShape, et);
    Value count = windowReduce(rw, l, onesPadded, countType, w,
                               buildFilled(rw, l, countType, zero), sum);
    Value r = buildElementwise(rw, l, yt, {total, count},
                               [](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
                                 return arith::DivFOp::create(b, nl, v[0], v[1]);
                               });
    rw.replaceOp(op, r);
    return success();
  }
};

/// Global pools reduce all spatial dims into size-1 dims.
template <typename OpTy, bool IsMax> struct GlobalPoolLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto yt = requireStatic(op, op.getY(), "the result");
    auto xt = requireStatic(op, a.getX(), "X");
    if (!yt || !xt)
      return failure();
    MLIRContext *ctx = rw.getContext();
    Location l = op.getLoc();
    int64_t rank = xt.getRank();
    SmallVector<AffineExpr> oE{getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)};
    oE.append(rank - 2, getAffineConstantExpr(0, ctx));
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::reduction);
    iters[0] = iters[1] = utils::IteratorType::parallel;
    Type et = xt.getElementType();
    TypedAttr initV = IsMax ? lowestValue(et) : cast<TypedAttr>(rw.getZeroAttr(et));
    Value r = linalg::GenericOp::create(
                  rw, l, TypeRange{yt}, ValueRange{a.getX()},
                  ValueRange{buildFilled(rw, l, yt, initV)},
                  ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, ctx),
                                      AffineMap::get(rank, 0, oE, ctx)},
                  iters,
                  [&](OpBuilder &b, Location nl, ValueRange args) {
                    Value v = IsMax ? Value(arith::MaximumFOp::create(b, nl, args[1], args[0]))
                                    : Value(arith::AddFOp::create(b, nl, args[1], args[0]));
                    linalg::YieldOp::create(b, nl, v);
                  })
                  .getResult(0);
    if (!IsMax) {
      int64_t count = 1;
      for (int64_t i = 2; i < rank; ++i)
        count *= xt.getDimSize(i);
      r = buildElementwise(rw, l, yt, {r}, [&](OpBuilder &b, Location nl, ValueRange v, Type t) -> Value {
        return arith::DivFOp::create(b, nl, v[0], scalarConst(b, nl, t, count));
      });
    }
    rw.replaceOp(op, r);
    return success();
  }
};

} // namespace

Value buildConv2DS8(Operation *op, OpBuilder &b, Value x, Value w, Value padValue,
                    RankedTensorType accType, std::optional<ArrayRef<int64_t>> strides,
                    std::optional<ArrayRef<int64_t>> dilations,
                    std::optional<ArrayRef<int64_t>> pads, StringRef autoPad,
                    Value *windowSums, int64_t group) {
  Location l = op->getLoc();
  auto xt = cast<RankedTensorType>(x.getType()), wt = cast<RankedTensorType>(w.getType());
  const bool depthwise = group != 1;
  if (depthwise && (windowSums || wt.getDimSize(1) != 1 || group != wt.getDimSize(0) ||
                    group != xt.getDimSize(1))) {
    op->emitError("cannot lower: an int8 grouped convolution other than depthwise without "
                  "window sums");
    return {};
  }
  SmallVector<int64_t> kernel(wt.getShape().drop_front(2));
  Window win;
  if (failed(resolveWindow(op, xt, accType, kernel, strides, dilations, pads, autoPad, win)))
    return {};
  Value xp = x;
  if (llvm::any_of(win.padBegin, [](int64_t v) { return v != 0; }) ||
      llvm::any_of(win.padEnd, [](int64_t v) { return v != 0; })) {
    SmallVector<int64_t> lo{0, 0}, hi{0, 0}, shape{xt.getDimSize(0), xt.getDimSize(1)};
    for (size_t i = 0; i < kernel.size(); ++i) {
      lo.push_back(win.padBegin[i]);
      hi.push_back(win.padEnd[i]);
      shape.push_back(xt.getDimSize(i + 2) + win.padBegin[i] + win.padEnd[i]);
    }
    xp = buildPad(b, l, RankedTensorType::get(shape, xt.getElementType()), x, lo, hi, padValue);
  }
  auto st = b.getI64TensorAttr(win.strides), dl = b.getI64TensorAttr(win.dilations);
  if (depthwise) {
    // One input channel per output channel: W [M, 1, kh, kw] as [M, kh, kw].
    Value w3 = tensor::CollapseShapeOp::create(b, l, w,
                                               ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}});
    return linalg::DepthwiseConv2DNchwChwOp::create(b, l, TypeRange{accType}, ValueRange{xp, w3},
                                                    ValueRange{zeroFilled(b, l, accType)}, st, dl)
        .getResult(0);
  }
  Value acc = linalg::Conv2DNchwFchwOp::create(b, l, TypeRange{accType}, ValueRange{xp, w},
                                               ValueRange{zeroFilled(b, l, accType)}, st, dl)
                  .getResult(0);
  if (windowSums) {
    // Sum of each window over channels and taps: a convolution with a
    // single all-ones filter (the same kernel).
    auto onesType = RankedTensorType::get({1, wt.getDimSize(1), kernel[0], kernel[1]},
                                          wt.getElementType());
    Value ones = arith::ConstantOp::create(
        b, l, DenseElementsAttr::get(onesType, b.getIntegerAttr(wt.getElementType(), 1)));
    auto sumType = RankedTensorType::get(
        {accType.getDimSize(0), 1, accType.getDimSize(2), accType.getDimSize(3)},
        accType.getElementType());
    *windowSums = linalg::Conv2DNchwFchwOp::create(b, l, TypeRange{sumType},
                                                   ValueRange{xp, ones},
                                                   ValueRange{zeroFilled(b, l, sumType)}, st, dl)
                      .getResult(0);
  }
  return acc;
}

void populateContractionPatterns(RewritePatternSet &p) {
  p.add<MatMulLowering, GemmLowering, ConvLowering, ConvTransposeLowering, MaxPoolLowering, AveragePoolLowering,
        GlobalPoolLowering<GlobalAveragePoolOp, false>,
        GlobalPoolLowering<GlobalMaxPoolOp, true>>(p.getContext());
}

} // namespace quantc::lowering
