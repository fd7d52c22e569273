//===- Passes.cpp - qc-insert-observers and qc-quantize -------------------===//
#include "quantc/Calibration/Passes.h"
#include "quantc/Calibration/MixedPrecision.h"
#include "quantc/Calibration/PrefixRows.h"
#include "quantc/Calibration/Outliers.h"
#include "quantc/Calibration/Principal.h"
#include "quantc/Calibration/Quantize.h"
#include "quantc/Calibration/Rotate.h"
#include "quantc/Calibration/Salient.h"
#include "quantc/Calibration/Smooth.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cmath>

namespace quantc::calib {
#define GEN_PASS_DEF_QCINSERTOBSERVERS
#define GEN_PASS_DEF_QCQUANTIZE
#define GEN_PASS_DEF_QCKEEPFLOAT
#define GEN_PASS_DEF_QCPREFIXROWS
#define GEN_PASS_DEF_QCSMOOTH
#define GEN_PASS_DEF_QCFOLDROTATIONS
#define GEN_PASS_DEF_QCSPLITSALIENT
#define GEN_PASS_DEF_QCSPLITOUTLIERS
#define GEN_PASS_DEF_QCSPLITPRINCIPAL
#include "quantc/Calibration/Passes.h.inc"
} // namespace quantc::calib

using namespace mlir;
using namespace quantc::calib;

namespace {

/// Whether any qc.observe carries statistics; if not, an error naming the
/// pass.
bool requireCalibrated(ModuleOp module, llvm::StringRef pass) {
  bool calibrated = false;
  module.walk([&](quantc::qc::ObserveOp o) { calibrated |= bool(o.getStatsAttr()); });
  if (!calibrated)
    module.emitError(pass) << ": no calibrated qc.observe in the module (run "
                              "qc-insert-observers and calibrate first, e.g. `quantc calibrate`)";
  return calibrated;
}

/// The site's statistics from any of its consumers' calibrated observers
/// whose per-channel ranges have the site's width: `observed` tells
/// whether any consumer had a calibrated observer at all. Unreadable
/// statistics: an error at that observer.
llvm::FailureOr<std::optional<ActivationStats>>
siteStats(const std::vector<Target> &targets, const SmoothSite &site, llvm::StringRef pass,
          bool &observed) {
  std::optional<ActivationStats> st;
  observed = false;
  for (size_t c : site.consumers) {
    const Target &t = targets[c];
    auto o = t.op->getOperand(t.activation).getDefiningOp<quantc::qc::ObserveOp>();
    if (!o || !o.getStatsAttr())
      continue;
    observed = true;
    auto s = statsFromAttr(o.getStatsAttr());
    if (!s) {
      o.emitError(pass) << ": layer '" << o.getLayer() << "': " << llvm::toString(s.takeError());
      return failure();
    }
    if (s->channels.channelCount() == site.channels)
      st = std::move(*s);
  }
  return st;
}

struct InsertObserversPass : quantc::calib::impl::QCInsertObserversBase<InsertObserversPass> {
  void runOnOperation() override { insertObservers(getOperation()); }
};

struct SmoothPass : quantc::calib::impl::QCSmoothBase<SmoothPass> {
  using QCSmoothBase::QCSmoothBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!(alpha >= 0.0 && alpha <= 1.0)) {
      module.emitError("qc-smooth: alpha must be in [0, 1], got ") << alpha;
      return signalPassFailure();
    }
    if (!requireCalibrated(module, "qc-smooth"))
      return signalPassFailure();
    std::vector<Target> targets = quantizationTargets(module);
    for (const SmoothSite &site : smoothingSites(module, targets)) {
      // The site's per-channel range: from any of its consumers' observers
      // (a site nobody observed is left alone).
      bool observed = false;
      auto found = siteStats(targets, site, "qc-smooth", observed);
      if (failed(found))
        return signalPassFailure();
      std::optional<ActivationStats> &st = *found;
      if (!observed)
        continue;
      if (!st) {
        targets[site.consumers.front()].op->emitError(
            "qc-smooth: its observer has no per-channel statistics of this layer's input "
            "(calibrate again with this version)");
        return signalPassFailure();
      }
      std::vector<double> xAbsMax(site.channels);
      for (int64_t j = 0; j < site.channels; ++j)
        xAbsMax[j] = std::max(std::fabs(st->channels.min()[j]), std::fabs(st->channels.max()[j]));
      if (awq && static_cast<int64_t>(st->channelAbsMean.size()) != site.channels) {
        targets[site.consumers.front()].op->emitError(
            "qc-smooth{awq}: its observer has no per-channel mean |x| of this layer's input "
            "(calibrate again with this version)");
        return signalPassFailure();
      }
      auto s = awq ? awqScales(st->channelAbsMean, alpha)
                   : smoothingScales(xAbsMax, weightRowAbsMax(targets, site), alpha);
      if (llvm::Error e = applySmoothing(targets, site, s)) {
        module.emitError("qc-smooth: ") << llvm::toString(std::move(e));
        return signalPassFailure();
      }
    }
  }
};

