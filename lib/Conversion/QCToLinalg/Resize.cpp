//===- Resize.cpp - qc.resize (nearest, linear) to linalg -----------------===//
//
// Each output element computes its source coordinate per axis with the
// op's coordinate_transformation_mode, then reads the input with
// tensor.extract: one element (nearest) or the 2^k corners of the resized
// axes (linear, weights 1 - t and t per axis).
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace quantc::qc;

namespace quantc::lowering {
namespace {

struct ResizeLowering : OpConversionPattern<ResizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ResizeOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto yt = requireStatic(op, op.getY(), "the result");
    auto xt = requireStatic(op, a.getX(), "X");
    if (!yt || !xt)
      return failure();
    StringRef mode = op.getMode(), ctm = op.getCoordinateTransformationMode();
    if (mode == "cubic" || op.getAntialias() || op.getAxes() ||
        op.getKeepAspectRatioPolicy() != "stretch" || ctm == "tf_crop_and_resize" ||
        ctm == "half_pixel_symmetric")
      return op.emitError() << "cannot lower: Resize mode '" << mode << "' with '" << ctm
                            << "' (or antialias/axes/aspect policy) is not lowered yet";
    if (!isa<FloatType>(xt.getElementType()))
      return op.emitError("cannot lower: Resize of non-float tensors is not lowered yet");
    int64_t rank = xt.getRank();
    // Per-axis scale: the scales input, else sizes / input size.
    SmallVector<double> scales(rank, 1.0);
    DenseFPElementsAttr sattr;
    if (!isNoneValue(a.getScales()) && matchPattern(a.getScales(), m_Constant(&sattr)) &&
        sattr.getNumElements() == rank) {
      int64_t i = 0;
      for (const APFloat &v : sattr.getValues<APFloat>())
        scales[i++] = v.convertToDouble();
    } else if (!isNoneValue(a.getScales()) &&
               cast<ShapedType>(a.getScales().getType()).getNumElements() != 0) {
      return op.emitError("cannot lower: Resize scales must be a constant");
    } else {
      for (int64_t i = 0; i < rank; ++i)
        scales[i] = static_cast<double>(yt.getDimSize(i)) / xt.getDimSize(i);
    }
    SmallVector<int64_t> resized;
    for (int64_t i = 0; i < rank; ++i)
      if (xt.getDimSize(i) != yt.getDimSize(i) || scales[i] != 1.0)
        resized.push_back(i);
    if (mode == "linear" && resized.size() > 3)
      return op.emitError("cannot lower: linear Resize of more than 3 axes");
    Location l = op.getLoc();
    MLIRContext *ctx = rw.getContext();
    Value x = a.getX();
    Value init = tensor::EmptyOp::create(rw, l, yt.getShape(), yt.getElementType());
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    std::string ctmS = ctm.str(), nm = op.getNearestMode().str();
    bool linear = mode == "linear";
    // Nearest upsampling by whole factors (asymmetric, floor: an FPN's
    // 2x/4x/8x): the source index is out floordiv k, exactly, so X is an
    // input read through that affine map — no coordinate arithmetic per
    // element, and elementwise fusion can fold it into its consumer.
    bool wholeFactors = !linear && ctmS == "asymmetric" && nm == "floor";
    SmallVector<AffineExpr> srcExprs;
    for (int64_t i = 0; i < rank && wholeFactors; ++i) {
      int64_t in = xt.getDimSize(i), out = yt.getDimSize(i);
      int64_t k = in > 0 ? out / in : 0;
      if (k < 1 || out != in * k || scales[i] != static_cast<double>(k))
        wholeFactors = false;
      else
        srcExprs.push_back(k == 1 ? getAffineDimExpr(i, ctx) : getAffineDimExpr(i, ctx).floorDiv(k));
    }
    if (wholeFactors) {
      auto srcMap = AffineMap::get(rank, 0, srcExprs, ctx);
      Value r = linalg::GenericOp::create(
                    rw, l, TypeRange{yt}, ValueRange{x}, ValueRange{init},
                    ArrayRef<AffineMap>{srcMap, AffineMap::getMultiDimIdentityMap(rank, ctx)},
                    iters,
                    [&](OpBuilder &b, Location nl, ValueRange args) {
                      linalg::YieldOp::create(b, nl, args[0]);
                    })
                    .getResult(0);
      rw.replaceOp(op, r);
      return success();
    }
    Value r = linalg::GenericOp::create(
        rw, l, TypeRange{yt}, ValueRange{}, ValueRange{init},
        ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, ctx)}, iters,
        [&](OpBuilder &b, Location nl, ValueRange) {
          Type f32 = b.getF32Type();
          auto fc = [&](double v) { return scalarConst(b, nl, f32, v); };
          auto toIndex = [&](Value f) -> Value {
            return arith::IndexCastOp::create(b, nl, b.getIndexType(),
                                              arith::FPToSIOp::create(b, nl, b.getI64Type(), f));
          };
          // Source coordinate of output index `i` along axis `ax`.
          auto source = [&](int64_t ax) -> Value {
            Value o = arith::SIToFPOp::create(
                b, nl, f32, arith::IndexCastOp::create(b, nl, b.getI64Type(),
                                                       linalg::IndexOp::create(b, nl, ax)));
            double sc = scales[ax];
            int64_t in = xt.getDimSize(ax), out = yt.getDimSize(ax);
            if (ctmS == "asymmetric")
              return arith::DivFOp::create(b, nl, o, fc(sc));
            if (ctmS == "align_corners")
              return out == 1 ? fc(0) : Value(arith::MulFOp::create(b, nl, o, fc(double(in - 1) / (out - 1))));
            if (ctmS == "tf_half_pixel_for_nn")
              return arith::DivFOp::create(b, nl, arith::AddFOp::create(b, nl, o, fc(0.5)), fc(sc));
            Value hp = arith::SubFOp::create(
                b, nl, arith::DivFOp::create(b, nl, arith::AddFOp::create(b, nl, o, fc(0.5)), fc(sc)),
                fc(0.5));
            if (ctmS == "pytorch_half_pixel" && out <= 1)
              return fc(0);
            return hp;
          };
          auto clampF = [&](Value v, double lo, double hi) -> Value {
            return arith::MinimumFOp::create(b, nl, arith::MaximumFOp::create(b, nl, v, fc(lo)), fc(hi));
          };
          SmallVector<Value> base;
          for (int64_t i = 0; i < rank; ++i)
            base.push_back(linalg::IndexOp::create(b, nl, i));
          if (!linear) {
            SmallVector<Value> coords = base;
            for (int64_t ax : resized) {
              Value s = source(ax);
              Value v;
              if (nm == "floor")
                v = math::FloorOp::create(b, nl, s);
              else if (nm == "ceil")
                v = math::CeilOp::create(b, nl, s);
              else {
                // round half toward floor or ceil
                Value fl = math::FloorOp::create(b, nl, s);
                Value frac = arith::SubFOp::create(b, nl, s, fl);
                Value isHalf = arith::CmpFOp::create(b, nl, arith::CmpFPredicate::OEQ, frac, fc(0.5));
                Value rounded = math::RoundOp::create(b, nl, s);
                Value half = nm == "round_prefer_ceil" ? Value(math::CeilOp::create(b, nl, s)) : fl;
                v = arith::SelectOp::create(b, nl, isHalf, half, rounded);
              }
              coords[ax] = toIndex(clampF(v, 0, xt.getDimSize(ax) - 1));
            }
            linalg::YieldOp::create(b, nl, tensor::ExtractOp::create(b, nl, x, coords).getResult());
            return;
          }
          // linear: corners and weights per resized axis.
          SmallVector<Value> lo, hi, t;
          for (int64_t ax : resized) {
            int64_t in = xt.getDimSize(ax);
            Value s = clampF(source(ax), 0, in - 1);
            Value fl = math::FloorOp::create(b, nl, s);
            t.push_back(arith::SubFOp::create(b, nl, s, fl));
            lo.push_back(toIndex(fl));
            hi.push_back(toIndex(clampF(arith::AddFOp::create(b, nl, fl, fc(1)), 0, in - 1)));
          }
          Value acc = fc(0);
          for (unsigned corner = 0; corner < (1u << resized.size()); ++corner) {
            SmallVector<Value> coords = base;
            Value w = fc(1);
            for (size_t j = 0; j < resized.size(); ++j) {
              bool up = corner & (1u << j);
              coords[resized[j]] = up ? hi[j] : lo[j];
              w = arith::MulFOp::create(b, nl, w,
                                        up ? t[j] : Value(arith::SubFOp::create(b, nl, fc(1), t[j])));
            }
            Value v = tensor::ExtractOp::create(b, nl, x, coords);
            if (v.getType() != f32)
              v = arith::ExtFOp::create(b, nl, f32, v);
            acc = arith::AddFOp::create(b, nl, acc, arith::MulFOp::create(b, nl, w, v));
          }
          Type et = yt.getElementType();
          if (et != f32)
            acc = arith::TruncFOp::create(b, nl, et, acc);
          linalg::YieldOp::create(b, nl, acc);
        }).getResult(0);
    rw.replaceOp(op, r);
    return success();
  }
};

