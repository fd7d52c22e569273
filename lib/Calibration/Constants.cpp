//===- Constants.cpp - reading and writing constant float tensors ---------===//
#include "Constants.h"
#include "quantc/Dialect/QC/ConstantValues.h"
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

std::optional<std::vector<float>> floatValues(Value v) { return qc::floatConstantValues(v); }

Value floatConstant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, ArrayRef<float> values) {
  auto type = RankedTensorType::get(shape, b.getF32Type());
  return qc::ConstantOp::create(b, loc, type, DenseElementsAttr::get(type, values));
}

} // namespace quantc::calib
