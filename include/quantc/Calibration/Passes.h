//===- Passes.h - calibration and quantization passes -----------*- C++ -*-===//
#ifndef QUANTC_CALIBRATION_PASSES_H
#define QUANTC_CALIBRATION_PASSES_H

#include "quantc/Dialect/QC/QCDialect.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace quantc::calib {

#define GEN_PASS_DECL
#include "quantc/Calibration/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quantc/Calibration/Passes.h.inc"

} // namespace quantc::calib

#endif
