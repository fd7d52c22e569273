//===- Statistics.cpp - calibration statistics and clip search ------------===//
#include "quantc/Calibration/Statistics.h"

#include "quantc/Runtime/ThreadPool.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace quantc::calib {

MinMax::MinMax(int64_t channels, double momentum)
    : channels(channels), momentum(momentum), lo(std::max<int64_t>(channels, 1), 0.0),
      hi(std::max<int64_t>(channels, 1), 0.0) {}

namespace {
// Batches are reduced in chunks of about kChunk elements, on the runtime's
// thread pool when there are several, and the chunks' partial results are
// merged in chunk order: the result does not depend on the thread count.
// Within a chunk, kLanes independent running extrema (or bin indices) let
// the compiler vectorize; min/max of floats are exact, so the order of
// the reduction does not change the value (only the sign of a zero).
constexpr int64_t kChunk = int64_t(1) << 15;
constexpr int kLanes = 16;

struct Extrema {
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  int64_t nonFinite = 0;
  void merge(const Extrema &o) {
    lo = o.lo < lo ? o.lo : lo;
    hi = o.hi > hi ? o.hi : hi;
    nonFinite += o.nonFinite;
  }
};

inline bool finite(float v) { return std::fabs(v) <= std::numeric_limits<float>::max(); }

/// Extrema of the finite values of x[0, n), n <= kChunk. Cloned for
/// AVX-512 and AVX2 (exact either way: min/max and a count).
__attribute__((target_clones("avx512f", "avx2", "default"))) Extrema extremaOf(const float *x, int64_t n) {
  float lo[kLanes], hi[kLanes];
  int32_t bad[kLanes];
  for (int j = 0; j < kLanes; ++j) {
    lo[j] = std::numeric_limits<float>::infinity();
    hi[j] = -std::numeric_limits<float>::infinity();
    bad[j] = 0;
  }
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      float v = x[i + j];
      bool ok = finite(v);
      lo[j] = ok && v < lo[j] ? v : lo[j];
      hi[j] = ok && v > hi[j] ? v : hi[j];
      bad[j] += !ok;
    }
  Extrema e{std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), 0};
  for (int j = 0; j < kLanes; ++j)
    e.merge(Extrema{lo[j], hi[j], bad[j]});
  for (; i < n; ++i) {
    float v = x[i];
    if (!finite(v)) {
      ++e.nonFinite;
      continue;
    }
    e.lo = v < e.lo ? v : e.lo;
    e.hi = v > e.hi ? v : e.hi;
  }
  return e;
}

/// h[k] += the number of values of x[0, m) in bin k: |x| in [k w, (k + 1) w)
/// (the last bin open above; all in bin 0 when w = 0), a non-finite value
/// in bin `bins`. Cloned for AVX-512 and AVX2; the bin of each value is
/// the same (one double division) on every path.
__attribute__((target_clones("avx512f", "avx2", "default"))) void
binChunk(const float *x, int64_t m, double w, int64_t bins, uint32_t *h) {
  auto binOf = [&](float v) -> int32_t {
    bool ok = finite(v);
    double a = ok ? std::fabs(static_cast<double>(v)) : 0.0;
    int64_t b = w > 0 ? std::min<int64_t>(static_cast<int64_t>(a / w), bins - 1) : 0;
    return ok ? static_cast<int32_t>(b) : static_cast<int32_t>(bins);
  };
  int32_t idx[kLanes];
  int64_t i = 0;
  for (; i + kLanes <= m; i += kLanes) {
    for (int j = 0; j < kLanes; ++j)
      idx[j] = binOf(x[i + j]);
    for (int j = 0; j < kLanes; ++j)
      ++h[idx[j]];
  }
  for (; i < m; ++i)
    ++h[binOf(x[i])];
}

/// Runs task(t) for t in [0, tasks), in parallel when there are several.
void forTasks(int64_t tasks, const std::function<void(int64_t)> &task) {
  if (tasks > 1)
    rt::parallelFor(tasks, task);
  else if (tasks == 1)
    task(0);
}

