//===- Constants.cpp - reading and writing constant float tensors ---------===//
#include "Constants.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;

namespace quantc::calib {

bool isFloatConstant(Value v) {
  auto c = v.getDefiningOp<qc::ConstantOp>();
  auto type = c ? dyn_cast<RankedTensorType>(c.getType()) : RankedTensorType();
  if (!type || !type.getElementType().isF32())
    return false;
  Attribute attr = c.getValue();
  if (isa<DenseElementsAttr>(attr))
    return true;
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    return blob && blob->getData().size() ==
                       static_cast<size_t>(type.getNumElements()) * sizeof(float);
  }
  return false;
}

std::optional<std::vector<float>> floatValues(Value v) {
  auto c = v.getDefiningOp<qc::ConstantOp>();
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

Value floatConstant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, ArrayRef<float> values) {
  auto type = RankedTensorType::get(shape, b.getF32Type());
  return qc::ConstantOp::create(b, loc, type, DenseElementsAttr::get(type, values));
}

} // namespace quantc::calib
