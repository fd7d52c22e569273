//===- PanelBlocks.h - column blocks of whole B panels per task -*- C++ -*-===//
//
// The int8 products with B a weight (IGemmQuad.cpp's quads and tiles,
// IGemmPairs.cpp's pairs) give each task a block of whole B panels, every
// row of A run past each panel while it is in cache.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_RUNTIME_PANELBLOCKS_H
#define QUANTC_LIB_RUNTIME_PANELBLOCKS_H

#include "quantc/Runtime/ThreadPool.h"

#include <algorithm>
#include <cstdint>

namespace quantc::rt {

/// Panels per block for `P` panels: at least one block per thread (where
/// there are panels enough), at most `maxPanels` panels a block, the block
/// count a multiple of the threads, as even as the panel count allows.
inline int64_t panelsPerBlock(int64_t P, int64_t maxPanels) {
  const int64_t threads = getNumThreads();
  int64_t blocks = std::max<int64_t>(threads, (P + maxPanels - 1) / maxPanels);
  blocks = std::min(P, (blocks + threads - 1) / threads * threads);
  return (P + blocks - 1) / blocks;
}

} // namespace quantc::rt

#endif
