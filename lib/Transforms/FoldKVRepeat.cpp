//===- FoldKVRepeat.cpp - qc-fold-kv-repeat -------------------------------===//
//
// Grouped-query attention on the K/V heads themselves instead of their
// R-fold repeat; see QCFoldKVRepeat in Passes.td for the algebra.
//
//===----------------------------------------------------------------------===//
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Transforms/Passes.h"
#include "KVRepeat.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace quantc {
#define GEN_PASS_DEF_QCFOLDKVREPEAT
#include "quantc/Transforms/Passes.h.inc"
} // namespace quantc

using namespace mlir;
using namespace quantc::qc;

namespace {

RankedTensorType staticType(Value v) { return dyn_cast<RankedTensorType>(v.getType()); }

constexpr int64_t kDyn = ShapedType::kDynamic;

std::optional<quantc::KVRepeat> matchRepeat(ReshapeOp r) { return quantc::matchKVRepeat(r); }
using Repeat = quantc::KVRepeat;

/// Reshape of x to `dims`. A symbolic dim is taken from dim `from[i]` of
/// `src[i]` at run time (Shape -> Concat), or, when it is the only one,
/// inferred (-1).
Value reshape(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> dims,
              ArrayRef<std::pair<Value, int64_t>> from = {}) {
  auto elt = cast<ShapedType>(x.getType()).getElementType();
  auto st = RankedTensorType::get({static_cast<int64_t>(dims.size())}, b.getI64Type());
  int64_t dynamic = llvm::count(dims, kDyn);
  Value shape;
  if (dynamic <= 1) {
    SmallVector<int64_t> target(dims);
    for (int64_t &d : target)
      if (d == kDyn)
        d = -1;
    shape = ConstantOp::create(b, loc, st, DenseElementsAttr::get(st, ArrayRef<int64_t>(target)));
  } else {
    auto one = RankedTensorType::get({1}, b.getI64Type());
    SmallVector<Value> parts;
    for (auto [i, d] : llvm::enumerate(dims)) {
      if (d != kDyn) {
        parts.push_back(ConstantOp::create(b, loc, one, DenseElementsAttr::get(one, ArrayRef<int64_t>{d})));
        continue;
      }
      auto [src, axis] = from[i];
      parts.push_back(ShapeOp::create(b, loc, one, src, b.getI64IntegerAttr(axis),
                                      b.getI64IntegerAttr(axis + 1)));
    }
    shape = ConcatOp::create(b, loc, st, parts, b.getI64IntegerAttr(0));
  }
  return ReshapeOp::create(b, loc, RankedTensorType::get(dims, elt), x, shape);
}

/// out = lhs x rhsRepeated where lhs is [b, H, m, k] and rhs (the K/V
/// heads, or their transpose) is [b, G, k, n]: Reshape(Reshape(lhs, [b, G,
/// R * m, k]) x rhs, [b, H, m, n]).
Value groupedMatMul(OpBuilder &b, MatMulOp mm, Value rhs, int64_t G, int64_t R) {
  auto lt = staticType(mm.getA());
  auto ot = staticType(mm.getY());
  auto rt = cast<RankedTensorType>(rhs.getType());
  Location loc = mm.getLoc();
  int64_t bs = lt.getDimSize(0), m = lt.getDimSize(2), k = lt.getDimSize(3);
  int64_t n = rt.getDimSize(3);
  int64_t rm = m == kDyn ? kDyn : R * m;
  Value l = reshape(b, loc, mm.getA(), {bs, G, rm, k});
  auto prodType = RankedTensorType::get({bs, G, rm, n}, ot.getElementType());
  Value prod = MatMulOp::create(b, loc, prodType, l, rhs);
  SmallVector<std::pair<Value, int64_t>> from{
      {Value(), 0}, {Value(), 0}, {mm.getA(), 2}, {rhs, 3}};
  return reshape(b, loc, prod, ot.getShape(), from);
}

/// Whether mm is lhs [b, H, m, k] x (its B operand) with a static 4-D
/// result of H heads.
bool isHeadMatMul(MatMulOp mm, Value rhsUse, int64_t H) {
  auto lt = staticType(mm.getA());
  auto ot = staticType(mm.getY());
  return mm.getB() == rhsUse && mm.getA() != rhsUse && lt && ot && lt.getRank() == 4 &&
         ot.getRank() == 4 && lt.getDimSize(1) == H && ot.getDimSize(1) == H &&
         lt.getDimSize(0) != kDyn && lt.getDimSize(3) != kDyn;
}

struct FoldKVRepeat : quantc::impl::QCFoldKVRepeatBase<FoldKVRepeat> {
  void runOnOperation() override {
    SmallVector<ReshapeOp> repeats;
    getOperation().walk([&](ReshapeOp r) {
      if (matchRepeat(r))
        repeats.push_back(r);
    });
    for (ReshapeOp r : repeats) {
      Repeat rep = *matchRepeat(r);
      int64_t H = rep.groups * rep.rep;
      OpBuilder b(r);
      for (Operation *user : llvm::make_early_inc_range(r->getUsers())) {
        if (auto mm = dyn_cast<MatMulOp>(user); mm && isHeadMatMul(mm, r, H)) {
          // P x Vr.
          b.setInsertionPoint(mm);
          Value out = groupedMatMul(b, mm, rep.kv, rep.groups, rep.rep);
          mm.getY().replaceAllUsesWith(out);
          mm->erase();
          continue;
        }
        auto t = dyn_cast<TransposeOp>(user);
        auto perm = t ? t.getPerm() : std::nullopt;
        if (!t || !perm || ArrayRef<int64_t>(*perm) != ArrayRef<int64_t>{0, 1, 3, 2})
          continue;
        // Q x Transpose(Kr): every MatMul that reads the transpose.
        if (!llvm::all_of(t->getUsers(), [&](Operation *u) {
              auto m2 = dyn_cast<MatMulOp>(u);
              return m2 && isHeadMatMul(m2, t, H);
            }))
          continue;
        b.setInsertionPoint(t);
        auto kt = cast<RankedTensorType>(rep.kv.getType());
        auto ktT = RankedTensorType::get(
            {kt.getDimSize(0), kt.getDimSize(1), kt.getDimSize(3), kt.getDimSize(2)},
            kt.getElementType());
        Value kT = TransposeOp::create(b, t.getLoc(), ktT, rep.kv, t.getPermAttr());
        for (Operation *u : llvm::make_early_inc_range(t->getUsers())) {
          auto m2 = cast<MatMulOp>(u);
          b.setInsertionPoint(m2);
          Value out = groupedMatMul(b, m2, kT, rep.groups, rep.rep);
          m2.getY().replaceAllUsesWith(out);
          m2->erase();
        }
        t->erase();
      }
      if (r->use_empty()) {
        auto e = r.getData().getDefiningOp<ExpandOp>();
        r->erase();
        if (e && e->use_empty()) {
          auto u = e.getInput().getDefiningOp<UnsqueezeOp>();
          e->erase();
          if (u && u->use_empty())
            u->erase();
        }
      }
    }
  }
};

} // namespace
