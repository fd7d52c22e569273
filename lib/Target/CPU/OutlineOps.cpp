//===- OutlineOps.cpp - one function per compute op -----------------------===//
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Target/CPU/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/BitVector.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"

namespace quantc::cpu {
#define GEN_PASS_DEF_CPUOUTLINEOPS
#include "quantc/Target/CPU/Passes.h.inc"
} // namespace quantc::cpu

using namespace mlir;
using namespace quantc;

namespace {

bool staysInline(Operation *op) {
  // The casts of quantc-cpu-unsigned-boundary go with their neighbours.
  if (isa<UnrealizedConversionCastOp>(op))
    return false;
  return !isa<qc::QCDialect>(op->getDialect()) || op->hasTrait<OpTrait::ConstantLike>() ||
         isa<qc::NoneOp>(op) || op->getNumRegions() != 0;
}

bool isProfileMark(Operation *op) {
  auto call = dyn_cast<func::CallOp>(op);
  return call && call.getCallee() == "qc_rt_prof_mark";
}

bool isConstantOperand(Value v) {
  Operation *def = v.getDefiningOp();
  return def && (def->hasTrait<OpTrait::ConstantLike>() || isa<qc::NoneOp>(def));
}

struct OutlineOpsPass : quantc::cpu::impl::CPUOutlineOpsBase<OutlineOpsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal())
      return;
    // A Transpose that only feeds MatMuls (or fused attention) moves down
    // to just before the first of them, so that both land in one function
    // and quantc-cpu-fold-transposes can turn the copy into a strided view.
    SmallVector<Operation *> sink;
    for (Operation &op : main.getBody().front())
      if (isa<qc::TransposeOp>(op) && !op.use_empty() &&
          llvm::all_of(op.getUsers(), [&](Operation *u) {
            return isa<qc::MatMulOp, qc::AttentionOp>(u) && u->getBlock() == op.getBlock();
          }))
        sink.push_back(&op);
    for (Operation *op : sink) {
      Operation *first = nullptr;
      for (Operation *u : op->getUsers())
        if (!first || u->isBeforeInBlock(first))
          first = u;
      op->moveBefore(first);
    }
    // Runs of consecutive compute ops, at most `opsPerFunction` each; a
    // profiling mark or other non-qc op ends a run.
    SmallVector<SmallVector<Operation *>> groups(1);
    for (Operation &op : main.getBody().front()) {
      if (op.hasTrait<OpTrait::IsTerminator>())
        break;
      if (op.hasTrait<OpTrait::ConstantLike>() || isa<qc::NoneOp>(op))
        continue;
      // Unsigned integer tensors (the uint8 of DynamicQuantizeLinear, say)
      // and fp8 ones have no storage form at a call boundary: a run that
      // produced one goes on until its users are in.
      auto crossesUnsigned = [&](ArrayRef<Operation *> run) {
        llvm::SmallPtrSet<Operation *, 32> in(run.begin(), run.end());
        for (Operation *o : run)
          for (Value r : o->getResults())
            if (auto t = dyn_cast<TensorType>(r.getType());
                t && (t.getElementType().isUnsignedInteger() ||
                      isa<Float8E4M3FNType, Float8E5M2Type>(t.getElementType())) &&
                llvm::any_of(r.getUsers(), [&](Operation *u) { return !in.contains(u); }))
              return true;
        return false;
      };
      bool full = !groups.back().empty() &&
                  (endsRun(groups.back()) || endsBefore(groups.back(), &op)) &&
                  !crossesUnsigned(groups.back());
      // A profiling mark between the producer of an unsigned tensor and its
      // user goes into the run (quantc bench --profile on dynamically
      // quantized models).
      if (isProfileMark(&op) && !groups.back().empty() && crossesUnsigned(groups.back())) {
        groups.back().push_back(&op);
        continue;
      }
      if (staysInline(&op) || full) {
        if (!groups.back().empty())
          groups.emplace_back();
        if (staysInline(&op))
          continue;
      }
      groups.back().push_back(&op);
    }
    int64_t index = 0;
    for (auto &group : groups)
      if (!group.empty())
        outline(main, group, index++);
  }

  /// Whether the run `group` ends here (see the pass description).
  bool endsRun(ArrayRef<Operation *> group) {
    size_t n = group.size(), per = static_cast<size_t>(std::max<int64_t>(opsPerFunction, 1));
    if (!contentDefined)
      return n >= per;
    if (n >= 2 * per)
      return true;
    if (n < std::max<size_t>(per / 4, 1))
      return false;
    // After a float contraction: its kernel writes the result to memory
    // anyway, so a call boundary there costs no fusion. Not after an
    // integer one (MatMulInteger, ConvInteger): its lowering ends in an
    // elementwise zero-point correction (acc - zp_x * rowsum(W)) that fuses
    // into the epilogue after it only in the same function; cut there, it
    // was one more pass over the int32 result (26 of PP-OCRv4 det's w8a8
    // convolutions).
    return isa<qc::MatMulOp, qc::GemmOp, qc::ConvOp, qc::QLinearMatMulOp, qc::QLinearConvOp>(
        group.back());
  }

  /// Whether a content-defined run ends before `next` (see the pass
  /// description): an integer contraction that reads its input as it is
  /// (MatMulInteger, a ConvInteger with a 1x1 kernel and no padding), so
  /// the quantize loop that produces that input loses no fusion at the
  /// boundary. A padded ConvInteger's pad, by contrast, is written in place
  /// by its producer only within one function.
  bool endsBefore(ArrayRef<Operation *> group, Operation *next) {
    size_t per = static_cast<size_t>(std::max<int64_t>(opsPerFunction, 1));
    if (!contentDefined || group.size() < std::max<size_t>(per / 4, 1))
      return false;
    if (isa<qc::MatMulIntegerOp>(next))
      return true;
    auto conv = dyn_cast<qc::ConvIntegerOp>(next);
    if (!conv)
      return false;
    auto wt = dyn_cast<RankedTensorType>(conv.getW().getType());
    auto pads = conv.getPads();
    return wt && wt.getRank() == 4 && wt.getDimSize(2) == 1 && wt.getDimSize(3) == 1 &&
           (!pads || llvm::all_of(*pads, [](int64_t p) { return p == 0; })) &&
           (conv.getAutoPad() == "NOTSET" || conv.getAutoPad() == "VALID");
  }

  void outline(func::FuncOp main, ArrayRef<Operation *> group, int64_t index) {
    OpBuilder b(main.getContext());
    llvm::SmallPtrSet<Operation *, 32> inGroup(group.begin(), group.end());
    SmallVector<Value> args, results;
    for (Operation *op : group)
      for (Value v : op->getOperands())
        if (!isConstantOperand(v) && (!v.getDefiningOp() || !inGroup.contains(v.getDefiningOp())) &&
            !llvm::is_contained(args, v))
          args.push_back(v);
    for (Operation *op : group)
      for (Value r : op->getResults())
        if (llvm::any_of(r.getUsers(), [&](Operation *u) { return !inGroup.contains(u); }))
          results.push_back(r);
    // Named after its first qc op (not a boundary cast).
    Operation *first = group.front();
    for (Operation *op : group)
      if (!isa<UnrealizedConversionCastOp>(op)) {
        first = op;
        break;
      }
    std::string name =
        "ops_" + std::to_string(index) + "_" + first->getName().stripDialect().str();
    // Quantized tensors cross the call as their storage integers (the
    // buffers of a !quant.uniform tensor do not bufferize): quant.scast on
    // both sides, which fold away once the ops are lowered.
    auto storageOf = [](Type t) -> Type {
      auto rt = dyn_cast<RankedTensorType>(t);
      if (rt)
        if (auto q = dyn_cast<quant::QuantizedType>(rt.getElementType()))
          return rt.clone(q.getStorageType());
      return t;
    };
    SmallVector<Type> argTypes, resultTypes;
    for (Value v : args)
      argTypes.push_back(storageOf(v.getType()));
    for (Value v : results)
      resultTypes.push_back(storageOf(v.getType()));
    b.setInsertionPoint(main);
    auto f = func::FuncOp::create(b, group.front()->getLoc(), name,
                                  b.getFunctionType(argTypes, resultTypes));
    f.setPrivate();
    f->setAttr("passthrough", b.getArrayAttr({b.getStringAttr("noinline")}));
    // The ops never write their operands, so the arguments' buffers are
    // read-only here and every result gets a buffer of its own: no
    // argument aliases an output (see quantc-cpu-noalias-args).
    for (unsigned i = 0; i < args.size(); ++i)
      f.setArgAttr(i, "bufferization.writable", b.getBoolAttr(false));
    f->setAttr("qc.outlined", b.getUnitAttr());
    Block *body = f.addEntryBlock();
    IRMapping map;
    b.setInsertionPointToStart(body);
    for (auto [v, a] : llvm::zip(args, body->getArguments()))
      map.map(v, a.getType() == v.getType()
                     ? Value(a)
                     : Value(quant::StorageCastOp::create(b, a.getLoc(), v.getType(), a)));
    for (Operation *op : group) {
      for (Value v : op->getOperands())
        if (!map.contains(v))
          map.map(v, b.clone(*v.getDefiningOp())->getResult(0));
      b.clone(*op, map);
    }
    SmallVector<Value> mapped;
    for (auto [r, t] : llvm::zip(results, resultTypes)) {
      Value m = map.lookup(r);
      mapped.push_back(m.getType() == t ? m
                                        : Value(quant::StorageCastOp::create(b, m.getLoc(), t, m)));
    }
    func::ReturnOp::create(b, group.back()->getLoc(), mapped);
    b.setInsertionPoint(group.back());
    SmallVector<Value> callArgs;
    for (auto [v, t] : llvm::zip(args, argTypes))
      callArgs.push_back(v.getType() == t
                             ? v
                             : Value(quant::StorageCastOp::create(b, v.getLoc(), t, v)));
    auto call = func::CallOp::create(b, group.front()->getLoc(), f, callArgs);
    SmallVector<Operation *> after;
    for (auto [r, c] : llvm::zip(results, call.getResults())) {
      Value v = c;
      if (c.getType() != r.getType()) {
        b.setInsertionPointAfter(call);
        auto back = quant::StorageCastOp::create(b, c.getLoc(), r.getType(), c);
        after.push_back(back);
        v = back;
      }
      r.replaceAllUsesWith(v);
    }
    // Move the call after the last op so that every value it uses is
    // defined, then erase the group (users are now the call's results).
    call->moveAfter(group.back());
    Operation *last = call;
    for (Operation *op : after) {
      op->moveAfter(last);
      last = op;
    }
    for (Operation *op : llvm::reverse(group))
      op->erase();
  }
};
} // namespace

