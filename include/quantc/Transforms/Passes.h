//===- Passes.h - quantc transformation passes ------------------*- C++ -*-===//
#ifndef QUANTC_TRANSFORMS_PASSES_H
#define QUANTC_TRANSFORMS_PASSES_H

#include "quantc/Dialect/QC/QCDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace quantc {

#define GEN_PASS_DECL
#include "quantc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quantc/Transforms/Passes.h.inc"

} // namespace quantc

#endif
