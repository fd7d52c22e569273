//===- Constants.h - reading and writing constant float tensors -*- C++ -*-===//
//
// Shared by the calibration passes that read weights (quantization) and
// rewrite them (smoothing): the values of a qc.constant of f32 (dense or
// dense_resource) and a new one from values.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_CALIBRATION_CONSTANTS_H
#define QUANTC_LIB_CALIBRATION_CONSTANTS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

#include <optional>
#include <vector>

namespace quantc::calib {

/// The values of `v` when it is a qc.constant of f32 (dense or
/// dense_resource), row-major; nullopt otherwise.
std::optional<std::vector<float>> floatValues(mlir::Value v);

/// Whether floatValues(v) would succeed, without copying the values (for
/// checks over every layer of a large model).
bool isFloatConstant(mlir::Value v);

/// A qc.constant of f32 with `shape` holding `values` (row-major).
mlir::Value floatConstant(mlir::OpBuilder &b, mlir::Location loc, llvm::ArrayRef<int64_t> shape,
                          llvm::ArrayRef<float> values);

} // namespace quantc::calib

#endif
