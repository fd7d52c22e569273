//===- ControlFlow.cpp - qc.if to scf.if ----------------------------------===//
//
// qc.if becomes scf.if on the one boolean of its condition; the branch
// regions move over as they are (their qc ops are lowered by the other
// patterns) and qc.yield becomes scf.yield, with a tensor.cast where a
// branch's type is more precise than the result's.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace quantc::qc;

namespace {
struct IfLowering : OpConversionPattern<IfOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(IfOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto condType = dyn_cast<RankedTensorType>(a.getCond().getType());
    if (!condType || !condType.hasStaticShape() || condType.getNumElements() != 1)
      return op.emitError("cannot lower: the If condition must be a static one-element tensor");
    for (Type t : op.getResultTypes())
      if (!cast<TensorType>(t).hasRank())
        return op.emitError("cannot lower: an If result has no known rank");
    Location l = op.getLoc();
    SmallVector<Value> zeros(condType.getRank(), arith::ConstantIndexOp::create(rw, l, 0));
    Value cond = tensor::ExtractOp::create(rw, l, a.getCond(), zeros);
    auto scfIf = scf::IfOp::create(rw, l, op.getResultTypes(), cond, /*addThenBlock=*/false,
                                   /*addElseBlock=*/false);
    rw.inlineRegionBefore(op.getThenBranch(), scfIf.getThenRegion(), scfIf.getThenRegion().end());
    rw.inlineRegionBefore(op.getElseBranch(), scfIf.getElseRegion(), scfIf.getElseRegion().end());
    rw.replaceOp(op, scfIf.getResults());
    return success();
  }
};

struct YieldLowering : OpConversionPattern<YieldOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(YieldOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto parent = dyn_cast<scf::IfOp>(op->getParentOp());
    if (!parent)
      return failure(); // lowered once its qc.if has become scf.if
    SmallVector<Value> values;
    for (auto [v, t] : llvm::zip(a.getValues(), parent.getResultTypes()))
      values.push_back(v.getType() == t ? v : tensor::CastOp::create(rw, op.getLoc(), t, v));
    rw.replaceOpWithNewOp<scf::YieldOp>(op, values);
    return success();
  }
};
} // namespace

void quantc::lowering::populateControlFlowPatterns(RewritePatternSet &patterns) {
  patterns.add<IfLowering, YieldLowering>(patterns.getContext());
}
