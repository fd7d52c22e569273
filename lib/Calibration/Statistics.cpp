//===- Statistics.cpp - calibration statistics and clip search ------------===//
#include "quantc/Calibration/Statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace quantc::calib {

MinMax::MinMax(int64_t channels, double momentum)
    : channels(channels), momentum(momentum), lo(std::max<int64_t>(channels, 1), 0.0),
      hi(std::max<int64_t>(channels, 1), 0.0) {}

void MinMax::add(const float *x, const std::vector<int64_t> &shape, int64_t axis) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  int64_t c = std::max<int64_t>(channels, 1);
  // Element i belongs to channel (i / inner) % c.
  int64_t inner = 1;
  if (channels > 0)
    for (size_t d = axis + 1; d < shape.size(); ++d)
      inner *= shape[d];
  std::vector<double> bl(c, std::numeric_limits<double>::infinity()),
      bh(c, -std::numeric_limits<double>::infinity());
  // Channels along the last axis (inner == 1): row by row, no division.
  for (int64_t r = 0; channels > 0 && inner == 1 && r < n / c; ++r) {
    const float *row = x + r * c;
    for (int64_t ch = 0; ch < c; ++ch) {
      float v = row[ch];
      if (!std::isfinite(v)) {
        ++skipped;
        continue;
      }
      bl[ch] = std::min(bl[ch], static_cast<double>(v));
      bh[ch] = std::max(bh[ch], static_cast<double>(v));
    }
  }
  for (int64_t i = channels > 0 && inner == 1 ? n : 0; i < n; ++i) {
    float v = x[i];
    if (!std::isfinite(v)) {
      ++skipped;
      continue;
    }
    int64_t ch = channels > 0 ? (i / inner) % c : 0;
    bl[ch] = std::min(bl[ch], static_cast<double>(v));
    bh[ch] = std::max(bh[ch], static_cast<double>(v));
  }
  for (int64_t ch = 0; ch < c; ++ch) {
    if (!std::isfinite(bl[ch]))
      continue; // nothing finite in this channel
    if (batches == 0 || momentum >= 1.0) {
      lo[ch] = batches == 0 ? bl[ch] : std::min(lo[ch], bl[ch]);
      hi[ch] = batches == 0 ? bh[ch] : std::max(hi[ch], bh[ch]);
    } else {
      lo[ch] += momentum * (bl[ch] - lo[ch]);
      hi[ch] += momentum * (bh[ch] - hi[ch]);
    }
  }
  ++batches;
}

MinMax MinMax::restore(double min, double max, int64_t batches, int64_t nonFinite) {
  MinMax m;
  m.lo = {min};
  m.hi = {max};
  m.batches = batches;
  m.skipped = nonFinite;
  return m;
}

MinMax MinMax::restore(std::vector<double> min, std::vector<double> max, int64_t batches,
                       int64_t nonFinite) {
  MinMax m(static_cast<int64_t>(min.size()));
  m.lo = std::move(min);
  m.hi = std::move(max);
  m.batches = batches;
  m.skipped = nonFinite;
  return m;
}

Histogram::Histogram(int64_t bins) : counts(bins, 0.0) {}

Histogram Histogram::restore(std::vector<double> counts, double binWidth, double total,
                             int64_t nonFinite) {
  Histogram h(static_cast<int64_t>(counts.size()));
  h.counts = std::move(counts);
  h.width = binWidth;
  h.total = total;
  h.skipped = nonFinite;
  return h;
}

void Histogram::add(const float *x, int64_t n) {
  double amax = 0;
  for (int64_t i = 0; i < n; ++i)
    if (std::isfinite(x[i]))
      amax = std::max(amax, std::fabs(static_cast<double>(x[i])));
  int64_t bins = static_cast<int64_t>(counts.size());
  if (width == 0 && amax > 0)
    width = amax / bins * (1.0 + 1e-7); // the maximum lands inside the last bin
  // Grow by doubling: bins 2k and 2k+1 merge into k.
  while (width > 0 && amax >= width * bins) {
    for (int64_t k = 0; k < bins / 2; ++k)
      counts[k] = counts[2 * k] + counts[2 * k + 1];
    std::fill(counts.begin() + bins / 2, counts.end(), 0.0);
    width *= 2;
  }
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) {
      ++skipped;
      continue;
    }
    double a = std::fabs(static_cast<double>(x[i]));
    int64_t b = width > 0 ? std::min<int64_t>(static_cast<int64_t>(a / width), bins - 1) : 0;
    counts[b] += 1;
    total += 1;
  }
}

