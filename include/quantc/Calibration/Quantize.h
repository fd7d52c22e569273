//===- Quantize.h - calibrate and quantize a qc model -----------*- C++ -*-===//
//
// Calibration and quantization of a qc model, in QDQ form:
//
//  1. quantizationTargets: every Conv, MatMul (2-D B) and Gemm with a
//     constant float weight, also inside qc.if branches (not a MatMul or
//     Gemm over K = 1: an outer product saves nothing quantized).
//  2. insertObservers (pass qc-insert-observers) puts a qc.observe on each
//     target's activation; calibrate JIT-compiles the model specialized to
//     the sample shapes with the observed tensors as extra outputs (routed
//     out of qc.if regions), runs it sample by sample into MinMax and
//     Histogram reducers (memory does not grow with the samples) and
//     attaches the statistics to the observers (`stats`).
//  3. takeObservations + insertQDQ (pass qc-quantize): per the Recipe, uint8 per-tensor QuantizeLinear /
//     DequantizeLinear on the activations (range from the calibrator), or
//     DynamicQuantizeLinear into MatMulInteger/ConvInteger (w8a8-dynamic);
//     weights stored quantized (int8 per channel or uint4 per group) and
//     read through DequantizeLinear. The result runs through the same
//     compiler as pre-quantized ONNX and exports to ONNX
//     (Export/ONNX/QDQExport.h).
//  4. layerSensitivity: the output SQNR with one layer quantized at a
//     time, for mixed precision.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_QUANTIZE_H
#define QUANTC_CALIBRATION_QUANTIZE_H

#include "quantc/Quant/GPTQ.h"
#include "quantc/Calibration/Samples.h"
#include "quantc/Calibration/Statistics.h"
#include "quantc/Support/HostTensor.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace quantc::calib {

struct Target {
  mlir::Operation *op;   // qc.conv, qc.matmul or qc.gemm
  unsigned activation;   // operand index of the activation
  unsigned weight;       // operand index of the constant weight
  int64_t weightAxis;    // its output-channel axis
  std::string name;      // the ONNX node name
  int64_t reductionAxis = 0; // the weight axis summed over (groups run along it)
};

