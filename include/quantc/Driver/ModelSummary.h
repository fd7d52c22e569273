//===- ModelSummary.h - human summary of an imported module -----*- C++ -*-===//
#ifndef QUANTC_DRIVER_MODELSUMMARY_H
#define QUANTC_DRIVER_MODELSUMMARY_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace quantc {
/// Prints inputs, outputs, op counts and parameter totals of `module`.
void printModelSummary(mlir::ModuleOp module, llvm::raw_ostream &os);
} // namespace quantc

#endif