std::optional<double> percentileClip(const Histogram &h, double percent) {
  if (h.empty())
    return std::nullopt;
  double want = h.count() * std::clamp(percent, 0.0, 100.0) / 100.0, seen = 0;
  const auto &c = h.binCounts();
  for (size_t i = 0; i < c.size(); ++i) {
    seen += c[i];
    if (seen >= want)
      return h.binWidth() * static_cast<double>(i + 1);
  }
  return h.range();
}

namespace {
/// KL(p || q) over bins where p > 0 (both normalized here).
double klDivergence(const std::vector<double> &p, const std::vector<double> &q) {
  double ps = 0, qs = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    ps += p[i];
    qs += q[i];
  }
  if (ps == 0 || qs == 0)
    return std::numeric_limits<double>::infinity();
  double kl = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0)
      continue;
    if (q[i] == 0)
      return std::numeric_limits<double>::infinity();
    kl += (p[i] / ps) * std::log((p[i] / ps) / (q[i] / qs));
  }
  return kl;
}
} // namespace

std::optional<double> entropyClip(const Histogram &h, int bits) {
  if (h.empty())
    return std::nullopt;
  std::vector<double> c = h.binCounts();
  int64_t bins = static_cast<int64_t>(c.size());
  int64_t levels = int64_t(1) << (bits - 1); // magnitudes of a signed format
  if (h.binWidth() == 0 || bins <= levels)
    return h.range();
  // The first bin holds the exact zeros (after ReLU, padding, ...): as a
  // spike it would dwarf the clipped tail in the divergence and pull the
  // threshold down to a few bins. It counts like its neighbour (as
  // NVIDIA's TensorRT-style calibrators do).
  c[0] = c[1];
  double best = std::numeric_limits<double>::infinity();
  int64_t bestI = bins;
  for (int64_t i = levels; i <= bins; ++i) {
    std::vector<double> p(c.begin(), c.begin() + i);
    for (int64_t j = i; j < bins; ++j)
      p[i - 1] += c[j]; // outliers clip to the threshold
    // Q: the first i bins merged into `levels` groups, each group's mass
    // spread evenly over its nonzero bins.
    std::vector<double> q(i, 0.0);
    for (int64_t g = 0; g < levels; ++g) {
      int64_t start = g * i / levels, end = (g + 1) * i / levels;
      double mass = 0;
      int64_t nonzero = 0;
      for (int64_t j = start; j < end; ++j) {
        mass += c[j];
        nonzero += c[j] != 0;
      }
      for (int64_t j = start; j < end; ++j)
        if (c[j] != 0)
          q[j] = mass / nonzero;
    }
    double kl = klDivergence(p, q);
    if (kl <= best) { // ties: the larger threshold
      best = kl;
      bestI = i;
    }
  }
  return h.binWidth() * static_cast<double>(bestI);
}

double quantizationMSE(const Histogram &h, double t, int bits) {
  const auto &c = h.binCounts();
  double qmax = std::ldexp(1.0, bits - 1) - 1, scale = t / qmax, err = 0;
  if (h.count() == 0)
    return 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c[i] == 0)
      continue;
    double x = (i + 0.5) * h.binWidth();
    double q = std::min(std::nearbyint(x / scale), qmax) * scale;
    err += c[i] * (x - q) * (x - q);
  }
  return err / h.count();
}

std::optional<double> mseClip(const Histogram &h, int bits) {
  if (h.empty())
    return std::nullopt;
  if (h.binWidth() == 0)
    return h.range();
  // Candidates: every bin edge from 1% of the range up.
  const auto &c = h.binCounts();
  int64_t bins = static_cast<int64_t>(c.size());
  double best = std::numeric_limits<double>::infinity(), bestT = h.range();
  for (int64_t i = std::max<int64_t>(1, bins / 100); i <= bins; ++i) {
    double t = h.binWidth() * static_cast<double>(i);
    double e = quantizationMSE(h, t, bits);
    if (e < best) {
      best = e;
      bestT = t;
    }
  }
  return bestT;
}

} // namespace quantc::calib
