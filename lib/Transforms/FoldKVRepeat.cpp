//===- FoldKVRepeat.cpp - qc-fold-kv-repeat -------------------------------===//
//
// Grouped-query attention on the K/V heads themselves instead of their
// R-fold repeat; see QCFoldKVRepeat in Passes.td for the algebra.
//
//===----------------------------------------------------------------------===//
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace quantc {
#define GEN_PASS_DEF_QCFOLDKVREPEAT
#include "quantc/Transforms/Passes.h.inc"
} // namespace quantc

using namespace mlir;
using namespace quantc::qc;

namespace {

RankedTensorType staticType(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.hasStaticShape() ? t : RankedTensorType();
}

/// A repeat of K/V heads: Reshape(Expand(x [b, G, 1, s, d] -> [b, G, R, s,
/// d]) -> [b, G * R, s, d]). Returns x's 4-D source (Unsqueeze's input, or
/// nothing when x is not an Unsqueeze at axis 2) and R.
struct Repeat {
  Value kv; // [b, G, s, d]
  int64_t groups = 0, rep = 0;
};

std::optional<Repeat> matchRepeat(ReshapeOp r) {
  auto rt = staticType(r.getReshaped());
  auto e = r.getData().getDefiningOp<ExpandOp>();
  if (!rt || rt.getRank() != 4 || !e)
    return std::nullopt;
  auto et = staticType(e.getOutput());
  auto u = e.getInput().getDefiningOp<UnsqueezeOp>();
  if (!et || et.getRank() != 5 || !u)
    return std::nullopt;
  auto ut = staticType(u.getExpanded());
  auto kt = staticType(u.getData());
  if (!ut || !kt || kt.getRank() != 4 || ut.getRank() != 5 || ut.getDimSize(2) != 1)
    return std::nullopt;
  // [b, G, 1, s, d] from [b, G, s, d]: the unsqueezed axis is 2.
  for (int i = 0; i < 2; ++i)
    if (ut.getDimSize(i) != kt.getDimSize(i))
      return std::nullopt;
  if (ut.getDimSize(3) != kt.getDimSize(2) || ut.getDimSize(4) != kt.getDimSize(3))
    return std::nullopt;
  int64_t b = kt.getDimSize(0), G = kt.getDimSize(1), s = kt.getDimSize(2), d = kt.getDimSize(3);
  int64_t R = et.getDimSize(2);
  if (et.getDimSize(0) != b || et.getDimSize(1) != G || et.getDimSize(3) != s ||
      et.getDimSize(4) != d || rt.getDimSize(0) != b || rt.getDimSize(1) != G * R ||
      rt.getDimSize(2) != s || rt.getDimSize(3) != d || R < 2)
    return std::nullopt;
  return Repeat{u.getData(), G, R};
}

Value reshape(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> dims) {
  auto elt = cast<ShapedType>(x.getType()).getElementType();
  auto st = RankedTensorType::get({static_cast<int64_t>(dims.size())}, b.getI64Type());
  Value shape = ConstantOp::create(b, loc, st, DenseElementsAttr::get(st, dims));
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
  Value l = reshape(b, loc, mm.getA(), {bs, G, R * m, k});
  auto prodType = RankedTensorType::get({bs, G, R * m, n}, ot.getElementType());
  Value prod = MatMulOp::create(b, loc, prodType, l, rhs);
  return reshape(b, loc, prod, ot.getShape());
}

/// Whether mm is lhs [b, H, m, k] x (its B operand) with a static 4-D
/// result of H heads.
bool isHeadMatMul(MatMulOp mm, Value rhsUse, int64_t H) {
  auto lt = staticType(mm.getA());
  auto ot = staticType(mm.getY());
  return mm.getB() == rhsUse && mm.getA() != rhsUse && lt && ot && lt.getRank() == 4 &&
         ot.getRank() == 4 && lt.getDimSize(1) == H && ot.getDimSize(1) == H;
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
