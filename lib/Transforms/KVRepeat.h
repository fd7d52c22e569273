//===- KVRepeat.h - exporters' repeat of grouped K/V heads ------*- C++ -*-===//
#ifndef QUANTC_LIB_TRANSFORMS_KVREPEAT_H
#define QUANTC_LIB_TRANSFORMS_KVREPEAT_H

#include "quantc/Dialect/QC/QCOps.h"

#include <optional>

namespace quantc {

/// A repeat of K/V heads: Reshape(Expand(Unsqueeze(kv [b, G, s, d], [2]) ->
/// [b, G, R, s, d]) -> [b, G * R, s, d]) with static b, G, R, d and R >= 2.
struct KVRepeat {
  mlir::Value kv; // [b, G, s, d]
  int64_t groups = 0, rep = 0;
};

/// The repeat r is the last op of, or nullopt.
std::optional<KVRepeat> matchKVRepeat(qc::ReshapeOp r);

} // namespace quantc

#endif
