//===- ActivationClip.h - per-layer clip of per-token activations -*- C++ -*-===//
//
// `quantc quantize --activation-clip search` (per-token dynamic recipes):
// for every MatMul/Gemm whose activation is rounded row by row at run
// time, the clip c of qc.dynamic_quantize_rows (each row rounded on
// [c lo, c hi] of its range, the rest saturating) that minimizes the
// layer's relative output error on rows of the calibration activations:
//
//   e(c) = || X W - Q_c(X) W ||^2 / || X W ||^2
//
// X: up to `rows` rows of the layer's input kept by a calibration run of
// the float model (as rotated/smoothed so far), W the float weight, Q_c
// the op's rounding (levels L: lo = c min(0, min x), hi = c max(0, max x),
// s = (hi - lo) / L, z = clamp(rint(-lo / s), 0, L), q = clamp(rint(x / s)
// + z, 0, L)), c on a grid from 1 down to `minClip`. The choice is written
// as the target op's `qc.activation_clip` attribute, which qc-quantize
// takes over its activation-clip option.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_ACTIVATIONCLIP_H
#define QUANTC_CALIBRATION_ACTIVATIONCLIP_H

#include "quantc/Calibration/Quantize.h"

#include <string>
#include <vector>

namespace quantc::calib {

/// The attribute qc-quantize reads on a target op.
constexpr const char *kActivationClipAttr = "qc.activation_clip";

struct ActivationClipOptions {
  int64_t rows = 512;    // activation rows kept per layer
  double minClip = 0.5;  // the grid: 1, 0.95, ..., minClip
  double step = 0.05;
};

struct ActivationClipChoice {
  std::string name;
  double clip = 1.0;
  double errorFull = 0, error = 0; // e(1) and e(clip)
};

/// x [m, k] rounded in place row by row as qc.dynamic_quantize_rows does
/// with `levels` and `clip` (values back in float); with `group` (-ag),
/// each group of `group` channels of a row on its own.
void fakeQuantizeRows(float *x, int64_t m, int64_t k, int64_t levels, double clip,
                      int64_t group = 0);

/// Searches and sets the clip of every per-token target of `module`
/// (recipe.perToken; convolutions keep per-tensor activations and are
/// skipped). Runs its own calibration pass (observers inserted and
/// removed; the module's function is unchanged).
llvm::Expected<std::vector<ActivationClipChoice>>
searchActivationClips(mlir::ModuleOp module, const SampleSet &samples,
                      const Recipe &recipe, const ActivationClipOptions &options = {});

} // namespace quantc::calib

#endif
