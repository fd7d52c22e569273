//===- ExternalWeights.cpp - weights kept out of LLVM ---------------------===//
#include "quantc/Target/CPU/ExternalWeights.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/BinaryFormat/ELF.h"
#include "llvm/TargetParser/Triple.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <algorithm>
#include <cstring>

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
  llvm::StringMap<LLVM::GlobalOp> firstByName;
  // Old symbol -> new one, applied to every reference in one walk at the
  // end (one SymbolTable::replaceAllSymbolUses per global walked the whole
  // module each time: quadratic, minutes on a model with thousands of
  // weight constants).
  llvm::DenseMap<StringAttr, StringAttr> renamed;
  MLIRContext *ctx = module.getContext();
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
    StringAttr newName = StringAttr::get(ctx, name);
    renamed[g.getSymNameAttr()] = newName;
    auto it = byName.find(name);
    if (it != byName.end()) {
      // The same bytes again: its uses go to the first declaration.
      ExternalWeight &w = out[it->second];
      w.alignment = std::min(w.alignment, align);
      firstByName[name].setAlignment(w.alignment);
      g.erase();
      continue;
    }
    g.setSymName(name);
    g.removeValueAttr();
    g.setLinkage(LLVM::Linkage::External);
    g.setUnnamedAddr(LLVM::UnnamedAddr::None);
    g.setAlignment(align);
    if (hidden)
      g.setVisibility_(LLVM::Visibility::Hidden);
    byName[name] = out.size();
    firstByName[name] = g;
    out.push_back({name, bytes, align});
  }
  if (!renamed.empty()) {
    AttrTypeReplacer replacer;
    replacer.addReplacement([&](FlatSymbolRefAttr ref) -> std::optional<Attribute> {
      auto it = renamed.find(ref.getAttr());
      if (it == renamed.end())
        return std::nullopt;
      return FlatSymbolRefAttr::get(it->second);
    });
    replacer.recursivelyReplaceElementsIn(module, /*replaceAttrs=*/true, /*replaceLocs=*/false,
                                          /*replaceTypes=*/false);
  }
  return out;
}

