//===- QuantizeKV.cpp - qc-quantize-kv ------------------------------------===//
//
// Keys and values (and optionally queries) of qc.attention rounded to int8
// (or int4) with one dynamic scale per row, optionally in a Hadamard-rotated
// basis; see QCQuantizeKV in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Quant/Hadamard.h"
#include "quantc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace quantc {
#define GEN_PASS_DEF_QCQUANTIZEKV
#include "quantc/Transforms/Passes.h.inc"
} // namespace quantc

using namespace mlir;
using namespace quantc::qc;

namespace {

/// x's round trip through uint8, row by row along its last axis (x ranked
/// f32, the last axis static), in float ops that fuse into one loop nest:
/// DynamicQuantizeLinear's scale and zero point per row, then
/// (clamp(round(x / scale) + zp, 0, 255) - zp) * scale. (An all-zero row,
/// whose scale DynamicQuantizeLinear reports as 1, comes back as zeros
/// either way; the scale is kept above 0 instead.)
Value roundTripRows(OpBuilder &b, Location loc, Value x, double levels) {
  auto xt = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> keptDims(xt.getShape());
  keptDims.back() = 1;
  auto kept = RankedTensorType::get(keptDims, b.getF32Type());
  auto scalarType = RankedTensorType::get({}, b.getF32Type());
  auto scalar = [&](float v) -> Value {
    return ConstantOp::create(b, loc, scalarType, DenseElementsAttr::get(scalarType, v));
  };
  auto axesType = RankedTensorType::get({1}, b.getI64Type());
  Value axes = ConstantOp::create(b, loc, axesType,
                                  DenseElementsAttr::get(axesType, ArrayRef<int64_t>{xt.getRank() - 1}));
  Value zero = scalar(0.0f), top = scalar(static_cast<float>(levels));
  Value hi = MaxOp::create(b, loc, kept, ValueRange{ReduceMaxOp::create(b, loc, kept, x, axes), zero});
  Value lo = MinOp::create(b, loc, kept, ValueRange{ReduceMinOp::create(b, loc, kept, x, axes), zero});
  Value scale = DivOp::create(b, loc, kept, SubOp::create(b, loc, kept, hi, lo), top);
  scale = MaxOp::create(b, loc, kept, ValueRange{scale, scalar(1e-30f)});
  Value zp = RoundOp::create(b, loc, kept, DivOp::create(b, loc, kept, NegOp::create(b, loc, kept, lo), scale));
  zp = ClipOp::create(b, loc, kept, zp, zero, top);
  Value q = RoundOp::create(b, loc, xt, DivOp::create(b, loc, xt, x, scale));
  q = ClipOp::create(b, loc, xt, AddOp::create(b, loc, xt, q, zp), zero, top);
  return MulOp::create(b, loc, xt, SubOp::create(b, loc, xt, q, zp), scale);
}

/// The round trip in a rotated basis: x H rounded, then rotated back by
/// H^T (qc.hadamard with the factor transposed), H = hadamard(m) (x)
/// S_{d/m} / sqrt(d) over the head dimension d. The rotation spreads a
/// head's outlier dimensions over all of them before the rows are
/// rounded (QuaRot's rotated KV cache); rotating back keeps the cache in
/// the model's own basis, so its present outputs and the queries are
/// unchanged. Without a Hadamard of order d: the plain round trip.
Value roundTripRotated(OpBuilder &b, Location loc, Value x, double levels) {
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t d = xt.getDimSize(xt.getRank() - 1);
  std::vector<float> f = quantc::quant::onlineHadamardFactor(d);
  if (f.empty())
    return roundTripRows(b, loc, x, levels);
  const int64_t m = quantc::quant::onlineHadamardOrder(d);
  std::vector<float> ft(m * m);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < m; ++j)
      ft[j * m + i] = f[i * m + j];
  auto factorType = RankedTensorType::get({m, m}, b.getF32Type());
  auto constant = [&](const std::vector<float> &v) -> Value {
    return ConstantOp::create(b, loc, factorType, DenseElementsAttr::get(factorType, ArrayRef<float>(v)));
  };
  Value rotated = HadamardOp::create(b, loc, xt, x, constant(f));
  Value rounded = roundTripRows(b, loc, rotated, levels);
  return HadamardOp::create(b, loc, xt, rounded, constant(ft));
}

bool roundable(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  // The rows' width must be static (the dequantization's block size).
  return t && t.getElementType().isF32() && t.getRank() >= 1 && !t.isDynamicDim(t.getRank() - 1);
}

/// Rounds the tokens `v` adds to the cache: the last operand of a
/// Concat along the sequence axis (2 of [b, heads, s, d]), else all of v.
/// Returns false where nothing could be rounded.
bool roundCacheOperand(OpBuilder &b, Operation *user, unsigned index,
                       llvm::function_ref<Value(OpBuilder &, Location, Value)> roundTrip) {
  Value v = user->getOperand(index);
  if (auto cat = v.getDefiningOp<ConcatOp>()) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    int64_t axis = cat.getAxis();
    if (t && axis < 0)
      axis += t.getRank();
    if (t && t.getRank() == 4 && axis == 2 && cat->getNumOperands() >= 2) {
      unsigned last = cat->getNumOperands() - 1;
      Value fresh = cat->getOperand(last);
      if (!roundable(fresh))
        return false;
      b.setInsertionPoint(cat);
      cat->setOperand(last, roundTrip(b, cat.getLoc(), fresh));
      return true;
    }
  }
  if (!roundable(v))
    return false;
  b.setInsertionPoint(user);
  user->setOperand(index, roundTrip(b, user->getLoc(), v));
  return true;
}

struct QuantizeKVPass : quantc::impl::QCQuantizeKVBase<QuantizeKVPass> {
  using QCQuantizeKVBase::QCQuantizeKVBase;
  void runOnOperation() override {
    OpBuilder b(&getContext());
    if (bits != 8 && bits != 4) {
      getOperation().emitError("qc-quantize-kv: bits must be 8 or 4, not ") << static_cast<int64_t>(bits);
      return signalPassFailure();
    }
    const double levels = bits == 4 ? 15.0 : 255.0;
    auto roundTrip = [&](OpBuilder &b, Location loc, Value x) -> Value {
      return rotate ? roundTripRotated(b, loc, x, levels) : roundTripRows(b, loc, x, levels);
    };
    SmallVector<AttentionOp> ops;
    getOperation().walk([&](AttentionOp op) { ops.push_back(op); });
    for (AttentionOp op : ops) {
      // Operands: query 0, key 1, value 2. K and V may be one value (a
      // model reusing its keys as values): rounded once.
      bool same = op.getKey() == op.getValue();
      bool rounded = roundCacheOperand(b, op, 1, roundTrip);
      if (same)
        op->setOperand(2, op.getKey());
      else
        rounded = roundCacheOperand(b, op, 2, roundTrip) && rounded;
      if (query) {
        if (roundable(op.getQuery())) {
          b.setInsertionPoint(op);
          op->setOperand(0, roundTrip(b, op.getLoc(), op.getQuery()));
        } else {
          rounded = false;
        }
      }
      // Not silently: an operand left float (not f32, or its head
      // dimension dynamic) is named.
      if (!rounded)
        op.emitWarning("qc-quantize-kv: an operand of this attention stays float (it must be f32 "
                       "with a static last dimension)");
    }
  }
};
} // namespace
