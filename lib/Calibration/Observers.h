//===- Observers.h - helpers of the observers and the runner ----*- C++ -*-===//
#ifndef QUANTC_LIB_CALIBRATION_OBSERVERS_H
#define QUANTC_LIB_CALIBRATION_OBSERVERS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Value.h"

namespace quantc::calib {
/// Makes `v` (defined anywhere under main) a value of main's body, so
/// that main can return it; null where it cannot be observed.
mlir::Value routeToMain(mlir::Value v, mlir::func::FuncOp main);
} // namespace quantc::calib

#endif
