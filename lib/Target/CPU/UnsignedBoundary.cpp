//===- UnsignedBoundary.cpp - uint8 at @main's boundary as i8 bits --------===//
#include "quantc/Target/CPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace quantc::cpu {
#define GEN_PASS_DEF_CPUUNSIGNEDBOUNDARY
#include "quantc/Target/CPU/Passes.h.inc"
} // namespace quantc::cpu

using namespace mlir;

namespace {

/// The signless twin of an unsigned integer tensor type; null otherwise.
RankedTensorType signlessOf(Type t) {
  auto rt = dyn_cast<RankedTensorType>(t);
  auto it = rt ? dyn_cast<IntegerType>(rt.getElementType()) : IntegerType();
  if (!it || !it.isUnsigned())
    return {};
  return rt.clone(IntegerType::get(t.getContext(), it.getWidth()));
}

struct UnsignedBoundaryPass
    : quantc::cpu::impl::CPUUnsignedBoundaryBase<UnsignedBoundaryPass> {
  void runOnOperation() override {
    auto main = getOperation().lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal())
      return;
    Block &entry = main.getBody().front();
    SmallVector<Type> args(main.getArgumentTypes()), results(main.getResultTypes());
    // One cast per user, right before it (or before its ancestor in the
    // entry block), so that op outlining keeps each cast with its user
    // without spanning the model.
    for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
      BlockArgument arg = entry.getArgument(i);
      RankedTensorType s = signlessOf(arg.getType());
      if (!s)
        continue;
      Type u = arg.getType();
      arg.setType(s);
      for (OpOperand &use : llvm::make_early_inc_range(arg.getUses())) {
        Operation *at = entry.findAncestorOpInBlock(*use.getOwner());
        OpBuilder b(at ? at : use.getOwner());
        auto cast = UnrealizedConversionCastOp::create(b, main.getLoc(), u, ValueRange{arg});
        use.set(cast.getResult(0));
      }
      args[i] = s;
    }
    // Results: the cast right after the producer.
    main.walk([&](func::ReturnOp ret) {
      for (unsigned i = 0; i < ret.getNumOperands(); ++i) {
        Value v = ret.getOperand(i);
        RankedTensorType s = signlessOf(v.getType());
        if (!s)
          continue;
        OpBuilder b(ret);
        if (Operation *def = v.getDefiningOp())
          if (Operation *at = ret->getBlock()->findAncestorOpInBlock(*def))
            b.setInsertionPointAfter(at);
        auto cast = UnrealizedConversionCastOp::create(b, ret.getLoc(), s, ValueRange{v});
        ret.setOperand(i, cast.getResult(0));
        results[i] = s;
      }
    });
    main.setFunctionType(FunctionType::get(&getContext(), args, results));
  }
};

} // namespace
