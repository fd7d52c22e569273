//===- Quantize.cpp - quantc quantize: the recipe pipeline ----------------===//
//
// Rotation, outlier split, smoothing, Hessians, calibration, then QDQ
// insertion per target (or an allocation), and the output written.
//
//===----------------------------------------------------------------------===//
#include "quantc/Driver/Quantize.h"
#include "quantc/Driver/Samples.h"
#include "Common.h"
#include "quantc/Calibration/Allocate.h"
#include "quantc/Calibration/MixedPrecision.h"
#include "quantc/Calibration/Outliers.h"
#include "quantc/Calibration/Progress.h"
#include "quantc/Calibration/Rotate.h"
#include "quantc/Calibration/Salient.h"
#include "quantc/Calibration/Sequential.h"
#include "quantc/Calibration/Smooth.h"
#include "quantc/Export/ONNX/QDQExport.h"
#include "quantc/Import/ModelFile.h"
#include "quantc/Target/CPU/AOT.h"
#include "quantc/Target/CPU/JIT.h"

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
#include <memory>

using namespace mlir;

namespace quantc::driver {
namespace {
/// The range column of a dynamically quantized layer: "uint8 at run
/// time", "uint4/token at run time", "uint8/token rs g64" (-rs).
std::string dynamicActivationLabel(llvm::StringRef format) {
  std::string bits = format.starts_with("uint4") ? "uint4" : "uint8";
  bool token = format.contains("per token");
  size_t g = format.find("smoothed g");
  if (g != llvm::StringRef::npos)
    return bits + "/token rs " + format.substr(g + 9).str();
  return bits + (token ? "/token" : "") + " at run time";
}
/// Why the quantization of `model` by `r` cannot be written as QDQ ONNX
/// (empty: it can).
std::string qdqRefusal(const calib::Recipe &r, const std::string &model) {
  if (r.kv8)
    return "recipe '" + r.name +
           "' rounds attention operands inside the fused attention, which QDQ export cannot "
           "write: use -o .so or .mlir";
  if (r.smooth || r.rotate || r.awq || r.salient || r.outliers)
    return "recipe '" + r.name +
           "' folds smoothing scales or rotations into norms and other producers, or adds "
           "float side products, which QDQ export (it rewrites only the quantized layers) "
           "cannot write: use -o .so or .mlir";
  if (!llvm::StringRef(model).ends_with(".onnx"))
    return "-o .onnx (QDQ export) needs an .onnx source model";
  if (r.dynamicActivations)
    return "QDQ export of " + r.name + " is not implemented (write .so or .mlir)";
  return "";
}
} // namespace

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
  std::string recipe = o.recipe;
  const double percentile = o.percentile, minLayerSqnr = o.minLayerSqnr;
  const bool int4Convs = o.int4Convs, offlineRotationOnly = o.offlineRotationOnly,
             weightClipSearch = o.weightClipSearch, gptqSequential = o.gptqSequential,
             gptqNoActOrder = o.gptqNoActOrder, gptqRefit = o.gptqRefit;
  const int sensitivitySamples = o.sensitivitySamples;
  const std::string &smoothAlpha = o.smoothAlpha, &outlierRatio = o.outlierRatio,
                    &budgetArg = o.budget, &allocationJson = o.allocationJson,
                    &salientPercent = o.salientPercent, &gptqDamp = o.gptqDamp,
                    &gptqMinShrink = o.gptqMinShrink;
  std::string gptqRefitRounds = o.gptqRefitRounds;
  const bool haveSamples = given || !calibDir.empty();
  if (model.empty() || output.empty()) {
    err << "quantc: error: quantize needs a model and an output path\n";
    return 2;
  }
  // --recipe FILE.json: the per-layer formats of an earlier allocation.
  std::vector<std::pair<std::string, std::string>> fixedFormats;
  std::string allocationText;
  if (llvm::StringRef(recipe).ends_with(".json")) {
    auto buf = llvm::MemoryBuffer::getFile(recipe);
    if (!buf) {
      err << "quantc: error: cannot read '" << recipe << "': " << buf.getError().message()
                   << "\n";
      return 1;
    }
    allocationText = (*buf)->getBuffer().str();
    auto f = calib::allocationFromJson(allocationText);
    if (!f) {
      err << "quantc: error: " << recipe << ": " << llvm::toString(f.takeError()) << "\n";
      return 1;
    }
    fixedFormats = std::move(*f);
    // GPTQ among the chosen formats or the candidates: Hessians needed.
    bool anyGptq = allocationText.find("-gptq\"") != std::string::npos;
    // The base the plan was measured on: rotated or not, GPTQ or not.
    recipe = std::string("w4a16-g128") +
             (calib::allocationRotates(allocationText) ? "-rot" : "") +
             (anyGptq ? "-gptq" : "");
  }
  auto parsedRecipe = calib::Recipe::parse(recipe);
  if (!parsedRecipe) {
    err << "quantc: error: unknown recipe '" << recipe
                 << "' (w8a8, w8a8-dynamic, w8a8-dynamic-token, w8a16, w4a16-g32|g64|g128, w3a16-g32|g64|g128, w4a8[-g32|g64|g128], w4a4; "
                    "fp8-e4m3; + -rot; + -outliers and/or -smooth where activations are quantized; + -kv8, -qkv8, -kv4 or -qkv4)\n";
    return 2;
  }
  calib::SmoothOptions smoothOptions;
  calib::OutlierOptions outlierOptions;
  if (!outlierRatio.empty()) {
    char *end = nullptr;
    double v = std::strtod(outlierRatio.c_str(), &end);
    if (!parsedRecipe->outliers) {
      err << "quantc: error: --outlier-ratio needs an -outliers recipe (e.g. "
                      "w8a8-outliers-smooth)\n";
      return 2;
    }
    if (end == outlierRatio.c_str() || *end || !(v > 1.0) || !std::isfinite(v)) {
      err << "quantc: error: --outlier-ratio '" << outlierRatio
                   << "': expected a number above 1\n";
      return 2;
    }
    outlierOptions.ratio = v;
  }
  if (!smoothAlpha.empty()) {
    char *end = nullptr;
    double a = std::strtod(smoothAlpha.c_str(), &end);
    if (!parsedRecipe->smooth && !parsedRecipe->awq) {
      err << "quantc: error: --smooth-alpha needs a -smooth or -awq recipe (e.g. w8a8-smooth)\n";
      return 2;
    }
    if (end == smoothAlpha.c_str() || *end || !(a >= 0.0 && a <= 1.0)) {
      err << "quantc: error: --smooth-alpha '" << smoothAlpha
                   << "': expected a number in [0, 1]\n";
      return 2;
    }
    smoothOptions.alpha = a;
  }
  double salientPct = 1.0;
  if (!salientPercent.empty()) {
    llvm::StringRef v(salientPercent);
    if (!parsedRecipe->salient) {
      err << "quantc: error: --salient-percent needs a -salient recipe (e.g. "
                      "w4a16-g128-salient-gptq)\n";
      return 2;
    }
    if (v.getAsDouble(salientPct) || !(salientPct > 0 && salientPct <= 100)) {
      err << "quantc: error: --salient-percent '" << salientPercent
                   << "': expected a percentage of input channels in (0, 100]\n";
      return 2;
    }
  }
  if (parsedRecipe->salient && !haveSamples) {
    err << "quantc: error: recipe '" << recipe
                 << "' picks salient channels by the calibration inputs' energy: it needs "
                    "--calib DIR\n";
    return 2;
  }
  if (offlineRotationOnly && !parsedRecipe->rotate) {
    err << "quantc: error: --offline-rotation-only needs a -rot recipe (e.g. w8a8-rot)\n";
    return 2;
  }
  // --budget 4.5bpw | 60MB: one weight format per layer (qc-allocate-bits).
  double budgetBpw = 0, budgetBytes = 0;
  if (!budgetArg.empty()) {
    llvm::StringRef b(budgetArg);
    double v = 0;
    bool bpw = b.consume_back("bpw"), mb = !bpw && b.consume_back("MB");
    if ((!bpw && !mb) || b.getAsDouble(v) || !(v > 0)) {
      err << "quantc: error: --budget '" << budgetArg
                   << "': expected bits per weight (4.5bpw) or megabytes of weights (60MB)\n";
      return 2;
    }
    (bpw ? budgetBpw : budgetBytes) = bpw ? v : v * 1e6;
    if (parsedRecipe->activations || parsedRecipe->dynamicActivations || parsedRecipe->weightBits != 4 ||
        parsedRecipe->kv8 || parsedRecipe->smooth || parsedRecipe->awq || parsedRecipe->salient) {
      err << "quantc: error: --budget picks among weight-only formats: use it with "
                      "--recipe w4a16-g128 (round to nearest) or w4a16-g128-gptq (GPTQ), "
                      "optionally -rot\n";
      return 2;
    }
  }
  if (gptqSequential && (budgetBpw > 0 || budgetBytes > 0 || !fixedFormats.empty() ||
                         std::isfinite(minLayerSqnr))) {
    err << "quantc: error: --gptq-sequential does not combine with --budget, an "
                    "allocation JSON or --min-layer-sqnr yet\n";
    return 2;
  }
  if (gptqSequential && (!parsedRecipe->gptq || parsedRecipe->activations)) {
    err << "quantc: error: --gptq-sequential needs a -gptq recipe whose activations are "
                    "not calibrated (weight-only or dynamic, e.g. w4a16-g128-gptq)\n";
    return 2;
  }
  if ((!gptqDamp.empty() || !gptqMinShrink.empty() || gptqNoActOrder || gptqRefit) &&
      !parsedRecipe->gptq) {
    err << "quantc: error: --gptq-damp, --gptq-min-shrink, --gptq-no-act-order and "
                    "--gptq-refit-scales tune GPTQ: use them with a -gptq recipe (recipe '"
                 << recipe << "')\n";
    return 2;
  }
  auto fraction = [&](const std::string &text, const char *option, double lo, double hi,
                      double &out) {
    double v = 0;
    if (text.empty())
      return true;
    if (llvm::StringRef(text).getAsDouble(v) || !(v >= lo && v <= hi)) {
      err << "quantc: error: " << option << " '" << text << "': expected a number in ["
                   << llvm::format("%g", lo) << ", " << llvm::format("%g", hi) << "]\n";
      return false;
    }
    out = v;
    return true;
  };
  quant::GPTQOptions &tuning = parsedRecipe->gptqTuning;
  if (!fraction(gptqDamp, "--gptq-damp", 0.0, 10.0, tuning.damp) ||
      !fraction(gptqMinShrink, "--gptq-min-shrink", 0.5, 1.0, tuning.minShrink))
    return 2;
  if (gptqNoActOrder)
    tuning.actOrder = false;
  if (gptqRefit)
    tuning.refitScales = true;
  if (gptqRefitRounds == "0") {
    tuning.refitScales = false;
    gptqRefitRounds.clear();
  }
  if (!gptqRefitRounds.empty()) {
    int n = std::atoi(gptqRefitRounds.c_str());
    if (n < 1 || n > 10) {
      err << "quantc: error: --gptq-refit-scales '" << gptqRefitRounds
                   << "': expected a number of rounds in [0, 10]\n";
      return 2;
    }
    tuning.refitRounds = n;
  }
  const bool allocating = budgetBpw > 0 || budgetBytes > 0 || !fixedFormats.empty();
  parsedRecipe->int4Convs = int4Convs;
  parsedRecipe->weightClipSearch = weightClipSearch;
  if (!(percentile > 0 && percentile <= 100)) {
    err << "quantc: error: --percentile " << llvm::format("%g", percentile)
        << ": expected a percentile in (0, 100]\n";
    return 2;
  }
  if (sensitivitySamples < 1) {
    err << "quantc: error: --sensitivity-samples " << sensitivitySamples
        << ": expected at least 1\n";
    return 2;
  }
  calib::Calibrator cal;
  if (calibrator == "minmax")
    cal = calib::Calibrator::MinMax;
  else if (calibrator == "percentile")
    cal = calib::Calibrator::Percentile;
  else if (calibrator == "entropy")
    cal = calib::Calibrator::Entropy;
  else if (calibrator == "mse")
    cal = calib::Calibrator::MSE;
  else {
    err << "quantc: error: unknown calibrator '" << calibrator
                 << "' (minmax, percentile, entropy, mse)\n";
    return 2;
  }
  bool toSo = llvm::StringRef(output).ends_with(".so");
  bool toOnnx = llvm::StringRef(output).ends_with(".onnx");
  if (!o.irOutput.empty() && !::quantc::isQCIRPath(o.irOutput)) {
    err << "quantc: error: the IR output '" << o.irOutput << "' must end in .mlir or .mlirbc\n";
    return 2;
  }
  if (!toSo && !toOnnx && !::quantc::isQCIRPath(output)) {
    err << "quantc: error: -o must end in .mlir, .mlirbc, .so or .onnx\n";
    return 2;
  }
  const std::string refusal = qdqRefusal(*parsedRecipe, model);
  if (toOnnx && !refusal.empty()) {
    err << "quantc: error: " << refusal << "\n";
    return 2;
  }
  mlir::MLIRContext context;
  DiagnosticsTo diagnostics(context, err);
  calib::ProgressScope progress(o.progress);
  auto module = openModel(context, model, err);
  if (!module)
    return 1;
  auto specs = cpu::JITModel::inputsOf(*module);
  // Weight-only recipes need no calibration data; with --calib the first
  // sample still gives the shapes a .so is compiled for.
  if (!haveSamples && (parsedRecipe->activations || parsedRecipe->smooth || toSo)) {
    err << "quantc: error: recipe '" << recipe << "'"
                 << (parsedRecipe->activations ? "" : " with -o .so")
                 << " needs --calib DIR (calibration samples"
                 << (parsedRecipe->activations ? "" : ", whose shapes the library is compiled for")
                 << ")\n";
    return 2;
  }
  llvm::Expected<std::vector<calib::Sample>> samples = std::vector<calib::Sample>();
  if (given) {
    *samples = *given;
    if (auto e = checkSamples(*samples, specs)) {
      err << "quantc: error: " << model << ": " << llvm::toString(std::move(e)) << "\n";
      return 1;
    }
  } else if (!calibDir.empty()) {
    samples = loadSamples(context, calibDir, specs);
  }
  if (!samples) {
    err << "quantc: error: " << llvm::toString(samples.takeError()) << "\n";
    return 1;
  }

