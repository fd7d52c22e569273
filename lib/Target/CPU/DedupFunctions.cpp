//===- DedupFunctions.cpp - one function per class of identical layers ----===//
//
// quantc-cpu-dedup-functions (Passes.td): outlined LLVM functions that are
// identical but for the constant globals they take the address of become
// one function that receives those addresses as arguments.
//
//===----------------------------------------------------------------------===//
#include "quantc/Target/CPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include <map>
#include "llvm/ADT/MapVector.h"

namespace quantc::cpu {
#define GEN_PASS_DEF_CPUDEDUPFUNCTIONS
#include "quantc/Target/CPU/Passes.h.inc"
} // namespace quantc::cpu

using namespace mlir;

namespace {

/// The exact structure of a function as tokens: per op its name, result
/// types, attributes and properties (uniqued, so compared by identity),
/// operands by definition order and successors by block index; the
/// address of a constant global is one token whatever the global.
/// Functions with equal tokens differ at most in those globals.
std::vector<uintptr_t> structureOf(LLVM::LLVMFuncOp f, const llvm::StringMap<LLVM::GlobalOp> &constants) {
  std::vector<uintptr_t> t;
  llvm::DenseMap<Value, uintptr_t> ids;
  llvm::DenseMap<Block *, uintptr_t> blocks;
  for (Block &b : f.getBody())
    blocks[&b] = blocks.size();
  auto ptr = [](const void *p) { return reinterpret_cast<uintptr_t>(p); };
  t.push_back(ptr(f.getFunctionType().getAsOpaquePointer()));
  for (Block &b : f.getBody()) {
    t.push_back(0xB10C);
    for (BlockArgument a : b.getArguments()) {
      ids[a] = ids.size();
      t.push_back(ptr(a.getType().getAsOpaquePointer()));
    }
    for (Operation &op : b) {
      t.push_back(ptr(op.getName().getAsOpaquePointer()));
      auto addr = dyn_cast<LLVM::AddressOfOp>(op);
      if (addr && constants.count(addr.getGlobalName())) {
        t.push_back(0xC0175);
      } else {
        t.push_back(ptr(op.getRawDictionaryAttrs().getAsOpaquePointer()));
        t.push_back(ptr(op.getPropertiesAsAttribute().getAsOpaquePointer()));
      }
      t.push_back(op.getNumOperands());
      for (Value v : op.getOperands()) {
        auto it = ids.find(v);
        t.push_back(it == ids.end() ? UINTPTR_MAX : it->second); // from outside: never equal
      }
      for (Block *s : op.getSuccessors())
        t.push_back(blocks.lookup(s));
      t.push_back(op.getNumRegions()); // none after the lowering; counted to be safe
      for (Value r : op.getResults()) {
        ids[r] = ids.size();
        t.push_back(ptr(r.getType().getAsOpaquePointer()));
      }
    }
  }
  return t;
}

struct DedupFunctionsPass : quantc::cpu::impl::CPUDedupFunctionsBase<DedupFunctionsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    llvm::StringMap<LLVM::GlobalOp> constants;
    for (auto g : module.getOps<LLVM::GlobalOp>())
      if (g.getConstant())
        constants[g.getSymName()] = g;
    auto slotsOf = [&](LLVM::LLVMFuncOp f) {
      SmallVector<LLVM::AddressOfOp> slots;
      f.walk([&](LLVM::AddressOfOp a) {
        if (constants.count(a.getGlobalName()))
          slots.push_back(a);
      });
      return slots;
    };
    // Classes of outlined functions of equal structure (structureOf).
    llvm::MapVector<std::vector<uintptr_t>, SmallVector<LLVM::LLVMFuncOp>,
                    std::map<std::vector<uintptr_t>, unsigned>>
        classes;
    for (auto f : module.getOps<LLVM::LLVMFuncOp>())
      if (f->hasAttr("qc.outlined") && !f.isExternal())
        classes[structureOf(f, constants)].push_back(f);
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    llvm::DenseMap<StringRef, std::pair<LLVM::LLVMFuncOp, SmallVector<StringAttr>>> redirect;
    SmallVector<LLVM::LLVMFuncOp> erase;
    for (auto &[structure, members] : classes) {
      if (members.size() < 2)
        continue;
      LLVM::LLVMFuncOp canon = members.front();
      SmallVector<LLVM::AddressOfOp> slots = slotsOf(canon);
      SmallVector<SmallVector<StringAttr>> names;
      for (LLVM::LLVMFuncOp m : members) {
        SmallVector<LLVM::AddressOfOp> s = slotsOf(m);
        if (s.size() != slots.size()) {
          m.emitError("internal: equal functions with different constant reads");
          return signalPassFailure(); // cannot happen: the texts are equal
        }
        SmallVector<StringAttr> n;
        for (LLVM::AddressOfOp a : s)
          n.push_back(a.getGlobalNameAttr().getAttr());
        names.push_back(std::move(n));
      }
      unsigned first = canon.getNumArguments();
      SmallVector<unsigned> at(slots.size(), first);
      SmallVector<Type> types(slots.size(), ptr);
      SmallVector<DictionaryAttr> attrs;
      SmallVector<Location> locs;
      for (size_t k = 0; k < slots.size(); ++k) {
        NamedAttrList a;
        a.append(LLVM::LLVMDialect::getNoAliasAttrName(), UnitAttr::get(ctx));
        a.append(LLVM::LLVMDialect::getReadonlyAttrName(), UnitAttr::get(ctx));
        // No llvm.align: the JIT binds external weights to the importer's
        // bytes and lowers their declared alignment afterwards
        // (ExternalWeights.cpp); an alignment promised here could exceed it.
        attrs.push_back(a.getDictionary(ctx));
        locs.push_back(slots[k].getLoc());
      }
      // FunctionOpInterface::insertArguments cannot rebuild an LLVM
      // function type (one result, void included): built here.
      LLVM::LLVMFunctionType oldType = canon.getFunctionType();
      SmallVector<Type> params(oldType.getParams());
      params.append(types.begin(), types.end());
      auto newType = LLVM::LLVMFunctionType::get(oldType.getReturnType(), params, oldType.isVarArg());
      if (!slots.empty()) // else identical functions: the calls just move to `canon`
        function_interface_impl::insertFunctionArguments(canon, at, types, attrs, locs, first, newType);
      for (auto [k, a] : llvm::enumerate(slots)) {
        a.getResult().replaceAllUsesWith(canon.getArgument(first + k));
        a.erase();
      }
      for (auto [i, m] : llvm::enumerate(members)) {
        redirect[m.getSymName()] = {canon, names[i]};
        if (i)
          erase.push_back(m);
      }
    }
    if (redirect.empty())
      return;
    SmallVector<LLVM::CallOp> calls;
    module.walk([&](LLVM::CallOp c) {
      if (auto callee = c.getCallee(); callee && redirect.count(*callee))
        calls.push_back(c);
    });
    for (LLVM::CallOp c : calls) {
      auto &[canon, globals] = redirect[*c.getCallee()];
      OpBuilder b(c);
      SmallVector<Value> operands(c.getArgOperands());
      for (StringAttr g : globals)
        operands.push_back(LLVM::AddressOfOp::create(b, c.getLoc(), ptr, g.getValue()));
      auto call = LLVM::CallOp::create(b, c.getLoc(), canon, operands);
      c.replaceAllUsesWith(call.getResults());
      c.erase();
    }
    for (LLVM::LLVMFuncOp m : erase)
      m.erase();
  }
};

} // namespace
