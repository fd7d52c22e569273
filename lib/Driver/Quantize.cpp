//===- Quantize.cpp - quantc quantize: the recipe pipeline ----------------===//
//
// Rotation, outlier split, smoothing, Hessians, calibration, then QDQ
// insertion per target (or an allocation), and the output written.
//
//===----------------------------------------------------------------------===//
#include "quantc/Driver/Quantize.h"
#include "quantc/Driver/Samples.h"
#include "Common.h"
#include "QuantizePlan.h"
#include "QuantizeReport.h"
#include "quantc/Calibration/ActivationClip.h"
#include "quantc/Calibration/Allocate.h"
#include "quantc/Calibration/MixedPrecision.h"
#include "quantc/Calibration/Outliers.h"
#include "quantc/Calibration/Principal.h"
#include "quantc/Calibration/Progress.h"
#include "quantc/Calibration/Rotate.h"
#include "quantc/Calibration/Salient.h"
#include "quantc/Calibration/Sequential.h"
#include "quantc/Calibration/Smooth.h"
#include "quantc/Calibration/PrefixRows.h"
#include "quantc/Export/ONNX/QDQExport.h"
#include "quantc/Import/ModelFile.h"
#include "quantc/Target/CPU/AOT.h"
#include "quantc/Target/CPU/JIT.h"
#include "mlir/IR/Verifier.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/ADT/ScopeExit.h"

#include <algorithm>
#include <map>
#include <set>
#include <memory>

using namespace mlir;

