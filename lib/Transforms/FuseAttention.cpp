//===- FuseAttention.cpp - qc-fuse-attention ------------------------------===//
//
// MatMul(Q, K^T) -> [Div | Mul by a scalar] -> [Add mask] -> Softmax(last
// axis) -> MatMul(., V) becomes one qc.attention; see QCFuseAttention in
// Passes.td.
//
//===----------------------------------------------------------------------===//
#include "KVRepeat.h"
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace quantc {
#define GEN_PASS_DEF_QCFUSEATTENTION
#include "quantc/Transforms/Passes.h.inc"
} // namespace quantc

using namespace mlir;
using namespace quantc::qc;

namespace {

RankedTensorType f32Rank4(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.getRank() == 4 && t.getElementType().isF32() ? t : RankedTensorType();
}

/// The value of a one-element f32 constant.
std::optional<float> scalarConstant(Value v) {
  auto c = v.getDefiningOp<ConstantOp>();
  if (!c)
    return std::nullopt;
  auto e = dyn_cast<DenseElementsAttr>(c.getValue());
  if (!e || e.getNumElements() != 1 || !e.getElementType().isF32())
    return std::nullopt;
  return *e.getValues<float>().begin();
}

/// The scores before scaling: v itself when it is a single-use MatMul, or
/// a single-use Div/Mul of one by a scalar constant (scale set).
MatMulOp scoresOf(Value v, float &scale) {
  Operation *def = v.getDefiningOp();
  if (!def || !v.hasOneUse())
    return nullptr;
  if (auto mm = dyn_cast<MatMulOp>(def)) {
    scale = 1.0f;
    return mm;
  }
  auto pick = [&](Value x, Value y, bool divide) -> MatMulOp {
    auto mm = x.getDefiningOp<MatMulOp>();
    std::optional<float> c = scalarConstant(y);
    if (!mm || !x.hasOneUse() || !c || (divide && *c == 0.0f))
      return nullptr;
    scale = divide ? 1.0f / *c : *c;
    return mm;
  };
  if (auto d = dyn_cast<DivOp>(def))
    return pick(d.getA(), d.getB(), true);
  if (auto m = dyn_cast<MulOp>(def)) {
    if (MatMulOp mm = pick(m.getA(), m.getB(), false))
      return mm;
    return pick(m.getB(), m.getA(), false);
  }
  return nullptr;
}

/// [b, H, s, d] keys from the B operand kT [b, H, d, s] of Q x K^T: the
/// input of a transpose that swaps the last two axes, a transpose of the
/// transpose's input with the composed permutation, or a new transpose.
Value keysOf(OpBuilder &b, Value kT) {
  auto t = cast<RankedTensorType>(kT.getType());
  auto kType = RankedTensorType::get({t.getDimSize(0), t.getDimSize(1), t.getDimSize(3),
                                      t.getDimSize(2)},
                                     t.getElementType());
  if (auto tr = kT.getDefiningOp<TransposeOp>(); tr && tr.getPerm()) {
    ArrayRef<int64_t> p = *tr.getPerm();
    if (p.size() == 4) {
      if (p == ArrayRef<int64_t>{0, 1, 3, 2})
        return tr.getData();
      SmallVector<int64_t> composed{p[0], p[1], p[3], p[2]};
      return TransposeOp::create(b, kT.getLoc(), kType, tr.getData(),
                                 b.getDenseI64ArrayAttr(composed));
    }
  }
  return TransposeOp::create(b, kT.getLoc(), kType, kT, b.getDenseI64ArrayAttr({0, 1, 3, 2}));
}

/// heads [b, H, s, d] as [b, G, s, d] K/V heads and the repeat R (1 when
/// not a repeat).
std::pair<Value, int64_t> unrepeat(Value heads) {
  if (auto r = heads.getDefiningOp<ReshapeOp>())
    if (auto rep = quantc::matchKVRepeat(r))
      return {rep->kv, rep->rep};
  return {heads, 1};
}

/// Erases qc ops that lost their last use, walking back through operands
/// (each at most once: chains share constants and an op may feed another
/// twice).
void eraseDead(ArrayRef<Operation *> roots) {
  SmallVector<Operation *> work(roots);
  llvm::SmallPtrSet<Operation *, 16> erased;
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (!op || erased.contains(op) || !op->use_empty() || !isa<QCDialect>(op->getDialect()))
      continue;
    for (Value v : op->getOperands())
      if (Operation *d = v.getDefiningOp())
        work.push_back(d);
    erased.insert(op);
    op->erase();
  }
}

