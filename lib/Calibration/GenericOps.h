//===- GenericOps.h - building qc ops by name -------------------*- C++ -*-===//
//
// The calibration rewrites (dynamic quantization, runtime smoothing) build
// chains of qc ops with unranked results that qc-infer-shapes refines
// later; these two helpers are shared by them.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_CALIBRATION_GENERICOPS_H
#define QUANTC_LIB_CALIBRATION_GENERICOPS_H

#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace quantc::calib {

/// An op of `name` with these operands, result types and attributes.
inline mlir::Operation *createOp(mlir::OpBuilder &b, mlir::Location loc, llvm::StringRef name,
                                 mlir::ValueRange operands, mlir::TypeRange types,
                                 llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
  mlir::OperationState st(loc, name);
  st.addOperands(operands);
  st.addTypes(types);
  st.addAttributes(attrs);
  return b.create(st);
}

/// A qc.constant of i64 [v.size()].
inline mlir::Value i64Vector(mlir::OpBuilder &b, mlir::Location loc, llvm::ArrayRef<int64_t> v) {
  auto ty = mlir::RankedTensorType::get({static_cast<int64_t>(v.size())}, b.getI64Type());
  return qc::ConstantOp::create(b, loc, ty, mlir::DenseElementsAttr::get(ty, v));
}

} // namespace quantc::calib

#endif