llvm::Expected<std::string> writeWeightsObject(const std::vector<ExternalWeight> &weights,
                                               llvm::StringRef dir, const llvm::Triple &triple) {
  using namespace llvm::ELF;
  uint16_t machine = triple.getArch() == llvm::Triple::x86_64    ? EM_X86_64
                     : triple.getArch() == llvm::Triple::aarch64 ? EM_AARCH64
                                                                 : EM_NONE;
  if (machine == EM_NONE || !triple.isOSBinFormatELF())
    return llvm::createStringError("the weights object is written for x86-64 and AArch64 ELF "
                                   "targets only, not '" + triple.str() + "'");
  // Layout: ELF header, the weights section (each weight at an offset
  // aligned as it asks, at least 64), then .symtab, .strtab, .shstrtab and
  // the section headers. Sections: 0 null, 1 .rodata.quantc_weights,
  // 2 .note.GNU-stack (no executable stack), 3 .symtab, 4 .strtab,
  // 5 .shstrtab.
  auto alignTo = [](uint64_t v, uint64_t a) { return (v + a - 1) / a * a; };
  uint64_t sectionAlign = 64, offset = 0;
  std::vector<uint64_t> offsets;
  for (const ExternalWeight &w : weights) {
    uint64_t align = std::max<uint64_t>(w.alignment, 64);
    sectionAlign = std::max(sectionAlign, align);
    offset = alignTo(offset, align);
    offsets.push_back(offset);
    offset += w.bytes.size();
  }
  const uint64_t dataSize = offset;
  const uint64_t dataOffset = alignTo(sizeof(Elf64_Ehdr), sectionAlign);
  std::string strtab(1, '\0');
  std::vector<Elf64_Sym> symbols(1); // the null symbol first
  for (size_t i = 0; i < weights.size(); ++i) {
    Elf64_Sym sym{};
    sym.st_name = static_cast<Elf64_Word>(strtab.size());
    strtab += weights[i].symbol;
    strtab += '\0';
    sym.setBindingAndType(STB_GLOBAL, STT_OBJECT);
    sym.st_other = STV_HIDDEN;
    sym.st_shndx = 1;
    sym.st_value = offsets[i];
    sym.st_size = weights[i].bytes.size();
    symbols.push_back(sym);
  }
  std::string shstrtab(1, '\0');
  auto addName = [&](llvm::StringRef name) {
    auto at = static_cast<Elf64_Word>(shstrtab.size());
    shstrtab += name.str();
    shstrtab += '\0';
    return at;
  };
  Elf64_Shdr sh[6] = {};
  sh[1].sh_name = addName(".rodata.quantc_weights");
  sh[2].sh_name = addName(".note.GNU-stack");
  sh[3].sh_name = addName(".symtab");
  sh[4].sh_name = addName(".strtab");
  sh[5].sh_name = addName(".shstrtab");
  const uint64_t symOffset = alignTo(dataOffset + dataSize, 8);
  const uint64_t symSize = symbols.size() * sizeof(Elf64_Sym);
  const uint64_t strOffset = symOffset + symSize;
  const uint64_t shstrOffset = strOffset + strtab.size();
  const uint64_t shOffset = alignTo(shstrOffset + shstrtab.size(), 8);

  sh[1].sh_type = SHT_PROGBITS;
  sh[1].sh_flags = SHF_ALLOC;
  sh[1].sh_offset = dataOffset;
  sh[1].sh_size = dataSize;
  sh[1].sh_addralign = sectionAlign;
  sh[2].sh_type = SHT_PROGBITS;
  sh[2].sh_offset = dataOffset;
  sh[2].sh_addralign = 1;
  sh[3].sh_type = SHT_SYMTAB;
  sh[3].sh_offset = symOffset;
  sh[3].sh_size = symSize;
  sh[3].sh_link = 4;
  sh[3].sh_info = 1; // the first global symbol
  sh[3].sh_addralign = 8;
  sh[3].sh_entsize = sizeof(Elf64_Sym);
  sh[4].sh_type = SHT_STRTAB;
  sh[4].sh_offset = strOffset;
  sh[4].sh_size = strtab.size();
  sh[4].sh_addralign = 1;
  sh[5].sh_type = SHT_STRTAB;
  sh[5].sh_offset = shstrOffset;
  sh[5].sh_size = shstrtab.size();
  sh[5].sh_addralign = 1;

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ElfMagic, 4);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
  eh.e_type = ET_REL;
  eh.e_machine = machine;
  eh.e_version = EV_CURRENT;
  eh.e_shoff = shOffset;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 6;
  eh.e_shstrndx = 5;

  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, "weights.o");
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createStringError("cannot write '" + std::string(path) + "': " + ec.message());
  uint64_t at = 0;
  auto padTo = [&](uint64_t to) {
    static const char zeros[64] = {};
    while (at < to) {
      uint64_t n = std::min<uint64_t>(64, to - at);
      os.write(zeros, n);
      at += n;
    }
  };
  auto put = [&](const void *p, uint64_t n) {
    os.write(static_cast<const char *>(p), n);
    at += n;
  };
  // Streamed from where the importer keeps the bytes (no copy in memory:
  // the assembler's .incbin held them twice, 2.2x the weights at its peak).
  put(&eh, sizeof eh);
  padTo(dataOffset);
  for (size_t i = 0; i < weights.size(); ++i) {
    padTo(dataOffset + offsets[i]);
    put(weights[i].bytes.data(), weights[i].bytes.size());
  }
  padTo(symOffset);
  put(symbols.data(), symSize);
  put(strtab.data(), strtab.size());
  put(shstrtab.data(), shstrtab.size());
  padTo(shOffset);
  put(sh, sizeof sh);
  os.close();
  if (os.has_error())
    return llvm::createStringError("writing '" + std::string(path) + "' failed");
  return std::string(path);
}

} // namespace quantc::cpu
