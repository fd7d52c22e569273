//===- ResultsToOutParams.cpp - static results as out-parameters ----------===//
//
// buffer-results-to-out-params for the functions it can handle: those whose
// memref results are all statically shaped. See Passes.td.
//
//===----------------------------------------------------------------------===//
#include "quantc/Target/CPU/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace quantc::cpu {
#define GEN_PASS_DEF_CPURESULTSTOOUTPARAMS
#include "quantc/Target/CPU/Passes.h.inc"
} // namespace quantc::cpu

using namespace mlir;

namespace {
bool allResultsStatic(func::FuncOp f) {
  return llvm::all_of(f.getResultTypes(), [](Type t) {
    auto m = dyn_cast<MemRefType>(t);
    return !m || m.hasStaticShape();
  });
}

struct ResultsToOutParamsPass
    : quantc::cpu::impl::CPUResultsToOutParamsBase<ResultsToOutParamsPass> {
  void runOnOperation() override {
    bufferization::BufferResultsToOutParamsOpts opts;
    opts.hoistStaticAllocs = true;
    opts.modifyPublicFunctions = true;
    opts.filterFn = [](func::FuncOp *f) { return allResultsStatic(*f); };
    if (failed(bufferization::promoteBufferResultsToOutParams(getOperation(), opts)))
      return signalPassFailure();
    getOperation().walk([](func::FuncOp f) { writeInPlace(f); });
  }

  /// A result computed into a buffer and copied into the out-parameter at
  /// the end (a callee's result hoisted as an allocation, or a reshape view
  /// of one: a matmul's 2-D output returned as [1, m, n]) is computed in
  /// the out-parameter itself, through the inverse view, and the copy goes
  /// (SmolLM2's 50 MB of logits were copied once per run, MiniLM copied
  /// most of its products). Only when the out-parameter has no other use,
  /// the views have no other use, and the copy is the allocation's last
  /// use in the block.
  static void writeInPlace(func::FuncOp f) {
    if (f.isExternal())
      return;
    SmallVector<memref::CopyOp> copies;
    for (Operation &op : f.getBody().front())
      if (auto c = dyn_cast<memref::CopyOp>(&op))
        copies.push_back(c);
    for (memref::CopyOp c : copies) {
      auto arg = dyn_cast<BlockArgument>(c.getTarget());
      if (!arg || arg.getOwner() != &f.getBody().front() || !arg.hasOneUse() ||
          !cast<MemRefType>(arg.getType()).getLayout().isIdentity())
        continue;
      Operation *view = c.getSource().getDefiningOp();
      Value base = c.getSource();
      if (isa_and_nonnull<memref::ExpandShapeOp, memref::CollapseShapeOp>(view)) {
        if (!c.getSource().hasOneUse())
          continue;
        base = view->getOperand(0);
      } else {
        view = nullptr;
      }
      auto alloc = base.getDefiningOp<memref::AllocOp>();
      if (!alloc || alloc->getBlock() != c->getBlock() ||
          !alloc.getType().getLayout().isIdentity() ||
          (!view && alloc.getType() != arg.getType()))
        continue;
      bool last = llvm::all_of(alloc->getUsers(), [&](Operation *u) {
        Operation *top = c->getBlock()->findAncestorOpInBlock(*u);
        return u == c.getOperation() || u == view || (top && top->isBeforeInBlock(c));
      });
      if (!last)
        continue;
      OpBuilder b(alloc);
      Value inPlace = arg;
      if (auto e = dyn_cast_or_null<memref::ExpandShapeOp>(view))
        inPlace = memref::CollapseShapeOp::create(b, e.getLoc(), arg, e.getReassociationIndices());
      else if (auto cs = dyn_cast_or_null<memref::CollapseShapeOp>(view))
        inPlace = memref::ExpandShapeOp::create(b, cs.getLoc(), alloc.getType().getShape(), arg,
                                                cs.getReassociationIndices());
      if (inPlace.getType() != alloc.getType()) {
        if (inPlace != arg)
          inPlace.getDefiningOp()->erase();
        continue;
      }
      c->erase();
      if (view)
        view->erase();
      alloc.getResult().replaceAllUsesWith(inPlace);
      alloc->erase();
    }
  }
};
} // namespace
