//===- QuantizePlan.cpp - quantize's options checked, before any work ------===//
#include "QuantizePlan.h"
#include "quantc/Calibration/Allocate.h"
#include "quantc/Import/ModelFile.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>

namespace quantc::driver {
namespace {
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

int planQuantization(const QuantizeOptions &o, bool haveSamples, QuantizePlan &plan,
                     llvm::raw_ostream &err) {
  const std::string &model = o.model, &output = o.output, &calibrator = o.calibrator;
  const double percentile = o.percentile, minLayerSqnr = o.minLayerSqnr;
  const bool int4Convs = o.int4Convs, offlineRotationOnly = o.offlineRotationOnly,
             weightClipSearch = o.weightClipSearch, gptqSequential = o.gptqSequential,
             gptqNoActOrder = o.gptqNoActOrder, gptqRefit = o.gptqRefit;
  const int sensitivitySamples = o.sensitivitySamples;
  const std::string &smoothAlpha = o.smoothAlpha, &outlierRatio = o.outlierRatio,
                    &budgetArg = o.budget, &salientPercent = o.salientPercent,
                    &gptqDamp = o.gptqDamp, &gptqMinShrink = o.gptqMinShrink,
                    &activationClip = o.activationClip;
  std::string gptqRefitRounds = o.gptqRefitRounds;
  std::string &recipe = plan.recipeName;
  recipe = o.recipe;
  auto &parsedRecipe = plan.recipe;
  auto &fixedFormats = plan.fixedFormats;
  auto &allocationText = plan.allocationText;
  auto &smoothOptions = plan.smooth;
  auto &outlierOptions = plan.outliers;
  double &salientPct = plan.salientPct, &budgetBpw = plan.budgetBpw, &budgetBytes = plan.budgetBytes;
  bool &allocating = plan.allocating, &toSo = plan.toSo, &toOnnx = plan.toOnnx;
  calib::Calibrator &cal = plan.calibrator;
  std::string &refusal = plan.qdqRefusal;
  if (model.empty() || output.empty()) {
    err << "quantc: error: quantize needs a model and an output path\n";
    return 2;
  }
  // --recipe FILE.json: the per-layer formats of an earlier allocation.
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
  parsedRecipe = calib::Recipe::parse(recipe);
  if (!parsedRecipe) {
    err << "quantc: error: unknown recipe '" << recipe
                 << "' (w8a8, w8a8-dynamic, w8a8-dynamic-token, w8a16, w4a16-g32|g64|g128|g256, w3a16-g32|g64|g128|g256, w2a16-g32|g64|g128|g256, w4a8[-g32|g64|g128], w4a4[-g32|g64|g128]; "
                    "fp8-e4m3; + -rot; + -outliers and/or -smooth where activations are quantized; + -kv8, -qkv8, -kv4 or -qkv4)\n";
    return 2;
  }
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
  if (!activationClip.empty() && !parsedRecipe->perToken) {
    err << "quantc: error: --activation-clip clips per-token dynamic activations: use it with "
           "w8a8-dynamic-token, w4a8-dynamic-token or w4a4 (recipe '"
        << recipe << "')\n";
    return 2;
  }
  if (activationClip == "search")
    parsedRecipe->activationClipSearch = true;
  else if (!fraction(activationClip, "--activation-clip", 0.5, 1.0, parsedRecipe->activationClip))
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
  allocating = budgetBpw > 0 || budgetBytes > 0 || !fixedFormats.empty();
  parsedRecipe->int4Convs = int4Convs;
  parsedRecipe->weightClipSearch = weightClipSearch;
  if (!(percentile > 0 && percentile <= 100)) {
    err << "quantc: error: --percentile " << llvm::format("%g", percentile)
        << ": expected a percentile in (0, 100]\n";
    return 2;
  }
  if (!calib::isSensitivityMetricName(o.sensitivityMetric)) {
    err << "quantc: error: --sensitivity-metric '" << o.sensitivityMetric
        << "': expected auto, mse or kl\n";
    return 2;
  }
  if (sensitivitySamples < 1) {
    err << "quantc: error: --sensitivity-samples " << sensitivitySamples
        << ": expected at least 1\n";
    return 2;
  }
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
  toSo = llvm::StringRef(output).ends_with(".so");
  toOnnx = llvm::StringRef(output).ends_with(".onnx");
  if (!o.irOutput.empty() && !::quantc::isQCIRPath(o.irOutput)) {
    err << "quantc: error: the IR output '" << o.irOutput << "' must end in .mlir or .mlirbc\n";
    return 2;
  }
  if (!toSo && !toOnnx && !::quantc::isQCIRPath(output)) {
    err << "quantc: error: -o must end in .mlir, .mlirbc, .so or .onnx\n";
    return 2;
  }
  refusal = qdqRefusal(*parsedRecipe, model);
  if (refusal.empty() && o.prefixRows > 0)
    refusal = "--prefix-rows splits each layer into prefix rows and statically rounded rows, "
              "which QDQ export (one QuantizeLinear per activation) cannot write: use -o .so or "
              ".mlir";
  if (refusal.empty() && o.principalComponents > 0)
    refusal = "--principal-components multiplies part of each activation in float beside the "
              "quantized layer, which QDQ export does not write yet: use -o .so or .mlir";
  if (toOnnx && !refusal.empty()) {
    err << "quantc: error: " << refusal << "\n";
    return 2;
  }
  return 0;
}

} // namespace quantc::driver
