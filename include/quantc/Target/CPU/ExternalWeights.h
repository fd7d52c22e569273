//===- ExternalWeights.h - weights kept out of LLVM --------------*- C++ -*-===//
//
// The weights of a lowered model are large constant globals. Translated to
// LLVM IR, optimized and emitted as object code, each is copied three or
// four times (LLVM constants, the object, the JIT's memory): SmolLM2's 540
// MB of weights took 40 s and 4 GB to compile. externalizeWeights turns
// every large constant global into an external declaration and hands back
// its bytes, which stay where the importer put them (the memory-mapped
// file or the protobuf's buffer, owned by the MLIRContext): the JIT binds
// each symbol to those bytes, `quantc compile` writes them into an ELF
// object of their own (writeWeightsObject) that the library links.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_TARGET_CPU_EXTERNALWEIGHTS_H
#define QUANTC_TARGET_CPU_EXTERNALWEIGHTS_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"
#include "llvm/TargetParser/Triple.h"

#include <string>
#include <vector>

namespace quantc::cpu {

struct ExternalWeight {
  std::string symbol;         // quantc_w_<hash of the bytes>_<size>
  llvm::ArrayRef<char> bytes; // owned by the MLIRContext
  uint64_t alignment;         // what the code may assume of its address
};

/// Replaces each constant llvm.mlir.global of at least `minBytes` bytes
/// (element types of whole bytes, not splats) in an LLVM-dialect module by
/// an external declaration named after its contents (identical weights
/// share one symbol) and returns the distinct weights. `hidden`: the
/// declarations get hidden visibility (a shared library resolves them
/// inside itself). For the JIT (`hidden` false) a declaration's alignment
/// is lowered to what the bytes' address has.
std::vector<ExternalWeight> externalizeWeights(mlir::ModuleOp module, bool hidden,
                                               size_t minBytes = 4096);

/// Writes an ELF relocatable object for `triple` (x86-64 or AArch64,
/// little-endian) into `dir` that defines each
/// weight's symbol (global, hidden, in one read-only allocated section,
/// aligned as asked and at least to 64 bytes), its bytes streamed from
/// where they are; returns the object's path (for the link command).
llvm::Expected<std::string> writeWeightsObject(const std::vector<ExternalWeight> &weights,
                                               llvm::StringRef dir, const llvm::Triple &triple);

} // namespace quantc::cpu

#endif
