//===- ParallelLoops.cpp - elementwise and row-wise loops on threads ------===//
//
// quantc-cpu-parallel-outline and quantc-cpu-parallel-dispatch (Passes.td):
// large linalg ops (the fused elementwise loops, softmax's and the norms'
// row-wise passes, copies) run on the runtime's thread pool, one
// contiguous range of a parallel loop dimension per thread.
//
//===----------------------------------------------------------------------===//
#include "quantc/Target/CPU/Passes.h"
#include "ContextStruct.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

namespace quantc::cpu {
#define GEN_PASS_DEF_CPUPARALLELOUTLINE
#define GEN_PASS_DEF_CPUPARALLELDISPATCH
#include "quantc/Target/CPU/Passes.h.inc"
} // namespace quantc::cpu

using namespace mlir;

namespace {

constexpr const char *kParallelBodyAttr = "qc.parallel_body";
/// A function calling a parallel body on the caller's thread (small
/// dynamic sizes); its calls are left alone by the dispatch.
constexpr const char *kSerialWrapperAttr = "qc.serial_wrapper";

/// The loop dimension to split and, per operand, the position of its
/// memref indexed by it (-1: not indexed, passed whole). Nothing when the
/// op does not qualify.
struct Split {
  unsigned dim = 0;
  int64_t extent = 0;
  SmallVector<int64_t> position; // per OpOperand, in order
};

std::optional<Split> chooseSplit(linalg::LinalgOp op, int64_t minIterations) {
  if (!op.hasPureBufferSemantics() || op.hasIndexSemantics())
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  // With dynamic ranges the size is checked at run time (the call site
  // runs small instances on the caller's thread).
  int64_t total = 1;
  bool dynamic = false;
  for (int64_t r : ranges) {
    if (ShapedType::isDynamic(r))
      dynamic = true;
    else
      total *= r;
  }
  if (!dynamic && total < minIterations)
    return std::nullopt;
  if (dynamic && total == 0)
    return std::nullopt;
  for (OpOperand &o : op->getOpOperands())
    if (!isa<MemRefType>(o.get().getType()))
      return std::nullopt;
  auto iterators = op.getIteratorTypesArray();
  for (unsigned d = 0; d < ranges.size(); ++d) {
    if (iterators[d] != utils::IteratorType::parallel ||
        (!ShapedType::isDynamic(ranges[d]) && ranges[d] < 4))
      continue;
    Split s{d, ranges[d], {}};
    bool ok = true;
    for (OpOperand &o : op->getOpOperands()) {
      AffineMap map = op.getMatchingIndexingMap(&o);
      int64_t pos = -1;
      for (unsigned r = 0; r < map.getNumResults() && ok; ++r) {
        AffineExpr e = map.getResult(r);
        if (auto de = dyn_cast<AffineDimExpr>(e); de && de.getPosition() == d) {
          ok = pos < 0;
          pos = r;
        } else if (e.isFunctionOfDim(d)) {
          ok = false;
        }
      }
      if (ok && op.isDpsInit(&o) && pos < 0)
        ok = false; // every output row written by exactly one range
      s.position.push_back(pos);
      if (!ok)
        break;
    }
    // The same buffer read or written at two different positions of the
    // split dimension would need two views of one argument: not split.
    for (OpOperand &a : op->getOpOperands())
      for (OpOperand &b : op->getOpOperands())
        if (ok && a.get() == b.get() &&
            s.position[a.getOperandNumber()] != s.position[b.getOperandNumber()])
          ok = false;
    if (ok)
      return s;
  }
  return std::nullopt;
}

struct ParallelOutlinePass
    : quantc::cpu::impl::CPUParallelOutlineBase<ParallelOutlinePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<linalg::LinalgOp, Split>> todo;
    module.walk([&](linalg::LinalgOp op) {
      // Epilogue bodies run inside a kernel's task already.
      if (auto fn = op->getParentOfType<func::FuncOp>())
        if (fn->hasAttr(quantc::cpu::kEpilogueBodyAttr))
          return;
      if (auto s = chooseSplit(op, minIterations))
        todo.push_back({op, *s});
    });
    std::map<std::string, func::FuncOp> byBody;
    int counter = 0;
    for (auto &[op, split] : todo) {
      MLIRContext *ctx = op->getContext();
      Location loc = op.getLoc();
      // Unique buffers, in operand order, then the values the body uses
      // from above that are not constants (constants are cloned).
      SmallVector<Value> buffers;
      for (OpOperand &o : op->getOpOperands())
        if (!llvm::is_contained(buffers, o.get()))
          buffers.push_back(o.get());
      llvm::SetVector<Value> above;
      getUsedValuesDefinedAbove(op->getRegions(), above);
      SmallVector<Value> constants;
      for (Value v : above) {
        Operation *def = v.getDefiningOp();
        if (def && def->hasTrait<OpTrait::ConstantLike>())
          constants.push_back(v);
        else if (!llvm::is_contained(buffers, v))
          buffers.push_back(v);
      }
      SmallVector<Type> argTypes = {IndexType::get(ctx), IndexType::get(ctx)};
      for (Value v : buffers)
        argTypes.push_back(v.getType());
      OpBuilder mb(module.getBodyRegion());
      mb.setInsertionPointToEnd(module.getBody());
      auto fn = func::FuncOp::create(mb, loc, "qc_par_" + std::to_string(counter),
                                     FunctionType::get(ctx, argTypes, {}));
      fn.setPrivate();
      Block *body = fn.addEntryBlock();
      OpBuilder b = OpBuilder::atBlockBegin(body);
      Value lo = body->getArgument(0), hi = body->getArgument(1);
      Value size = arith::SubIOp::create(b, loc, hi, lo);
      IRMapping mapping;
      for (Value c : constants)
        mapping.map(c, b.clone(*c.getDefiningOp())->getResult(0));
      for (unsigned i = 0; i < buffers.size(); ++i)
        if (!isa<MemRefType>(buffers[i].getType()))
          mapping.map(buffers[i], body->getArgument(2 + i));
      for (OpOperand &o : op->getOpOperands()) {
        if (mapping.contains(o.get()))
          continue;
        Value arg = body->getArgument(2 + llvm::find(buffers, o.get()) - buffers.begin());
        int64_t pos = split.position[o.getOperandNumber()];
        if (pos < 0) {
          mapping.map(o.get(), arg);
          continue;
        }
        auto mt = cast<MemRefType>(arg.getType());
        SmallVector<OpFoldResult> offsets, sizes, strides;
        for (int64_t d = 0; d < mt.getRank(); ++d) {
          offsets.push_back(d == pos ? OpFoldResult(lo) : OpFoldResult(b.getIndexAttr(0)));
          sizes.push_back(d == pos ? OpFoldResult(size)
                          : mt.isDynamicDim(d)
                              ? OpFoldResult(memref::DimOp::create(b, loc, arg, d).getResult())
                              : OpFoldResult(b.getIndexAttr(mt.getDimSize(d))));
          strides.push_back(b.getIndexAttr(1));
        }
        mapping.map(o.get(), memref::SubViewOp::create(b, loc, arg, offsets, sizes, strides));
      }
      b.clone(*op, mapping);
      func::ReturnOp::create(b, loc);
      // The same function for the same op (printed without its name).
      std::string key;
      {
        llvm::raw_string_ostream os(key);
        fn.setSymName("qc_par");
        fn.print(os, OpPrintingFlags().useLocalScope().assumeVerified());
      }
      func::FuncOp callee;
      if (auto it = byBody.find(key); it != byBody.end()) {
        fn.erase();
        callee = it->second;
      } else {
        fn.setSymName("qc_par_" + std::to_string(counter++));
        fn->setAttr(kParallelBodyAttr, UnitAttr::get(ctx));
        byBody[key] = fn;
        callee = fn;
      }
      OpBuilder cb(op);
      Value zero = arith::ConstantIndexOp::create(cb, loc, 0);
      Value extent;
      if (!ShapedType::isDynamic(split.extent)) {
        extent = arith::ConstantIndexOp::create(cb, loc, split.extent);
      } else {
        // The extent from an operand indexed by the split dim.
        for (OpOperand &o : op->getOpOperands())
          if (!extent && split.position[o.getOperandNumber()] >= 0)
            extent = memref::DimOp::create(cb, loc, o.get(), split.position[o.getOperandNumber()]);
      }
      SmallVector<Value> args = {zero, extent};
      args.append(buffers.begin(), buffers.end());
      bool dynamic = llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic);
      if (!dynamic) {
        func::CallOp::create(cb, loc, callee, args);
        op->erase();
        continue;
      }
      // Dynamic: the threads only when the instance is large enough.
      Value total = arith::ConstantIndexOp::create(cb, loc, 1);
      for (Range r : op.createLoopRanges(cb, loc))
        total = arith::MulIOp::create(cb, loc, total,
                                      getValueOrCreateConstantIndexOp(cb, loc, r.size));
      Value big = arith::CmpIOp::create(cb, loc, arith::CmpIPredicate::sge, total,
                                        arith::ConstantIndexOp::create(cb, loc, minIterations));
      std::string serialName = callee.getSymName().str() + "_serial";
      auto serial = module.lookupSymbol<func::FuncOp>(serialName);
      if (!serial) {
        OpBuilder sb(module.getBodyRegion());
        sb.setInsertionPointToEnd(module.getBody());
        serial = func::FuncOp::create(sb, loc, serialName, callee.getFunctionType());
        serial.setPrivate();
        serial->setAttr(kSerialWrapperAttr, UnitAttr::get(ctx));
        Block *sbody = serial.addEntryBlock();
        OpBuilder wb = OpBuilder::atBlockBegin(sbody);
        func::CallOp::create(wb, loc, callee, sbody->getArguments());
        func::ReturnOp::create(wb, loc);
      }
      scf::IfOp::create(
          cb, loc, big,
          [&](OpBuilder &tb, Location tl) {
            func::CallOp::create(tb, tl, callee, args);
            scf::YieldOp::create(tb, tl);
          },
          [&](OpBuilder &eb, Location el) {
            func::CallOp::create(eb, el, serial, args);
            scf::YieldOp::create(eb, el);
          });
      op->erase();
    }
  }
};