struct FoldRotationsPass : quantc::calib::impl::QCFoldRotationsBase<FoldRotationsPass> {
  using QCFoldRotationsBase::QCFoldRotationsBase;
  void runOnOperation() override {
    RotationOptions options{seed, online, {}, matrix};
    if (!matrix.empty()) {
      auto m = readRotationMatrix(matrix);
      if (!m) {
        getOperation().emitError("qc-fold-rotations: ") << llvm::toString(m.takeError());
        return signalPassFailure();
      }
      options.matrix = std::move(*m);
    }
    auto r = foldRotations(getOperation(), options);
    if (!r) {
      getOperation().emitError(llvm::toString(r.takeError()));
      return signalPassFailure();
    }
  }
};

struct SplitSalientPass : quantc::calib::impl::QCSplitSalientBase<SplitSalientPass> {
  using QCSplitSalientBase::QCSplitSalientBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::vector<Target> targets = quantizationTargets(module);
    std::vector<ActivationStats> stats(targets.size());
    bool any = false;
    for (size_t k = 0; k < targets.size(); ++k) {
      const Target &t = targets[k];
      auto o = t.op->getOperand(t.activation).getDefiningOp<quantc::qc::ObserveOp>();
      if (!o || !o.getStatsAttr())
        continue;
      auto st = statsFromAttr(o.getStatsAttr());
      if (!st) {
        o.emitError("qc-split-salient: layer '") << o.getLayer() << "': " << llvm::toString(st.takeError());
        return signalPassFailure();
      }
      any |= st->hessian != nullptr;
      stats[k] = std::move(*st);
    }
    if (!any) {
      module.emitError("qc-split-salient: no observer carries a Hessian (calibrate with "
                       "`quantc calibrate --hessians` first)");
      return signalPassFailure();
    }
    auto r = splitSalientChannels(targets, stats, percent);
    if (!r) {
      module.emitError("qc-split-salient: ") << llvm::toString(r.takeError());
      return signalPassFailure();
    }
  }
};

struct SplitOutliersPass : quantc::calib::impl::QCSplitOutliersBase<SplitOutliersPass> {
  using QCSplitOutliersBase::QCSplitOutliersBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!(ratio > 1.0) || !std::isfinite(ratio)) {
      module.emitError("qc-split-outliers: the ratio must be a number above 1, got ") << ratio;
      return signalPassFailure();
    }
    if (!requireCalibrated(module, "qc-split-outliers"))
      return signalPassFailure();
    std::vector<Target> targets = quantizationTargets(module);
    for (const SmoothSite &site : smoothingSites(module, targets)) {
      bool observed = false;
      auto found = siteStats(targets, site, "qc-split-outliers", observed);
      if (failed(found))
        return signalPassFailure();
      std::optional<ActivationStats> &st = *found;
      if (!st || !outlierSplittable(targets, site))
        continue;
      std::vector<int64_t> S = outlierChannels(st->channels.min(), st->channels.max(), ratio);
      if (S.empty())
        continue;
      auto r = splitSiteOutliers(targets, site, S);
      if (!r) {
        module.emitError("qc-split-outliers: ") << llvm::toString(r.takeError());
        return signalPassFailure();
      }
    }
  }
};