/// What a recipe quantizes and how.
///   w8a8        uint8 activations (static, per tensor), int8 weights per channel
///   w8a8-dynamic  int8 weights per channel; activations quantized to uint8
///               at run time (DynamicQuantizeLinear) into MatMulInteger /
///               ConvInteger with i32 accumulation, then one float rescale
///   w8a8-dynamic-token  as w8a8-dynamic, but each row (token) of a
///               MatMul/Gemm activation gets its own scale and zero point
///               (qc.dynamic_quantize_rows; convolutions stay per tensor)
///   w8a16       int8 weights per channel, float activations
///   w4a16-gN    int4 weights in groups of N (32, 64, 128, 256) along the
///               reduction axis, float activations
///   w4a8[-gN]   int4 weights in groups of N (default 128), uint8 activations
///   w4a8-dynamic-token[-gN]  int4 symmetric weights in groups of N (default
///               128), uint8 activations per token at run time; one integer
///               product per group, summed with the groups' weight scales
///   w4a4[-gN]   int4 symmetric weights per output channel (or in groups of
///               N rows), uint4 activations per token at run time (15 levels)
///   fp8-e4m3    float8e4m3fn weights per channel and activations per tensor
///               (symmetric, scale = range / 448; weights' range searched
///               as for int8), dequantized into float kernels
/// A 4-bit recipe quantizes MatMul/Gemm weights to int4 and keeps int8 per
/// channel on convolutions (int4 on all of them cost PP-OCRv4 rec all its
/// accuracy; see docs/accuracy.md) unless int4Convs, and even then on those
/// with fewer than 16 input channels per group (depthwise ones).
/// 8-bit weights are symmetric int8, 4-bit ones asymmetric uint4 with a zero
/// point per group; each channel or group's range is the one among r times
/// its observed range (r = 1, 0.975, ..., 0.5) with the least squared error.
struct Recipe {
  std::string name;
  bool activations = true;
  int weightBits = 8;
  int64_t groupSize = 0; // 0: one scale per output channel
  bool int4Convs = false;
  bool dynamicActivations = false; // w8a8-dynamic
  bool perToken = false;           // w8a8-dynamic-token: per-row activation scales
  /// w4a4: per-token dynamic activations rounded to 4 bits (15 levels;
  /// qc.dynamic_quantize_rows levels = 15) and symmetric int4 weights per
  /// output channel, both through the integer MatMulInteger path.
  int activationBits = 8;
  bool fp8 = false;                 // fp8-e4m3
  /// Suffix -kv8: attention's keys and values rounded to int8 per token
  /// and head (qc-quantize-kv); -qkv8: the queries too; -kv4 / -qkv4: to
  /// int4 (kvBits). After -rot, rounded in a Hadamard-rotated basis.
  bool kv8 = false, query8 = false;
  int kvBits = 8;
  /// Suffix -smooth (before -kv8): SmoothQuant (qc-smooth, Smooth.h) with
  /// alpha searched per site, then calibration of the smoothed model.
  /// Recipes with quantized activations (static or dynamic) only.
  bool smooth = false;
  /// Suffix -gptq (after -rot/-smooth, before -kv8): MatMul/Gemm weights
  /// rounded by GPTQ (quant::gptq) on Hessians of their inputs collected
  /// from the calibration samples (collectHessians), instead of
  /// round-to-nearest with a clip search.
  bool gptq = false;
  /// GPTQ's knobs (quant::GPTQOptions; `quantc quantize --gptq-damp F
  /// --gptq-no-act-order --gptq-min-shrink R --gptq-refit-scales [N]`):
  /// damping as a fraction of the mean diagonal, act-order, the smallest
  /// ratio of each group's range tried by the diag(H)-weighted range
  /// search (1: min/max), and the least-squares refit of the scales.
  /// Only damp, actOrder, minShrink, refitScales and refitRounds are
  /// read; bits, group and symmetry come from each layer's format. The
  /// recipes' default: the diag(H)-weighted range search down to 0.8 and
  /// one least-squares refit of the scales (chosen on SmolLM2's
  /// validation windows, docs/accuracy.md session 13); the textbook
  /// algorithm is minShrink 1 without refit.
  quant::GPTQOptions gptqTuning = defaultGPTQTuning();
  static quant::GPTQOptions defaultGPTQTuning() {
    quant::GPTQOptions o;
    o.minShrink = 0.8;
    o.refitScales = true;
    return o;
  }
  /// Suffix -awq (weight-only 4-bit grouped recipes, after -rot): AWQ's
  /// per-channel scales folded like -smooth's (smoothModel with awq).
  bool awq = false;
  /// Suffix -rs (per-token dynamic recipes, after -rot, before -gptq):
  /// runtime smoothing, per-group channel maxima of each activation
  /// divided out at run time before the per-token rounding and multiplied
  /// back per group after the integer products (RuntimeSmooth.h).
  bool runtimeSmooth = false;
  /// Suffix -salient (weight-only recipes, after -rot/-awq, before -gptq):
  /// the most salient input channels of every MatMul kept float beside
  /// the rounded matrix (splitSalientChannels, Salient.h).
  bool salient = false;
  /// Suffix -outliers (recipes with quantized activations, after -rot,
  /// before -smooth): input channels whose calibration absmax is far above
  /// the median channel's are taken out of the quantized activation and
  /// multiplied in float (splitOutlierChannels, Outliers.h).
  bool outliers = false;
  /// Round-to-nearest 4- and 3-bit weights: search each group's clip
  /// ratio on its own weight error (quant::searchWeightParams) instead of
  /// its min/max range (the default; `quantc quantize
  /// --weight-clip-search`). int8 weights always take the search.
  bool weightClipSearch = false;
  /// Per-token dynamic activations (w8a8-dynamic-token, w4a4, ...): each
  /// row rounded on [c lo, c hi] instead of its full range
  /// (qc.dynamic_quantize_rows clip; `quantc quantize --activation-clip
  /// C`). 1: the full range.
  double activationClip = 1.0;
  /// Suffix -ag (per-token dynamic recipes with grouped weights, right
  /// after the base name: w4a4-g128-ag-rot-gptq): each token's activation
  /// rounded per group of the weights' G channels, with its own scale and
  /// zero point (groupedRowsProduct, RuntimeSmooth.h), not per whole row.
  bool activationGroups = false;
  /// `--activation-clip search`: each layer's clip chosen on its simulated
  /// output error (searchActivationClips, ActivationClip.h).
  bool activationClipSearch = false;
  /// Suffix -rot (before -smooth and -kv8): the residual stream rotated
  /// by a randomized Hadamard matrix folded into the weights
  /// (qc-fold-rotations, Rotate.h) before anything else.
  bool rotate = false;
  static std::optional<Recipe> parse(const std::string &name);
};

/// A recipe's -kv8 / -qkv8 (-kv4 / -qkv4) part, after its layers are
/// quantized: qc-fuse-attention, then qc-quantize-kv{bits, rotate} on every
/// function of `module`.
/// Returns how many attention ops were rounded; an error when the
/// passes fail or no attention was found (the option would do nothing).
llvm::Expected<size_t> quantizeAttentionOperands(mlir::ModuleOp module, bool query,
                                                 int bits = 8, bool rotate = false);

