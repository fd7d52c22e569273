//===- PadInPlace.cpp - elementwise producers written into padded buffers -===//
//
// quantc-cpu-pad-in-place (Passes.td): y = pad(f(x)) with f an elementwise
// linalg.generic used only by the pad becomes f written straight into the
// interior of the padded tensor, and only the border slabs filled with the
// pad value. Without it a convolution's padded input cost a fill of the
// whole padded buffer, the producer's own buffer and a copy between them.
//
//===----------------------------------------------------------------------===//
#include "quantc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace quantc::cpu {
#define GEN_PASS_DEF_CPUPADINPLACE
#include "quantc/Target/CPU/Passes.h.inc"
} // namespace quantc::cpu

using namespace mlir;

namespace {

/// Padded buffers of elements wider than a byte smaller than this keep the
/// separate copy (see matchAndRewrite).
constexpr int64_t kMinWideBytes = 2 << 20;

struct PadIntoProducer : OpRewritePattern<tensor::PadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::PadOp pad, PatternRewriter &rw) const override {
    Value padValue = pad.getConstantPaddingValue();
    auto producer = pad.getSource().getDefiningOp<linalg::GenericOp>();
    if (!padValue || !producer || producer->getNumResults() != 1 ||
        !pad.getSource().hasOneUse() || producer->hasAttr("qc.kernel"))
      return rw.notifyMatchFailure(pad, "not a constant pad of a single-use generic");
    if (producer.getNumParallelLoops() != producer.getNumLoops())
      return rw.notifyMatchFailure(pad, "producer has reductions");
    OpOperand *init = producer.getDpsInitOperand(0);
    if (!producer.getMatchingIndexingMap(init).isIdentity() ||
        producer.payloadUsesValueFromOperand(init))
      return rw.notifyMatchFailure(pad, "producer reads its output or permutes it");
    auto srcType = dyn_cast<RankedTensorType>(pad.getSource().getType());
    RankedTensorType padType = pad.getResultType();
    if (!srcType || !srcType.hasStaticShape() || !padType.hasStaticShape())
      return rw.notifyMatchFailure(pad, "dynamic shapes");
    auto low = pad.getStaticLow(), high = pad.getStaticHigh();
    if (llvm::any_of(low, ShapedType::isDynamic) || llvm::any_of(high, ShapedType::isDynamic) ||
        llvm::any_of(low, [](int64_t v) { return v < 0; }) ||
        llvm::any_of(high, [](int64_t v) { return v < 0; }))
      return rw.notifyMatchFailure(pad, "dynamic or negative padding");

    // Measured (docs/performance-log.md, session 26): for f32 buffers that
    // fit in L2 the producer writing misaligned padded rows cost more than
    // the copy it saves (PP-OCRv4 rec w8a8 9.0-9.3 vs 8.6 ms); from 2 MiB up
    // (det's 3-13 MB depthwise inputs) the saved fill and copy win.
    const int64_t bytes = padType.getNumElements() *
                          std::max<int64_t>(1, padType.getElementTypeBitWidth() / 8);
    if (padType.getElementTypeBitWidth() > 8 && bytes < kMinWideBytes)
      return rw.notifyMatchFailure(pad, "small buffer of wide elements");
    // The pad value may be a constant inside the pad's region.
    Attribute padAttr;
    if (!matchPattern(padValue, m_Constant(&padAttr)) || !isa<TypedAttr>(padAttr)) {
      padAttr = nullptr;
      if (pad.getRegion().isAncestor(padValue.getParentRegion()))
        return rw.notifyMatchFailure(pad, "pad value computed inside the pad");
    }

    Location loc = pad.getLoc();
    OpBuilder::InsertionGuard guard(rw);
    unsigned rank = padType.getRank();
    SmallVector<OpFoldResult> zeros(rank, rw.getIndexAttr(0)), ones(rank, rw.getIndexAttr(1));
    SmallVector<OpFoldResult> lowOfr, srcSizes;
    for (unsigned d = 0; d < rank; ++d) {
      lowOfr.push_back(rw.getIndexAttr(low[d]));
      srcSizes.push_back(rw.getIndexAttr(srcType.getDimSize(d)));
    }
    // The producer computes into the interior.
    rw.setInsertionPoint(producer);
    Value result = tensor::EmptyOp::create(rw, loc, padType.getShape(), padType.getElementType());
    Value interior = tensor::ExtractSliceOp::create(rw, loc, srcType, result, lowOfr, srcSizes, ones);
    rw.modifyOpInPlace(producer, [&] { init->set(interior); });
    rw.setInsertionPoint(pad);
    if (padAttr)
      padValue = arith::ConstantOp::create(rw, loc, cast<TypedAttr>(padAttr));
    result = tensor::InsertSliceOp::create(rw, loc, producer->getResult(0), result, lowOfr,
                                           srcSizes, ones);
    // The border: per padded dimension, the slab before and the slab after
    // the interior, over the full extent of every other dimension.
    for (unsigned d = 0; d < rank; ++d) {
      for (int side = 0; side < 2; ++side) {
        int64_t width = side == 0 ? low[d] : high[d];
        if (width == 0)
          continue;
        SmallVector<OpFoldResult> offsets(zeros), sizes;
        SmallVector<int64_t> shape(padType.getShape());
        shape[d] = width;
        for (int64_t s : shape)
          sizes.push_back(rw.getIndexAttr(s));
        if (side == 1)
          offsets[d] = rw.getIndexAttr(low[d] + srcType.getDimSize(d));
        auto slabType = RankedTensorType::get(shape, padType.getElementType());
        Value slab = tensor::ExtractSliceOp::create(rw, loc, slabType, result, offsets, sizes, ones);
        Value filled = linalg::FillOp::create(rw, loc, padValue, slab).getResult(0);
        result = tensor::InsertSliceOp::create(rw, loc, filled, result, offsets, sizes, ones);
      }
    }
    rw.replaceOp(pad, result);
    return success();
  }
};

struct PadInPlacePass : quantc::cpu::impl::CPUPadInPlaceBase<PadInPlacePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<PadIntoProducer>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
