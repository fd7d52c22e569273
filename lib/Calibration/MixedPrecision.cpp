//===- MixedPrecision.cpp - sensitivity on the IR, qc-keep-float -----------===//
#include "quantc/Calibration/MixedPrecision.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace quantc::calib {
namespace {
void storeSensitivity(ModuleOp module, const std::vector<Target> &targets,
                      const std::vector<double> &sqnr, const Recipe &recipe,
                      const std::string &calibratorName, double percentile, size_t samples) {
  Builder b(module.getContext());
  for (size_t k = 0; k < targets.size(); ++k)
    targets[k].op->setAttr(kSqnrAloneAttr, b.getF64FloatAttr(sqnr[k]));
  module->setAttr(kSensitivityAttr,
                  b.getDictionaryAttr({
                      b.getNamedAttr("recipe", b.getStringAttr(recipe.name)),
                      b.getNamedAttr("calibrator", b.getStringAttr(calibratorName)),
                      b.getNamedAttr("percentile", b.getF64FloatAttr(percentile)),
                      b.getNamedAttr("samples", b.getI64IntegerAttr(int64_t(samples))),
                  }));
}
} // namespace

llvm::Expected<std::vector<double>>
measureSensitivity(ModuleOp module, const std::vector<Target> &targets,
                   const std::vector<ActivationStats> &stats, const Recipe &recipe,
                   const std::string &calibratorName, Calibrator calibrator, double percentile,
                   const SampleSet &samples) {
  auto sqnr = layerSensitivity(module, stats, recipe, calibrator, percentile, samples);
  if (!sqnr)
    return sqnr.takeError();
  if (sqnr->size() != targets.size())
    return llvm::createStringError(llvm::formatv(
        "sensitivity: {0} layers measured, {1} to quantize", sqnr->size(), targets.size()));
  storeSensitivity(module, targets, *sqnr, recipe, calibratorName, percentile, samples.size());
  return sqnr;
}

llvm::Expected<std::vector<double>>
measureSensitivityOfCalibrated(ModuleOp module, const Recipe &recipe,
                               const std::string &calibratorName, Calibrator calibrator,
                               double percentile, const SampleSet &samples) {
  OwningOpRef<ModuleOp> probe = module.clone();
  auto obs = takeObservations(*probe);
  if (!obs)
    return obs.takeError();
  auto sqnr = layerSensitivity(*probe, obs->stats, recipe, calibrator, percentile, samples);
  if (!sqnr)
    return sqnr.takeError();
  std::vector<Target> targets = quantizationTargets(module);
  if (sqnr->size() != targets.size())
    return llvm::createStringError(llvm::formatv(
        "sensitivity: {0} layers measured, {1} to quantize", sqnr->size(), targets.size()));
  storeSensitivity(module, targets, *sqnr, recipe, calibratorName, percentile, samples.size());
  return sqnr;
}

llvm::Expected<std::vector<KeptFloat>> keepFloatBelow(ModuleOp module, double minSqnr) {
  std::vector<KeptFloat> kept;
  std::vector<Target> targets = quantizationTargets(module);
  for (const Target &t : targets)
    if (!t.op->getAttrOfType<FloatAttr>(kSqnrAloneAttr))
      return llvm::createStringError(
          "layer '" + t.name +
          "' has no measured sensitivity (qc.sqnr_alone_db): measure it first with "
          "`quantc calibrate --sensitivity RECIPE`");
  Builder b(module.getContext());
  for (const Target &t : targets) {
    double sqnr = t.op->getAttrOfType<FloatAttr>(kSqnrAloneAttr).getValueAsDouble();
    if (sqnr < minSqnr) {
      t.op->setAttr(kKeepFloatAttr, b.getUnitAttr());
      kept.push_back({t.name, sqnr});
    }
  }
  return kept;
}

std::optional<SensitivityBasis> sensitivityBasis(ModuleOp module) {
  auto d = module->getAttrOfType<DictionaryAttr>(kSensitivityAttr);
  if (!d)
    return std::nullopt;
  SensitivityBasis s;
  if (auto r = d.getAs<StringAttr>("recipe"))
    s.recipe = r.str();
  if (auto c = d.getAs<StringAttr>("calibrator"))
    s.calibrator = c.str();
  if (auto p = d.getAs<FloatAttr>("percentile"))
    s.percentile = p.getValueAsDouble();
  return s;
}

} // namespace quantc::calib
