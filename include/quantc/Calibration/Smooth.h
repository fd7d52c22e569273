//===- Smooth.h - SmoothQuant: activation outliers moved into weights -*- C++ -*-===//
//
// The MatMul/Gemm targets that read one activation X [..., K] form a
// site. X W = (X diag(s)^-1) (diag(s) W) for any s > 0, so per input
// channel j
//
//   s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)
//
// (max|W_j| over row j of every consumer's weight together; s_j = 1 where
// either maximum is 0; clamped to [1e-5, 1e5]) divides a channel's outliers
// out of the activation and multiplies them into the weights, which are
// quantized per output channel and barely notice. alpha = 0.5 splits the
// range evenly (SmoothQuant, Xiao et al. 2023). The consumers' weights get
// diag(s) W; X / s is folded into X's producer where it is linear in X:
//
//   Scale      X = a * g, g constant (RMSNorm's gamma)    g <- g / s
//   LayerNorm  X = LayerNorm(a; gamma, beta)              gamma <- gamma / s,
//                                                         beta <- beta / s
//   Gate       X = a * u, u = y U (+ c) with U, c constant and u read only
//              here (SwiGLU's up projection)              U[:, j] <- U[:, j] / s_j,
//                                                         c <- c / s
//   Explicit   anything else: X * (1 / s) inserted before the consumers,
//              one elementwise op that fuses into the quantization
//
// Other readers of a folded X (BERT's residual connection reads its
// LayerNorm's output) read X * s instead, so the float function is
// unchanged everywhere.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_SMOOTH_H
#define QUANTC_CALIBRATION_SMOOTH_H

#include "quantc/Calibration/Quantize.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace quantc::calib {

struct SmoothSite {
  mlir::Value x;                 // the activation (qc.observe looked through)
  std::vector<size_t> consumers; // indices into the targets
  enum class Fold { Scale, LayerNorm, Gate, Explicit } fold = Fold::Explicit;
  int64_t channels = 0;          // K
  /// The consumers' node names, joined with '+' (for reports).
  std::string name;
};

/// "scale", "layernorm", "gate" or "explicit".
const char *smoothFoldName(SmoothSite::Fold fold);

/// The sites of `targets` (quantizationTargets of `module`): MatMul with a
/// 2-D weight and Gemm, in main's body, grouped by the activation they
/// read; each site's fold as above. Convolutions and targets inside
/// qc.if regions have no site.
std::vector<SmoothSite> smoothingSites(mlir::ModuleOp module, const std::vector<Target> &targets);

/// max_n |W[j, n]| over the site's consumers, per input channel j.
std::vector<double> weightRowAbsMax(const std::vector<Target> &targets, const SmoothSite &site);

/// s per the formula above from the activation's per-channel absmax.
std::vector<float> smoothingScales(const std::vector<double> &xAbsMax,
                                   const std::vector<double> &wAbsMax, double alpha);

/// Rewrites the site for scales `s` (site.channels of them, all > 0): the
/// consumers' weights and X's producer as above. The observers on the
/// consumers' activation get their statistics divided by s: min, max and
/// per-channel ranges exactly; the histogram cannot follow, so they are
/// marked `smoothed` (calibrate again, or use the minmax calibrator).
llvm::Error applySmoothing(const std::vector<Target> &targets, const SmoothSite &site,
                           const std::vector<float> &s);

/// The calibrated observer's statistics made those of X / s (s.size()
/// channels, all > 0; s_j = +inf gives channel j as x_j * 0): per-tensor
/// and per-channel ranges, the per-channel mean |x| and a Hessian follow
/// exactly; the histogram cannot, so the stats are marked `smoothed`.
/// Uncalibrated observers are left alone.
llvm::Error smoothObserverStats(qc::ObserveOp o, const std::vector<float> &s);

/// What the search chose at one site.
struct SmoothChoice {
  std::string name;
  std::string fold;       // "scale", "layernorm", "gate", "explicit"
  double alpha = -1;      // -1: left unsmoothed (no alpha beat s = 1)
  double lossUnsmoothed = 0, loss = 0; // relative output error on the kept rows
  double outlierRatio = 0; // max_j max|X_j| / median_j max|X_j| before
};

struct SmoothOptions {
  /// Fixed alpha; negative: searched per site over `grid`.
  double alpha = -1;
  std::vector<double> grid = {0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
                              0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95};
  /// Activation rows kept per site for the search.
  int64_t rows = 512;
  /// AWQ (Lin et al. 2024) instead of SmoothQuant: s_j = mean|X_j|^alpha,
  /// normalized by sqrt(max s * min s), alpha in {0, 0.05, ..., 1}
  /// searched per site on the consumers' output error with only their
  /// weights quantized (the recipe's format), for weight-only recipes
  /// (suffix -awq). The folds are SmoothQuant's.
  bool awq = false;
};

/// AWQ's per-channel scales: (mean |X_j|)^alpha / sqrt(max s * min s).
std::vector<float> awqScales(const std::vector<double> &xAbsMean, double alpha);

/// The `-smooth` part of a recipe, before its calibration: observers and a
/// calibration run over `samples` keep each site's per-channel ranges and
/// rows; per site, the alpha (or s = 1) whose quantized consumers (the
/// recipe's weight and activation formats simulated on the kept rows) give
/// the least relative squared error of the consumers' outputs,
///   sum_c |Q(X / s) Q(diag(s) W_c) - X W_c|^2 / sum_c |X W_c|^2,
/// is applied; then the observers are removed (the model is calibrated
/// again on the smoothed activations). Returns one choice per site.
llvm::Expected<std::vector<SmoothChoice>> smoothModel(mlir::ModuleOp module,
                                                      const SampleSet &samples,
                                                      const Recipe &recipe,
                                                      const SmoothOptions &options);

} // namespace quantc::calib

#endif
