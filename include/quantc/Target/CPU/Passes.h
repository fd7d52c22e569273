//===- Passes.h - CPU code generation passes --------------------*- C++ -*-===//
#ifndef QUANTC_TARGET_CPU_PASSES_H
#define QUANTC_TARGET_CPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace quantc::cpu {

#define GEN_PASS_DECL
#include "quantc/Target/CPU/Passes.h.inc"

/// Ops that quantc-cpu-profile-ops marks (qc ops other than constants).
bool isProfiledOp(mlir::Operation *op);

/// The attribute of the functions quantc-cpu-fuse-epilogues makes
/// (@qc_epi_N): they run inside a kernel's task, so their loops are not
/// handed to the thread pool again.
constexpr const char *kEpilogueBodyAttr = "qc.epilogue_body";

#define GEN_PASS_REGISTRATION
#include "quantc/Target/CPU/Passes.h.inc"

} // namespace quantc::cpu

#endif
