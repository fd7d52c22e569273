//===- Recipes.cpp - recipe names -------------------------------------------===//
//
// Recipe::parse: recipe names (w8a8, w4a16-g128-gptq, ...) and their
// suffixes as the flags the quantizer reads.
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Quantize.h"
#include "quantc/Calibration/Salient.h"
#include "RuntimeSmooth.h"
#include "GenericOps.h"
#include "Constants.h"
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Quant/Formats.h"
#include "quantc/Quant/GPTQ.h"
#include "quantc/Runtime/Kernels.h"
#include "quantc/Target/CPU/JIT.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"


#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

using namespace mlir;
using namespace quantc;

namespace quantc::calib {
std::optional<Recipe> Recipe::parse(const std::string &name) {
  llvm::StringRef full(name);
  // A suffix on a base recipe (parsed first): `refuse` names the bases it
  // cannot follow, which also fixes the suffixes' order
  // (base[-ag][-rot][-outliers][-smooth|-awq|-rs][-salient][-gptq][-kv8|-qkv8|-kv4|-qkv4]);
  // `apply` marks it.
  struct Suffix {
    llvm::StringRef text;
    bool (*refuse)(const Recipe &);
    void (*apply)(Recipe &);
  };
  static const Suffix suffixes[] = {
      // Per-token activations rounded per group of the weights' channels,
      // right after a per-token recipe with grouped weights.
      {"-ag",
       [](const Recipe &b) {
         return b.kv8 || b.gptq || b.awq || b.smooth || b.rotate || b.runtimeSmooth || b.salient ||
                b.outliers || b.activationGroups || !b.dynamicActivations || !b.perToken ||
                b.groupSize <= 0;
       },
       [](Recipe &r) { r.activationGroups = true; }},
      // Attention's keys and values (and queries) rounded per token and head.
      {"-qkv8", [](const Recipe &b) { return b.kv8; },
       [](Recipe &r) { r.kv8 = r.query8 = true, r.kvBits = 8; }},
      {"-kv8", [](const Recipe &b) { return b.kv8; }, [](Recipe &r) { r.kv8 = true, r.kvBits = 8; }},
      {"-qkv4", [](const Recipe &b) { return b.kv8; },
       [](Recipe &r) { r.kv8 = r.query8 = true, r.kvBits = 4; }},
      {"-kv4", [](const Recipe &b) { return b.kv8; }, [](Recipe &r) { r.kv8 = true, r.kvBits = 4; }},
      // GPTQ weights, for recipes with integer weights.
      {"-gptq", [](const Recipe &b) { return b.kv8 || b.gptq || b.fp8; },
       [](Recipe &r) { r.gptq = true; }},
      // Runtime smoothing, for the per-token dynamic recipes with
      // per-channel weights.
      {"-rs",
       [](const Recipe &b) {
         return b.kv8 || b.gptq || b.salient || b.runtimeSmooth || b.smooth ||
                !b.dynamicActivations || !b.perToken || b.groupSize > 0;
       },
       [](Recipe &r) { r.runtimeSmooth = true; }},
      // Salient input channels kept float, for weight-only recipes with
      // integer weights.
      {"-salient",
       [](const Recipe &b) {
         return b.kv8 || b.gptq || b.salient || b.fp8 || b.activations || b.dynamicActivations;
       },
       [](Recipe &r) { r.salient = true; }},
      // AWQ scales, for 4-bit grouped weight-only recipes.
      {"-awq",
       [](const Recipe &b) {
         return b.kv8 || b.gptq || b.smooth || b.awq || b.activations || b.dynamicActivations ||
                b.weightBits != 4 || b.groupSize <= 0;
       },
       [](Recipe &r) { r.awq = true; }},
      // qc-smooth first, for recipes whose activations are quantized.
      {"-smooth",
       [](const Recipe &b) {
         return b.kv8 || b.gptq || b.smooth || (!b.activations && !b.dynamicActivations);
       },
       [](Recipe &r) { r.smooth = true; }},
      // Activation outlier channels kept float, for recipes whose
      // activations are quantized (before -smooth, after -rot).
      {"-outliers",
       [](const Recipe &b) {
         return b.kv8 || b.gptq || b.smooth || b.awq || b.runtimeSmooth || b.salient ||
                b.outliers || (!b.activations && !b.dynamicActivations);
       },
       [](Recipe &r) { r.outliers = true; }},
      // qc-fold-rotations before anything else.
      {"-rot",
       [](const Recipe &b) {
         return b.kv8 || b.gptq || b.awq || b.smooth || b.rotate || b.runtimeSmooth || b.salient ||
                b.outliers;
       },
       [](Recipe &r) { r.rotate = true; }},
  };
  for (const Suffix &sf : suffixes)
    if (full.ends_with(sf.text) && full.size() > sf.text.size()) {
      auto base = parse(full.drop_back(sf.text.size()).str());
      if (!base || sf.refuse(*base))
        return std::nullopt;
      base->name = name;
      sf.apply(*base);
      return base;
    }
  Recipe r;
  r.name = name;
  llvm::StringRef n(name);
  auto group = [&](llvm::StringRef rest, int64_t dflt) -> bool {
    if (rest.empty()) {
      r.groupSize = dflt;
      return dflt != 0;
    }
    if (!rest.consume_front("-g") || rest.getAsInteger(10, r.groupSize))
      return false;
    return r.groupSize == 32 || r.groupSize == 64 || r.groupSize == 128 ||
           r.groupSize == 256;
  };
  if (n == "w8a8")
    return r;
  if (n == "w8a8-dynamic" || n == "w8a8-dynamic-token") {
    r.activations = false;
    r.dynamicActivations = true;
    r.perToken = n.ends_with("-token");
    return r;
  }
  if (n == "w8a16") {
    r.activations = false;
    return r;
  }
  if (n == "fp8-e4m3") {
    r.fp8 = true;
    return r;
  }
  r.weightBits = 4;
  if (n.consume_front("w4a4")) {
    // 4-bit activations per token; int4 symmetric weights per output
    // channel, or (w4a4-gN) in groups of N rows, one integer product per
    // group as w4a8-dynamic-token-gN.
    r.activations = false;
    r.dynamicActivations = true;
    r.perToken = true;
    r.activationBits = 4;
    if (n.empty() || group(n, 0))
      return r;
    return std::nullopt;
  }
  if (n.consume_front("w3a16") || n.consume_front("w2a16")) {
    r.weightBits = name[1] - '0';
    r.activations = false;
    if (group(n, 0))
      return r;
    return std::nullopt;
  }
  if (n.consume_front("w4a16")) {
    r.activations = false;
    if (group(n, 0))
      return r;
  } else if (n.consume_front("w4a8-dynamic-token")) {
    // int4 symmetric weights in groups, uint8 activations per token at run
    // time: one integer product per group (groupedIntegerProduct).
    r.activations = false;
    r.dynamicActivations = true;
    r.perToken = true;
    if (group(n, 128))
      return r;
  } else if (n.consume_front("w4a8")) {
    if (group(n, 128))
      return r;
  }
  return std::nullopt;
}

} // namespace quantc::calib
