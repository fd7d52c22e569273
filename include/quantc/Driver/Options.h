//===- Options.h - what the driver's entry points take -----------*- C++ -*-===//
//
// Standard C++ types only: the CLI fills these from its arguments and
// the Python bindings (compiled with RTTI, apart from LLVM) from
// keyword arguments.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_DRIVER_OPTIONS_H
#define QUANTC_DRIVER_OPTIONS_H

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace quantc::driver {

/// `quantc quantize`'s options. Numbers given as text (smoothAlpha, ...)
/// are checked by quantizeModel, so that the CLI and Python report bad
/// values alike; empty means the default.
struct QuantizeOptions {
  std::string model, output;
  std::string recipe = "w8a8";
  /// Calibration samples from a directory (see Samples.h), unless the
  /// caller passes samples of its own.
  std::string calibDir;
  std::string calibrator = "minmax";
  double percentile = 99.99;
  std::string reportPath;
  bool int4Convs = false;
  double minLayerSqnr = -INFINITY;
  int sensitivitySamples = 4;
  /// --budget: how each layer's effect on the model's output is measured
  /// (calib::sensitivityMetric: "auto", "mse", "kl").
  std::string sensitivityMetric = "auto";
  std::string smoothAlpha, outlierRatio;
  bool offlineRotationOnly = false, weightClipSearch = false, gptqSequential = false;
  std::string budget, allocationJson, salientPercent, gptqDamp, gptqMinShrink;
  bool gptqNoActOrder = false, gptqRefit = false;
  std::string gptqRefitRounds;
  /// Per-token dynamic recipes: each row rounded on this fraction of its
  /// range (Recipe::activationClip); empty: the full range.
  std::string activationClip;
  /// Layers left float whatever the recipe (comma-separated node names, as
  /// the report prints them; e.g. "lm_head"): what ONNX Runtime calls
  /// nodes_to_exclude. A name that is no quantizable layer is an error.
  std::string keepFloat;
  /// -rot recipes: a .npy [D, D] orthogonal matrix folded instead of the
  /// randomized Hadamard (a learned rotation); empty: the Hadamard.
  std::string rotationMatrix;
  /// Static-activation recipes: the first N positions of every sequence
  /// (axis -2 of each MatMul activation of rank >= 3) kept out of the
  /// static scales and rounded per token at run time (qc-prefix-rows,
  /// PrefixRows.h); 0: none.
  int prefixRows = 0;
  /// Recipes with quantized activations: the R leading eigenvectors of
  /// every MatMul activation's calibration second moment taken out of
  /// what is rounded and multiplied in float (qc-split-principal,
  /// Principal.h); 0: none.
  int principalComponents = 0;
  /// Target CPU and features of a .so output (empty: the host).
  std::string cpu, features;
  /// Also write the quantized IR here (.mlir or .mlirbc), after the
  /// output: what the Python API keeps for QuantizedModel.save.
  std::string irOutput;
  /// Called as calibration runs go through the samples: (stage, samples
  /// done, samples in the run); a quantization makes one run or several.
  std::function<void(const std::string &, size_t, size_t)> progress;
};

/// What QDQ export needs of a finished quantization (lib/Driver).
struct QDQState;

/// What quantizeModel produced besides the output file: the per-layer
/// report as JSON text (what --report writes), and what writing the same
/// quantization as QDQ ONNX later needs (`qdq`), or why it cannot be
/// (`qdqRefusal`, the error quantize -o OUT.onnx would give).
struct QuantizeResult {
  std::string reportJson;
  std::shared_ptr<const QDQState> qdq;
  std::string qdqRefusal;
};

/// `quantc calibrate`: observers inserted and their statistics taken over
/// the samples in `calibDir`; the IR written to `output` (.mlir/.mlirbc).
/// With `sensitivityRecipe`, each layer's sensitivity for that recipe
/// (and `calibrator`, `percentile`) on the first `sensitivitySamples`
/// samples is stored on it as well, for quant-opt --qc-keep-float.
struct CalibrateOptions {
  std::string model, output, calibDir;
  bool hessians = false;
  std::string sensitivityRecipe, calibrator = "minmax";
  double percentile = 99.99;
  int sensitivitySamples = 4;
};
/// `quantc compile`: an ahead-of-time shared library for the given input
/// shapes. `shapes`: (input name, dims) pairs, -1 a symbolic dimension;
/// an input given several shapes makes one variant per shape. Inputs
/// without a shape keep the model's (which must be static).
struct CompileModelOptions {
  std::string model, output;
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  std::string cpu, features;
  bool keepObject = false;
};
/// A model and the inputs `run` and `bench` feed it: .npy files in input
/// order (`positional`) or by name (`named`), or a shape per input
/// (`shapes`, "" naming a single input) filled with deterministic
/// pseudo-random data (floats in [0, 1), integers 0).
struct ModelInputs {
  std::string model;
  std::vector<std::pair<std::string, std::string>> named;
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
};

/// `quantc run`: JIT-compiled for the inputs' shapes, run once, each
/// output written to `outputDir` as <name>.npy. threads < 0: unchanged.
struct RunOptions {
  ModelInputs inputs;
  std::string outputDir = ".";
  int threads = -1;
  std::string cpu, features;
};

/// `quantc bench`: compile time and peak memory by phase, then `runs`
/// timed runs after `warmup` (threads 0: all hardware threads);
/// `profile`: the time per op type and the costliest nodes. With
/// `compareOrt` (or an `ortModel`), ONNX Runtime times the same inputs
/// (`ortModel`, else the model) in `rounds` blocks alternated with
/// quantc's (0: min(5, runs)), `runs` runs each in all.
struct BenchOptions {
  ModelInputs inputs;
  int runs = 20, warmup = 3, threads = 0, rounds = 0;
  bool profile = false, compareOrt = false;
  std::string ortModel;
  /// Calibration samples: the float model is timed on the first one (when
  /// no inputs are given), then the calibration run over all of them is
  /// timed against it.
  std::string calibDir;
  std::string cpu, features;
};

} // namespace quantc::driver

#endif
