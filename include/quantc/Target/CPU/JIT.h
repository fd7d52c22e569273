//===- JIT.h - compile and run a qc model on the host -----------*- C++ -*-===//
//
// A JITModel is a qc module specialized to concrete input shapes, lowered
// through the CPU pipeline and compiled in memory by MLIR's ExecutionEngine.
// Calibration and `quantc run` use it.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_TARGET_CPU_JIT_H
#define QUANTC_TARGET_CPU_JIT_H

#include "quantc/Support/HostTensor.h"
#include "quantc/Target/CPU/CompilePhases.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <cstdlib>
#include <new>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mlir {
class ExecutionEngine;
}
namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace quantc::cpu {

/// Threads the compiled kernels use (0: all hardware threads).
void setNumThreads(int n);
int getNumThreads();

/// Element type of a tensor type as a DType (error for unsupported ones).
llvm::Expected<DType> dtypeOf(mlir::Type elementType);

struct CompileOptions {
  /// Insert timing marks between ops (quantc-cpu-profile-ops).
  bool profile = false;
  /// Target CPU and LLVM feature string ("+avx2,-avx512f"); empty: the host.
  std::string cpu, features;
  /// Where to record each compile phase's time and peak memory (or null).
  std::vector<CompilePhase> *phases = nullptr;
};

/// An op timed by a profiled model: its qc op name and ONNX node name.
struct ProfiledOp {
  std::string opName, nodeName;
};

/// A qc module specialized to input shapes and lowered to the LLVM
/// dialect: @main takes its inputs, then its outputs, as memrefs, and has
/// a C interface (_mlir_ciface_main taking memref descriptors).
struct LoweredModel {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::vector<TensorSpec> inputs, outputs;
  std::vector<ProfiledOp> profiled;
  /// @main returns its results (some have symbolic dims): the C interface
  /// takes a pointer to their descriptors first, then the inputs'.
  bool returnsResults = false;
};

/// Specializes a clone of `module` to `inputShapes` and runs the CPU
/// Gives @main's inputs the static `inputShapes` (which must fit the
/// declared ones) and infers every shape after them, in place.
llvm::Error specializeShapes(mlir::ModuleOp module,
                             const std::vector<std::vector<int64_t>> &inputShapes);

/// lowering pipeline on it. Errors name the input or stage that failed.
llvm::Expected<LoweredModel> lowerToLLVMDialect(mlir::ModuleOp module,
                                                const std::vector<std::vector<int64_t>> &inputShapes,
                                                const CompileOptions &options);

/// The target machine for `options` (the host unless cpu/features are
/// given); position-independent code when `pic`.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const CompileOptions &options, bool pic);

/// The LLVM optimizer (O3) for `tm`, run on a translated model. On a
/// target with AVX-512 the model's functions prefer 512-bit vectors
/// ("prefer-vector-width"="512"; LLVM's default for these CPUs is 256):
/// the generated elementwise loops and kernel epilogues are vectorized 16
/// floats wide (PP-OCRv4 det w8a8 44.1-45.7 -> 40.7-42.3 ms; the timing
/// loop and its rounds: docs/performance-log.md, session 28).
std::function<llvm::Error(llvm::Module *)> makeModelOptimizer(llvm::TargetMachine *tm);

/// Registers the passes, dialect extensions and LLVM targets the CPU
/// compilation uses (idempotent).
void initializeCPUCompilation(mlir::MLIRContext &context);

class JITModel {
public:
  ~JITModel();
  /// Specializes `module` (a qc function @main) to `inputShapes`, lowers and
  /// compiles it. The module is cloned, not modified. The compiled code
  /// reads the weights where the module's context holds them (no copy,
  /// ExternalWeights.h): the JITModel must not outlive that MLIRContext.
  static llvm::Expected<std::unique_ptr<JITModel>>
  compile(mlir::ModuleOp module, const std::vector<std::vector<int64_t>> &inputShapes,
          const CompileOptions &options = {});

  /// With CompileOptions::profile, the ops that are timed, in mark order.
  const std::vector<ProfiledOp> &profiledOps() const { return profiled; }

  /// Declared inputs and outputs of a qc module.
  static std::vector<TensorSpec> inputsOf(mlir::ModuleOp module);
  static std::vector<TensorSpec> outputsOf(mlir::ModuleOp module);

  /// Runs on `inputs` (in order); fills `outputs`.
  llvm::Error run(const std::vector<HostTensor> &inputs, std::vector<HostTensor> &outputs);

  const std::vector<TensorSpec> &inputs() const { return inputSpecs; }
  const std::vector<TensorSpec> &outputs() const { return outputSpecs; }

private:
  JITModel() = default;
  std::unique_ptr<llvm::TargetMachine> targetMachine;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  std::vector<TensorSpec> inputSpecs, outputSpecs;
  std::vector<ProfiledOp> profiled;
  /// @main returns its results (some have symbolic dims): the C interface
  /// takes a pointer to their descriptors first, then the inputs'.
  bool returnsResults = false;
  /// The first run generates the machine code (ORC materializes lazily).
  bool materialized = false;
};

} // namespace quantc::cpu

#endif
