//===- PrefixRows.cpp - a sequence's first rows out of static scales ------===//
//
// See quantc/Calibration/PrefixRows.h and QCPrefixRows in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/PrefixRows.h"
#include "GenericOps.h"
#include "quantc/Calibration/MixedPrecision.h"
#include "quantc/Dialect/QC/QCOps.h"

#include <algorithm>
#include <cstring>
#include <limits>

using namespace mlir;

namespace quantc::calib {

size_t markPrefixRows(ModuleOp module, int64_t rows) {
  size_t marked = 0;
  for (const Target &t : quantizationTargets(module)) {
    if (!isa<qc::MatMulOp>(t.op))
      continue;
    auto xt = dyn_cast<RankedTensorType>(t.op->getOperand(t.activation).getType());
    if (!xt || xt.getRank() < 3)
      continue;
    t.op->setAttr(kPrefixRowsAttr, Builder(module.getContext()).getI64IntegerAttr(rows));
    ++marked;
  }
  return marked;
}

int64_t prefixRowsOf(Operation *op) {
  auto a = op ? op->getAttrOfType<IntegerAttr>(kPrefixRowsAttr) : IntegerAttr();
  return a ? a.getInt() : 0;
}

int64_t prefixRowsOfObserved(Operation *observe) {
  for (Operation *user : observe->getResult(0).getUsers())
    if (int64_t p = prefixRowsOf(user))
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
/// `t` with rows [from, to) of its axis rank - 2 (a dynamic size stays
/// dynamic); unranked stays unranked. Ranked types let
/// qc-integer-contractions take the quantized rest to the int8 kernels.
Type rowsType(Type t, int64_t from, int64_t to) {
  auto r = dyn_cast<RankedTensorType>(t);
  if (!r || r.getRank() < 2)
    return UnrankedTensorType::get(cast<ShapedType>(t).getElementType());
  SmallVector<int64_t> shape(r.getShape());
  int64_t &s = shape[shape.size() - 2];
  if (!ShapedType::isDynamic(s))
    s = std::max<int64_t>(0, std::min(s, to) - std::min(s, from));
  return RankedTensorType::get(shape, r.getElementType());
}

/// x[..., from:to, :] along axis rank - 2.
Value sliceRows(OpBuilder &b, Location loc, Value x, int64_t from, int64_t to) {
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  return createOp(b, loc, "qc.slice",
                  {x, i64Vector(b, loc, {from}), i64Vector(b, loc, {to}),
                   i64Vector(b, loc, {rank - 2}), qc::NoneOp::create(b, loc, b.getNoneType())},
                  {rowsType(x.getType(), from, to)})
      ->getResult(0);
}
} // namespace

Value slicePrefixRest(OpBuilder &b, Location loc, Value x, int64_t prefix) {
  return sliceRows(b, loc, x, prefix, std::numeric_limits<int64_t>::max());
}

void joinPrefixRows(OpBuilder &b, Location loc, Operation *op, unsigned activation, Value x,
                    int64_t prefix, const PrefixWeights *weights) {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfter(op);
  Type resultType = op->getResult(0).getType();
  Type f32 = b.getF32Type();
  auto unranked = [](Type e) -> Type { return UnrankedTensorType::get(e); };
  op->removeAttr(kPrefixRowsAttr);
  op->getResult(0).setType(rowsType(resultType, prefix, std::numeric_limits<int64_t>::max()));
  Value rows = sliceRows(b, loc, x, 0, prefix);
  Value head;
  if (weights) {
    // [..., P, K] -> [M, K], rounded per row, times the int8 weights,
    // rescaled, back to [..., P, N].
    const int64_t K = weights->K, N = weights->N;
    Type ui8 = IntegerType::get(b.getContext(), 8, IntegerType::Unsigned);
    Value leading = createOp(b, loc, "qc.shape", {rows}, {unranked(b.getI64Type())},
                             {b.getNamedAttr("end", b.getI64IntegerAttr(-1))})
                        ->getResult(0);
    Value flat = createOp(b, loc, "qc.reshape", {rows, i64Vector(b, loc, {-1, K})}, {unranked(f32)})
                     ->getResult(0);
    Operation *dq = createOp(b, loc, "qc.dynamic_quantize_rows", {flat},
                             {unranked(ui8), unranked(f32), unranked(ui8)});
    auto wType = RankedTensorType::get({K, N}, b.getI8Type());
    Value wc = weights->constant
                   ? weights->constant
                   : qc::ConstantOp::create(
                         b, loc, wType, DenseElementsAttr::get(wType, ArrayRef<int8_t>(weights->kn)));
    Value none = qc::NoneOp::create(b, loc, b.getNoneType());
    Value acc = createOp(b, loc, "qc.matmul_integer", {dq->getResult(0), wc, dq->getResult(2), none},
                         {unranked(b.getI32Type())})
                    ->getResult(0);
    Value accF = createOp(b, loc, "qc.cast", {acc}, {unranked(f32)},
                          {b.getNamedAttr("to", TypeAttr::get(f32))})
                     ->getResult(0);
    auto sType = RankedTensorType::get({N}, f32);
    Value ws = qc::ConstantOp::create(b, loc, sType,
                                      DenseElementsAttr::get(sType, ArrayRef<float>(weights->scales)));
    Value rowScale = createOp(b, loc, "qc.unsqueeze", {dq->getResult(1), i64Vector(b, loc, {1})},
                              {unranked(f32)})
                         ->getResult(0);
    Value both = createOp(b, loc, "qc.mul", {rowScale, ws}, {unranked(f32)})->getResult(0);
    Value out = createOp(b, loc, "qc.mul", {accF, both}, {unranked(f32)})->getResult(0);
    Value shape = createOp(b, loc, "qc.concat", {leading, i64Vector(b, loc, {N})},
                           {unranked(b.getI64Type())},
                           {b.getNamedAttr("axis", b.getI64IntegerAttr(0))})
                      ->getResult(0);
    head = createOp(b, loc, "qc.reshape", {out, shape}, {unranked(f32)})->getResult(0);
  } else {
    Operation *clone = b.clone(*op);
    clone->setOperand(activation, rows);
    clone->getResult(0).setType(rowsType(resultType, 0, prefix));
    head = clone->getResult(0);
  }
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  Operation *joined = createOp(b, loc, "qc.concat", {head, op->getResult(0)}, {resultType},
                               {b.getNamedAttr("axis", b.getI64IntegerAttr(rank - 2))});
  op->getResult(0).replaceAllUsesExcept(joined->getResult(0), joined);
}

} // namespace quantc::calib