  // -rot: the residual stream rotated (qc-fold-rotations), before any
  // statistics are taken.
  if (parsedRecipe->rotate) {
    auto rot = calib::foldRotations(
        *module, calib::RotationOptions{/*seed=*/0, /*online=*/!offlineRotationOnly});
    if (!rot) {
      err << "quantc: error: " << model << ": " << llvm::toString(rot.takeError())
                   << "\n";
      return 1;
    }
    out << llvm::formatv("rotation: residual stream of width {0} rotated by a {1} "
                                  "({2} norms, {3} reading and {4} writing layers; {5} writer "
                                  "inputs rotated online, {6} without a Hadamard of their width)\n",
                                  rot->dim,
                                  rot->hadamard ? "randomized Hadamard matrix"
                                                : "random orthogonal matrix",
                                  rot->norms, rot->readers, rot->writers, rot->online,
                                  rot->onlineSkipped);
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
  if (parsedRecipe->activations && !observeAndCalibrate(*module, *samples, model, err))
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
    std::vector<calib::Sample> probe(
        samples->begin(),
        samples->begin() + std::min<size_t>(samples->size(), std::max(1, sensitivitySamples)));
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
      std::vector<calib::Sample> probe(
          samples->begin(),
          samples->begin() + std::min<size_t>(samples->size(), std::max(1, sensitivitySamples)));
      auto p = calib::planAllocation(*module, targets, *stats, probe, budgetBits,
                                             parsedRecipe->gptq ? &parsedRecipe->gptqTuning
                                                                : nullptr);
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
  int64_t params = 0, bytes = 0;
  for (const auto &r : *reports) {
    params += r.weightParams;
    bytes += r.weightBytes;
  }
  std::string label = allocating ? "mixed formats per layer" : recipe;
  out << llvm::format("%zu samples, %zu layers quantized (%s", samples->size(),
                               reports->size(), label.c_str());
  if (parsedRecipe->activations)
    out << ", activations " << (parsedRecipe->fp8 ? "fp8e4m3" : "uint8")
                 << " per tensor from " << calibrator;
  out << llvm::format("); weights: %lld parameters in %lld bytes with their scales "
                               "(%.3f bytes/parameter)\n",
                               static_cast<long long>(params), static_cast<long long>(bytes),
                               params ? static_cast<double>(bytes) / params : 0.0);
  int64_t params4 = 0, bytes4 = 0;
  for (const auto &r : *reports)
    if (r.weightBits == 4) {
      params4 += r.weightParams;
      bytes4 += r.weightBytes;
    }
  if (params4)
    out << llvm::format("  4-bit layers: %lld parameters in %lld bytes (%.3f bytes/parameter)\n",
                                 static_cast<long long>(params4), static_cast<long long>(bytes4),
                                 static_cast<double>(bytes4) / params4);
  if (attentionRounded)
    out << "  attention: " << attentionRounded << " fused op(s); keys and values"
                 << (parsedRecipe->query8 ? " and queries" : "")
                 << " rounded to " << (parsedRecipe->kvBits == 4 ? "uint4" : "uint8")
                 << " with one scale and zero point per token and head"
                 << (parsedRecipe->rotate && !offlineRotationOnly
                         ? ", after a Hadamard rotation of each head (rotated back)"
                         : "")
                 << " (computed in float)\n";
  if (std::isfinite(minLayerSqnr)) {
    out << llvm::format("  %zu layer(s) kept float: quantized alone, the output SQNR "
                                 "fell below %.1f dB on %d sample(s)",
                                 keptFloat.size(), minLayerSqnr,
                                 std::min<int>(samples->size(), std::max(1, sensitivitySamples)));
    for (size_t i = 0; i < keptFloat.size(); ++i)
      out << (i ? ", " : ": ") << keptFloat[i];
    out << "\n";
  }
  out << llvm::format("  %-30s %-8s %21s %8s %-17s %8s %6s%s\n", "layer", "op",
                               "clipped act range", "act SQNR", "weight format", "w SQNR",
                               "w clip", sensitivity.empty() ? "" : "  out SQNR alone");
  for (const auto &r : *reports) {
    std::string range = parsedRecipe->activations
                            ? llvm::formatv("[{0,8:f3}, {1,8:f3}]", r.clipLo, r.clipHi).str()
                            : !parsedRecipe->dynamicActivations ? std::string("float")
                                                                : dynamicActivationLabel(r.activationFormat);
    std::string actSqnr = parsedRecipe->activations
                              ? llvm::formatv("{0,5:f1} dB", r.activationSQNR).str()
                              : std::string("-");
    out << llvm::format("  %-30s %-8s %21s %8s %-17s %5.1f dB %6.3f",
                                 r.name.substr(0, 30).c_str(), r.op.substr(3).c_str(),
                                 range.c_str(), actSqnr.c_str(), r.weightFormat.c_str(),
                                 r.weightSQNR, r.weightClip);
    size_t idx = &r - reports->data();
    if (idx < sensitivity.size())
      out << llvm::format("  %8.1f dB", sensitivity[idx]);
    out << "\n";
  }
  if (reports->empty())
    err << "quantc: warning: " << model
                 << ": no layer was quantized (quantize looks for Conv, MatMul and Gemm with "
                    "constant weights)\n";
  for (const auto &r : *reports)
    if (r.nonFinite > 0)
      err << "quantc: warning: node '" << r.name << "': " << r.nonFinite
                   << " NaN/Inf values in its calibration input were ignored\n";
  // The per-layer report (--report FILE, QuantizeResult::reportJson).
  llvm::json::Array layers;
  for (const auto &r : *reports)
    layers.push_back(llvm::json::Object{
        {"name", r.name},
        {"op", r.op},
        {"act_min", r.actMin},
        {"act_max", r.actMax},
        {"clip_min", r.clipLo},
        {"clip_max", r.clipHi},
        {"act_scale", r.actScale},
        {"act_zero_point", r.actZeroPoint},
        {"weight_sqnr_db", r.weightSQNR},
        {"non_finite", r.nonFinite},
        {"activation_format", r.activationFormat},
        {"activation_sqnr_db", r.activationSQNR},
        {"weight_format", r.weightFormat},
        {"weight_clip", r.weightClip},
        {"weight_params", r.weightParams},
        {"weight_bytes", r.weightBytes}});
  std::string reportJson;
  llvm::raw_string_ostream(reportJson)
      << llvm::json::Value(llvm::json::Object{{"recipe", recipe},
                                              {"calibrator", calibrator},
                                              {"samples", int64_t(samples->size())},
                                              {"layers", std::move(layers)}});
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
  std::shared_ptr<QDQState> state;
  if (refusal.empty() && (toOnnx || result)) {
    state = std::make_shared<QDQState>();
    state->sourceModel = model;
    state->layers = std::move(*reports);
    if (!samples->empty())
      for (const auto &t : samples->front())
        state->inputShapes.push_back(t.shape);
  }
  if (result) {
    result->qdq = state;
    result->qdqRefusal = refusal;
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
    for (const auto &t : samples->front())
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
