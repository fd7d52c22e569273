//===- Outliers.cpp - activation outlier channels kept float --------------===//
//
// See quantc/Calibration/Outliers.h.
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Outliers.h"
#include "Constants.h"
#include "quantc/Calibration/Salient.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/SetVector.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

using namespace mlir;

namespace quantc::calib {

std::vector<int64_t> outlierChannels(const std::vector<double> &channelMin,
                                     const std::vector<double> &channelMax, double ratio,
                                     double *largest, double *nextKept) {
  const int64_t K = static_cast<int64_t>(std::min(channelMin.size(), channelMax.size()));
  if (K < 2)
    return {};
  std::vector<double> a(K);
  for (int64_t j = 0; j < K; ++j)
    a[j] = std::max(std::fabs(channelMin[j]), std::fabs(channelMax[j]));
  std::vector<double> sorted(a);
  std::nth_element(sorted.begin(), sorted.begin() + K / 2, sorted.end());
  const double median = sorted[K / 2];
  if (!(median > 0) || !std::isfinite(median))
    return {};
  std::vector<int64_t> order(K);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t p, int64_t q) { return a[p] > a[q]; });
  const int64_t cap = (K + 99) / 100;
  int64_t n = 0;
  while (n < cap && a[order[n]] > ratio * median)
    ++n;
  if (largest)
    *largest = a[order[0]] / median;
  if (nextKept)
    *nextKept = n < K ? a[order[n]] / median : 0.0;
  std::vector<int64_t> S(order.begin(), order.begin() + n);
  std::sort(S.begin(), S.end());
  return S;
}

bool outlierSplittable(const std::vector<Target> &targets, const SmoothSite &site) {
  return llvm::all_of(site.consumers, [&](size_t c) {
    const Target &t = targets[c];
    auto mm = dyn_cast<qc::MatMulOp>(t.op);
    auto wt = mm ? dyn_cast<RankedTensorType>(mm.getB().getType()) : RankedTensorType();
    return mm && t.reductionAxis == 0 && wt && wt.getRank() == 2 &&
           isFloatConstant(mm.getB());
  });
}

llvm::Expected<int64_t> splitSiteOutliers(const std::vector<Target> &targets,
                                          const SmoothSite &site, llvm::ArrayRef<int64_t> S) {
  const int64_t K = site.channels;
  if (!outlierSplittable(targets, site))
    return llvm::createStringError("site '" + site.name +
                                   "': outlier channels are split for MatMuls with a constant "
                                   "2-D weight only");
  std::vector<qc::MatMulOp> mms;
  for (size_t c : site.consumers)
    mms.push_back(cast<qc::MatMulOp>(targets[c].op));
  if (S.empty())
    return 0;
  for (int64_t j : S)
    if (j < 0 || j >= K)
      return llvm::createStringError("site '" + site.name + "': channel " + std::to_string(j) +
                                     " out of range");
  int64_t sideBits = 0;
  for (size_t i = 0; i < mms.size(); ++i) {
    // The side product reads x itself, not an observer that will see x * mask.
    splitInputChannels(mms[i], targets[site.consumers[i]].name, S, site.x);
    sideBits += static_cast<int64_t>(S.size()) *
                cast<RankedTensorType>(mms[i].getB().getType()).getDimSize(1) * 32;
  }
  OpBuilder b(site.x.getContext());
  if (Operation *def = site.x.getDefiningOp())
    b.setInsertionPointAfter(def);
  else
    b.setInsertionPointToStart(cast<BlockArgument>(site.x).getOwner());
  std::vector<float> mask(K, 1.0f);
  for (int64_t j : S)
    mask[j] = 0.0f;
  Value m = floatConstant(b, site.x.getLoc(), {K}, mask);
  Value masked = qc::MulOp::create(b, site.x.getLoc(), site.x.getType(), site.x, m).getResult();
  // Consumers read x directly or through an observer (then the observer
  // reads x * mask, its statistics following).
  llvm::SetVector<Operation *> observers;
  for (qc::MatMulOp mm : mms) {
    if (auto o = mm.getA().getDefiningOp<qc::ObserveOp>())
      observers.insert(o);
    else
      mm.getAMutable().assign(masked);
  }
  // x * mask = x / s with s_j = +inf on S and 1 elsewhere.
  std::vector<float> s(K, 1.0f);
  for (int64_t j : S)
    s[j] = std::numeric_limits<float>::infinity();
  for (Operation *op : observers) {
    auto o = cast<qc::ObserveOp>(op);
    o->setOperand(0, masked);
    if (llvm::Error e = smoothObserverStats(o, s))
      return std::move(e);
  }
  return sideBits;
}

llvm::Expected<std::vector<OutlierSplit>> splitOutlierChannels(ModuleOp module,
                                                               const SampleSet &samples,
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
  std::vector<OutlierSplit> out;
  for (const SmoothSite &site : smoothingSites(module, targets)) {
    const ActivationStats *st = nullptr;
    for (size_t c : site.consumers) {
      auto it = kept.find(static_cast<int64_t>(c));
      if (it != kept.end() && it->second.channels.channelCount() == site.channels)
        st = &it->second;
    }
    if (!st || !outlierSplittable(targets, site))
      continue;
    OutlierSplit r;
    r.name = site.name;
    r.K = site.channels;
    r.channels = outlierChannels(st->channels.min(), st->channels.max(), options.ratio,
                                 &r.largest, &r.nextKept);
    if (r.channels.empty())
      continue;
    auto bits = splitSiteOutliers(targets, site, r.channels);
    if (!bits)
      return bits.takeError();
    r.sideBits = *bits;
    out.push_back(std::move(r));
  }
  // The observers go (the model is calibrated again).
  auto removed = takeObservations(module);
  if (!removed)
    return removed.takeError();
  return out;
}

} // namespace quantc::calib
