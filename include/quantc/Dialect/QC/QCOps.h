//===- QCOps.h - qc ops -----------------------------------------*- C++ -*-===//
#ifndef QUANTC_DIALECT_QC_QCOPS_H
#define QUANTC_DIALECT_QC_QCOPS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "quantc/Dialect/QC/QCDialect.h"

#define GET_OP_CLASSES
#include "quantc/Dialect/QC/QCOps.h.inc"

namespace quantc::qc {
/// The values of a dense integer constant as int64 (zero-extended for
/// unsigned element types), or nullopt for anything else.
std::optional<llvm::SmallVector<int64_t>> getIntValues(mlir::Attribute attr);
} // namespace quantc::qc

#endif
