//===- CPUPipeline.cpp - qc to LLVM for the host CPU ----------------------===//
#include "quantc/Target/CPU/CPUPipeline.h"
#include "quantc/Conversion/Passes.h"
#include "quantc/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace quantc::cpu {

// The lowering after qc-to-linalg is upstream's: one-shot bufferization
// with identity layouts at function boundaries, results turned into
// out-parameters, deallocation, naive loops (tiling and vectorization come
// later), then the standard conversions to the LLVM dialect. math ops
// without an LLVM intrinsic (erf, tanh, ...) become libm calls.
static const char *kLowering =
    "func.func(qc-to-linalg,canonicalize,cse),"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-results-to-out-params{hoist-static-allocs modify-public-functions},"
    "buffer-deallocation-pipeline,"
    "func.func(convert-linalg-to-loops),"
    "convert-bufferization-to-memref,"
    "lower-affine,convert-scf-to-cf,expand-strided-metadata,lower-affine,"
    "finalize-memref-to-llvm,convert-math-to-llvm,convert-math-to-libm,"
    "convert-arith-to-llvm,convert-index-to-llvm,convert-func-to-llvm,"
    "convert-cf-to-llvm,reconcile-unrealized-casts";

void buildCPULoweringPipeline(OpPassManager &pm) {
  if (failed(parsePassPipeline(kLowering, pm)))
    llvm::report_fatal_error("quantc: the CPU lowering pipeline does not parse");
}

void registerCPUPipelines() {
  PassPipelineRegistration<>("quantc-cpu-lower",
                             "Lower a statically shaped qc module to the LLVM dialect",
                             [](OpPassManager &pm) { buildCPULoweringPipeline(pm); });
}

} // namespace quantc::cpu
