//===- BitAllocationTest.cpp - the mixed-precision knapsack ---------------===//
//
// quant::allocateBits against brute force on random small instances whose
// costs are whole steps of the budget grid (where the DP is exact): the
// same least error, within the budget; an infeasible budget is reported;
// costs that are not whole steps are rounded up (never over budget).
//
//===----------------------------------------------------------------------===//
#include "quantc/Quant/BitAllocation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace quantc::quant;

namespace {

double bruteForce(const std::vector<std::vector<FormatChoice>> &layers, double budget,
                  std::vector<int> &pick) {
  double best = INFINITY;
  std::vector<int> cur(layers.size(), 0);
  while (true) {
    double bits = 0, err = 0;
    for (size_t l = 0; l < layers.size(); ++l) {
      bits += layers[l][cur[l]].bits;
      err += layers[l][cur[l]].error;
    }
    if (bits <= budget && err < best) {
      best = err;
      pick = cur;
    }
    size_t l = 0;
    while (l < layers.size() && ++cur[l] == static_cast<int>(layers[l].size()))
      cur[l++] = 0;
    if (l == layers.size())
      break;
  }
  return best;
}

TEST(BitAllocation, MatchesBruteForce) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> nLayers(1, 6), nChoices(1, 4), bits(1, 12);
  std::uniform_real_distribution<double> err(0.0, 5.0);
  int feasibleCases = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<std::vector<FormatChoice>> layers(nLayers(rng));
    for (auto &l : layers) {
      l.resize(nChoices(rng));
      for (auto &c : l)
        c = FormatChoice{static_cast<double>(bits(rng)), err(rng)};
    }
    const int budget = std::uniform_int_distribution<int>(1, 50)(rng);
    std::vector<int> pick;
    double want = bruteForce(layers, budget, pick);
    Allocation a = allocateBits(layers, budget, /*units=*/budget);
    ASSERT_EQ(a.feasible, std::isfinite(want)) << "trial " << trial;
    if (!a.feasible)
      continue;
    ++feasibleCases;
    ASSERT_TRUE(std::fabs(a.error - want) <= 1e-9) << "trial " << trial << ": " << a.error
                                                   << " vs brute force " << want;
    ASSERT_TRUE(a.bits <= budget) << "trial " << trial;
    double bitsOfPick = 0, errOfPick = 0;
    for (size_t l = 0; l < layers.size(); ++l) {
      ASSERT_GE(a.pick[l], 0);
      bitsOfPick += layers[l][a.pick[l]].bits;
      errOfPick += layers[l][a.pick[l]].error;
    }
    ASSERT_DOUBLE_EQ(bitsOfPick, a.bits);
    ASSERT_DOUBLE_EQ(errOfPick, a.error);
  }
  EXPECT_GT(feasibleCases, 150);
}

TEST(BitAllocation, RoundsCostsUpNeverOverBudget) {
  // Costs of 3.4 and 3.4 with a budget of 7 on a grid of 7 steps: each
  // rounds up to 4 steps, so only one of the cheap formats fits.
  std::vector<std::vector<FormatChoice>> layers = {{{3.4, 1.0}, {8.0, 0.0}}, {{3.4, 1.0}, {1.0, 5.0}}};
  Allocation a = allocateBits(layers, 7.0, 7);
  ASSERT_TRUE(a.feasible);
  EXPECT_LE(a.bits, 7.0);
  EXPECT_EQ(a.pick[0], 0);
  EXPECT_EQ(a.pick[1], 1);
  // With a fine grid both cheap formats fit (6.8 <= 7).
  Allocation fine = allocateBits(layers, 7.0, 7000);
  EXPECT_EQ(fine.pick[1], 0);
  EXPECT_DOUBLE_EQ(fine.error, 2.0);
}

TEST(BitAllocation, Infeasible) {
  std::vector<std::vector<FormatChoice>> layers = {{{5, 1}}, {{5, 1}}};
  EXPECT_FALSE(allocateBits(layers, 9.0).feasible);
  EXPECT_TRUE(allocateBits(layers, 10.0).feasible);
}

} // namespace
