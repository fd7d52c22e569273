//===- BitAllocation.cpp - one format per layer under a size budget --------===//
#include "quantc/Quant/BitAllocation.h"

#include <cmath>
#include <limits>

namespace quantc::quant {

Allocation allocateBits(const std::vector<std::vector<FormatChoice>> &layers, double budget,
                        int64_t units) {
  Allocation a;
  const size_t L = layers.size();
  a.pick.assign(L, -1);
  if (L == 0) {
    a.feasible = budget >= 0;
    return a;
  }
  if (!(budget > 0) || units <= 0)
    return a;
  a.step = budget / static_cast<double>(units);
  const double inf = std::numeric_limits<double>::infinity();
  // best[l][u]: least error of layers 0..l-1 in at most u steps.
  std::vector<std::vector<double>> best(L + 1, std::vector<double>(units + 1, inf));
  std::vector<std::vector<int>> choice(L, std::vector<int>(units + 1, -1));
  std::fill(best[0].begin(), best[0].end(), 0.0);
  for (size_t l = 0; l < L; ++l) {
    for (size_t f = 0; f < layers[l].size(); ++f) {
      const FormatChoice &c = layers[l][f];
      // Rounded up, with a little slack against floating-point noise.
      int64_t cost = static_cast<int64_t>(std::ceil(c.bits / a.step - 1e-9));
      if (cost < 0 || cost > units || !std::isfinite(c.error))
        continue;
      for (int64_t u = cost; u <= units; ++u) {
        double e = best[l][u - cost] + c.error;
        if (e < best[l + 1][u]) {
          best[l + 1][u] = e;
          choice[l][u] = static_cast<int>(f);
        }
      }
    }
  }
  if (!std::isfinite(best[L][units]))
    return a;
  a.feasible = true;
  int64_t u = units;
  for (size_t l = L; l-- > 0;) {
    int f = choice[l][u];
    a.pick[l] = f;
    const FormatChoice &c = layers[l][f];
    u -= static_cast<int64_t>(std::ceil(c.bits / a.step - 1e-9));
    a.bits += c.bits;
    a.error += c.error;
  }
  return a;
}

} // namespace quantc::quant