/// Extrema of x[0, n), in chunks.
Extrema extremaChunked(const float *x, int64_t n) {
  int64_t tasks = (n + kChunk - 1) / kChunk;
  std::vector<Extrema> part(tasks);
  forTasks(tasks, [&](int64_t t) {
    int64_t b = t * kChunk;
    part[t] = extremaOf(x + b, std::min(kChunk, n - b));
  });
  Extrema e;
  for (const Extrema &p : part)
    e.merge(p);
  return e;
}
} // namespace

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
  std::vector<Extrema> batch(c);
  if (channels <= 0) {
    batch[0] = extremaChunked(x, n);
  } else if (inner == 1) {
    // Channels along the last axis: rows of c, a block of rows per task,
    // each with its own per-channel extrema (the loop over channels
    // vectorizes).
    int64_t rows = n / c, rowsPer = std::max<int64_t>(1, kChunk / c);
    int64_t tasks = (rows + rowsPer - 1) / rowsPer;
    std::vector<std::vector<float>> lo(tasks), hi(tasks);
    std::vector<int64_t> bad(tasks, 0);
    forTasks(tasks, [&](int64_t t) {
      std::vector<float> &l = lo[t], &h = hi[t];
      l.assign(c, std::numeric_limits<float>::infinity());
      h.assign(c, -std::numeric_limits<float>::infinity());
      int64_t nb = 0;
      for (int64_t r = t * rowsPer; r < std::min(rows, (t + 1) * rowsPer); ++r) {
        const float *row = x + r * c;
        for (int64_t ch = 0; ch < c; ++ch) {
          float v = row[ch];
          bool ok = finite(v);
          l[ch] = ok && v < l[ch] ? v : l[ch];
          h[ch] = ok && v > h[ch] ? v : h[ch];
          nb += !ok;
        }
      }
      bad[t] = nb;
    });
    for (int64_t t = 0; t < tasks; ++t)
      for (int64_t ch = 0; ch < c; ++ch)
        batch[ch].merge(Extrema{lo[t][ch], hi[t][ch], ch == 0 ? bad[t] : 0});
  } else {
    // Contiguous blocks of `inner` elements, block k in channel k % c; a
    // run of blocks per task.
    int64_t blocks = n / inner, blocksPer = std::max<int64_t>(1, kChunk / inner);
    int64_t tasks = (blocks + blocksPer - 1) / blocksPer;
    std::vector<std::vector<Extrema>> part(tasks);
    forTasks(tasks, [&](int64_t t) {
      std::vector<Extrema> &p = part[t];
      p.assign(c, Extrema());
      for (int64_t k = t * blocksPer; k < std::min(blocks, (t + 1) * blocksPer); ++k)
        for (int64_t b = 0; b < inner; b += kChunk)
          p[k % c].merge(extremaOf(x + k * inner + b, std::min(kChunk, inner - b)));
    });
    for (int64_t t = 0; t < tasks; ++t)
      for (int64_t ch = 0; ch < c; ++ch)
        batch[ch].merge(part[t][ch]);
  }
  for (int64_t ch = 0; ch < c; ++ch) {
    skipped += batch[ch].nonFinite;
    if (!(batch[ch].lo <= batch[ch].hi))
      continue; // nothing finite in this channel
    double bl = batch[ch].lo, bh = batch[ch].hi;
    if (batches == 0 || momentum >= 1.0) {
      lo[ch] = batches == 0 ? bl : std::min(lo[ch], bl);
      hi[ch] = batches == 0 ? bh : std::max(hi[ch], bh);
    } else {
      lo[ch] += momentum * (bl - lo[ch]);
      hi[ch] += momentum * (bh - hi[ch]);
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
  Extrema e = extremaChunked(x, n);
  skipped += e.nonFinite;
  double amax = 0;
  if (e.lo <= e.hi)
    amax = std::max({amax, std::fabs(static_cast<double>(e.lo)),
                     std::fabs(static_cast<double>(e.hi))});
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
  // Bin k holds |x| in [k w, (k + 1) w); a non-finite value goes to the
  // uncounted bin `bins`. Per chunk: integer counts, added in chunk order.
  int64_t tasks = (n + kChunk - 1) / kChunk;
  std::vector<std::vector<uint32_t>> part(tasks);
  const double w = width;
  forTasks(tasks, [&](int64_t t) {
    std::vector<uint32_t> &h = part[t];
    h.assign(bins + 1, 0);
    binChunk(x + t * kChunk, std::min(kChunk, n - t * kChunk), w, bins, h.data());
  });
  for (const std::vector<uint32_t> &h : part)
    for (int64_t k = 0; k < bins; ++k)
      counts[k] += h[k];
  total += static_cast<double>(n - e.nonFinite);
}

std::vector<double> channelAbsSum(const float *x, int64_t rows, int64_t width) {
  std::vector<double> sum(std::max<int64_t>(width, 0), 0.0);
  if (rows <= 0 || width <= 0)
    return sum;
  int64_t rowsPer = std::max<int64_t>(1, kChunk / width);
  int64_t tasks = (rows + rowsPer - 1) / rowsPer;
  std::vector<std::vector<double>> part(tasks);
  forTasks(tasks, [&](int64_t t) {
    std::vector<double> &p = part[t];
    p.assign(width, 0.0);
    for (int64_t r = t * rowsPer; r < std::min(rows, (t + 1) * rowsPer); ++r)
      for (int64_t c = 0; c < width; ++c)
        p[c] += std::fabs(x[r * width + c]);
  });
  for (const std::vector<double> &p : part)
    for (int64_t c = 0; c < width; ++c)
      sum[c] += p[c];
  return sum;
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
