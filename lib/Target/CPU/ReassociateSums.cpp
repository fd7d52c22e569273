//===- ReassociateSums.cpp - float sum reductions that LLVM vectorizes ----===//
//
// quantc-cpu-reassociate-sums (Passes.td): the accumulating `arith.addf`
// of a linalg reduction gets the `reassoc` fast-math flag, so that LLVM's
// loop vectorizer may split the sum over vector lanes (without it an f32
// sum over the innermost loop stays one scalar add per element, in order).
//
//===----------------------------------------------------------------------===//
#include "quantc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace quantc::cpu {
#define GEN_PASS_DEF_CPUREASSOCIATESUMS
#include "quantc/Target/CPU/Passes.h.inc"
} // namespace quantc::cpu

using namespace mlir;

namespace {

struct ReassociateSumsPass : quantc::cpu::impl::CPUReassociateSumsBase<ReassociateSumsPass> {
  void runOnOperation() override {
    getOperation().walk([](linalg::LinalgOp op) {
      if (op.getNumReductionLoops() == 0 || op->getNumRegions() != 1 ||
          op->getRegion(0).empty())
        return;
      Block &body = op->getRegion(0).front();
      auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
      if (!yield)
        return;
      for (OpOperand &init : op.getDpsInitsMutable()) {
        BlockArgument acc = op.getMatchingBlockArgument(&init);
        unsigned result = init.getOperandNumber() - op.getNumDpsInputs();
        auto add = yield.getOperand(result).getDefiningOp<arith::AddFOp>();
        // Only the add that carries the accumulator: acc + x or x + acc.
        if (!add || add->getBlock() != &body ||
            (add.getLhs() != acc && add.getRhs() != acc))
          continue;
        arith::FastMathFlags flags = add.getFastmath() | arith::FastMathFlags::reassoc;
        add.setFastmathAttr(arith::FastMathFlagsAttr::get(op->getContext(), flags));
      }
    });
  }
};

} // namespace
