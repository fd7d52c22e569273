//===- AOT.h - compile a qc model into a shared library ---------*- C++ -*-===//
//
// `quantc compile`: the model specialized to input shapes, lowered by the
// CPU pipeline, optimized and emitted as a position-independent object,
// then linked with the runtime (kernels, thread pool, the C API of
// include/quantc/Runtime.h) into one shared library with the weights
// embedded.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_TARGET_CPU_AOT_H
#define QUANTC_TARGET_CPU_AOT_H

#include "quantc/Target/CPU/JIT.h"

namespace quantc::cpu {

struct AOTOptions {
  CompileOptions compile;
  /// Directory holding libquantc_runtime.a and libquantc_model_api.a.
  std::string runtimeDir;
  /// The C++ compiler driver used to link (empty: clang++-22, clang++, g++).
  std::string linker;
  /// Also keep the object file next to the library (OUT.o).
  bool keepObject = false;
};

/// Input shapes of one specialization: one shape per input.
using ShapeVariant = std::vector<std::vector<int64_t>>;

/// Writes the shared library to `outputPath` (through a temporary file
/// renamed at the end: nothing is left behind on failure). The library
/// holds one compiled specialization per entry of `variants` (at least
/// one); the caller picks one at run time by its input shapes
/// (qc_set_input_shapes). Weights are stored once.
llvm::Error compileSharedLibrary(mlir::ModuleOp module, const std::vector<ShapeVariant> &variants,
                                 const std::string &outputPath, const AOTOptions &options);

/// The runtime archives next to the running executable (../lib), or
/// $QUANTC_RUNTIME_DIR.
std::string defaultRuntimeDir();

} // namespace quantc::cpu

#endif
