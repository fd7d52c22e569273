//===- CalibrationBench.cpp - calibration speed against inference ---------===//
#include "CalibrationBench.h"
#include "Common.h"

#include "llvm/Support/Format.h"

#include <sys/resource.h>

namespace quantc::driver {

int benchCalibration(mlir::MLIRContext &context, const std::string &model,
                     const calib::SampleSet &samples, double floatMedianMs,
                     llvm::raw_ostream &out, llvm::raw_ostream &err) {
  auto module = openModel(context, model, err);
  if (!module)
    return 1;
  size_t observers = calib::insertObservers(*module);
  calib::CalibrationOptions options;
  calib::CalibrationOptions::Timing t;
  options.timing = &t;
  if (auto e = calib::calibrate(*module, samples, options)) {
    err << "quantc: error: " << model << ": " << llvm::toString(std::move(e)) << "\n";
    return 1;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double statsMs = 1e3 * t.statsSeconds / std::max<size_t>(t.samples, 1);
  double readMs = 1e3 * t.readSeconds / std::max<size_t>(t.samples, 1);
  out << llvm::format("calibration:  %zu samples, %zu observed values; compiling the observed "
                      "model %.2f s, its first run %.2f s\n",
                      t.samples, observers, t.compileSeconds, t.firstRunSeconds);
  if (t.laterRuns == 0) {
    out << "calibration:  one sample per shape: no run after the first to time (give more "
           "samples)\n";
    return 0;
  }
  double runMs = 1e3 * t.laterRunSeconds / t.laterRuns;
  out << llvm::format("calibration:  %.3f ms a sample (running the observed model %.3f, "
                      "statistics %.3f) over %zu samples after the first\n",
                      runMs + statsMs, runMs, statsMs, t.laterRuns);
  out << llvm::format("ratio:        calibration / float inference = %.2f a sample (float "
                      "median %.3f ms on the first sample's shape)\n",
                      (runMs + statsMs) / floatMedianMs, floatMedianMs);
  out << llvm::format("calibration:  reading a sample from its files %.3f ms (not in the ratio: "
                      "inference reads its input too)\n",
                      readMs);
  out << llvm::format("peak memory:  %.1f MiB after calibrating (max RSS)\n",
                      ru.ru_maxrss / 1024.0);
  return 0;
}

} // namespace quantc::driver