/// GatherElements: out[i..] = data[i.. with i[axis] = indices[i..]].
struct GatherElementsLowering : OpConversionPattern<GatherElementsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(GatherElementsOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireStatic(op, op.getOutput(), "the result");
    auto dt = requireStatic(op, a.getData(), "the data");
    if (!rt || !dt || !requireStatic(op, a.getIndices(), "the indices"))
      return failure();
    MLIRContext *ctx = rw.getContext();
    Location l = op.getLoc();
    int64_t rank = rt.getRank();
    int64_t axis = op.getAxis();
    if (axis < 0)
      axis += rank;
    Value data = a.getData();
    int64_t axisDim = dt.getDimSize(axis);
    Value init = tensor::EmptyOp::create(rw, l, rt.getShape(), rt.getElementType());
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    Value r = linalg::GenericOp::create(
                  rw, l, TypeRange{rt}, ValueRange{a.getIndices()}, ValueRange{init},
                  ArrayRef<AffineMap>{id, id}, iters,
                  [&](OpBuilder &b, Location nl, ValueRange args) {
                    Value idx = args[0];
                    if (!idx.getType().isInteger(64))
                      idx = arith::ExtSIOp::create(b, nl, b.getI64Type(), idx);
                    Value neg = arith::CmpIOp::create(b, nl, arith::CmpIPredicate::slt, idx,
                                                      scalarConst(b, nl, b.getI64Type(), 0));
                    idx = arith::SelectOp::create(
                        b, nl, neg,
                        arith::AddIOp::create(b, nl, idx, scalarConst(b, nl, b.getI64Type(), axisDim)),
                        idx);
                    SmallVector<Value> coords;
                    for (int64_t i = 0; i < rank; ++i)
                      coords.push_back(i == axis ? Value(arith::IndexCastOp::create(b, nl, b.getIndexType(), idx))
                                                 : Value(linalg::IndexOp::create(b, nl, i)));
                    linalg::YieldOp::create(b, nl, tensor::ExtractOp::create(b, nl, data, coords).getResult());
                  })
                  .getResult(0);
    rw.replaceOp(op, r);
    return success();
  }
};

} // namespace

void populateResizePatterns(RewritePatternSet &p) {
  p.add<ResizeLowering, GatherElementsLowering>(p.getContext());
}

} // namespace quantc::lowering
