//===- Calibrate.cpp - quantc calibrate: observers and their statistics ---===//
#include "Common.h"
#include "quantc/Driver/Quantize.h"
#include "quantc/Calibration/MixedPrecision.h"
#include "quantc/Driver/Samples.h"
#include "quantc/Import/ModelFile.h"
#include "quantc/Target/CPU/JIT.h"

namespace quantc::driver {

int calibrateModel(const CalibrateOptions &o, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  if (o.model.empty() || o.output.empty() || o.calibDir.empty()) {
    err << "quantc: error: calibrate needs MODEL, --calib DIR and -o OUT.mlir\n";
    return 2;
  }
  if (!isQCIRPath(o.output)) {
    err << "quantc: error: calibrate writes qc IR: -o must end in .mlir or .mlirbc\n";
    return 2;
  }
  std::optional<calib::Recipe> recipe;
  std::optional<calib::Calibrator> cal = calib::parseCalibrator(o.calibrator);
  if (!cal) {
    err << "quantc: error: unknown calibrator '" << o.calibrator
        << "' (minmax, percentile, entropy, mse)\n";
    return 2;
  }
  if (!o.sensitivityRecipe.empty()) {
    recipe = calib::Recipe::parse(o.sensitivityRecipe);
    if (!recipe) {
      err << "quantc: error: --sensitivity: unknown recipe '" << o.sensitivityRecipe << "'\n";
      return 2;
    }
    // Rotation, smoothing and the splits change the model before its
    // layers are quantized: their sensitivity is measured after them,
    // by quantc quantize --min-layer-sqnr.
    if (recipe->rotate || recipe->smooth || recipe->awq || recipe->outliers ||
        recipe->salient || recipe->kv8) {
      err << "quantc: error: --sensitivity " << o.sensitivityRecipe
          << ": calibrate measures plain recipes (w8a8, w8a8-dynamic-token, w4a16-gN, "
             "fp8-e4m3, ... and -gptq with --hessians); for this one use quantc quantize "
             "--min-layer-sqnr\n";
      return 2;
    }
    if (recipe->gptq && !o.hessians) {
      err << "quantc: error: --sensitivity " << o.sensitivityRecipe
          << " rounds weights by GPTQ: add --hessians\n";
      return 2;
    }
    if (!(o.percentile > 0 && o.percentile <= 100)) {
      err << "quantc: error: --percentile " << o.percentile
          << ": expected a percentile in (0, 100]\n";
      return 2;
    }
    if (o.sensitivitySamples < 1) {
      err << "quantc: error: --sensitivity-samples " << o.sensitivitySamples
          << ": expected at least 1\n";
      return 2;
    }
  } else if (o.calibrator != "minmax" || o.percentile != 99.99 || o.sensitivitySamples != 4) {
    err << "quantc: error: --calibrator, --percentile and --sensitivity-samples choose how "
           "--sensitivity RECIPE is measured: give it too\n";
    return 2;
  }
  mlir::MLIRContext context;
  DiagnosticsTo diagnostics(context, err);
  auto module = openModel(context, o.model, err);
  if (!module)
    return 1;
  auto specs = cpu::JITModel::inputsOf(*module);
  auto samples = loadSamples(context, o.calibDir, specs);
  if (!samples) {
    err << "quantc: error: " << llvm::toString(samples.takeError()) << "\n";
    return 1;
  }
  std::optional<size_t> n = observeAndCalibrate(*module, *samples, o.model, err, o.hessians, &out);
  if (!n)
    return 1;
  if (recipe) {
    calib::SampleSet probe = samples->prefix(size_t(o.sensitivitySamples));
    auto sens = calib::measureSensitivityOfCalibrated(*module, *recipe, o.calibrator, *cal,
                                                      o.percentile, probe);
    if (!sens) {
      err << "quantc: error: " << o.model << ": sensitivity analysis: "
          << llvm::toString(sens.takeError()) << "\n";
      return 1;
    }
    out << "sensitivity of " << sens->size() << " layers to " << o.sensitivityRecipe << " on "
        << probe.size() << " sample(s) stored (qc.sqnr_alone_db)\n";
  }
  if (auto e = writeModelFile(*module, o.output)) {
    err << "quantc: error: " << llvm::toString(std::move(e)) << "\n";
    return 1;
  }
  out << samples->size() << " samples, " << *n << " observers; wrote " << o.output << "\n";
  return 0;
}

} // namespace quantc::driver
