//===- BitAllocation.h - one format per layer under a size budget -*- C++ -*-===//
//
// The multiple-choice knapsack of mixed precision: layer l takes exactly
// one of its candidate formats f (bits b_lf of storage, scales included;
// estimated error e_lf), minimizing sum_l e_lf subject to sum_l b_lf <=
// budget. Solved by dynamic programming over the budget in `units` equal
// steps, each layer's cost rounded *up* to whole steps, so the answer
// always fits the budget and is optimal among assignments whose rounded
// costs fit (exactly optimal when the costs are multiples of the step, as
// in the unit test against brute force). O(layers x choices x units).
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_QUANT_BITALLOCATION_H
#define QUANTC_QUANT_BITALLOCATION_H

#include <cstdint>
#include <vector>

namespace quantc::quant {

struct FormatChoice {
  double bits = 0;  // storage of the layer in this format (bits)
  double error = 0; // estimated increase of the model's error
};

struct Allocation {
  bool feasible = false;   // some assignment fits the budget
  std::vector<int> pick;   // per layer, the index of its chosen format
  double bits = 0, error = 0;
  double step = 0;         // the DP's budget step (bits)
};

Allocation allocateBits(const std::vector<std::vector<FormatChoice>> &layers, double budget,
                        int64_t units = 20000);

} // namespace quantc::quant

#endif
