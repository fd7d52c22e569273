//===- ExternalWeights.cpp - weights kept out of LLVM ---------------------===//
#include "quantc/Target/CPU/ExternalWeights.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

using namespace mlir;

namespace quantc::cpu {
namespace {

/// The bytes of a weight initializer, or empty when it is not one that can
/// be moved out (splats, bit-packed i1, sub-byte elements).
llvm::ArrayRef<char> bytesOf(Attribute value) {
  auto elements = dyn_cast_or_null<ShapedType>(
      isa_and_nonnull<ElementsAttr>(value) ? cast<ElementsAttr>(value).getShapedType() : Type());
  if (!elements)
    return {};
  Type elem = elements.getElementType();
  if (!elem.isIntOrFloat() || elem.getIntOrFloatBitWidth() % 8 != 0)
    return {};
  uint64_t want = static_cast<uint64_t>(elements.getNumElements()) * (elem.getIntOrFloatBitWidth() / 8);
  llvm::ArrayRef<char> bytes;
  if (auto r = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = r.getRawHandle().getBlob();
    if (!blob)
      return {};
    bytes = blob->getData();
  } else if (auto d = dyn_cast<DenseElementsAttr>(value)) {
    if (d.isSplat())
      return {};
    bytes = d.getRawData();
  }
  return bytes.size() == want ? bytes : llvm::ArrayRef<char>();
}

uint64_t addressAlignment(const void *p) {
  auto a = reinterpret_cast<uintptr_t>(p);
  return a ? (a & -a) : 1;
}

} // namespace

std::vector<ExternalWeight> externalizeWeights(ModuleOp module, bool hidden, size_t minBytes) {
  std::vector<ExternalWeight> out;
  llvm::StringMap<size_t> byName;
  for (auto g : llvm::make_early_inc_range(module.getOps<LLVM::GlobalOp>())) {
    if (!g.getConstant() || !g.getValueOrNull())
      continue;
    llvm::ArrayRef<char> bytes = bytesOf(g.getValueOrNull());
    if (bytes.size() < minBytes)
      continue;
    uint64_t hash = llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(
        reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()));
    std::string name;
    llvm::raw_string_ostream os(name);
    os << "quantc_w_" << llvm::format_hex_no_prefix(hash, 16) << "_" << bytes.size();
    uint64_t align = g.getAlignment().value_or(1);
    if (!hidden)
      align = std::min(align, addressAlignment(bytes.data()));
    auto it = byName.find(name);
    if (it != byName.end()) {
      // The same bytes again: its uses go to the first declaration.
      ExternalWeight &w = out[it->second];
      if (failed(SymbolTable::replaceAllSymbolUses(g, StringAttr::get(module.getContext(), name),
                                                   module)))
        continue;
      w.alignment = std::min(w.alignment, align);
      if (auto first = module.lookupSymbol<LLVM::GlobalOp>(name))
        first.setAlignment(w.alignment);
      g.erase();
      continue;
    }
    if (failed(SymbolTable::replaceAllSymbolUses(g, StringAttr::get(module.getContext(), name),
                                                 module)))
      continue;
    g.setSymName(name);
    g.removeValueAttr();
    g.setLinkage(LLVM::Linkage::External);
    g.setUnnamedAddr(LLVM::UnnamedAddr::None);
    g.setAlignment(align);
    if (hidden)
      g.setVisibility_(LLVM::Visibility::Hidden);
    byName[name] = out.size();
    out.push_back({name, bytes, align});
  }
  return out;
}

llvm::Expected<std::string> writeWeightsAssembly(const std::vector<ExternalWeight> &weights,
                                                 llvm::StringRef dir) {
  llvm::SmallString<256> asmPath(dir);
  llvm::sys::path::append(asmPath, "weights.s");
  std::error_code ec;
  llvm::raw_fd_ostream as(asmPath, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return llvm::createStringError("cannot write '" + std::string(asmPath) + "': " + ec.message());
  as << "\t.section .rodata.quantc_weights,\"a\",@progbits\n";
  for (const ExternalWeight &w : weights) {
    llvm::SmallString<256> binPath(dir);
    llvm::sys::path::append(binPath, w.symbol + ".bin");
    llvm::raw_fd_ostream bin(binPath, ec, llvm::sys::fs::OF_None);
    if (ec)
      return llvm::createStringError("cannot write '" + std::string(binPath) + "': " + ec.message());
    bin.write(w.bytes.data(), w.bytes.size());
    bin.close();
    if (bin.has_error())
      return llvm::createStringError("writing '" + std::string(binPath) + "' failed");
    uint64_t align = std::max<uint64_t>(w.alignment, 64);
    as << "\t.globl " << w.symbol << "\n\t.hidden " << w.symbol << "\n\t.type " << w.symbol
       << ",@object\n\t.balign " << align << "\n"
       << w.symbol << ":\n\t.incbin \"" << binPath << "\"\n\t.size " << w.symbol << ", "
       << w.bytes.size() << "\n";
  }
  as << "\t.section .note.GNU-stack,\"\",@progbits\n";
  as.close();
  if (as.has_error())
    return llvm::createStringError("writing '" + std::string(asmPath) + "' failed");
  return std::string(asmPath);
}

} // namespace quantc::cpu
