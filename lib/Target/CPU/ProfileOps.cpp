//===- ProfileOps.cpp - timing marks between qc ops -----------------------===//
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Target/CPU/Passes.h"

#include "mlir/IR/Builders.h"

namespace quantc::cpu {
#define GEN_PASS_DEF_CPUPROFILEOPS
#include "quantc/Target/CPU/Passes.h.inc"

bool isProfiledOp(mlir::Operation *op) {
  return mlir::isa<qc::QCDialect>(op->getDialect()) && !op->hasTrait<mlir::OpTrait::ConstantLike>() &&
         !mlir::isa<qc::NoneOp>(op);
}
} // namespace quantc::cpu

using namespace mlir;

namespace {
struct ProfileOpsPass : quantc::cpu::impl::CPUProfileOpsBase<ProfileOpsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    ModuleOp module = func->getParentOfType<ModuleOp>();
    OpBuilder b(func.getContext());
    func::FuncOp mark = module.lookupSymbol<func::FuncOp>("qc_rt_prof_mark");
    if (!mark) {
      b.setInsertionPointToStart(module.getBody());
      mark = func::FuncOp::create(b, module.getLoc(), "qc_rt_prof_mark",
                                  b.getFunctionType({b.getI64Type()}, {}));
      mark.setPrivate();
    }
    int64_t index = 0;
    auto insertMark = [&](Operation *before, int64_t id) {
      b.setInsertionPoint(before);
      Value v = arith::ConstantIntOp::create(b, before->getLoc(), id, 64);
      func::CallOp::create(b, before->getLoc(), mark, ValueRange{v});
    };
    SmallVector<Operation *> ops;
    for (Operation &op : func.getBody().front())
      if (quantc::cpu::isProfiledOp(&op))
        ops.push_back(&op);
    for (Operation *op : ops)
      insertMark(op, index++);
    insertMark(func.getBody().front().getTerminator(), -1);
  }
};
} // namespace
