//===- FoldTransposes.cpp - transposes read in place by the GEMMs ---------===//
//
// quantc-cpu-fold-transposes (Passes.td): a linalg.transpose into a fresh
// buffer that only feeds matmul operands (through collapse/expand views)
// becomes a strided view of its input; the runtime's GEMMs read any
// strides, so the copy is not made.
//
//===----------------------------------------------------------------------===//
#include "quantc/Target/CPU/Passes.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace quantc::cpu {
#define GEN_PASS_DEF_CPUFOLDTRANSPOSES
#include "quantc/Target/CPU/Passes.h.inc"
} // namespace quantc::cpu

using namespace mlir;

namespace {

/// An input of qc.attention_kernel: the attention kernel reads its
/// operands through any strides.
bool isAttentionInput(OpOperand &use) {
  auto a = dyn_cast<quantc::qc::AttentionKernelOp>(use.getOwner());
  return a && !a.isDpsInit(&use);
}

/// Whether every use of `v` is an input of a matmul / batch_matmul that
/// quantc-cpu-kernel-calls hands to the runtime, directly or through
/// collapse_shape / expand_shape views with the same property.
bool onlyFeedsMatmuls(Value v, int depth = 0) {
  if (depth > 4)
    return false;
  for (OpOperand &use : v.getUses()) {
    Operation *user = use.getOwner();
    if (isAttentionInput(use))
      continue;
    if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(user)) {
      auto l = cast<linalg::LinalgOp>(user);
      bool userMaps = isa<linalg::MatmulOp>(user) ? cast<linalg::MatmulOp>(user).hasUserDefinedMaps()
                                                  : cast<linalg::BatchMatmulOp>(user).hasUserDefinedMaps();
      if (userMaps || !l.isDpsInput(&use))
        return false;
      continue;
    }
    if (isa<memref::CollapseShapeOp, memref::ExpandShapeOp>(user)) {
      if (!onlyFeedsMatmuls(user->getResult(0), depth + 1))
        return false;
      continue;
    }
    return false;
  }
  return true;
}

/// Whether the views between `v` and the matmuls can be rebuilt on a
/// value of type `t` (a strided layout): every collapse must stay
/// possible.
bool viewsFit(Value v, MemRefType t) {
  for (OpOperand &use : v.getUses()) {
    Operation *user = use.getOwner();
    if (isAttentionInput(use))
      continue;
    if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(user)) {
      // As B, the view must keep unit column stride: the decode-shaped
      // (skinny) kernels stream B's rows and take no other; a transposed
      // B there fell back to packing and made SmolLM2's decode step 17%
      // slower than copying it. A may have any strides.
      if (use.getOperandNumber() == 1) {
        SmallVector<int64_t> strides;
        int64_t offset;
        if (failed(t.getStridesAndOffset(strides, offset)) || strides.empty() || strides.back() != 1)
          return false;
      }
      continue;
    }
    if (auto c = dyn_cast<memref::CollapseShapeOp>(user)) {
      if (!memref::CollapseShapeOp::isGuaranteedCollapsible(t, c.getReassociationIndices()))
        return false;
      if (!viewsFit(c.getResult(), memref::CollapseShapeOp::computeCollapsedType(
                                        t, c.getReassociationIndices())))
        return false;
    } else if (auto e = dyn_cast<memref::ExpandShapeOp>(user)) {
      auto rt = memref::ExpandShapeOp::computeExpandedType(t, e.getResultType().getShape(),
                                                           e.getReassociationIndices());
      if (failed(rt) || !viewsFit(e.getResult(), *rt))
        return false;
    }
  }
  return true;
}

/// Rebuilds the views between `oldV` and the matmuls on `newV`, replacing
/// the matmuls' operands; the old views go to `dead`.
void rebuildViews(OpBuilder &b, Value oldV, Value newV, SmallVectorImpl<Operation *> &dead) {
  for (OpOperand &use : llvm::make_early_inc_range(oldV.getUses())) {
    Operation *user = use.getOwner();
    if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(user) || isAttentionInput(use)) {
      use.set(newV);
      continue;
    }
    if (!isa<memref::CollapseShapeOp, memref::ExpandShapeOp>(user))
      continue; // the transpose itself
    b.setInsertionPoint(user);
    Value view;
    if (auto c = dyn_cast<memref::CollapseShapeOp>(user)) {
      view = memref::CollapseShapeOp::create(b, c.getLoc(), newV, c.getReassociationIndices());
    } else {
      auto e = cast<memref::ExpandShapeOp>(user);
      auto rt = memref::ExpandShapeOp::computeExpandedType(
          cast<MemRefType>(newV.getType()), e.getResultType().getShape(),
          e.getReassociationIndices());
      view = memref::ExpandShapeOp::create(b, e.getLoc(), *rt, newV, e.getReassociationIndices(),
                                           e.getMixedOutputShape());
    }
    rebuildViews(b, user->getResult(0), view, dead);
    dead.push_back(user);
  }
}