std::vector<Target> quantizationTargets(mlir::ModuleOp module);

struct ActivationStats {
  MinMax minmax;
  Histogram histogram{2048};
  /// Per channel of the last axis (the reduction axis of a MatMul/Gemm
  /// activation), for qc-smooth; empty for other observers.
  MinMax channels;
  /// Per channel of the last axis: the mean of |x| over every row (AWQ's
  /// statistic), with the rows counted; empty for other observers.
  std::vector<double> channelAbsMean;
  int64_t channelRows = 0;
  /// qc-smooth divided this activation by its scales: min/max and channels
  /// are exact, the histogram is gone (only the minmax calibrator applies
  /// until the model is calibrated again).
  bool smoothed = false;
  /// In memory only, never in the IR (calibrate with keepRows): up to
  /// keepRows rows of the activation, row-major [rows / rowWidth, rowWidth],
  /// spread evenly over the samples.
  std::vector<float> rows;
  int64_t rowWidth = 0;
  /// In memory only (calibrate with hessians): H = sum of x^T x over every
  /// row x of the activation, row-major [rowWidth, rowWidth], for GPTQ.
  /// Observers of one value (q, k and v read the same input) share it.
  std::shared_ptr<const std::vector<double>> hessian;
  int64_t hessianRows = 0;
};


/// qc-insert-observers: a qc.observe (index k, layer = node name) on the
/// activation operand of target k of quantizationTargets. Returns how many.
size_t insertObservers(mlir::ModuleOp module);

/// The calibration runner. The model with its qc.observe ops, specialized
/// to each sample's shapes, is JIT-compiled with every observed tensor as
/// an extra output (routed out of qc.if regions, NaN from the branch not
/// taken) and run sample by sample; each observed tensor feeds a MinMax
/// and a Histogram reducer (memory does not grow with the samples). The
/// statistics are attached to each observer as its `stats` attribute.
/// Errors on an empty sample set or samples that do not match the inputs.
struct CalibrationOptions {
  /// Rows of each MatMul/Gemm activation kept in memory (for qc-smooth's
  /// scale search); 0: none.
  int64_t keepRows = 0;
  /// Accumulate H = X^T X of each MatMul/Gemm activation (GPTQ), and
  /// with hessiansInIR also write it into the observers' stats (`hessian`,
  /// f64 [K, K], and `hessian_rows`) for quant-opt --qc-quantize.
  bool hessians = false, hessiansInIR = false;
  /// Where the run's time went (optional): filled by calibrate().
  struct Timing {
    size_t samples = 0;
    double compileSeconds = 0;  ///< building the observed model (per shape set)
    double firstRunSeconds = 0; ///< its first run (LLVM generates the code then)
    size_t laterRuns = 0;       ///< the samples after each first run
    double laterRunSeconds = 0; ///< running the model over those
    double statsSeconds = 0;    ///< reducing the observed tensors, all samples
    double readSeconds = 0;     ///< reading samples from their files, all samples
  } *timing = nullptr;
};
/// `kept` (optional) receives every observer's statistics by index,
/// rows included.
llvm::Error calibrate(mlir::ModuleOp module, const SampleSet &samples,
                      const CalibrationOptions &options = {},
                      std::map<int64_t, ActivationStats> *kept = nullptr);

/// qc-insert-observers, then a calibration run keeping up to `rows` rows
/// of every activation (the searches of qc-smooth and --activation-clip
/// simulate their choices on them): each observer's statistics by target
/// index. The observers stay in the module (takeObservations removes them).
llvm::Expected<std::map<int64_t, ActivationStats>>
observeKeepingRows(mlir::ModuleOp module, const SampleSet &samples, int64_t rows);

/// H = X^T X of the activation of every target of quantizationTargets
/// (module), over all rows of all samples (the float model's
/// activations, on a clone with observers; the module is unchanged).
/// Targets that read one value share one matrix; null where a target's
/// input was never observed or is not a MatMul/Gemm row activation.
/// With `only`, observers (and Hessians) for the targets of those names
/// alone; the others' entries stay null.
llvm::Expected<std::vector<std::shared_ptr<const std::vector<double>>>>
collectHessians(mlir::ModuleOp module, const SampleSet &samples,
                const std::set<std::string> *only = nullptr);

/// The statistics of one observer's `stats` attribute, and back.
mlir::DictionaryAttr statsToAttr(mlir::MLIRContext *ctx, const ActivationStats &s);
llvm::Expected<ActivationStats> statsFromAttr(mlir::DictionaryAttr attr);

