//===- QuantizeReport.h - what quantize prints and reports -------*- C++ -*-===//
//
// The summary lines, the per-layer table quantc quantize prints, its
// warnings, and the same table as JSON (--report, QuantizedModel.report).
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_DRIVER_QUANTIZEREPORT_H
#define QUANTC_LIB_DRIVER_QUANTIZEREPORT_H

#include "quantc/Calibration/Quantize.h"

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace quantc::driver {

/// What a quantization did besides its layers' reports.
struct QuantizeSummary {
  std::string model, recipeName, calibrator;
  const calib::Recipe *recipe = nullptr;
  size_t samples = 0, attentionRounded = 0;
  bool allocating = false, offlineRotationOnly = false;
  /// --min-layer-sqnr (not finite: unused), the samples it measured on,
  /// the layers kept float ("name (x dB)") and the kept layers' SQNR
  /// alone, in report order.
  double minLayerSqnr = 0;
  int sensitivitySamples = 0;
  std::vector<std::string> keptFloat;
  std::vector<double> sensitivity;
  /// The layers --keep-float left float.
  std::vector<std::string> keptByName;
};

/// Prints the summary and table to `out`, warnings to `err`; returns the
/// report as JSON text.
std::string printQuantization(const QuantizeSummary &summary,
                              const std::vector<calib::LayerReport> &reports,
                              llvm::raw_ostream &out, llvm::raw_ostream &err);

} // namespace quantc::driver

#endif