namespace quantc::cpu {
#define GEN_PASS_DEF_CPUFORWARDRESULTS
#include "quantc/Target/CPU/Passes.h.inc"
} // namespace quantc::cpu

namespace {
struct ForwardResultsPass : quantc::cpu::impl::CPUForwardResultsBase<ForwardResultsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::CallOp> calls;
    module.walk([&](func::CallOp c) { calls.push_back(c); });
    for (func::CallOp call : calls) {
      auto f = module.lookupSymbol<func::FuncOp>(call.getCallee());
      if (!f || f.isExternal() || !f->hasAttr("qc.outlined") || !f.getBody().hasOneBlock())
        continue;
      auto ret = cast<func::ReturnOp>(f.getBody().front().getTerminator());
      llvm::BitVector drop(ret.getNumOperands());
      for (unsigned i = 0; i < ret.getNumOperands(); ++i) {
        Value v = ret.getOperand(i);
        if (auto arg = dyn_cast<BlockArgument>(v)) {
          call.getResult(i).replaceAllUsesWith(call.getOperand(arg.getArgNumber()));
          drop.set(i);
          continue;
        }
        for (unsigned j = 0; j < i; ++j)
          if (!drop.test(j) && ret.getOperand(j) == v) {
            call.getResult(i).replaceAllUsesWith(call.getResult(j));
            drop.set(i);
            break;
          }
      }
      if (drop.none())
        continue;
      SmallVector<Value> kept;
      for (unsigned i = 0; i < ret.getNumOperands(); ++i)
        if (!drop.test(i))
          kept.push_back(ret.getOperand(i));
      OpBuilder b(ret);
      func::ReturnOp::create(b, ret.getLoc(), kept);
      ret.erase();
      if (failed(f.eraseResults(drop)))
        return signalPassFailure();
      b.setInsertionPoint(call);
      auto newCall = func::CallOp::create(b, call.getLoc(), f, call.getOperands());
      unsigned k = 0;
      for (unsigned i = 0; i < call.getNumResults(); ++i)
        if (!drop.test(i))
          call.getResult(i).replaceAllUsesWith(newCall.getResult(k++));
      call.erase();
    }
  }
};
} // namespace

namespace quantc::cpu {
#define GEN_PASS_DEF_CPUNOALIASARGS
#include "quantc/Target/CPU/Passes.h.inc"
} // namespace quantc::cpu

namespace {
struct NoAliasArgsPass : quantc::cpu::impl::CPUNoAliasArgsBase<NoAliasArgsPass> {
  void runOnOperation() override {
    getOperation().walk([](LLVM::LLVMFuncOp f) {
      if (!f->hasAttr("qc.outlined") || f.isExternal())
        return;
      auto ptr = LLVM::LLVMPointerType::get(f.getContext());
      for (unsigned i = 0; i < f.getNumArguments(); ++i)
        if (f.getArgument(i).getType() == ptr)
          f.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(),
                       UnitAttr::get(f.getContext()));
    });
  }
};
} // namespace