/// Removes every qc.observe (its users read its input again) and returns
/// quantizationTargets of the result with the statistics of the observer
/// on each target's activation (empty statistics for a target without
/// one, or whose observer saw nothing).
struct Observations {
  std::vector<Target> targets;
  std::vector<ActivationStats> stats;
};
llvm::Expected<Observations> takeObservations(mlir::ModuleOp module);

enum class Calibrator { MinMax, Percentile, Entropy, MSE };
std::optional<Calibrator> parseCalibrator(const std::string &name);

struct LayerReport {
  std::string name, op;
  double actMin = 0, actMax = 0, clipLo = 0, clipHi = 0;
  float actScale = 0;
  int32_t actZeroPoint = 0;
  double weightSQNR = 0; // dB
  double activationSQNR = 0; // dB, estimated from the histogram (0: float)
  double weightClip = 1;     // mean clip ratio of the weight scales
  std::string weightFormat, activationFormat;
  std::string weightMethod = "rtn"; // "gptq" with -gptq
  int64_t nonFinite = 0;
  int64_t weightParams = 0, weightBytes = 0; // elements; storage incl. scales
  int weightBits = 8;
  // What was stored, for export: the quantized weight in the weight's own
  // layout and shape (uint4 values 0..15 or int8), its scales and zero
  // points (shape scaleShape: 1-D along weightQuantAxis, or blocked with
  // blockSize along it), and the operand indices in the node.
  std::vector<int8_t> weightValues;
  std::vector<int64_t> weightShape, scaleShape;
  std::vector<float> weightScales;
  std::vector<int32_t> weightZeroPoints;
  int64_t weightQuantAxis = 0, blockSize = 0;
  bool weightUnsigned = false, activationQuantized = false;
  bool weightFp8 = false; // weightValues are float8e4m3fn bit patterns
  unsigned activationOperand = 0, weightOperand = 1;
};

/// Rewrites `module` in place (see the file comment). `percentile` is used
/// by Calibrator::Percentile.
llvm::Expected<std::vector<LayerReport>>
insertQDQ(mlir::ModuleOp module, const std::vector<Target> &targets,
          const std::vector<ActivationStats> &stats, const Recipe &recipe,
          Calibrator calibrator, double percentile = 99.99);

/// How a run with some layers quantized is compared with the float run.
///  - MSE: sum over the float outputs of (q - f)^2, divided by the float
///    outputs' energy sum f^2 (the relative squared error; SQNR = -10
///    log10 of it).
///  - KL: the mean over positions of KL(softmax(f) || softmax(q)), the
///    softmax over the last axis of each output counted (nats per
///    position). For a language model's logits this is what perplexity
///    feels: its expectation is the increase of the cross-entropy on text
///    the float model predicts, it ignores a shift of all logits, and for
///    small errors it is the Fisher-weighted squared logit error, so the
///    errors of layers perturbed independently add.
enum class OutputMetric { MSE, KL };
struct SensitivityMetric {
  OutputMetric kind = OutputMetric::MSE;
  /// The outputs compared; empty: every float output.
  std::vector<std::string> outputs;
  /// "mse" or "kl:NAME,NAME" (what a plan records).
  std::string describe() const;
};

/// Whether `choice` is one of the names sensitivityMetric takes.
bool isSensitivityMetricName(const std::string &choice);

/// The metric `choice` ("auto", "mse", "kl") names for `module`. auto: KL
/// on an output named "logits" (the name causal language models are
/// exported with; their other outputs, the present key/value caches, are
/// state that reaches the next tokens only through the logits), MSE over
/// every float output otherwise. kl: KL on "logits" if the model has it,
/// else on every float output.
llvm::Expected<SensitivityMetric> sensitivityMetric(mlir::ModuleOp module,
                                                    const std::string &choice);

/// The model's output error with one layer quantized at a time: the model
/// is quantized as insertQDQ would, with one boolean input per layer
/// choosing its quantized or float operands (one JIT compile), and run on
/// `samples` once per layer with only that layer quantized. Returns the
/// error (`metric`, averaged over samples) per target of
/// quantizationTargets(module). Samples must share one shape.
llvm::Expected<std::vector<double>>
layerOutputErrors(mlir::ModuleOp module, const std::vector<ActivationStats> &stats,
                  const Recipe &recipe, Calibrator calibrator, double percentile,
                  const SampleSet &samples, const SensitivityMetric &metric);

/// layerOutputErrors with the MSE metric over every float output, as an
/// SQNR in dB per layer (+inf: no measurable error).
llvm::Expected<std::vector<double>>
layerSensitivity(mlir::ModuleOp module, const std::vector<ActivationStats> &stats,
                 const Recipe &recipe, Calibrator calibrator, double percentile,
                 const SampleSet &samples);

} // namespace quantc::calib

#endif
