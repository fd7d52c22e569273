//===- ConstantValues.cpp - the values of qc.constant float tensors -------===//
#include "quantc/Dialect/QC/ConstantValues.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;

namespace quantc::qc {

std::optional<std::vector<float>> floatConstantValues(Value v) {
  auto c = v.getDefiningOp<ConstantOp>();
  if (!c)
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(c.getType());
  if (!type || !type.getElementType().isF32())
    return std::nullopt;
  Attribute attr = c.getValue();
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    auto values = dense.getValues<float>();
    return std::vector<float>(values.begin(), values.end());
  }
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<char> bytes = blob->getData();
    if (bytes.size() != static_cast<size_t>(type.getNumElements()) * sizeof(float))
      return std::nullopt;
    std::vector<float> out(type.getNumElements());
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  }
  return std::nullopt;
}

} // namespace quantc::qc
