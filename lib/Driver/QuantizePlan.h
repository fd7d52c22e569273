//===- QuantizePlan.h - quantize's options checked, before any work -*- C++ -*-===//
//
// What quantizeModel does, decided from its options alone: the recipe
// (or an earlier allocation), the calibrator, smoothing/outlier/salient
// settings, the budget, the output kind. Every option error is found
// here, before a model is opened, so nothing is written on one.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_DRIVER_QUANTIZEPLAN_H
#define QUANTC_LIB_DRIVER_QUANTIZEPLAN_H

#include "quantc/Calibration/Quantize.h"
#include "quantc/Calibration/Smooth.h"
#include "quantc/Calibration/Outliers.h"
#include "quantc/Driver/Options.h"

#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace quantc::driver {

struct QuantizePlan {
  /// The recipe as named (an allocation JSON: the base it was planned on).
  std::string recipeName;
  std::optional<calib::Recipe> recipe;
  /// --recipe F.json: the per-layer formats and the file's text.
  std::vector<std::pair<std::string, std::string>> fixedFormats;
  std::string allocationText;
  calib::SmoothOptions smooth;
  calib::OutlierOptions outliers;
  double salientPct = 1.0;
  /// --budget as bits per weight or bytes (one of them > 0).
  double budgetBpw = 0, budgetBytes = 0;
  bool allocating = false, toSo = false, toOnnx = false;
  calib::Calibrator calibrator = calib::Calibrator::MinMax;
  /// Why the result cannot be written as QDQ ONNX (empty: it can).
  std::string qdqRefusal;
};

/// Checks `o` and fills `plan`; 0, or the exit status with the message
/// written to `err`. `haveSamples`: calibration data was given.
int planQuantization(const QuantizeOptions &o, bool haveSamples, QuantizePlan &plan,
                     llvm::raw_ostream &err);

} // namespace quantc::driver

#endif
