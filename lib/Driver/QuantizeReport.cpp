//===- QuantizeReport.cpp - what quantize prints and reports -------------===//
#include "QuantizeReport.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <algorithm>

namespace quantc::driver {
namespace {
/// The range column of a dynamically quantized layer: "uint8 at run
/// time", "uint4/token at run time", "uint8/token rs g64" (-rs),
/// "uint4/token g128 at run time" (-ag).
std::string dynamicActivationLabel(llvm::StringRef format) {
  std::string bits = format.starts_with("uint4") ? "uint4" : "uint8";
  bool token = format.contains("per token");
  size_t g = format.find("smoothed g");
  if (g != llvm::StringRef::npos)
    return bits + "/token rs " + format.substr(g + 9).str();
  size_t ag = format.find("per token g");
  std::string groups = ag != llvm::StringRef::npos ? " " + format.substr(ag + 10).str() : "";
  return bits + (token ? "/token" : "") + groups + " at run time";
}
} // namespace

std::string printQuantization(const QuantizeSummary &c,
                              const std::vector<calib::LayerReport> &reports,
                              llvm::raw_ostream &out, llvm::raw_ostream &err) {
  const std::string &recipe = c.recipeName, &calibrator = c.calibrator, &model = c.model;
  const bool allocating = c.allocating, offlineRotationOnly = c.offlineRotationOnly;
  const size_t attentionRounded = c.attentionRounded;
  const double minLayerSqnr = c.minLayerSqnr;
  const int sensitivitySamples = c.sensitivitySamples;
  const std::vector<std::string> &keptFloat = c.keptFloat;
  const std::vector<double> &sensitivity = c.sensitivity;
  int64_t params = 0, bytes = 0;
  for (const auto &r : reports) {
    params += r.weightParams;
    bytes += r.weightBytes;
  }
  std::string label = allocating ? "mixed formats per layer" : recipe;
  out << llvm::format("%zu samples, %zu layers quantized (%s", c.samples,
                               reports.size(), label.c_str());
  if (c.recipe->activations)
    out << ", activations " << (c.recipe->fp8 ? "fp8e4m3" : "uint8")
                 << " per tensor from " << calibrator;
  out << llvm::format("); weights: %lld parameters in %lld bytes with their scales "
                               "(%.3f bytes/parameter)\n",
                               static_cast<long long>(params), static_cast<long long>(bytes),
                               params ? static_cast<double>(bytes) / params : 0.0);
  for (int width : {4, 3, 2}) {
    int64_t paramsW = 0, bytesW = 0;
    for (const auto &r : reports)
      if (r.weightBits == width) {
        paramsW += r.weightParams;
        bytesW += r.weightBytes;
      }
    if (paramsW)
      out << llvm::format("  %d-bit layers: %lld parameters in %lld bytes (%.3f bytes/parameter)\n",
                          width, static_cast<long long>(paramsW),
                          static_cast<long long>(bytesW), static_cast<double>(bytesW) / paramsW);
  }
  if (attentionRounded)
    out << "  attention: " << attentionRounded << " fused op(s); keys and values"
                 << (c.recipe->query8 ? " and queries" : "")
                 << " rounded to " << (c.recipe->kvBits == 4 ? "uint4" : "uint8")
                 << " with one scale and zero point per token and head"
                 << (c.recipe->rotate && !offlineRotationOnly
                         ? ", after a Hadamard rotation of each head (rotated back)"
                         : "")
                 << " (computed in float)\n";
  if (!c.keptByName.empty()) {
    out << "  " << c.keptByName.size() << " layer(s) kept float by --keep-float";
    for (size_t i = 0; i < c.keptByName.size(); ++i)
      out << (i ? ", " : ": ") << c.keptByName[i];
    out << "\n";
  }
  if (std::isfinite(minLayerSqnr)) {
    out << llvm::format("  %zu layer(s) kept float: quantized alone, the output SQNR "
                                 "fell below %.1f dB on %d sample(s)",
                                 keptFloat.size(), minLayerSqnr,
                                 std::min<int>(c.samples, std::max(1, sensitivitySamples)));
    for (size_t i = 0; i < keptFloat.size(); ++i)
      out << (i ? ", " : ": ") << keptFloat[i];
    out << "\n";
  }
  out << llvm::format("  %-30s %-8s %21s %8s %-17s %8s %6s%s\n", "layer", "op",
                               "clipped act range", "act SQNR", "weight format", "w SQNR",
                               "w clip", sensitivity.empty() ? "" : "  out SQNR alone");
  for (const auto &r : reports) {
    std::string range = c.recipe->activations
                            ? llvm::formatv("[{0,8:f3}, {1,8:f3}]", r.clipLo, r.clipHi).str()
                            : !c.recipe->dynamicActivations ? std::string("float")
                                                                : dynamicActivationLabel(r.activationFormat);
    std::string actSqnr = c.recipe->activations
                              ? llvm::formatv("{0,5:f1} dB", r.activationSQNR).str()
                              : std::string("-");
    out << llvm::format("  %-30s %-8s %21s %8s %-17s %5.1f dB %6.3f",
                                 r.name.substr(0, 30).c_str(), r.op.substr(3).c_str(),
                                 range.c_str(), actSqnr.c_str(), r.weightFormat.c_str(),
                                 r.weightSQNR, r.weightClip);
    size_t idx = &r - reports.data();
    if (idx < sensitivity.size())
      out << llvm::format("  %8.1f dB", sensitivity[idx]);
    out << "\n";
  }
  if (reports.empty())
    err << "quantc: warning: " << model
                 << ": no layer was quantized (quantize looks for Conv, MatMul and Gemm with "
                    "constant weights)\n";
  for (const auto &r : reports)
    if (r.nonFinite > 0)
      err << "quantc: warning: node '" << r.name << "': " << r.nonFinite
                   << " NaN/Inf values in its calibration input were ignored\n";
  // The per-layer report (--report FILE, QuantizeResult::reportJson).
  llvm::json::Array layers;
  for (const auto &r : reports)
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
                                              {"samples", int64_t(c.samples)},
                                              {"layers", std::move(layers)}});
  return reportJson;
}

} // namespace quantc::driver
