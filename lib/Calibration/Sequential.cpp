//===- Sequential.cpp - GPTQ stage by stage --------------------------------===//
//
// See quantc/Calibration/Sequential.h.
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Sequential.h"

#include "mlir/IR/BuiltinOps.h"

#include <set>

namespace quantc::calib {

std::vector<std::vector<std::string>> sequentialStages(const std::vector<Target> &targets) {
  auto prefix = [](const std::string &n) -> std::string {
    size_t s = n.find('/', n.size() > 1 && n[0] == '/' ? 1 : 0);
    return s == std::string::npos ? std::string() : n.substr(0, s);
  };
  std::set<std::string> prefixes;
  bool all = true;
  for (const Target &t : targets) {
    std::string p = prefix(t.name);
    all &= !p.empty();
    prefixes.insert(p);
  }
  std::vector<std::vector<std::string>> stages;
  const bool byPrefix = all && prefixes.size() >= 2;
  std::string last;
  for (size_t i = 0; i < targets.size(); ++i) {
    std::string key = byPrefix ? prefix(targets[i].name) : std::to_string(i / 8);
    if (stages.empty() || key != last)
      stages.emplace_back();
    stages.back().push_back(targets[i].name);
    last = key;
  }
  return stages;
}

llvm::Expected<SequentialResult>
quantizeSequentially(mlir::ModuleOp module, const SampleSet &samples,
                     const Recipe &recipe, double salientPercent,
                     const std::function<void(size_t, size_t)> &progress) {
  if (!recipe.gptq || recipe.activations)
    return llvm::createStringError("sequential GPTQ: recipe '" + recipe.name +
                                   "' needs -gptq and activations that are not calibrated");
  SequentialResult out;
  auto stages = sequentialStages(quantizationTargets(module));
  out.stages = stages.size();
  for (size_t s = 0; s < stages.size(); ++s) {
    std::set<std::string> names(stages[s].begin(), stages[s].end());
    // The targets left float, in model order (the quantized ones read a
    // DequantizeLinear, no constant, and are no targets any more).
    std::vector<Target> all = quantizationTargets(module);
    auto h = collectHessians(module, samples, &names);
    if (!h)
      return h.takeError();
    std::vector<Target> targets;
    std::vector<ActivationStats> stats;
    for (size_t k = 0; k < all.size(); ++k) {
      if (!names.count(all[k].name))
        continue;
      targets.push_back(all[k]);
      ActivationStats st;
      if (k < h->size())
        st.hessian = (*h)[k];
      stats.push_back(std::move(st));
    }
    if (recipe.salient) {
      auto sp = splitSalientChannels(targets, stats, salientPercent);
      if (!sp)
        return sp.takeError();
      out.salient.insert(out.salient.end(), sp->begin(), sp->end());
    }
    auto reps = insertQDQ(module, targets, stats, recipe, Calibrator::MinMax, 99.99);
    if (!reps)
      return reps.takeError();
    out.reports.insert(out.reports.end(), reps->begin(), reps->end());
    if (progress)
      progress(s + 1, stages.size());
  }
  return out;
}

} // namespace quantc::calib
