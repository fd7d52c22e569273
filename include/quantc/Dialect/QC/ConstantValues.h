//===- ConstantValues.h - the values of qc.constant float tensors -*- C++ -*-===//
//
// qc.constant holds a DenseElementsAttr or, for the ONNX importer's large
// initializers, a DenseResourceElementsAttr (a blob); passes that read a
// constant's floats take either.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_DIALECT_QC_CONSTANTVALUES_H
#define QUANTC_DIALECT_QC_CONSTANTVALUES_H

#include "mlir/IR/Value.h"

#include <optional>
#include <vector>

namespace quantc::qc {

/// The f32 values of a qc.constant (dense or a resource blob of the right
/// size), in row-major order; nullopt for anything else.
std::optional<std::vector<float>> floatConstantValues(mlir::Value v);

} // namespace quantc::qc

#endif
