//===- ApproximateMath.cpp - vectorizable exp, log, tanh, erf -------------===//
//
// quantc-cpu-approximate-math (Passes.td): f32 exp, expm1, tanh and erf
// become MLIR's polynomial approximations (arith ops
// only), which LLVM's loop vectorizer turns into SIMD code; as calls to
// libm (convert-math-to-libm) or LLVM intrinsics without a vector library
// they stayed one scalar call per element (softmax, sigmoid, GELU).
//
//===----------------------------------------------------------------------===//
#include "quantc/Target/CPU/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSet.h"

namespace quantc::cpu {
#define GEN_PASS_DEF_CPUAPPROXIMATEMATH
#include "quantc/Target/CPU/Passes.h.inc"
} // namespace quantc::cpu

using namespace mlir;

namespace {

struct ApproximateMathPass : quantc::cpu::impl::CPUApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    static const llvm::StringSet<> approximated = {
        math::ExpOp::getOperationName(), math::ExpM1Op::getOperationName(),
        math::TanhOp::getOperationName(), math::ErfOp::getOperationName()};
    // Not log: its approximation is off by 2e4 ULP on subnormal inputs
    // (log(1e-38)); libm's log stays (test/Numerics/check_numerics.py).
    auto predicate = [](StringRef name) { return approximated.contains(name); };
    RewritePatternSet patterns(&getContext());
    populateMathF32ExpansionPatterns(patterns, predicate);
    populateMathPolynomialApproximationPatterns(patterns, predicate);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
