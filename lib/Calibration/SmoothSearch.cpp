//===- SmoothSearch.cpp - alpha per SmoothQuant site ----------------------===//
//
// smoothModel (quantc/Calibration/Smooth.h): each site's alpha chosen by
// the consumers' output error with the recipe's formats simulated on rows
// of the calibration activations. The simulation rounds as the quantized
// model does (half to even, ONNX's saturation) but takes each weight
// channel's or group's full range (the recipe's clip search comes after,
// on the smoothed weights).
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Smooth.h"
#include "Constants.h"
#include "quantc/Quant/Formats.h"
#include "quantc/Runtime/Kernels.h"

#include <algorithm>
#include <cmath>

using namespace mlir;

namespace quantc::calib {
namespace {

float roundTrip(float x, quant::Params p, double qmin, double qmax) {
  double q = std::nearbyint(static_cast<double>(x) / p.scale) + p.zeroPoint;
  q = std::clamp(q, qmin, qmax);
  return static_cast<float>((q - p.zeroPoint) * static_cast<double>(p.scale));
}

/// Rounds `n` values as one tensor/channel/group of the format (range
/// [lo, hi] widened to 0).
void fakeQuantize(float *x, int64_t n, int64_t stride, double lo, double hi, quant::Format f,
                  bool symmetric) {
  auto p = quant::chooseParams(std::min(lo, 0.0), std::max(hi, 0.0), f, symmetric);
  if (!p)
    return;
  const quant::FormatInfo &fi = quant::info(f);
  for (int64_t i = 0; i < n; ++i) {
    float &v = x[i * stride];
    if (fi.isFloat)
      v = quant::fromFloat8(quant::toFloat8(v / p->scale, f, true), f) * p->scale;
    else
      v = roundTrip(v, *p, f == quant::Format::I8 ? -127.0 : fi.qmin, fi.qmax);
  }
}

/// The activation rows [m, k] as the recipe quantizes them; `lo`/`hi`:
/// the calibrated per-tensor range (static recipes).
void quantizeActivation(std::vector<float> &x, int64_t m, int64_t k, const Recipe &r, double lo,
                        double hi) {
  auto range = [&](const float *p, int64_t n) {
    float a = 0, b = 0;
    for (int64_t i = 0; i < n; ++i) {
      a = std::min(a, p[i]);
      b = std::max(b, p[i]);
    }
    return std::pair<double, double>(a, b);
  };
  quant::Format f = r.fp8 ? quant::Format::F8E4M3FN : quant::Format::U8;
  if (r.dynamicActivations && r.perToken) {
    if (r.activationBits == 4)
      f = quant::Format::U4;
    // -ag: each group of a row on its own range.
    int64_t g = r.activationGroups && r.groupSize > 0 ? r.groupSize : k;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < k; j += g) {
        int64_t len = std::min(g, k - j);
        auto [a, b] = range(x.data() + i * k + j, len);
        fakeQuantize(x.data() + i * k + j, len, 1, a * r.activationClip, b * r.activationClip, f,
                     r.fp8);
      }
    return;
  }
  if (r.dynamicActivations)
    std::tie(lo, hi) = range(x.data(), m * k);
  fakeQuantize(x.data(), m * k, 1, lo, hi, f, r.fp8);
}

/// A consumer's weight as [K, N] with element (j, n) at j * rs + n * cs.
struct Weight {
  std::vector<float> w;
  int64_t k, n, rs, cs;
};

/// The weight as the recipe stores it: int8 symmetric per output channel,
/// fp8 e4m3 per channel, uint4 asymmetric in groups along K, or (w4a4)
/// int4 symmetric per channel.
void quantizeWeight(Weight &w, const Recipe &r) {
  for (int64_t n = 0; n < w.n; ++n) {
    int64_t group = r.weightBits == 4 && r.groupSize > 0 ? r.groupSize : w.k;
    for (int64_t g0 = 0; g0 < w.k; g0 += group) {
      int64_t len = std::min(group, w.k - g0);
      float *p = w.w.data() + g0 * w.rs + n * w.cs;
      double lo = 0, hi = 0;
      for (int64_t j = 0; j < len; ++j) {
        lo = std::min<double>(lo, p[j * w.rs]);
        hi = std::max<double>(hi, p[j * w.rs]);
      }
      if (r.fp8)
        fakeQuantize(p, len, w.rs, lo, hi, quant::Format::F8E4M3FN, true);
      else if (r.weightBits == 4 && r.dynamicActivations) // w4a4: int4 per channel
        fakeQuantize(p, len, w.rs, lo, hi, quant::Format::I4, true);
      else if (r.weightBits == 4)
        fakeQuantize(p, len, w.rs, lo, hi, quant::Format::U4, false);
      else
        fakeQuantize(p, len, w.rs, lo, hi, quant::Format::I8, true);
    }
  }
}

struct SiteProblem {
  std::vector<float> rows; // [m, k]
  int64_t m = 0, k = 0;
  std::vector<double> cmin, cmax; // calibrated per-channel range
  std::vector<Weight> weights;
  std::vector<std::vector<float>> reference; // X W per consumer
};

double relativeError(const SiteProblem &p, const std::vector<float> &s, const Recipe &r) {
  std::vector<float> x(p.rows);
  double lo = 0, hi = 0;
  for (int64_t j = 0; j < p.k; ++j) {
    lo = std::min(lo, p.cmin[j] / s[j]);
    hi = std::max(hi, p.cmax[j] / s[j]);
  }
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.k; ++j)
      x[i * p.k + j] /= s[j];
  if (r.activations || r.dynamicActivations) // weight-only (AWQ): X stays float
    quantizeActivation(x, p.m, p.k, r, lo, hi);
  double err = 0, energy = 0;
  for (size_t c = 0; c < p.weights.size(); ++c) {
    Weight w = p.weights[c];
    for (int64_t j = 0; j < w.k; ++j)
      for (int64_t n = 0; n < w.n; ++n)
        w.w[j * w.rs + n * w.cs] *= s[j];
    quantizeWeight(w, r);
    std::vector<float> y(p.m * w.n);
    rt::sgemm(p.m, w.n, p.k, rt::Matrix{x.data(), p.k, 1}, rt::Matrix{w.w.data(), w.rs, w.cs},
              y.data(), w.n, /*overwrite=*/true);
    const std::vector<float> &ref = p.reference[c];
    for (size_t i = 0; i < y.size(); ++i) {
      double d = static_cast<double>(y[i]) - ref[i];
      err += d * d;
      energy += static_cast<double>(ref[i]) * ref[i];
    }
  }
  return energy > 0 ? err / energy : 0.0;
}

} // namespace

