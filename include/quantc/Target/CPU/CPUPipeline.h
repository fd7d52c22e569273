//===- CPUPipeline.h - qc to LLVM for the host CPU --------------*- C++ -*-===//
#ifndef QUANTC_TARGET_CPU_CPUPIPELINE_H
#define QUANTC_TARGET_CPU_CPUPIPELINE_H

#include "mlir/Pass/PassManager.h"

namespace quantc::cpu {

/// qc (static shapes) -> linalg -> bufferized loops -> LLVM dialect. The
/// entry function takes its results as trailing out-parameter memrefs.
/// `symbolic`: the module has symbolic dims (one body for any size); a
/// cheaper deallocation pipeline then (see CPUPipeline.cpp).
void buildCPULoweringPipeline(mlir::OpPassManager &pm, bool symbolic = false);

/// Registers `quantc-cpu-lower` for quant-opt.
void registerCPUPipelines();

} // namespace quantc::cpu

#endif
