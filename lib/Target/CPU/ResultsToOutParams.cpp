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

  /// A result that was a callee's result (its buffer hoisted into this
  /// function as an allocation) is copied into the out-parameter at the
  /// end: the allocation becomes the out-parameter itself, and the copy
  /// goes (SmolLM2's 50 MB of logits were copied once per run). Only when
  /// the out-parameter has no other use, the allocation has the same type
  /// and the copy is its last use in the block.
  static void writeInPlace(func::FuncOp f) {
    if (f.isExternal())
      return;
    SmallVector<memref::CopyOp> copies;
    for (Operation &op : f.getBody().front())
      if (auto c = dyn_cast<memref::CopyOp>(&op))
        copies.push_back(c);
    for (memref::CopyOp c : copies) {
      auto arg = dyn_cast<BlockArgument>(c.getTarget());
      auto alloc = c.getSource().getDefiningOp<memref::AllocOp>();
      if (!arg || arg.getOwner() != &f.getBody().front() || !arg.hasOneUse() || !alloc ||
          alloc->getBlock() != c->getBlock() || alloc.getType() != arg.getType())
        continue;
      bool last = llvm::all_of(alloc->getUsers(), [&](Operation *u) {
        Operation *top = c->getBlock()->findAncestorOpInBlock(*u);
        return u == c || (top && top->isBeforeInBlock(c));
      });
      if (!last)
        continue;
      c->erase();
      alloc.getResult().replaceAllUsesWith(arg);
      alloc->erase();
    }
  }
};
} // namespace