struct KeepFloatPass : quantc::calib::impl::QCKeepFloatBase<KeepFloatPass> {
  using QCKeepFloatBase::QCKeepFloatBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!std::isfinite(minSqnr)) {
      module.emitError("qc-keep-float: give the floor as min-sqnr=DB (a finite number)");
      return signalPassFailure();
    }
    auto kept = keepFloatBelow(module, minSqnr);
    if (!kept) {
      module.emitError("qc-keep-float: ") << llvm::toString(kept.takeError());
      return signalPassFailure();
    }
  }
};

struct PrefixRowsPass : quantc::calib::impl::QCPrefixRowsBase<PrefixRowsPass> {
  using QCPrefixRowsBase::QCPrefixRowsBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (rows < 1) {
      module.emitError("qc-prefix-rows: give the positions kept out of the static scales as rows=P (P >= 1)");
      return signalPassFailure();
    }
    if (markPrefixRows(module, rows) == 0) {
      module.emitError("qc-prefix-rows: no MatMul layer reads an activation of rank >= 3 "
                       "([..., sequence, features]): no prefix rows to split");
      return signalPassFailure();
    }
  }
};

struct SplitPrincipalPass : quantc::calib::impl::QCSplitPrincipalBase<SplitPrincipalPass> {
  using QCSplitPrincipalBase::QCSplitPrincipalBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (rank < 1 || rank > 256) {
      module.emitError("qc-split-principal: give the directions kept float as rank=R (1 <= R <= 256)");
      return signalPassFailure();
    }
    if (!requireCalibrated(module, "qc-split-principal"))
      return signalPassFailure();
    // The Hessians by target, then every observer goes (their statistics
    // describe x, not what the layers read after the split).
    auto obs = takeObservations(module);
    if (!obs) {
      module.emitError("qc-split-principal: ") << llvm::toString(obs.takeError());
      return signalPassFailure();
    }
    std::vector<Target> targets = quantizationTargets(module);
    std::vector<std::shared_ptr<const std::vector<double>>> hessians(targets.size());
    bool any = false;
    for (size_t k = 0; k < targets.size() && k < obs->targets.size(); ++k) {
      if (obs->targets[k].op != targets[k].op) {
        targets[k].op->emitError("qc-split-principal: the layers changed order while the "
                                 "observers were removed");
        return signalPassFailure();
      }
      hessians[k] = obs->stats[k].hessian;
      any |= hessians[k] != nullptr;
    }
    if (!any) {
      module.emitError("qc-split-principal: no observer carries a Hessian (calibrate with "
                       "`quantc calibrate --hessians`)");
      return signalPassFailure();
    }
    auto r = splitPrincipalWithHessians(module, hessians, rank);
    if (!r) {
      module.emitError("qc-split-principal: ") << llvm::toString(r.takeError());
      return signalPassFailure();
    }
  }
};

