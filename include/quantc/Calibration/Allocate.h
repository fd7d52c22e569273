//===- Allocate.h - mixed precision under a budget (qc-allocate-bits) -*- C++ -*-===//
//
// One weight format per MatMul/Gemm layer, chosen to minimize the
// estimated increase of the model's output error under a budget of total
// weight storage (quant::allocateBits). Candidates: float (32 bits per
// weight), int8 per channel (w8a16), uint4 in groups of 32, 64, 128 and 256
// (w4a16-gN), uint3 in groups of 64 and 128 (w3a16-gN), uint2 in groups of
// 32 and 64 (w2a16-gN); with `gptq`, the integer formats rounded by GPTQ.
// 3- and 2-bit weights are stored in 3- and 2-bit planes by the CPU code
// generator, so the bits counted are the bits a compiled library holds.
//
// Estimator (why): measuring the model's output error for every layer and
// format (5 x 211 runs of the model on SmolLM2) costs too much, and a
// per-layer proxy alone (the layer's own output error) does not say how
// much of it reaches the model's output. So the model's output error is
// measured once per layer, at the reference format w4a16-g128
// (layerOutputErrors: that layer alone quantized; E_l the relative squared
// error of the float outputs, or for a language model the KL divergence
// of its next-token distributions, see sensitivityMetric), and carried to
// the other formats f by the Hessian proxy of the layer's output error,
//
//   e_lf = E_l * tr(D_f^T H D_f) / tr(D_ref^T H D_ref),   D_f = W - Q_f(W)
//
// (H = X^T X of the layer's input over the calibration rows: the squared
// error of X W against X Q_f(W)). Both metrics are quadratic in a small
// output error, as the proxy is in D_f, so the ratio carries. Float costs
// e = 0.
//
// Why KL for language models: the squared error over every output of
// SmolLM2's prefill counted the 60 present key/value outputs, which the
// k_proj/v_proj layers write directly, and every one of the 49152 logits
// alike. KL weighs logit errors by the probabilities perplexity reads; its
// 4.25-bit plan beats uniform 4-bit GPTQ, the squared error's did not
// (docs/accuracy.md, session 23). A layer without a
// Hessian or a 2-D weight (a convolution) keeps the reference recipe (int8
// per channel for convolutions), counted at 8 bits per weight.
//
// 2-bit candidates are left out of the solution unless the budget cannot
// be met without them: summed per-layer estimates let a few 2-bit layers
// in that cost far more together (SmolLM2 at 3.48 bits per weight: test
// perplexity 46.44 with them, 38.04 without; docs/accuracy.md, session
// 22). The plan keeps them as candidates.
//
// Bits of a layer [K, N]: float 32 K N; int8 8 K N + 32 N (scales);
// uintB gG (B = 4, 3, 2) B K N + (32 + B) N ceil(K / G) (scale and zero
// point per group).
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_ALLOCATE_H
#define QUANTC_CALIBRATION_ALLOCATE_H

#include "quantc/Calibration/Quantize.h"

#include <string>
#include <vector>

namespace quantc::calib {

struct LayerPlan {
  std::string name;
  int64_t params = 0;
  std::vector<std::string> formats; // candidate recipe names ("float" first)
  std::vector<double> bits, error;  // per candidate
  double sqnrRef = 0;               // MSE metric: -10 log10(refError) (dB)
  double refError = 0;              // measured at the reference format
  int chosen = -1;
};

struct AllocationPlan {
  std::vector<LayerPlan> layers; // per target, in target order
  double budgetBits = 0, bits = 0, error = 0;
  int64_t params = 0;
  bool feasible = false;
  /// The model was rotated (-rot) before it was measured: a reuse of the
  /// plan must rotate it the same way (JSON "rotate").
  bool rotate = false;
  /// How refError was measured (SensitivityMetric::describe: "mse",
  /// "kl:logits").
  std::string metric = "mse";
};

/// Candidates and their estimated errors for every target (stats must
/// carry Hessians: collectHessians), and the allocation under
/// `budgetBits` total. `probe`: the samples the per-layer sensitivity
/// runs on (one shape). `gptq`: the GPTQ tuning the integer candidates
/// are rounded with (null: round to nearest). `metric`: how the model's
/// output error is measured (sensitivityMetric).
llvm::Expected<AllocationPlan> planAllocation(mlir::ModuleOp module,
                                              const std::vector<Target> &targets,
                                              const std::vector<ActivationStats> &stats,
                                              const SampleSet &probe,
                                              double budgetBits,
                                              const quant::GPTQOptions *gptq,
                                              const SensitivityMetric &metric);

/// Quantizes each target with its chosen format (insertQDQ per format
/// group; "float" targets are left alone), -gptq formats with
/// `gptqTuning`. Reports in target order.
llvm::Expected<std::vector<LayerReport>> applyAllocation(mlir::ModuleOp module,
                                                         const std::vector<Target> &targets,
                                                         const std::vector<ActivationStats> &stats,
                                                         const AllocationPlan &plan,
                                                         const quant::GPTQOptions &gptqTuning = {});

/// The plan as JSON ({"budget_bits", "bits", "params", "layers": [{"name",
/// "format", "bits", "candidates": {format: [bits, error]}}]}) and back
/// (only names and formats are read: `quantc quantize --recipe FILE.json`),
/// plus "rotate" (allocationRotates).
std::string allocationToJson(const AllocationPlan &plan);
/// The whole plan back, candidates included, so that another budget can
/// be solved without measuring again (resolveAllocation).
llvm::Expected<AllocationPlan> planFromJson(const std::string &text);
/// Solves `plan`'s candidates again for `budgetBits` (quant::allocateBits).
llvm::Error resolveAllocation(AllocationPlan &plan, double budgetBits);
llvm::Expected<std::vector<std::pair<std::string, std::string>>>
allocationFromJson(const std::string &text);
/// Whether the plan's JSON says the model was rotated first.
bool allocationRotates(const std::string &text);

} // namespace quantc::calib

#endif
