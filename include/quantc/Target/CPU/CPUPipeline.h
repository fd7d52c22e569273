//===- CPUPipeline.h - qc to LLVM for the host CPU --------------*- C++ -*-===//
#ifndef QUANTC_TARGET_CPU_CPUPIPELINE_H
#define QUANTC_TARGET_CPU_CPUPIPELINE_H

#include "mlir/Pass/PassManager.h"

namespace quantc::cpu {

/// qc (static shapes) -> linalg -> bufferized loops -> LLVM dialect. The
/// entry function takes its results as trailing out-parameter memrefs.
void buildCPULoweringPipeline(mlir::OpPassManager &pm);

/// Registers `quantc-cpu-lower` for quant-opt.
void registerCPUPipelines();

} // namespace quantc::cpu

#endif