struct QuantizePass : quantc::calib::impl::QCQuantizeBase<QuantizePass> {
  using QCQuantizeBase::QCQuantizeBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto r = Recipe::parse(recipe);
    if (!r) {
      module.emitError("qc-quantize: unknown recipe '") << recipe << "'";
      return signalPassFailure();
    }
    if (!(gptqDamp >= 0.0 && gptqDamp <= 10.0) || !(gptqMinShrink >= 0.5 && gptqMinShrink <= 1.0)) {
      module.emitError("qc-quantize: gptq-damp must lie in [0, 10] and gptq-min-shrink in [0.5, 1]");
      return signalPassFailure();
    }
    r->gptqTuning.damp = gptqDamp;
    r->gptqTuning.actOrder = gptqActOrder;
    r->gptqTuning.minShrink = gptqMinShrink;
    r->gptqTuning.refitScales = gptqRefitScales;
    if (gptqRefitRounds < 1 || gptqRefitRounds > 10) {
      module.emitError("qc-quantize: gptq-refit-rounds must lie in [1, 10]");
      return signalPassFailure();
    }
    r->gptqTuning.refitRounds = gptqRefitRounds;
    if (!(activationClip >= 0.5 && activationClip <= 1.0)) {
      module.emitError("qc-quantize: activation-clip must lie in [0.5, 1]");
      return signalPassFailure();
    }
    if (activationClip != 1.0 && !r->perToken) {
      module.emitError("qc-quantize: activation-clip needs per-token dynamic activations (recipe '")
          << recipe << "')";
      return signalPassFailure();
    }
    r->activationClip = activationClip;
    if (r->kv8) {
      module.emitError("qc-quantize: recipe '")
          << recipe << "': its -kv8 / -qkv8 part is a pass of its own: run "
          << "func.func(qc-fuse-attention,qc-quantize-kv) after qc-quantize";
      return signalPassFailure();
    }
    auto cal = parseCalibrator(calibrator);
    if (!cal) {
      module.emitError("qc-quantize: unknown calibrator '")
          << calibrator << "' (minmax, percentile, entropy, mse)";
      return signalPassFailure();
    }
    // Layers kept float by a sensitivity measured for another recipe,
    // calibrator or percentile: the choice does not hold for this one.
    bool keptFloat = false;
    module.walk([&](Operation *op) { keptFloat |= op->hasAttr(kKeepFloatAttr); });
    if (keptFloat) {
      auto basis = sensitivityBasis(module);
      if (!basis || basis->recipe != recipe || basis->calibrator != calibrator ||
          (*cal == Calibrator::Percentile && basis->percentile != percentile)) {
        module.emitError("qc-quantize: qc-keep-float chose its layers by a sensitivity measured "
                         "for recipe '")
            << (basis ? basis->recipe : "?") << "', calibrator '"
            << (basis ? basis->calibrator : "?") << "'; this is recipe '" << recipe
            << "', calibrator '" << calibrator << "': measure it again (quantc calibrate "
            << "--sensitivity " << recipe << " --calibrator " << calibrator << ")";
        return signalPassFailure();
      }
    }
    // Statistics that do not parse: an error at their observer.
    bool bad = false;
    module.walk([&](quantc::qc::ObserveOp o) {
      if (auto st = o.getStatsAttr())
        if (auto s = statsFromAttr(st); !s) {
          o.emitError("qc-quantize: layer '")
              << o.getLayer() << "': " << llvm::toString(s.takeError());
          bad = true;
        }
    });
    if (bad)
      return signalPassFailure();
    auto obs = takeObservations(module);
    if (!obs) {
      module.emitError("qc-quantize: ") << llvm::toString(obs.takeError());
      return signalPassFailure();
    }
    if (r->gptq && llvm::none_of(obs->stats, [](const ActivationStats &s) { return s.hessian != nullptr; })) {
      module.emitError("qc-quantize: recipe '")
          << recipe << "' needs Hessians in the observers' stats (quantc calibrate --hessians)";
      return signalPassFailure();
    }
    bool split = false;
    module.walk([&](Operation *op) { split |= op->hasAttr(kSalientSideAttr); });
    if (r->outliers && !split) {
      module.emitError("qc-quantize: recipe '")
          << recipe << "': its -outliers part is the pass qc-split-outliers: run it first";
      return signalPassFailure();
    }
    if (r->salient && !split) {
      module.emitError("qc-quantize: recipe '")
          << recipe << "': its -salient part is the pass qc-split-salient: run it first";
      return signalPassFailure();
    }
    // A layer of main whose input was never observed: an error at it.
    if (r->activations) {
      bool missing = false;
      for (size_t k = 0; k < obs->targets.size(); ++k) {
        Operation *op = obs->targets[k].op;
        if (obs->stats[k].minmax.empty() && isa<func::FuncOp>(op->getParentOp())) {
          op->emitError("qc-quantize: the input of this layer was never observed (run "
                        "qc-insert-observers and calibrate first, or use a weight-only "
                        "recipe)");
          missing = true;
        }
      }
      if (missing)
        return signalPassFailure();
    }
    auto reports = insertQDQ(module, obs->targets, obs->stats, *r, *cal, percentile);
    if (!reports) {
      module.emitError("qc-quantize: ") << llvm::toString(reports.takeError());
      return signalPassFailure();
    }
  }
};

} // namespace