struct FuseAttention : quantc::impl::QCFuseAttentionBase<FuseAttention> {
  void runOnOperation() override {
    SmallVector<SoftmaxOp> softmaxes;
    getOperation().walk([&](SoftmaxOp s) { softmaxes.push_back(s); });
    for (SoftmaxOp sm : softmaxes)
      fuse(sm);
  }

  void fuse(SoftmaxOp sm) {
    auto st = f32Rank4(sm.getInput());
    if (!st || (sm.getAxis() != -1 && sm.getAxis() != 3) || !sm->hasOneUse())
      return;
    auto pv = dyn_cast<MatMulOp>(*sm->getUsers().begin());
    if (!pv || pv.getA() != sm.getY() || pv.getB() == sm.getY())
      return;
    // Scores, then the mask added to them (either operand order).
    float scale = 1.0f;
    Value mask;
    MatMulOp qk = scoresOf(sm.getInput(), scale);
    Operation *add = nullptr;
    if (!qk) {
      auto a = sm.getInput().getDefiningOp<AddOp>();
      if (!a || !a->hasOneUse())
        return;
      if ((qk = scoresOf(a.getA(), scale)))
        mask = a.getB();
      else if ((qk = scoresOf(a.getB(), scale)))
        mask = a.getA();
      else
        return;
      auto mt = dyn_cast<RankedTensorType>(mask.getType());
      if (!mt || mt.getRank() > 4 || !mt.getElementType().isF32())
        return;
      add = a;
    }
    auto qt = f32Rank4(qk.getA()), kTt = f32Rank4(qk.getB()), vt = f32Rank4(pv.getB());
    auto ot = f32Rank4(pv.getY());
    if (!qt || !kTt || !vt || !ot || qk.getA() == qk.getB())
      return;
    // Heads must agree (static), as ONNX's broadcasting would otherwise
    // repeat operands; so must static batches. A symbolic batch (Q, K and
    // V all symbolic: a model exported for any batch) is checked at run
    // time by the kernel (K/V of batch 1 broadcast, any other mismatch
    // NaN).
    auto batchesAgree = [&] {
      int64_t b = qt.getDimSize(0), kb = kTt.getDimSize(0), vb = vt.getDimSize(0);
      if (b == ShapedType::kDynamic)
        return kb == ShapedType::kDynamic && vb == ShapedType::kDynamic;
      return kb == b && vb == b;
    };
    if (qt.getDimSize(1) == ShapedType::kDynamic || !batchesAgree() ||
        kTt.getDimSize(1) != qt.getDimSize(1) || vt.getDimSize(1) != qt.getDimSize(1))
      return;
    OpBuilder b(pv);
    Value keys = keysOf(b, qk.getB());
    auto [k, rk] = unrepeat(keys);
    auto [v, rv] = unrepeat(pv.getB());
    if (rk != rv) {
      // Only one of K and V repeated: read both as H heads.
      k = keys;
      v = pv.getB();
    }
    Location loc = pv.getLoc();
    if (mask) {
      auto mt = cast<RankedTensorType>(mask.getType());
      if (mt.getRank() < 4) {
        // Right-aligned broadcasting: leading unit axes.
        SmallVector<int64_t> axes, shape(4 - mt.getRank(), 1);
        for (int64_t i = 0; i < 4 - mt.getRank(); ++i)
          axes.push_back(i);
        llvm::append_range(shape, mt.getShape());
        auto at = RankedTensorType::get({static_cast<int64_t>(axes.size())}, b.getI64Type());
        Value ax = ConstantOp::create(b, loc, at, DenseElementsAttr::get(at, ArrayRef(axes)));
        mask = UnsqueezeOp::create(b, loc, RankedTensorType::get(shape, mt.getElementType()),
                                   mask, ax);
      }
    } else {
      mask = NoneOp::create(b, loc, b.getNoneType());
    }
    Value out = AttentionOp::create(b, loc, ot, qk.getA(), k, v, mask, b.getF32FloatAttr(scale));
    Operation *values = pv.getB().getDefiningOp();
    pv.getY().replaceAllUsesWith(out);
    pv->erase();
    // The chain, the values' repeat, and the keys' transpose when the
    // repeated heads replaced it.
    (void)add;
    eraseDead({sm.getOperation(), keys.getDefiningOp(), values});
  }
};

} // namespace