namespace quantc::driver {
int writeQDQ(const QDQState &state, const std::string &output, llvm::raw_ostream &err) {
  std::string warning;
  if (auto e = ::quantc::exportQDQ(state.sourceModel, state.layers, output, state.inputShapes,
                                   &warning)) {
    err << "quantc: error: " << llvm::toString(std::move(e)) << "\n";
    return 1;
  }
  if (!warning.empty())
    err << "quantc: warning: " << warning << "\n";
  return 0;
}

int quantizeModel(const QuantizeOptions &o, llvm::raw_ostream &out, llvm::raw_ostream &err,
                  QuantizeResult *result, const std::vector<calib::Sample> *given) {
  const std::string &model = o.model, &output = o.output, &calibDir = o.calibDir,
                    &calibrator = o.calibrator, &reportPath = o.reportPath;
  const double percentile = o.percentile, minLayerSqnr = o.minLayerSqnr;
  const bool offlineRotationOnly = o.offlineRotationOnly, gptqSequential = o.gptqSequential;
  const int sensitivitySamples = o.sensitivitySamples;
  const std::string &allocationJson = o.allocationJson;
  const bool haveSamples = given || !calibDir.empty();
  QuantizePlan plan;
  if (int rc = planQuantization(o, haveSamples, plan, err))
    return rc;
  const std::string &recipe = plan.recipeName;
  std::optional<calib::Recipe> &parsedRecipe = plan.recipe;
  const auto &fixedFormats = plan.fixedFormats;
  const std::string &allocationText = plan.allocationText;
  calib::SmoothOptions &smoothOptions = plan.smooth;
  const calib::OutlierOptions &outlierOptions = plan.outliers;
  const double salientPct = plan.salientPct, budgetBpw = plan.budgetBpw,
               budgetBytes = plan.budgetBytes;
  const bool allocating = plan.allocating, toSo = plan.toSo, toOnnx = plan.toOnnx;
  const calib::Calibrator cal = plan.calibrator;
  const std::string &refusal = plan.qdqRefusal;
  mlir::MLIRContext context;
  DiagnosticsTo diagnostics(context, err);
  calib::ProgressScope progress(o.progress);
  auto module = openModel(context, model, err);
  if (!module)
    return 1;
  auto specs = cpu::JITModel::inputsOf(*module);
  // --keep-float's names, checked before anything runs.
  std::vector<std::string> keepNames;
  if (!o.keepFloat.empty()) {
    std::set<std::string> names;
    std::string known;
    for (const auto &t : calib::quantizationTargets(*module)) {
      names.insert(t.name);
      if (names.size() <= 8)
        known += (known.empty() ? "" : ", ") + t.name;
    }
    llvm::SmallVector<llvm::StringRef> given;
    llvm::StringRef(o.keepFloat).split(given, ',', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef raw : given) {
      std::string name = raw.trim().str();
      if (!names.count(name)) {
        err << "quantc: error: --keep-float: " << model << " has no quantizable layer named '"
            << name << "' (layers are named by their ONNX node: " << known
            << (names.size() > 8 ? ", ..." : "") << ")\n";
        return 2;
      }
      keepNames.push_back(name);
    }
  }
  // --prefix-rows: static activations only (a dynamic scale already
  // follows each row; float ones round nothing).
  if (o.prefixRows < 0 || o.prefixRows > 4096) {
    err << "quantc: error: --prefix-rows " << o.prefixRows
        << ": expected a number of positions in [1, 4096]\n";
    return 2;
  }
  if (o.prefixRows > 0 && !(parsedRecipe->activations && !parsedRecipe->dynamicActivations)) {
    err << "quantc: error: --prefix-rows keeps rows out of static activation scales; recipe '"
        << recipe << "' has "
        << (parsedRecipe->dynamicActivations ? "dynamic" : "no quantized") << " activations\n";
    return 2;
  }
  if (o.prefixRows > 0 && (std::isfinite(minLayerSqnr) || allocating)) {
    err << "quantc: error: --prefix-rows with " << (allocating ? "--budget" : "--min-layer-sqnr")
        << " is not supported yet (the per-layer sensitivity runs do not split the prefix "
           "rows)\n";
    return 2;
  }
  // --principal-components: quantized activations only (their rounding is
  // what the split protects); not with --prefix-rows yet.
  if (o.principalComponents < 0 || o.principalComponents > 256) {
    err << "quantc: error: --principal-components " << o.principalComponents
        << ": expected a number of directions in [1, 256]\n";
    return 2;
  }
  if (o.principalComponents > 0 && !parsedRecipe->activations &&
      !parsedRecipe->dynamicActivations) {
    err << "quantc: error: --principal-components takes directions out of quantized "
           "activations; recipe '"
        << recipe << "' has none\n";
    return 2;
  }
  if (o.principalComponents > 0 && o.prefixRows > 0) {
    err << "quantc: error: --principal-components with --prefix-rows is not supported yet\n";
    return 2;
  }
  if (o.principalComponents > 0 && !haveSamples) {
    err << "quantc: error: --principal-components needs calibration samples (--calib DIR)\n";
    return 2;
  }
  // Weight-only recipes need no calibration data; with --calib the first
  // sample still gives the shapes a .so is compiled for.
  if (!haveSamples && parsedRecipe->activationClipSearch) {
    err << "quantc: error: --activation-clip search needs --calib DIR (calibration samples, "
           "whose activations the clips are chosen on)\n";
    return 2;
  }
  if (!haveSamples && (parsedRecipe->activations || parsedRecipe->smooth || toSo)) {
    err << "quantc: error: recipe '" << recipe << "'"
                 << (parsedRecipe->activations ? "" : " with -o .so")
                 << " needs --calib DIR (calibration samples"
                 << (parsedRecipe->activations ? "" : ", whose shapes the library is compiled for")
                 << ")\n";
    return 2;
  }
  llvm::Expected<calib::SampleSet> samples = calib::SampleSet();
  if (given) {
    std::vector<calib::Sample> checked = *given;
    if (auto e = checkSamples(checked, specs)) {
      err << "quantc: error: " << model << ": " << llvm::toString(std::move(e)) << "\n";
      return 1;
    }
    *samples = calib::SampleSet(std::move(checked));
  } else if (!calibDir.empty()) {
    samples = loadSamples(context, calibDir, specs);
  }
  if (!samples) {
    err << "quantc: error: " << llvm::toString(samples.takeError()) << "\n";
    return 1;
  }

  // -rot: the residual stream rotated (qc-fold-rotations), before any
  // statistics are taken.
  if (!o.rotationMatrix.empty() && !parsedRecipe->rotate) {
    err << "quantc: error: --rotation-matrix: recipe '" << recipe
        << "' rotates nothing (add -rot)\n";
    return 2;
  }
  if (parsedRecipe->rotate) {
    calib::RotationOptions ro{/*seed=*/0, /*online=*/!offlineRotationOnly, {},
                              o.rotationMatrix};
    if (!o.rotationMatrix.empty()) {
      auto m = calib::readRotationMatrix(o.rotationMatrix);
      if (!m) {
        err << "quantc: error: --rotation-matrix: " << llvm::toString(m.takeError()) << "\n";
        return 1;
      }
      ro.matrix = std::move(*m);
    }
    auto rot = calib::foldRotations(*module, ro);
    if (!rot) {
      err << "quantc: error: " << model << ": " << llvm::toString(rot.takeError())
                   << "\n";
      return 1;
    }
    out << llvm::formatv("rotation: residual stream of width {0} rotated by a {1} "
                                  "({2} norms, {3} reading and {4} writing layers; {5} writer "
                                  "inputs rotated online, {6} without a Hadamard of their width)\n",
                                  rot->dim,
                                  rot->given ? "given matrix (" + o.rotationMatrix + ")"
                                  : rot->hadamard ? std::string("randomized Hadamard matrix")
                                                  : std::string("random orthogonal matrix"),
                                  rot->norms, rot->readers, rot->writers, rot->online,
                                  rot->onlineSkipped);
  }
  // --prefix-rows: marked before any calibration run (the outlier split's
  // and the smoothing search's included), again below for layers the
  // rewrites made.
  if (o.prefixRows > 0 && calib::markPrefixRows(*module, o.prefixRows) == 0) {
    err << "quantc: error: --prefix-rows: no MatMul layer of " << model
        << " reads an activation of rank >= 3 ([..., sequence, features]): no prefix rows "
           "to split\n";
    return 2;
  }
  // -outliers: activation channels far above the rest multiplied in float
  // (its own calibration run), before smoothing sees the rest.
  if (parsedRecipe->outliers) {
    auto sp = calib::splitOutlierChannels(*module, *samples, outlierOptions);
    if (!sp) {
      err << "quantc: error: " << model << ": " << llvm::toString(sp.takeError())
                   << "\n";
      return 1;
    }
    int64_t channels = 0, sideBits = 0;
    for (const auto &o : *sp) {
      channels += static_cast<int64_t>(o.channels.size());
      sideBits += o.sideBits;
    }
    out << llvm::formatv("outliers: {0} input channels of {1} activations kept float "
                                  "(absmax above {2}x the median channel's; {3:f2} MB of float "
                                  "side weights)\n",
                                  channels, sp->size(), outlierOptions.ratio, sideBits / 8e6);
    for (const auto &o : *sp) {
      std::string list;
      for (int64_t j : o.channels)
        list += (list.empty() ? "" : ",") + std::to_string(j);
      out << llvm::formatv("  {0,-40} channels {1}  largest {2:f1}x, next kept {3:f1}x\n",
                                    o.name.size() > 40 ? o.name.substr(0, 37) + "..." : o.name,
                                    list, o.largest, o.nextKept);
    }
  }
  // -smooth: qc-smooth with alpha searched per site (its own calibration
  // run), before the smoothed model is calibrated; -awq: the same search
  // and folds with AWQ's scales and weight-only error.
  if (parsedRecipe->smooth || parsedRecipe->awq) {
    smoothOptions.awq = parsedRecipe->awq;
    const char *what = parsedRecipe->awq ? "awq" : "smoothing";
    auto choices = calib::smoothModel(*module, *samples, *parsedRecipe, smoothOptions);
    if (!choices) {
      err << "quantc: error: " << model << ": " << what << ": "
                   << llvm::toString(choices.takeError()) << "\n";
      return 1;
    }
    size_t smoothed = 0;
    for (const auto &c : *choices)
      smoothed += c.alpha >= 0;
    out << what << ": " << smoothed << " of " << choices->size()
                 << " sites scaled (alpha " << (smoothOptions.alpha >= 0 ? "fixed" : "searched")
                 << " on the consumers' simulated output error)\n";
    for (const auto &c : *choices)
      out << llvm::formatv("  {0,-40} {1,-9} outliers {2,6:f1}x  alpha {3}  error "
                                    "{4:e2} -> {5:e2}\n",
                                    c.name.size() > 40 ? c.name.substr(0, 37) + "..." : c.name,
                                    c.fold, c.outlierRatio,
                                    c.alpha >= 0 ? llvm::formatv("{0:f2}", c.alpha).str() : "-   ",
                                    c.lossUnsmoothed, c.loss);
  }
  // --keep-float: the named layers (checked above) marked qc.keep_float
  // after the function-preserving rewrites above, which may fold into
  // them, so that no statistic, Hessian or rounding below touches them.
  std::vector<std::string> keptByName;
  if (!keepNames.empty()) {
    std::map<std::string, Operation *> byName;
    for (const auto &t : calib::quantizationTargets(*module))
      byName.emplace(t.name, t.op);
    for (const std::string &name : keepNames) {
      auto it = byName.find(name);
      if (it == byName.end() || it->second->hasAttr(calib::kKeepFloatAttr))
        continue;
      it->second->setAttr(calib::kKeepFloatAttr, mlir::UnitAttr::get(&context));
      keptByName.push_back(name);
    }
  }
  // --principal-components: after --keep-float (a site read only by
  // layers kept float is left alone) and before the statistics below,
  // which are then taken on what the layers read.
  if (o.principalComponents > 0) {
    auto sp = calib::splitPrincipalComponents(*module, *samples, o.principalComponents);
    if (!sp) {
      err << "quantc: error: " << model << ": --principal-components: "
          << llvm::toString(sp.takeError()) << "\n";
      return 1;
    }
    if (sp->empty()) {
      err << "quantc: error: --principal-components: no activation of " << model
          << " is read only by MatMuls with constant 2-D weights, has more than "
          << o.principalComponents
          << " input channels and a reader that is quantized (not --keep-float)\n";
      return 2;
    }
    int64_t sideBits = 0;
    double share = 0;
    for (const auto &p : *sp) {
      sideBits += p.sideBits;
      share += p.energyShare;
    }
    out << llvm::formatv("principal components: {0} direction(s) of {1} activation(s) "
                         "multiplied in float (mean {2:f1}% of their energy; {3:f2} MB of float "
                         "side weights)\n",
                         o.principalComponents, sp->size(), 100.0 * share / sp->size(),
                         sideBits / 8e6);
    for (const auto &p : *sp)
      out << llvm::formatv("  {0,-40} K {1,5}  energy {2:f1}%\n",
                           p.name.size() > 40 ? p.name.substr(0, 37) + "..." : p.name, p.K,
                           100.0 * p.energyShare);
  }
  if (o.prefixRows > 0) {
    size_t prefixed = calib::markPrefixRows(*module, o.prefixRows);
    out << llvm::formatv("prefix rows: the first {0} position(s) of each sequence kept out of the "
                         "static scales of {1} layer(s) (rounded per token where the weights "
                         "are int8 per channel, else float)\n",
                         o.prefixRows, prefixed);
  }
  // --activation-clip search: each per-token layer's clip on its simulated
  // output error (its own calibration run, the model as rotated/smoothed).
  if (parsedRecipe->activationClipSearch) {
    auto choices = calib::searchActivationClips(*module, *samples, *parsedRecipe);
    if (!choices) {
      err << "quantc: error: " << model << ": " << llvm::toString(choices.takeError()) << "\n";
      return 1;
    }
    std::map<double, int> histogram;
    double full = 0, clipped = 0;
    for (const auto &c : *choices) {
      ++histogram[std::round(c.clip * 100) / 100];
      full += c.errorFull;
      clipped += c.error;
    }
    out << "activation clip: searched for " << choices->size()
        << " layers on their simulated output error (mean " << llvm::formatv("{0:e2}", full / std::max<size_t>(1, choices->size()))
        << " -> " << llvm::formatv("{0:e2}", clipped / std::max<size_t>(1, choices->size())) << "); clips:";
    for (auto it = histogram.rbegin(); it != histogram.rend(); ++it)
      out << llvm::formatv(" {0:f2} x{1}", it->first, it->second);
    out << "\n";
  }
  // -gptq: the Hessian of every layer's input (float activations of the
  // model as rotated/smoothed so far), before the layers are quantized.
  std::vector<std::shared_ptr<const std::vector<double>>> hessians;
  std::vector<std::string> hessianNames;
  if (!gptqSequential &&
      (parsedRecipe->gptq || parsedRecipe->salient || budgetBpw > 0 || budgetBytes > 0)) {
    auto h = calib::collectHessians(*module, *samples);
    if (!h) {
      err << "quantc: error: " << model << ": " << llvm::toString(h.takeError())
                   << "\n";
      return 1;
    }
    hessians = std::move(*h);
    for (const auto &t : calib::quantizationTargets(*module))
      hessianNames.push_back(t.name);
  }
  // qc-insert-observers, the calibration run (statistics attached to the
  // observers), then qc-quantize's first step: the statistics back per
  // target, the observers removed.
  if (parsedRecipe->activations &&
      !observeAndCalibrate(*module, *samples, model, err, /*hessians=*/false, &out))
    return 1;
  auto observations = calib::takeObservations(*module);
  if (!observations) {
    err << "quantc: error: " << model << ": "
                 << llvm::toString(observations.takeError()) << "\n";
    return 1;
  }
  auto targets = std::move(observations->targets);
  auto stats = std::make_optional(std::move(observations->stats));
  if (!gptqSequential && (!hessianNames.empty() || parsedRecipe->gptq || parsedRecipe->salient)) {
    // The targets come back in the order the Hessians were taken in.
    if (hessianNames.size() != targets.size()) {
      err << "quantc: error: " << model << ": GPTQ: " << hessianNames.size()
                   << " layers had Hessians, " << targets.size() << " are quantized\n";
      return 1;
    }
    stats->resize(targets.size());
    size_t withHessian = 0;
    for (size_t k = 0; k < targets.size(); ++k) {
      if (targets[k].name != hessianNames[k]) {
        err << "quantc: error: " << model << ": GPTQ: layer " << k << " is '"
                     << targets[k].name << "', its Hessian was taken for '" << hessianNames[k]
                     << "'\n";
        return 1;
      }
      (*stats)[k].hessian = hessians[k];
      withHessian += hessians[k] != nullptr;
    }
    out << "gptq: Hessians of " << withHessian << " of " << targets.size()
                 << " layer inputs from " << samples->size() << " samples\n";
  }
  // -salient: the most salient input channels of every MatMul kept float
  // beside the matrix the recipe rounds.
  std::vector<calib::SalientSplit> salientSplits;
  if (parsedRecipe->salient && !gptqSequential) {
    auto sp = calib::splitSalientChannels(targets, *stats, salientPct);
    if (!sp) {
      err << "quantc: error: " << model << ": " << llvm::toString(sp.takeError())
                   << "\n";
      return 1;
    }
    salientSplits = std::move(*sp);
    int64_t kept = 0, channels = 0, sideBits = 0;
    double share = 0;
    for (const auto &s : salientSplits) {
      kept += s.kept;
      channels += s.K;
      sideBits += s.sideBits;
      share += s.scoreShare;
    }
    out << llvm::formatv("salient: {0} of {1} input channels kept float in {2} layers "
                                  "({3:f2} MB of float side weights); they carry {4:f1}% of "
                                  "sum_j H_jj ||W_j||^2 on average\n",
                                  kept, channels, salientSplits.size(), sideBits / 8e6,
                                  salientSplits.empty() ? 0.0 : 100 * share / salientSplits.size());
  }
  // Mixed precision: each layer's sensitivity measured and stored in the
  // IR, then qc-keep-float marks the layers whose quantization alone takes
  // the output below --min-layer-sqnr; they stay float.
  std::vector<double> sensitivity;
  std::vector<std::string> keptFloat;
  if (std::isfinite(minLayerSqnr)) {
    if (samples->empty()) {
      err << "quantc: error: --min-layer-sqnr needs --calib DIR\n";
      return 2;
    }
    calib::SampleSet probe = samples->prefix(std::max(1, sensitivitySamples));
    auto sens = calib::measureSensitivity(*module, targets, *stats, *parsedRecipe, calibrator,
                                          cal, percentile, probe);
    if (!sens) {
      err << "quantc: error: " << model << ": sensitivity analysis: "
                   << llvm::toString(sens.takeError()) << "\n";
      return 1;
    }
    auto marked = calib::keepFloatBelow(*module, minLayerSqnr);
    if (!marked) {
      err << "quantc: error: " << model << ": " << llvm::toString(marked.takeError()) << "\n";
      return 1;
    }
    for (const auto &k : *marked)
      keptFloat.push_back(llvm::formatv("{0} ({1:f1} dB)", k.name, k.sqnr).str());
    std::vector<calib::Target> kept;
    std::vector<calib::ActivationStats> keptStats;
    for (size_t k = 0; k < targets.size(); ++k) {
      if (targets[k].op->hasAttr(calib::kKeepFloatAttr))
        continue;
      kept.push_back(targets[k]);
      sensitivity.push_back((*sens)[k]);
      if (k < stats->size())
        keptStats.push_back((*stats)[k]);
    }
    targets = std::move(kept);
    *stats = std::move(keptStats);
  }
  llvm::Expected<std::vector<calib::LayerReport>> reports =
      std::vector<calib::LayerReport>();
  if (allocating) {
    calib::AllocationPlan plan;
    bool solved = false;
    if (!fixedFormats.empty() && (budgetBpw > 0 || budgetBytes > 0)) {
      // Another budget on an earlier allocation's candidates: solved again,
      // nothing measured.
      auto p = calib::planFromJson(allocationText);
      if (!p) {
        err << "quantc: error: " << recipe << ": " << llvm::toString(p.takeError()) << "\n";
        return 1;
      }
      plan = std::move(*p);
      double budgetBits = budgetBpw > 0 ? budgetBpw * plan.params : budgetBytes * 8.0;
      if (auto e = calib::resolveAllocation(plan, budgetBits)) {
        err << "quantc: error: " << model << ": " << llvm::toString(std::move(e))
                     << "\n";
        return 1;
      }
      solved = true;
    } else if (!fixedFormats.empty()) {
      std::map<std::string, std::string> byName(fixedFormats.begin(), fixedFormats.end());
      for (const auto &t : targets) {
        calib::LayerPlan lp;
        lp.name = t.name;
        auto it = byName.find(t.name);
        lp.formats = {it != byName.end() ? it->second : "float"};
        lp.chosen = 0;
        plan.layers.push_back(lp);
      }
    } else {
      int64_t params = 0;
      for (const auto &t : targets)
        if (auto wt = llvm::dyn_cast<RankedTensorType>(t.op->getOperand(t.weight).getType()))
          params += wt.getNumElements();
      double budgetBits = budgetBpw > 0 ? budgetBpw * params : budgetBytes * 8.0;
      calib::SampleSet probe = samples->prefix(std::max(1, sensitivitySamples));
      auto metric = calib::sensitivityMetric(*module, o.sensitivityMetric);
      if (!metric) {
        err << "quantc: error: --sensitivity-metric: " << llvm::toString(metric.takeError())
            << "\n";
        return 2;
      }
      auto p = calib::planAllocation(*module, targets, *stats, probe, budgetBits,
                                     parsedRecipe->gptq ? &parsedRecipe->gptqTuning : nullptr,
                                     *metric);
      if (!p) {
        err << "quantc: error: " << model << ": " << llvm::toString(p.takeError())
                     << "\n";
        return 1;
      }
      plan = std::move(*p);
      plan.rotate = parsedRecipe->rotate;
      solved = true;
    }
    if (solved) {
      std::map<std::string, int> counts;
      for (const auto &lp : plan.layers)
        ++counts[lp.formats[lp.chosen]];
      out << llvm::formatv("allocation: {0:f3} bits per weight ({1:f1} MB of {2} weights) "
                                    "for a budget of {3:f3}; estimated output error {4:e3};",
                                    plan.bits / plan.params, plan.bits / 8e6, plan.params,
                                    plan.budgetBits / plan.params, plan.error);
      for (const auto &[f, n] : counts)
        out << " " << f << " x" << n;
      out << "\n";
      if (!allocationJson.empty()) {
        std::error_code ec;
        llvm::ToolOutputFile out(allocationJson, ec, llvm::sys::fs::OF_None);
        if (ec) {
          err << "quantc: error: cannot write '" << allocationJson << "': " << ec.message()
                       << "\n";
          return 1;
        }
        out.os() << calib::allocationToJson(plan) << "\n";
        out.keep();
      }
    }
    reports = calib::applyAllocation(*module, targets, *stats, plan,
                                             parsedRecipe->gptqTuning);
  } else if (gptqSequential) {
    auto seq = calib::quantizeSequentially(
        *module, *samples, *parsedRecipe, salientPct, [&](size_t done, size_t total) {
          // One line rewritten in place on a terminal; a line per stage in
          // a log.
          const bool tty = err.is_displayed();
          err << (tty ? "\r" : "") << "gptq: stage " << done << " of " << total;
          if (done == total || !tty)
            err << "\n";
        });
    if (!seq) {
      err << "quantc: error: " << model << ": " << llvm::toString(seq.takeError())
                   << "\n";
      return 1;
    }
    out << "gptq: sequential, " << seq->stages << " stages, each stage's Hessians "
                 << "taken with the earlier stages quantized (" << samples->size()
                 << " samples)\n";
    salientSplits = std::move(seq->salient);
    reports = std::move(seq->reports);
  } else {
    reports = calib::insertQDQ(*module, targets, *stats, *parsedRecipe, cal, percentile);
  }
  if (!reports) {
    err << "quantc: error: " << model << ": " << llvm::toString(reports.takeError())
                 << "\n";
    return 1;
  }
  size_t attentionRounded = 0;
  if (parsedRecipe->kv8) {
    auto n = calib::quantizeAttentionOperands(
        *module, parsedRecipe->query8, parsedRecipe->kvBits,
        /*rotate=*/parsedRecipe->rotate && !offlineRotationOnly);
    if (!n) {
      err << "quantc: error: " << model << ": " << llvm::toString(n.takeError())
                   << "\n";
      return 1;
    }
    attentionRounded = *n;
  }
  // The float side weights count in their layers' storage.
  for (const auto &sp : salientSplits)
    for (auto &r : *reports)
      if (r.name == sp.name) {
        r.weightBytes += sp.sideBits / 8;
        break;
      }
  QuantizeSummary summary;
  summary.model = model;
  summary.recipeName = recipe;
  summary.calibrator = calibrator;
  summary.recipe = &*parsedRecipe;
  summary.samples = samples->size();
  summary.allocating = allocating;
  summary.offlineRotationOnly = offlineRotationOnly;
  summary.attentionRounded = attentionRounded;
  summary.minLayerSqnr = minLayerSqnr;
  summary.sensitivitySamples = sensitivitySamples;
  summary.keptFloat = std::move(keptFloat);
  summary.keptByName = std::move(keptByName);
  summary.sensitivity = std::move(sensitivity);
  std::string reportJson = printQuantization(summary, *reports, out, err);
  if (result)
    result->reportJson = reportJson;
  if (!reportPath.empty()) {
    std::error_code ec;
    llvm::ToolOutputFile rep(reportPath, ec, llvm::sys::fs::OF_None);
    if (ec) {
      err << "quantc: error: cannot write '" << reportPath << "': " << ec.message() << "\n";
      return 1;
    }
    rep.os() << reportJson << "\n";
    rep.keep();
  }
  // What QDQ export needs, for the .onnx output or the caller's later save.
  // The first sample's tensors (names, shapes): what an export or a
  // library is made for.
  calib::Sample first;
  if (!samples->empty()) {
    auto read = samples->get(0);
    if (!read) {
      err << "quantc: error: " << llvm::toString(read.takeError()) << "\n";
      return 1;
    }
    first = std::move(*read);
  }
  std::shared_ptr<QDQState> state;
  if (refusal.empty() && (toOnnx || result)) {
    state = std::make_shared<QDQState>();
    state->sourceModel = model;
    state->layers = std::move(*reports);
    for (const auto &t : first)
      state->inputShapes.push_back(t.shape);
  }
  if (result) {
    result->qdq = state;
    result->qdqRefusal = refusal;
  }
  // Nothing is written from IR that does not verify (a quantc bug): the
  // error names the model and the op; the file a later tool would fail
  // to read is not left behind.
  if (failed(mlir::verify(*module))) {
    err << "quantc: error: " << model
        << ": the quantized IR does not verify (a bug in quantc; the diagnostics above name "
           "the op); nothing written\n";
    return 1;
  }
  if (toOnnx) {
    if (int rc = writeQDQ(*state, output, err))
      return rc;
  } else if (toSo) {
    // Compiled from the quantized IR written out and read back into a
    // fresh context: the library then depends only on that IR (compiling
    // the module in memory laid out its constants differently from run
    // to run), and equals `quantc compile` of the same IR, which is what
    // quantc.quantize(...).save("x.so") does.
    llvm::SmallString<128> ir;
    if (auto ec = llvm::sys::fs::createTemporaryFile("quantc-quantized", "mlirbc", ir)) {
      err << "quantc: error: cannot create a temporary file: " << ec.message() << "\n";
      return 1;
    }
    auto removeIR = llvm::scope_exit([&] { llvm::sys::fs::remove(ir); });
    if (auto e = ::quantc::writeModelFile(*module, ir)) {
      err << "quantc: error: " << llvm::toString(std::move(e)) << "\n";
      return 1;
    }
    CompileModelOptions c;
    c.model = std::string(ir);
    c.output = output;
    c.cpu = o.cpu;
    c.features = o.features;
    for (const auto &t : first)
      c.shapes.emplace_back(t.name, t.shape);
    std::string compileErr;
    llvm::raw_string_ostream compileErrOs(compileErr);
    if (compileModel(c, llvm::nulls(), compileErrOs) != 0) {
      // The temporary file's name means nothing to the user: the model's.
      size_t at;
      while ((at = compileErr.find(ir.str().str())) != std::string::npos)
        compileErr.replace(at, ir.size(), model);
      err << compileErr;
      return 1;
    }
  } else if (auto e = ::quantc::writeModelFile(*module, output)) {
    err << "quantc: error: " << llvm::toString(std::move(e)) << "\n";
    return 1;
  }
  if (!o.irOutput.empty()) {
    if (auto e = ::quantc::writeModelFile(*module, o.irOutput)) {
      llvm::sys::fs::remove(output);
      err << "quantc: error: " << llvm::toString(std::move(e)) << "\n";
      return 1;
    }
  }
  out << "wrote " << output << "\n";
  return 0;
}

} // namespace quantc::driver
