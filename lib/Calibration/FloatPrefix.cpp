//===- FloatPrefix.cpp - the first positions of a sequence kept float ------===//
//
// See quantc/Calibration/FloatPrefix.h and QCFloatPrefix in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/FloatPrefix.h"
#include "GenericOps.h"
#include "quantc/Calibration/MixedPrecision.h"
#include "quantc/Dialect/QC/QCOps.h"

#include <cstring>
#include <limits>

using namespace mlir;

namespace quantc::calib {

size_t markFloatPrefix(ModuleOp module, int64_t rows) {
  size_t marked = 0;
  for (const Target &t : quantizationTargets(module)) {
    if (!isa<qc::MatMulOp>(t.op))
      continue;
    auto xt = dyn_cast<RankedTensorType>(t.op->getOperand(t.activation).getType());
    if (!xt || xt.getRank() < 3)
      continue;
    t.op->setAttr(kFloatPrefixAttr, Builder(module.getContext()).getI64IntegerAttr(rows));
    ++marked;
  }
  return marked;
}

int64_t floatPrefixOf(Operation *op) {
  auto a = op ? op->getAttrOfType<IntegerAttr>(kFloatPrefixAttr) : IntegerAttr();
  return a ? a.getInt() : 0;
}

int64_t floatPrefixOfObserved(Operation *observe) {
  for (Operation *user : observe->getResult(0).getUsers())
    if (int64_t p = floatPrefixOf(user))
      return p;
  return 0;
}

bool dropPrefixRows(const float *data, ArrayRef<int64_t> shape, int64_t prefix,
                    std::vector<float> &out, std::vector<int64_t> &outShape) {
  if (shape.size() < 3 || prefix <= 0 || shape[shape.size() - 2] <= prefix)
    return false;
  const int64_t k = shape.back(), s = shape[shape.size() - 2];
  int64_t outer = 1;
  for (size_t d = 0; d + 2 < shape.size(); ++d)
    outer *= shape[d];
  size_t at = out.size();
  out.resize(at + static_cast<size_t>(outer * (s - prefix) * k));
  for (int64_t o = 0; o < outer; ++o) {
    const float *from = data + (o * s + prefix) * k;
    std::memcpy(out.data() + at, from, sizeof(float) * (s - prefix) * k);
    at += static_cast<size_t>((s - prefix) * k);
  }
  outShape.assign(shape.begin(), shape.end());
  outShape[shape.size() - 2] = s - prefix;
  return true;
}

namespace {
/// x[..., from:to, :] along axis rank - 2 (unranked f32 result).
Value sliceRows(OpBuilder &b, Location loc, Value x, int64_t from, int64_t to) {
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  return createOp(b, loc, "qc.slice",
                  {x, i64Vector(b, loc, {from}), i64Vector(b, loc, {to}),
                   i64Vector(b, loc, {rank - 2}), qc::NoneOp::create(b, loc, b.getNoneType())},
                  {UnrankedTensorType::get(b.getF32Type())})
      ->getResult(0);
}
} // namespace

Value slicePrefixRest(OpBuilder &b, Location loc, Value x, int64_t prefix) {
  return sliceRows(b, loc, x, prefix, std::numeric_limits<int64_t>::max());
}

void joinFloatPrefix(OpBuilder &b, Location loc, Operation *op, unsigned activation, Value x,
                     int64_t prefix) {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfter(op);
  Type resultType = op->getResult(0).getType();
  op->removeAttr(kFloatPrefixAttr);
  Operation *head = b.clone(*op);
  head->setOperand(activation, sliceRows(b, loc, x, 0, prefix));
  // The clone came before its slice: put it after.
  head->moveAfter(head->getOperand(activation).getDefiningOp());
  b.setInsertionPointAfter(head);
  auto unranked = UnrankedTensorType::get(cast<ShapedType>(resultType).getElementType());
  head->getResult(0).setType(unranked);
  op->getResult(0).setType(unranked);
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  Operation *joined = createOp(b, loc, "qc.concat", {head->getResult(0), op->getResult(0)},
                               {resultType},
                               {b.getNamedAttr("axis", b.getI64IntegerAttr(rank - 2))});
  op->getResult(0).replaceAllUsesExcept(joined->getResult(0), joined);
}

} // namespace quantc::calib
