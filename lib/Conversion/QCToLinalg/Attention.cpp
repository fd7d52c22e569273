//===- Attention.cpp - qc.attention to its destination-passing form -------===//
//
// qc.attention becomes qc.attention_kernel writing a tensor.empty of the
// output's sizes (batch, heads and rows of the query, the value's head
// size); one-shot bufferization gives it the output buffer and
// quantc-cpu-kernel-calls makes it a call of the runtime's kernel.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace quantc::qc;

namespace quantc::lowering {
namespace {
struct AttentionLowering : OpConversionPattern<AttentionOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(AttentionOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto ot = cast<RankedTensorType>(op.getOutput().getType());
    Location l = op.getLoc();
    SmallVector<OpFoldResult> q = mixedSizes(rw, l, a.getQuery());
    SmallVector<OpFoldResult> v = mixedSizes(rw, l, a.getValue());
    SmallVector<OpFoldResult> sizes{q[0], q[1], q[2], v[3]};
    Value init = emptyTensor(rw, l, ot, sizes);
    Value mask = isNoneValue(a.getMask()) ? Value() : a.getMask();
    auto k = AttentionKernelOp::create(rw, l, TypeRange{ot}, a.getQuery(), a.getKey(),
                                       a.getValue(), mask, init, op.getScaleAttr());
    rw.replaceOp(op, k->getResults());
    return success();
  }
};
} // namespace

void populateAttentionPatterns(RewritePatternSet &p) { p.add<AttentionLowering>(p.getContext()); }

} // namespace quantc::lowering
