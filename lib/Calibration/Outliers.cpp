//===- Outliers.cpp - activation outlier channels kept float --------------===//
//
// See quantc/Calibration/Outliers.h.
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Outliers.h"
#include "Constants.h"
#include "quantc/Calibration/Salient.h"
#include "quantc/Calibration/Smooth.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

using namespace mlir;

namespace quantc::calib {
namespace {

struct Plan {
  Value x;
  std::vector<qc::MatMulOp> consumers;
  std::vector<std::string> names;
  OutlierSplit split;
};

/// The site's consumers as MatMuls with 2-D constant weights reducing over
/// their first axis, or nothing when one is not.
std::optional<std::vector<qc::MatMulOp>> plainMatMuls(const std::vector<Target> &targets,
                                                      const SmoothSite &site) {
  std::vector<qc::MatMulOp> out;
  for (size_t c : site.consumers) {
    const Target &t = targets[c];
    auto mm = dyn_cast<qc::MatMulOp>(t.op);
    if (!mm || t.reductionAxis != 0)
      return std::nullopt;
    auto wt = dyn_cast<RankedTensorType>(mm.getB().getType());
    auto xt = dyn_cast<RankedTensorType>(mm.getA().getType());
    if (!wt || !xt || wt.getRank() != 2 || xt.getRank() < 1 || !floatValues(mm.getB()))
      return std::nullopt;
    out.push_back(mm);
  }
  return out;
}

} // namespace

llvm::Expected<std::vector<OutlierSplit>> splitOutlierChannels(ModuleOp module,
                                                               const std::vector<Sample> &samples,
                                                               const OutlierOptions &options) {
  if (!(options.ratio > 1.0) || !std::isfinite(options.ratio))
    return llvm::createStringError("outlier channels: the ratio must be a number above 1, got " +
                                   std::to_string(options.ratio));
  if (samples.empty())
    return llvm::createStringError("outlier channels: no calibration samples");
  insertObservers(module);
  std::map<int64_t, ActivationStats> kept;
  if (llvm::Error e = calibrate(module, samples, CalibrationOptions{}, &kept))
    return std::move(e);
  std::vector<Target> targets = quantizationTargets(module);
  std::vector<Plan> plans;
  for (const SmoothSite &site : smoothingSites(module, targets)) {
    const ActivationStats *st = nullptr;
    for (size_t c : site.consumers) {
      auto it = kept.find(static_cast<int64_t>(c));
      if (it != kept.end() && it->second.channels.channelCount() == site.channels)
        st = &it->second;
    }
    auto mms = plainMatMuls(targets, site);
    if (!st || !mms || site.channels < 2)
      continue;
    const int64_t K = site.channels;
    std::vector<double> a(K);
    for (int64_t j = 0; j < K; ++j)
      a[j] = std::max(std::fabs(st->channels.min()[j]), std::fabs(st->channels.max()[j]));
    std::vector<double> sorted(a);
    std::nth_element(sorted.begin(), sorted.begin() + K / 2, sorted.end());
    const double median = sorted[K / 2];
    if (!(median > 0))
      continue;
    std::vector<int64_t> order(K);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t p, int64_t q) { return a[p] > a[q]; });
    const int64_t cap = (K + 99) / 100;
    int64_t n = 0;
    while (n < cap && a[order[n]] > options.ratio * median)
      ++n;
    if (n == 0)
      continue;
    Plan p;
    p.x = site.x;
    p.consumers = *mms;
    for (size_t c : site.consumers)
      p.names.push_back(targets[c].name);
    p.split.name = site.name;
    p.split.K = K;
    p.split.channels.assign(order.begin(), order.begin() + n);
    std::sort(p.split.channels.begin(), p.split.channels.end());
    p.split.largest = a[order[0]] / median;
    p.split.nextKept = n < K ? a[order[n]] / median : 0.0;
    plans.push_back(std::move(p));
  }
  // The observers go before the rewrite (the model is calibrated again).
  auto removed = takeObservations(module);
  if (!removed)
    return removed.takeError();
  std::vector<OutlierSplit> out;
  for (Plan &p : plans) {
    const int64_t K = p.split.K;
    // Side products first: they read x itself.
    for (size_t i = 0; i < p.consumers.size(); ++i) {
      splitInputChannels(p.consumers[i], p.names[i], p.split.channels);
      p.split.sideBits +=
          static_cast<int64_t>(p.split.channels.size()) *
          cast<RankedTensorType>(p.consumers[i].getB().getType()).getDimSize(1) * 32;
    }
    OpBuilder b(module.getContext());
    if (Operation *def = p.x.getDefiningOp())
      b.setInsertionPointAfter(def);
    else
      b.setInsertionPointToStart(cast<BlockArgument>(p.x).getOwner());
    std::vector<float> mask(K, 1.0f);
    for (int64_t j : p.split.channels)
      mask[j] = 0.0f;
    Value m = floatConstant(b, p.x.getLoc(), {K}, mask);
    Value masked = qc::MulOp::create(b, p.x.getLoc(), p.x.getType(), p.x, m).getResult();
    for (qc::MatMulOp mm : p.consumers)
      mm.getAMutable().assign(masked);
    out.push_back(std::move(p.split));
  }
  return out;
}

} // namespace quantc::calib
