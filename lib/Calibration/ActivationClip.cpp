//===- ActivationClip.cpp - per-layer clip of per-token activations -------===//
//
// searchActivationClips (quantc/Calibration/ActivationClip.h).
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/ActivationClip.h"
#include "Constants.h"
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Runtime/Kernels.h"

#include "mlir/IR/Builders.h"

#include <algorithm>
#include <cmath>
#include <map>

using namespace mlir;
using namespace quantc;

namespace quantc::calib {

void fakeQuantizeRows(float *x, int64_t m, int64_t k, int64_t levels, double clip,
                      int64_t group) {
  if (group > 0 && group < k) { // -ag: each group of a row on its own
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < k; j += group)
        fakeQuantizeRows(x + i * k + j, 1, std::min(group, k - j), levels, clip);
    return;
  }
  const float L = static_cast<float>(levels), c = static_cast<float>(clip);
  for (int64_t i = 0; i < m; ++i) {
    float *r = x + i * k;
    float lo = 0, hi = 0;
    for (int64_t j = 0; j < k; ++j) {
      lo = std::min(lo, r[j]);
      hi = std::max(hi, r[j]);
    }
    lo *= c;
    hi *= c;
    float s = (hi - lo) / L;
    if (s == 0)
      s = 1;
    float z = std::clamp(std::nearbyint(-lo / s), 0.0f, L);
    for (int64_t j = 0; j < k; ++j) {
      float q = std::clamp(std::nearbyint(r[j] / s) + z, 0.0f, L);
      r[j] = (q - z) * s;
    }
  }
}

namespace {

/// || X W - Q_c(X) W ||^2 / || X W ||^2 for one weight.
double outputError(const std::vector<float> &rows, int64_t m, int64_t k,
                   const std::vector<float> &w, int64_t n, int64_t rs, int64_t cs,
                   const std::vector<float> &reference, int64_t levels, double clip,
                   int64_t group) {
  std::vector<float> xq(rows);
  fakeQuantizeRows(xq.data(), m, k, levels, clip, group);
  std::vector<float> y(m * n);
  rt::sgemm(m, n, k, rt::Matrix{xq.data(), k, 1}, rt::Matrix{w.data(), rs, cs}, y.data(), n,
            /*overwrite=*/true);
  double err = 0, energy = 0;
  for (int64_t i = 0; i < m * n; ++i) {
    double d = static_cast<double>(y[i]) - reference[i];
    err += d * d;
    energy += static_cast<double>(reference[i]) * reference[i];
  }
  return energy > 0 ? err / energy : 0.0;
}

} // namespace

llvm::Expected<std::vector<ActivationClipChoice>>
searchActivationClips(ModuleOp module, const SampleSet &samples, const Recipe &recipe,
                      const ActivationClipOptions &options) {
  if (!recipe.dynamicActivations || !recipe.perToken)
    return llvm::createStringError("recipe '" + recipe.name +
                                   "': the activation clip search is for per-token dynamic "
                                   "activations (w8a8-dynamic-token, w4a8-dynamic-token, w4a4)");
  if (samples.empty())
    return llvm::createStringError("the activation clip search needs calibration samples");
  if (!(options.minClip > 0 && options.minClip <= 1) || !(options.step > 0))
    return llvm::createStringError("activation clip search: minClip must be in (0, 1] and "
                                   "step positive");
  auto observed = observeKeepingRows(module, samples, options.rows);
  if (!observed)
    return observed.takeError();
  std::map<int64_t, ActivationStats> &kept = *observed;
  const int64_t levels = recipe.activationBits == 4 ? 15 : 255;
  const int64_t group = recipe.activationGroups ? recipe.groupSize : 0;
  std::vector<Target> targets = quantizationTargets(module);
  std::vector<ActivationClipChoice> choices;
  for (size_t c = 0; c < targets.size(); ++c) {
    const Target &t = targets[c];
    if (!isa<qc::MatMulOp, qc::GemmOp>(t.op))
      continue;
    auto it = kept.find(static_cast<int64_t>(c));
    Value wv = t.op->getOperand(t.weight);
    auto wt = dyn_cast<RankedTensorType>(wv.getType());
    if (it == kept.end() || it->second.rows.empty() || !wt || wt.getRank() != 2)
      continue; // never observed here, or not a 2-D weight
    const ActivationStats &st = it->second;
    int64_t k = wt.getDimSize(t.reductionAxis), n = wt.getDimSize(1 - t.reductionAxis);
    if (st.rowWidth != k)
      continue;
    auto w = floatValues(wv);
    if (!w)
      continue;
    int64_t m = static_cast<int64_t>(st.rows.size()) / k;
    int64_t rs = t.reductionAxis == 0 ? n : 1, cs = t.reductionAxis == 0 ? 1 : k;
    std::vector<float> reference(m * n);
    rt::sgemm(m, n, k, rt::Matrix{st.rows.data(), k, 1}, rt::Matrix{w->data(), rs, cs},
              reference.data(), n, /*overwrite=*/true);
    ActivationClipChoice choice;
    choice.name = t.name;
    choice.errorFull = outputError(st.rows, m, k, *w, n, rs, cs, reference, levels, 1.0, group);
    choice.error = choice.errorFull;
    for (int i = 1;; ++i) {
      double clip = 1.0 - i * options.step;
      if (clip < options.minClip - 1e-9)
        break;
      double e = outputError(st.rows, m, k, *w, n, rs, cs, reference, levels, clip, group);
      if (e < choice.error) {
        choice.error = e;
        choice.clip = clip;
      }
    }
    t.op->setAttr(kActivationClipAttr,
                  Builder(module.getContext()).getF32FloatAttr(static_cast<float>(choice.clip)));
    choices.push_back(choice);
  }
  auto removed = takeObservations(module);
  if (!removed)
    return removed.takeError();
  return choices;
}

} // namespace quantc::calib
