//===- CanonicalGlobals.cpp - constant globals named by their contents ----===//
//
// quantc-cpu-canonical-globals (Passes.td): private constant
// memref.globals renamed `__constant_<type>_<xxh3 of type and bytes>`,
// duplicates merged, and sorted by name at the start of the module, so
// that a library's bytes do not depend on the order bufferization
// created them in.
//
//===----------------------------------------------------------------------===//
#include "quantc/Target/CPU/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/xxhash.h"

#include <map>
#include <string>

namespace quantc::cpu {
#define GEN_PASS_DEF_CPUCANONICALGLOBALS
#include "quantc/Target/CPU/Passes.h.inc"
} // namespace quantc::cpu

using namespace mlir;

namespace {

/// The printed form of the global's type and initial value, hashed: the
/// same for equal contents whatever the context's pointers.
std::string canonicalName(memref::GlobalOp g) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << g.getType() << "=";
  Attribute init = *g.getInitialValue();
  if (auto dense = dyn_cast<DenseElementsAttr>(init)) {
    // Raw bytes: printing a large constant as text would be slow.
    llvm::ArrayRef<char> raw = dense.getRawData();
    os << (dense.isSplat() ? "splat:" : "raw:");
    os.write(raw.data(), raw.size());
  } else {
    init.print(os);
  }
  uint64_t h = llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(text.data()), text.size()));
  std::string type;
  llvm::raw_string_ostream ts(type);
  MemRefType t = g.getType();
  for (int64_t d : t.getShape())
    ts << d << "x";
  ts << t.getElementType();
  std::string name;
  llvm::raw_string_ostream ns(name);
  ns << "__constant_" << type << "_" << llvm::format_hex_no_prefix(h, 16);
  return name;
}

struct CanonicalGlobalsPass
    : quantc::cpu::impl::CPUCanonicalGlobalsBase<CanonicalGlobalsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Old name -> new name; new name -> the global kept.
    llvm::StringMap<std::string> renamed;
    std::map<std::string, memref::GlobalOp> kept;
    for (auto g : llvm::make_early_inc_range(module.getOps<memref::GlobalOp>())) {
      if (!g.getConstant() || !g.isPrivate() || !g.getInitialValue() ||
          isa<UnitAttr>(*g.getInitialValue()))
        continue;
      std::string name = canonicalName(g);
      renamed[g.getSymName()] = name;
      auto [it, fresh] = kept.emplace(name, g);
      if (!fresh) {
        // Equal contents: the first one serves both, at the larger alignment.
        auto a = g.getAlignment(), b = it->second.getAlignment();
        if (a && (!b || *a > *b))
          it->second.setAlignment(*a);
        g.erase();
      }
    }
    if (renamed.empty())
      return;
    MLIRContext *ctx = module.getContext();
    module.walk([&](memref::GetGlobalOp get) {
      auto it = renamed.find(get.getName());
      if (it != renamed.end())
        get.setNameAttr(FlatSymbolRefAttr::get(ctx, it->second));
    });
    // Sorted by name at the start of the module.
    Block &body = module.getBodyRegion().front();
    Operation *insertAfter = nullptr;
    for (auto &[name, g] : kept) {
      g.setSymName(name);
      if (insertAfter)
        g->moveAfter(insertAfter);
      else
        g->moveBefore(&body, body.begin());
      insertAfter = g;
    }
  }
};

} // namespace
