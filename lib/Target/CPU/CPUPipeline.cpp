//===- CPUPipeline.cpp - qc to LLVM for the host CPU ----------------------===//
#include "quantc/Target/CPU/CPUPipeline.h"
#include "quantc/Conversion/Passes.h"
#include "quantc/Transforms/Passes.h"
#include "quantc/Target/CPU/Passes.h"

#include "mlir/Pass/PassRegistry.h"

#include <cstring>
#include <string>

using namespace mlir;

namespace quantc::cpu {

// CSE first: QDQ models repeat a QuantizeLinear / DequantizeLinear pair
// per consumer of a tensor, and copies that quantc-cpu-outline-ops puts
// in different functions would each write their own quantized (padded)
// buffer (PP-OCRv4 det w8a8: 34.3-35.1 -> 33.3-34.1 ms, timing loop of
// docs/performance-log.md, session 28).
// Dequantized convolutions and matmuls then become integer ops
// (qc-integer-contractions: int8 kernels, float epilogue). After
// qc-to-linalg, elementwise generics are fused; then one-shot
// bufferization with identity layouts at function boundaries, results
// turned into out-parameters, and deallocation. f32 matmuls and
// convolutions become calls to the runtime's blocked, vectorized,
// multithreaded kernels (quantc-cpu-kernel-calls); the rest becomes loops
// that LLVM's optimizer vectorizes, large ones split over the same threads
// (quantc-cpu-parallel-outline/-dispatch), then the standard conversions to the
// LLVM dialect. math ops without an LLVM intrinsic (erf, tanh, ...) become
// libm calls.
static const char *kLowering =
    "func.func(cse,qc-fuse-attention,qc-fold-kv-repeat,qc-integer-contractions),"
    "quantc-cpu-unsigned-boundary,"
    "quantc-cpu-outline-ops{ops-per-function=16 content-defined=true},"
    "func.func(qc-to-linalg,quantc-cpu-fuse-elementwise,quantc-cpu-pad-in-place,canonicalize,cse),"
    "quantc-cpu-forward-results,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "quantc-cpu-canonical-globals,"
    "quantc-cpu-results-to-out-params,"
    "quantc-cpu-fold-transposes,"
    "buffer-deallocation-pipeline,"
    "quantc-cpu-kernel-calls,"
    "quantc-cpu-fuse-epilogues,"
    "quantc-cpu-parallel-outline,"
    "func.func(quantc-cpu-reassociate-sums,convert-linalg-to-loops,quantc-cpu-approximate-math),"
    "convert-bufferization-to-memref,"
    "lower-affine,convert-scf-to-cf,expand-strided-metadata,lower-affine,"
    "finalize-memref-to-llvm{use-generic-functions},convert-math-to-llvm,convert-math-to-libm,"
    "convert-arith-to-llvm,convert-index-to-llvm,convert-func-to-llvm,"
    "convert-cf-to-llvm,reconcile-unrealized-casts,quantc-cpu-parallel-dispatch,"
    "quantc-cpu-epilogue-dispatch,"
    "quantc-cpu-noalias-args,"
    "quantc-cpu-dedup-functions";

void buildCPULoweringPipeline(OpPassManager &pm, bool symbolic) {
  std::string text = kLowering;
  if (symbolic) {
    // buffer-deallocation-pipeline without buffer-deallocation-simplification:
    // with symbolic dims @main holds every outlined call's returned buffer,
    // and the simplification's alias queries took 10 of SmolLM2 decode's 12 s
    // of MLIR passes (run time unchanged: 37 ms either way).
    size_t at = text.find("buffer-deallocation-pipeline,");
    text.replace(at, std::strlen("buffer-deallocation-pipeline,"),
                 "ownership-based-buffer-deallocation,canonicalize,"
                 "bufferization-lower-deallocations,cse,canonicalize,");
  }
  if (failed(parsePassPipeline(text, pm)))
    llvm::report_fatal_error("quantc: the CPU lowering pipeline does not parse");
}

void registerCPUPipelines() {
  registerQuantCCPUPasses();
  PassPipelineRegistration<>("quantc-cpu-lower",
                             "Lower a statically shaped qc module to the LLVM dialect",
                             [](OpPassManager &pm) { buildCPULoweringPipeline(pm, false); });
}

} // namespace quantc::cpu
