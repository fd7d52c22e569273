//===- FuseElementwise.cpp - producer-consumer fusion of elementwise ops --===//
#include "quantc/Target/CPU/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace quantc::cpu {
#define GEN_PASS_DEF_CPUFUSEELEMENTWISE
#include "quantc/Target/CPU/Passes.h.inc"
} // namespace quantc::cpu

using namespace mlir;

namespace {
struct FuseElementwisePass
    : quantc::cpu::impl::CPUFuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::ControlFusionFn onlyUse = [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      // Ops marked for a runtime kernel (qc.kernel) keep their operands.
      if (fused->getOwner()->hasAttr("qc.kernel") || (producer && producer->hasAttr("qc.kernel")))
        return false;
      return producer && producer->hasOneUse();
    };
    linalg::populateElementwiseOpsFusionPatterns(patterns, onlyUse);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