struct FoldTransposesPass : quantc::cpu::impl::CPUFoldTransposesBase<FoldTransposesPass> {
  void runOnOperation() override {
    foldAttentionOutputs();
    SmallVector<linalg::TransposeOp> candidates;
    getOperation().walk([&](linalg::TransposeOp t) {
      if (!t.hasPureBufferSemantics())
        return;
      Value out = t.getInit();
      auto alloc = out.getDefiningOp<memref::AllocOp>();
      auto it = dyn_cast<MemRefType>(t.getInput().getType());
      // A fresh buffer, written only by this transpose, of a strided input.
      if (!alloc || !it || !it.isStrided() || !cast<MemRefType>(out.getType()).getLayout().isIdentity())
        return;
      for (OpOperand &use : out.getUses())
        if (use.getOwner() != t && !onlyFeedsMatmulsUse(use))
          return;
      candidates.push_back(t);
    });
    for (linalg::TransposeOp t : candidates) {
      AffineMap perm = AffineMap::getPermutationMap(t.getPermutation(), t.getContext());
      OpBuilder b(t);
      Value view = memref::TransposeOp::create(b, t.getLoc(), t.getInput(), AffineMapAttr::get(perm));
      Value out = t.getInit();
      if (!viewsFit(out, cast<MemRefType>(view.getType()))) {
        view.getDefiningOp()->erase();
        continue;
      }
      SmallVector<Operation *> dead;
      rebuildViews(b, out, view, dead);
      for (Operation *op : dead)
        op->erase();
      Operation *alloc = out.getDefiningOp();
      t->erase();
      if (alloc->use_empty())
        alloc->erase();
    }
  }

  /// A transpose of the attention kernel's output (heads back to
  /// [b, m, H, dv] before the output projection): the kernel writes
  /// through the inverse permutation of the transpose's output buffer
  /// instead, and the copy goes. The kernel's own output must be a fresh
  /// buffer read only by the transpose; the target buffer's allocation
  /// moves before the kernel when its sizes allow.
  void foldAttentionOutputs() {
    SmallVector<linalg::TransposeOp> ts;
    getOperation().walk([&](linalg::TransposeOp t) {
      if (t.hasPureBufferSemantics())
        ts.push_back(t);
    });
    for (linalg::TransposeOp t : ts) {
      Value x = t.getInput();
      auto xAlloc = x.getDefiningOp<memref::AllocOp>();
      if (!xAlloc || !xAlloc.getType().getLayout().isIdentity())
        continue;
      quantc::qc::AttentionKernelOp attn;
      bool ok = true;
      for (OpOperand &u : x.getUses()) {
        if (u.getOwner() == t.getOperation())
          continue;
        auto a = dyn_cast<quantc::qc::AttentionKernelOp>(u.getOwner());
        if (!a || !a.isDpsInit(&u) || attn || a->getBlock() != t->getBlock() ||
            !a->isBeforeInBlock(t)) {
          ok = false;
          break;
        }
        attn = a;
      }
      if (!ok || !attn)
        continue;
      Value y = t.getInit();
      auto yt = cast<MemRefType>(y.getType());
      if (!yt.getLayout().isIdentity())
        continue;
      // y must be fresh: no use before the transpose (bufferization may
      // have given the transpose a buffer that held the query until the
      // kernel read it).
      bool touched = llvm::any_of(y.getUsers(), [&](Operation *u) {
        Operation *top = t->getBlock()->findAncestorOpInBlock(*u);
        return u != t.getOperation() && (!top || top->isBeforeInBlock(t));
      });
      if (touched)
        continue;
      // y must exist before the kernel, and nothing may touch y between.
      if (auto yAlloc = y.getDefiningOp<memref::AllocOp>()) {
        if (yAlloc->getBlock() != t->getBlock())
          continue;
        if (!yAlloc->isBeforeInBlock(attn)) {
          if (llvm::any_of(yAlloc->getOperands(), [&](Value v) {
                Operation *d = v.getDefiningOp();
                return d && d->getBlock() == attn->getBlock() && !d->isBeforeInBlock(attn);
              }))
            continue;
          yAlloc->moveBefore(attn);
        }
      } else if (!isa<BlockArgument>(y)) {
        continue;
      }
      // x = transpose^-1(y): y[.., p[i], ..] = x[.., i, ..].
      ArrayRef<int64_t> p = t.getPermutation();
      SmallVector<unsigned> inv(p.size());
      for (auto [i, v] : llvm::enumerate(p))
        inv[v] = i;
      OpBuilder b(attn);
      AffineMap invMap = AffineMap::getPermutationMap(inv, t.getContext());
      Value view = memref::TransposeOp::create(b, t.getLoc(), y, AffineMapAttr::get(invMap));
      if (cast<MemRefType>(view.getType()).getShape() != xAlloc.getType().getShape()) {
        view.getDefiningOp()->erase();
        continue;
      }
      attn.getInitMutable().set(view);
      t->erase();
      if (xAlloc->use_empty())
        xAlloc->erase();
    }
  }

  static bool onlyFeedsMatmulsUse(OpOperand &use) {
    Operation *user = use.getOwner();
    if (isAttentionInput(use))
      return true;
    if (isa<linalg::MatmulOp, linalg::BatchMatmulOp, memref::CollapseShapeOp, memref::ExpandShapeOp>(user)) {
      // Check this one use's path.
      if (isa<memref::CollapseShapeOp, memref::ExpandShapeOp>(user))
        return onlyFeedsMatmuls(user->getResult(0));
      auto l = cast<linalg::LinalgOp>(user);
      bool userMaps = isa<linalg::MatmulOp>(user) ? cast<linalg::MatmulOp>(user).hasUserDefinedMaps()
                                                  : cast<linalg::BatchMatmulOp>(user).hasUserDefinedMaps();
      return !userMaps && l.isDpsInput(&use);
    }
    return false;
  }
};

} // namespace
