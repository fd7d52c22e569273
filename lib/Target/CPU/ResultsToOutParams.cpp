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
      signalPassFailure();
  }
};
} // namespace