llvm::Expected<std::vector<SmoothChoice>> smoothModel(ModuleOp module,
                                                      const SampleSet &samples,
                                                      const Recipe &recipe,
                                                      const SmoothOptions &options) {
  const bool weightOnly = !recipe.activations && !recipe.dynamicActivations;
  if (weightOnly && !options.awq)
    return llvm::createStringError("recipe '" + recipe.name +
                                   "': smoothing moves activation outliers into the weights; a "
                                   "weight-only recipe has no quantized activations to help");
  if (options.awq && (!weightOnly || recipe.weightBits != 4 || recipe.groupSize <= 0))
    return llvm::createStringError("recipe '" + recipe.name +
                                   "': AWQ here is for 4-bit grouped weight-only recipes "
                                   "(w4a16-g32|g64|g128)");
  auto observed = observeKeepingRows(module, samples, options.rows);
  if (!observed)
    return observed.takeError();
  std::map<int64_t, ActivationStats> &kept = *observed;
  std::vector<Target> targets = quantizationTargets(module);
  std::vector<SmoothSite> sites = smoothingSites(module, targets);
  std::vector<SmoothChoice> choices;
  for (const SmoothSite &site : sites) {
    SmoothChoice choice;
    choice.name = site.name;
    choice.fold = smoothFoldName(site.fold);
    const ActivationStats *st = nullptr;
    for (size_t c : site.consumers) {
      auto it = kept.find(static_cast<int64_t>(c));
      if (it != kept.end() && it->second.channels.channelCount() == site.channels &&
          it->second.rowWidth == site.channels && !it->second.rows.empty())
        st = &it->second;
    }
    if (!st) {
      choices.push_back(choice); // never observed (e.g. only in another shape)
      continue;
    }
    SiteProblem p;
    p.k = site.channels;
    p.rows = st->rows;
    p.m = static_cast<int64_t>(p.rows.size()) / p.k;
    p.cmin = st->channels.min();
    p.cmax = st->channels.max();
    std::vector<double> xAbsMax(p.k);
    for (int64_t j = 0; j < p.k; ++j)
      xAbsMax[j] = std::max(std::fabs(p.cmin[j]), std::fabs(p.cmax[j]));
    std::vector<double> sorted(xAbsMax);
    std::nth_element(sorted.begin(), sorted.begin() + p.k / 2, sorted.end());
    double median = sorted[p.k / 2];
    double top = *std::max_element(xAbsMax.begin(), xAbsMax.end());
    choice.outlierRatio = median > 0 ? top / median : 0;
    for (size_t c : site.consumers) {
      const Target &t = targets[c];
      Value wv = t.op->getOperand(t.weight);
      auto dims = cast<RankedTensorType>(wv.getType()).getShape();
      Weight w;
      w.w = *floatValues(wv);
      w.k = p.k;
      w.n = dims[1 - t.reductionAxis];
      w.rs = t.reductionAxis == 0 ? dims[1] : 1;
      w.cs = t.reductionAxis == 0 ? 1 : dims[1];
      std::vector<float> y(p.m * w.n);
      rt::sgemm(p.m, w.n, p.k, rt::Matrix{p.rows.data(), p.k, 1},
                rt::Matrix{w.w.data(), w.rs, w.cs}, y.data(), w.n, /*overwrite=*/true);
      p.weights.push_back(std::move(w));
      p.reference.push_back(std::move(y));
    }
    std::vector<double> wAbsMax = weightRowAbsMax(targets, site);
    // AWQ's statistic over every calibration row (as qc-smooth{awq} reads it).
    std::vector<double> xAbsMean = st->channelAbsMean;
    xAbsMean.resize(p.k, 0.0);
    choice.lossUnsmoothed = relativeError(p, std::vector<float>(p.k, 1.0f), recipe);
    choice.loss = choice.lossUnsmoothed;
    std::vector<double> grid = options.alpha >= 0 ? std::vector<double>{options.alpha}
                               : options.awq      ? std::vector<double>{}
                                                  : options.grid;
    if (options.awq && options.alpha < 0)
      for (int i = 1; i <= 20; ++i)
        grid.push_back(0.05 * i);
    std::vector<float> best;
    for (double alpha : grid) {
      std::vector<float> s = options.awq ? awqScales(xAbsMean, alpha)
                                         : smoothingScales(xAbsMax, wAbsMax, alpha);
      double loss = relativeError(p, s, recipe);
      // A fixed alpha is applied as asked; a searched one must beat s = 1.
      if (options.alpha >= 0 || loss < choice.loss) {
        choice.loss = loss;
        choice.alpha = alpha;
        best = std::move(s);
      }
    }
    if (!best.empty())
      if (llvm::Error e = applySmoothing(targets, site, best))
        return std::move(e);
    choices.push_back(choice);
  }
  // The observers go: the smoothed model is calibrated again.
  auto removed = takeObservations(module);
  if (!removed)
    return removed.takeError();
  return choices;
}

} // namespace quantc::calib