struct ParallelDispatchPass
    : quantc::cpu::impl::CPUParallelDispatchBase<ParallelDispatchPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    auto voidTy = LLVM::LLVMVoidType::get(ctx);
    SymbolTable symbols(module);
    SmallVector<LLVM::CallOp> calls;
    module.walk([&](LLVM::CallOp call) {
      auto callee = call.getCallee();
      if (!callee)
        return;
      auto fn = symbols.lookup<LLVM::LLVMFuncOp>(*callee);
      auto caller = call->getParentOfType<LLVM::LLVMFuncOp>();
      if (fn && fn->hasAttr(kParallelBodyAttr) && !(caller && caller->hasAttr(kSerialWrapperAttr)))
        calls.push_back(call);
    });
    if (calls.empty())
      return;
    OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
    auto runtimeType = LLVM::LLVMFunctionType::get(voidTy, {ptr, ptr, i64});
    auto runtime = symbols.lookup<LLVM::LLVMFuncOp>("qc_rt_parallel_for");
    if (!runtime)
      runtime = LLVM::LLVMFuncOp::create(mb, module.getLoc(), "qc_rt_parallel_for", runtimeType);
    std::map<std::string, LLVM::LLVMFuncOp> trampolines;
    for (LLVM::CallOp call : calls) {
      auto fn = symbols.lookup<LLVM::LLVMFuncOp>(*call.getCallee());
      auto fnType = fn.getFunctionType();
      SmallVector<Type> fields(fnType.getParams().begin() + 2, fnType.getParams().end());
      Location loc = call.getLoc();
      std::string trampName = fn.getSymName().str() + "_tramp";
      LLVM::LLVMFuncOp tramp = trampolines[trampName];
      if (!tramp) {
        tramp = LLVM::LLVMFuncOp::create(mb, loc, trampName,
                                         LLVM::LLVMFunctionType::get(voidTy, {ptr, i64, i64}));
        tramp.setLinkage(LLVM::Linkage::Internal);
        Block *entry = tramp.addEntryBlock(mb);
        OpBuilder tb = OpBuilder::atBlockBegin(entry);
        SmallVector<Value> args = {entry->getArgument(1), entry->getArgument(2)};
        quantc::cpu::loadContext(tb, loc, entry->getArgument(0), fields, args);
        LLVM::CallOp::create(tb, loc, fn, args);
        LLVM::ReturnOp::create(tb, loc, ValueRange{});
        trampolines[trampName] = tramp;
      }
      Value ctxPtr = quantc::cpu::storeContext(call, call.getArgOperands().drop_front(2));
      OpBuilder b(call);
      Value fnPtr = LLVM::AddressOfOp::create(b, loc, ptr, tramp.getSymName());
      // The calls the outline pass made pass lo = 0, hi = the extent.
      LLVM::CallOp::create(b, loc, runtime, ValueRange{fnPtr, ctxPtr, call.getArgOperands()[1]});
      call.erase();
    }
  }
};

} // namespace
