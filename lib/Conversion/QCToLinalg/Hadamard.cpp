//===- Hadamard.cpp - qc.hadamard to a marked contraction -----------------===//
//
// y = x (F (x) S) as one linalg.generic over [M, n] (x's leading dims
// collapsed): y[r, o] += x[r, i] * F[i / p, o / p] * (-1)^popcount(i & o &
// (p - 1)), the Sylvester sign computed from the indices, so no n x n
// matrix exists. Marked qc.kernel = "hadamard", quantc-cpu-kernel-calls
// makes it a call of the runtime's fast transform (qc_rt_hadamard_f32);
// unmarked or elsewhere it is a dense loop nest with the same meaning.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace quantc::qc;

namespace quantc::lowering {
namespace {
struct HadamardLowering : OpConversionPattern<HadamardOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(HadamardOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto xt = cast<RankedTensorType>(a.getX().getType());
    auto ft = cast<RankedTensorType>(a.getFactor().getType());
    auto rt = cast<RankedTensorType>(op.getY().getType());
    int64_t rank = xt.getRank(), n = xt.getDimSize(rank - 1), m = ft.getDimSize(0), p = n / m;
    Location l = op.getLoc();
    MLIRContext *ctx = rw.getContext();
    Value X = a.getX();
    if (rank == 1)
      X = tensor::ExpandShapeOp::create(rw, l, RankedTensorType::get({1, n}, xt.getElementType()),
                                        X, SmallVector<ReassociationIndices>{{0, 1}});
    else if (rank > 2)
      X = collapseLeading(rw, l, X, rank - 1);
    auto x2 = cast<RankedTensorType>(X.getType());
    auto yt = RankedTensorType::get(x2.getShape(), rw.getF32Type());
    SmallVector<OpFoldResult> sizes;
    if (!yt.hasStaticShape())
      sizes = {tensor::DimOp::create(rw, l, X, 0).getResult(), rw.getIndexAttr(n)};
    Value init = buildFilled(rw, l, yt, rw.getF32FloatAttr(0.0f), sizes);
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineMap> maps{AffineMap::get(3, 0, {d(0), d(2)}, ctx),
                                AffineMap::get(3, 0, {d(2).floorDiv(p), d(1).floorDiv(p)}, ctx),
                                AffineMap::get(3, 0, {d(0), d(1)}, ctx)};
    auto gen = linalg::GenericOp::create(
        rw, l, TypeRange{yt}, ValueRange{X, a.getFactor()}, ValueRange{init}, maps,
        {utils::IteratorType::parallel, utils::IteratorType::parallel,
         utils::IteratorType::reduction},
        [&](OpBuilder &b, Location nl, ValueRange v) {
          Type i64 = b.getI64Type();
          auto idx = [&](int64_t dim) {
            return arith::IndexCastOp::create(b, nl, i64, linalg::IndexOp::create(b, nl, dim));
          };
          Value mask = arith::ConstantIntOp::create(b, nl, p - 1, 64);
          Value bits = arith::AndIOp::create(
              b, nl, arith::AndIOp::create(b, nl, idx(1), idx(2)), mask);
          Value odd = arith::TruncIOp::create(b, nl, b.getI1Type(),
                                              math::CtPopOp::create(b, nl, bits));
          Value prod = arith::MulFOp::create(b, nl, v[0], v[1]);
          Value term = arith::SelectOp::create(b, nl, odd, arith::NegFOp::create(b, nl, prod), prod);
          linalg::YieldOp::create(b, nl, ValueRange{arith::AddFOp::create(b, nl, v[2], term)});
        });
    gen->setAttr("qc.kernel", rw.getStringAttr("hadamard"));
    Value y = gen.getResult(0);
    if (rank == 1)
      y = tensor::CollapseShapeOp::create(rw, l, rt, y, SmallVector<ReassociationIndices>{{0, 1}});
    else if (rank > 2)
      y = expandLeading(rw, l, y, rt, a.getX());
    rw.replaceOp(op, y);
    return success();
  }
};
} // namespace

void populateHadamardPatterns(RewritePatternSet &p) { p.add<HadamardLowering>(p.getContext()); }

} // namespace quantc::lowering
