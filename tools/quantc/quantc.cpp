//===- quantc.cpp - the quantc command line -------------------------------===//
//
// Argument parsing (LLVM's CommandLine library, one cl::SubCommand per
// command) and printing; the work is done by the driver library
// (quantc/Driver), which the Python package calls too. Options a command
// does not take, and values that are not numbers where numbers are
// expected, are errors naming the option. `eval` and `generate` hand
// their arguments to the Python modules of the same name.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "ProgressLine.h"
#include "quantc/Calibration/Progress.h"
#include "quantc/Driver/ModelSummary.h"
#include "quantc/Driver/Quantize.h"
#include "quantc/Driver/Run.h"
#include "quantc/Import/ModelFile.h"
#include "quantc/Import/ONNX/ONNXImporter.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cl = llvm::cl;
using namespace quantc::driver;

namespace {
int usage(llvm::raw_ostream &os, int code) {
  os << "usage:\n"
        "  quantc import MODEL.onnx [-o OUT.{mlir,mlirbc}] [--summary] [--no-shape-inference]\n"
        "                           [--elide-weights]\n"
        "      Import an ONNX model (binary or text syntax) into the qc dialect.\n"
        "      Without -o the IR goes to standard output. Wherever qc IR is read or\n"
        "      written, .mlir is MLIR text and .mlirbc MLIR bytecode (about half\n"
        "      the size for large models, faster to read).\n"
        "  quantc summary MODEL.onnx\n"
        "      Import and print inputs, outputs, op counts and parameter totals.\n"
        "  quantc run MODEL.{onnx,mlir} [--input NAME=FILE.npy | FILE.npy]... [--output-dir DIR]\n"
        "      JIT-compile the model for the given input shapes and run it; each\n"
        "      output is written to DIR/<name>.npy (default: the current directory).\n"
        "      --shape NAME=1x3x48x320 feeds a deterministic pseudo-random input instead\n"
        "      of a file; --threads N sets the kernels' thread count (default: all);\n"
        "      --cpu NAME / --features +f,-g generate code for another CPU than this\n"
        "      one (LLVM names: x86-64-v3, znver3, +avx2,-avx512f).\n"
        "  quantc compile MODEL -o OUT.so [--shape NAME=DIMS]... [--cpu CPU] [--features F]\n"
        "                 [--keep-object]\n"
        "      Compile ahead of time into a self-contained shared library (weights\n"
        "      embedded) with the C API of include/quantc/Runtime.h. Inputs with\n"
        "      symbolic dimensions need --shape ('?' keeps one symbolic: --shape\n"
        "      input_ids=1x? compiles one body for any length); repeating --shape for an input\n"
        "      compiles one variant per shape, chosen at run time by the shapes\n"
        "      (qc_set_input_shapes). --cpu/--features target another\n"
        "      x86-64 CPU than this one (e.g. --cpu x86-64-v3); without them, the\n"
        "      CPU named by $QUANTC_TARGET_CPU, else this machine's.\n"
        "  quantc calibrate MODEL --calib DIR -o OUT.{mlir,mlirbc} [--hessians]\n"
        "                   [--sensitivity RECIPE [--calibrator C] [--percentile P]\n"
        "                    [--sensitivity-samples N]]\n"
        "      qc-insert-observers and the calibration run over the samples in DIR (as\n"
        "      for quantize): the IR with a qc.observe and its statistics on every\n"
        "      layer's input, for quant-opt --qc-quantize=\"recipe=R calibrator=C\".\n"
        "      --hessians also stores X^T X of every MatMul/Gemm input (f64 [K, K]\n"
        "      per observer: large) for the -gptq recipes. --sensitivity R also stores\n"
        "      on every layer the output SQNR with that layer alone quantized by R\n"
        "      (qc.sqnr_alone_db, first N (4) samples), for quant-opt\n"
        "      --qc-keep-float=min-sqnr=DB --qc-quantize=recipe=R (mixed precision).\n"
        "  quantc quantize MODEL [--calib DIR] -o OUT.{mlir,mlirbc,so,onnx} [--recipe R]\n"
        "                  [--calibrator minmax|percentile|entropy|mse] [--percentile P]\n"
        "                  [--report FILE.json] [--int4-convs] [--min-layer-sqnr DB]\n"
        "                  [--sensitivity-samples N] [--smooth-alpha A] [--offline-rotation-only]\n"
        "                  [--weight-clip-search] [--budget 4.5bpw|60MB [--allocation-json F.json]\n"
        "                   [--sensitivity-metric auto|mse|kl]]\n"
        "                  [--salient-percent P] [--outlier-ratio R] [--gptq-sequential]\n"
        "                  [--gptq-damp F]\n"
        "                  [--gptq-min-shrink R] [--gptq-no-act-order] [--gptq-refit-scales [N]]\n"
        "                  [--keep-float NAME[,NAME...]] [--rotation-matrix Q.npy]\n"
        "                  [--prefix-rows N] [--principal-components R]\n"
        "                  [--cpu CPU] [--features F]\n"
        "      Calibrate on the samples in DIR (one .npy per sample, one .npz per\n"
        "      sample with an array per input name, or one directory per sample with\n"
        "      <input>.npy files or ONNX TensorProtos input_<i>.pb) and quantize the\n"
        "      Conv/MatMul/Gemm\n"
        "      layers in QDQ form. Recipes: w8a8 (uint8 activations per tensor, int8\n"
        "      weights per channel), w8a8-dynamic (uint8 activations quantized at run\n"
        "      time per tensor, integer MatMulInteger/ConvInteger), w8a8-dynamic-token\n"
        "      (the same with a scale per row/token of each MatMul/Gemm activation),\n"
        "      w8a16 (int8 weights only),\n"
        "      w4a16-g32|g64|g128|g256\n"
        "      (int4 MatMul/Gemm weights in groups along the reduction axis, packed two\n"
        "      per byte; convolutions int8 unless --int4-convs), w3a16-g32|g64|g128|g256\n"
        "      and w2a16-g32|g64|g128|g256 (the same with 3- or 2-bit groups: uint4 in\n"
        "      the IR and ONNX, 3 or 2 bits per weight in compiled libraries),\n"
        "      w4a8[-gN] (both),\n"
        "      fp8-e4m3 (float8e4m3fn weights per channel, activations per tensor),\n"
        "      w4a8-dynamic-token[-gN] (int4 symmetric weights in groups, uint8\n"
        "      activations per token at run time, an integer product per group),\n"
        "      w4a4[-gN] (int4 weights per channel or in groups of N, MatMul/Gemm\n"
        "      activations rounded to 4 bits per token at run time; meant with -rot;\n"
        "      --activation-clip C|search clips each row's range).\n"
        "      R-ag (after w4a4-gN or w4a8-dynamic-token-gN): each token's activation\n"
        "      rounded per group of the weights' channels.\n"
        "      R-rot: the residual stream of a pre-norm RMSNorm transformer rotated by\n"
        "      a randomized Hadamard matrix folded into the weights (QuaRot), first,\n"
        "      and the inputs of the layers writing to it (o_proj, down_proj) rotated\n"
        "      at run time by a fast Hadamard transform (not with\n"
        "      --offline-rotation-only); --rotation-matrix Q.npy folds that matrix\n"
        "      instead (e.g. learned: python -m quantc.transformers.spinquant);\n"
        "      R-smooth (R with quantized activations): SmoothQuant first, alpha\n"
        "      searched per layer input on the simulated output error (--smooth-alpha\n"
        "      fixes it); R-kv8 / R-qkv8: attention's keys and values (and queries)\n"
        "      rounded to int8 per token and head (-kv4 / -qkv4: int4; after -rot, in\n"
        "      a Hadamard-rotated basis).\n"
        "      --min-layer-sqnr keeps float the layers that, quantized alone, take the\n"
        "      model's output SQNR below DB on the first N (4) calibration samples.\n"
        "      --keep-float leaves the named layers (ONNX node names) float.\n"
        "      --prefix-rows N (static activations): the first N positions of every\n"
        "      sequence (axis -2 of each MatMul input of rank >= 3), where transformers\n"
        "      park their massive activations (PrefixQuant), are kept out of the\n"
        "      static scales and rounded per token at run time.\n"
        "      --principal-components R (quantized activations): the R leading\n"
        "      eigenvectors of each MatMul input's calibration second moment (its\n"
        "      highest-energy directions) taken out of what is rounded and multiplied\n"
        "      in float beside the layer.\n"
        "      4-bit weights are rounded to nearest on each group's min/max range\n"
        "      (--weight-clip-search: the clip ratio with the least weight error\n"
        "      instead, as int8 weights always do); w4a16-gN-awq: AWQ's per-channel scales (mean |x|^alpha, alpha\n"
        "      searched per layer input on the weight-only output error) folded like\n"
        "      -smooth's; R-gptq: GPTQ on the Hessians of the layer inputs over the\n"
        "      calibration samples (after -rot/-smooth, before -kv8); --gptq-sequential:\n"
        "      block by block, each block's Hessians taken with the earlier blocks\n"
        "      quantized (weight-only and dynamic recipes); --gptq-damp F (0.01: F times\n"
        "      the mean of diag H added to H), --gptq-no-act-order, --gptq-min-shrink R\n"
        "      (each group's range shrunk by the ratio in [R, 1] with the least\n"
        "      diag(H)-weighted rounding error; default 0.8, 1: min/max),\n"
        "      --gptq-refit-scales N (rounds of GPTQ each followed by a least-squares\n"
        "      refit of the group scales to the layer's output error; default 1, 0:\n"
        "      none; the textbook GPTQ is --gptq-min-shrink 1 --gptq-refit-scales 0);\n"
        "      R-salient (weight-\n"
        "      only R, before -gptq): the input channels with the largest H_jj ||W_j||^2\n"
        "      (--salient-percent P of each MatMul's, default 1) kept float beside\n"
        "      the rounded matrix (structured salient weights).\n"
        "      R-outliers (R with quantized activations, after -rot, before -smooth):\n"
        "      input channels whose calibration absmax exceeds R (--outlier-ratio,\n"
        "      default 32) times the median channel's, at most 1% of a layer input's,\n"
        "      are zeroed in the quantized activation and multiplied in float beside\n"
        "      it (LLM.int8()'s decomposition with the channels fixed at calibration).\n"
        "      --budget: one weight format per MatMul/Gemm layer (float, int8, uint4\n"
        "      g32/g64/g128/g256, uint3 g64/g128, uint2 g32/g64; GPTQ with --recipe\n"
        "      w4a16-g128-gptq) minimizing the estimated output error within the budget\n"
        "      (knapsack); the choice goes to --allocation-json and is reused by\n"
        "      --recipe F.json. --sensitivity-metric auto|mse|kl: the output error a\n"
        "      layer is measured by (auto: KL of the next-token distributions where the\n"
        "      model has an output named logits, else the relative squared error).\n"
        "      Weight-only recipes need --calib only for -o .so (its shapes). Prints\n"
        "      a table per layer (and writes it as JSON with --report).\n"
        "  quantc export --qdq MODEL.onnx [--calib DIR] [--recipe R] ... -o OUT.onnx\n"
        "      quantize (as above) and write an ONNX model ONNX Runtime runs: QDQ with\n"
        "      int8 per-channel weights (opset >= 13), 4-bit MatMul/Gemm groups as\n"
        "      com.microsoft MatMulNBits. Same as quantize -o OUT.onnx.\n"
        "  quantc report PLAN.json -o REPORT.html [--markdown REPORT.md] [--title T]\n"
        "      A bit allocation (--allocation-json) for people: one self-contained HTML\n"
        "      file (sensitivity curves, format and bytes per layer, error shares as\n"
        "      inline SVG; a sortable layer table) and its Markdown twin.\n"
        "  quantc eval [MODEL...] [--recipes R,..] [--calibrators C,..] [--no-ort] [--check]\n"
        "              [--limit N] [--json FILE] [--data DIR] [--models DIR]\n"
        "      The task metric of each real model (PP-OCRv4 rec/cls/det, openWakeWord,\n"
        "      Silero VAD) on the sets of scripts/make_datasets.py, side by side: float,\n"
        "      quantc's recipes and ONNX Runtime's quantize_static/MatMulNBits (run in\n"
        "      ONNX Runtime). Runs python/quantc/eval.py with $QUANTC_PYTHON; --help\n"
        "      there lists the metrics.\n"
        "  quantc generate MODEL_DIR --prompt TEXT... [--max-tokens N] [--recipe R]\n"
        "                  [--window P] [--chunk C] [--threads T] [--compare-ort]\n"
        "      Greedy decoding with a causal LM's decode graph (Optimum layout, e.g.\n"
        "      SmolLM2 from quantc.transformers.smollm2) compiled once for any length\n"
        "      (the cache grows per token), or with --window P as two static variants\n"
        "      sharing a KV cache window of P slots; prints the text and prefill/decode\n"
        "      tokens/s, and with --compare-ort ONNX Runtime's tokens and speed. Runs\n"
        "      quantc.generate.\n"
        "  quantc bench MODEL [--input ...] [--shape ...] [--runs N] [--warmup N]\n"
        "               [--threads N] [--compare-ort [--rounds R]] [--ort-model M.onnx]\n"
        "               [--profile]\n"
        "               [--cpu C] [--features F]\n"
        "      Compile once, then report the median latency of N runs after warm-up,\n"
        "      the compile time and peak memory. --compare-ort also runs ONNX Runtime\n"
        "      (Python onnxruntime: $QUANTC_PYTHON, else python3) on the same inputs\n"
        "      and thread count and prints both latencies and their ratio, the runs\n"
        "      alternated in R blocks of quantc's then ONNX Runtime's (default 5) so\n"
        "      that load from other processes hits both, and each block's ratio;\n"
        "      --ort-model runs another ONNX model there (e.g. ONNX Runtime's own\n"
        "      quantization of MODEL, to compare a quantc recipe with it).\n";
  return code;
}


// ---- the commands and their options ---------------------------------------

cl::SubCommand Import("import", "Import an ONNX model into the qc dialect");
cl::SubCommand Summary("summary", "Print a model's inputs, outputs, op counts and parameters");
cl::SubCommand Run("run", "JIT-compile a model and run it once");
cl::SubCommand Bench("bench", "Compile once, then time runs (and ONNX Runtime's)");
cl::SubCommand Compile("compile", "Compile ahead of time into a shared library");
cl::SubCommand Calibrate("calibrate", "Insert observers and take their statistics");
cl::SubCommand Quantize("quantize", "Calibrate and quantize a model per a recipe");
cl::SubCommand Export("export", "quantize, written as a QDQ ONNX model (--qdq)");
cl::SubCommand Report("report", "Render a bit allocation plan as HTML and Markdown");

cl::OptionCategory Category("quantc options");

// import / summary
cl::list<std::string> ImportFiles(cl::Positional, cl::desc("MODEL"), cl::sub(Import),
                                  cl::sub(Summary), cl::cat(Category));
cl::opt<std::string> ImportOutput("o", cl::desc("write the IR here (.mlir text, .mlirbc bytecode)"),
                                  cl::value_desc("OUT"), cl::sub(Import), cl::cat(Category));
cl::opt<bool> ImportSummary("summary", cl::desc("also print the model summary"), cl::sub(Import),
                            cl::cat(Category));
cl::opt<bool> NoShapeInference("no-shape-inference", cl::desc("keep the ONNX file's shapes"),
                               cl::sub(Import), cl::cat(Category));
cl::opt<bool> ElideWeights("elide-weights", cl::desc("shorten large constants in the text"),
                           cl::sub(Import), cl::cat(Category));

// run / bench / compile: the model and its inputs
cl::list<std::string> ModelFiles(cl::Positional, cl::desc("MODEL [FILE.npy...]"), cl::sub(Run),
                                 cl::sub(Bench), cl::sub(Compile), cl::cat(Category));
cl::list<std::string> InputFiles("input", cl::desc("an input from a .npy file (NAME=FILE or FILE)"),
                                 cl::value_desc("NAME=FILE.npy"), cl::sub(Run), cl::sub(Bench),
                                 cl::sub(Compile), cl::cat(Category));
cl::list<std::string> Shapes("shape",
                             cl::desc("an input's shape (NAME=1x3x48x320; '?' keeps a dimension "
                                      "symbolic); run/bench feed pseudo-random data"),
                             cl::value_desc("NAME=DIMS"), cl::sub(Run), cl::sub(Bench),
                             cl::sub(Compile), cl::cat(Category));
cl::opt<std::string> TargetCpu("cpu", cl::desc("generate code for this CPU (LLVM name)"),
                               cl::value_desc("CPU"), cl::sub(Run), cl::sub(Bench),
                               cl::sub(Compile), cl::sub(Quantize), cl::sub(Export),
                               cl::cat(Category));
cl::opt<std::string> TargetFeatures("features", cl::desc("CPU features (+avx2,-avx512f)"),
                                    cl::value_desc("F"), cl::sub(Run), cl::sub(Bench),
                                    cl::sub(Compile), cl::sub(Quantize), cl::sub(Export),
                                    cl::cat(Category));
cl::opt<std::string> OutputDir("output-dir", cl::desc("where run writes <output>.npy"),
                               cl::value_desc("DIR"), cl::init("."), cl::sub(Run),
                               cl::cat(Category));
cl::opt<int> RunThreads("threads", cl::desc("kernel threads (default: unchanged)"),
                        cl::init(-1), cl::sub(Run), cl::cat(Category));
cl::opt<int> BenchThreads("threads", cl::desc("kernel threads, also ONNX Runtime's (0: all)"),
                          cl::init(0), cl::sub(Bench), cl::cat(Category));
cl::opt<std::string> BenchCalib("calib",
                                cl::desc("also time the calibration run over these samples against "
                                         "the float model (timed on the first one)"),
                                cl::value_desc("DIR"), cl::sub(Bench), cl::cat(Category));
cl::opt<int> Runs("runs", cl::desc("timed runs (at least 1)"), cl::init(20), cl::sub(Bench),
                  cl::cat(Category));
cl::opt<int> Warmup("warmup", cl::desc("untimed runs first"), cl::init(3), cl::sub(Bench),
                    cl::cat(Category));
cl::opt<bool> Profile("profile", cl::desc("time per op type and the costliest nodes"),
                      cl::sub(Bench), cl::cat(Category));
cl::opt<bool> CompareOrt("compare-ort", cl::desc("also time ONNX Runtime on the same inputs"),
                         cl::sub(Bench), cl::cat(Category));
cl::opt<int> Rounds("rounds",
                    cl::desc("with --compare-ort: alternate quantc's and ONNX Runtime's timed "
                             "runs in this many blocks (0: 5)"),
                    cl::init(0), cl::sub(Bench), cl::cat(Category));
cl::opt<std::string> OrtModel("ort-model",
                              cl::desc("time this ONNX model in ONNX Runtime (implies "
                                       "--compare-ort)"),
                              cl::value_desc("M.onnx"), cl::sub(Bench), cl::cat(Category));
cl::opt<std::string> CompileOutput("o", cl::desc("the shared library"), cl::value_desc("OUT.so"),
                                   cl::sub(Compile), cl::cat(Category));
cl::opt<bool> KeepObject("keep-object", cl::desc("keep the object file beside the library"),
                         cl::sub(Compile), cl::cat(Category));

// calibrate
CalibrateOptions CalOpts;
cl::opt<std::string> CalModel(cl::Positional, cl::desc("MODEL"), cl::sub(Calibrate),
                              cl::cat(Category));
cl::opt<std::string, true> CalOutput("o", cl::desc("the calibrated IR (.mlir, .mlirbc)"),
                                     cl::value_desc("OUT"), cl::location(CalOpts.output),
                                     cl::sub(Calibrate), cl::cat(Category));
cl::opt<std::string, true> CalDir("calib", cl::desc("calibration samples"), cl::value_desc("DIR"),
                                  cl::location(CalOpts.calibDir), cl::sub(Calibrate),
                                  cl::cat(Category));
cl::opt<bool, true> CalHessians("hessians", cl::desc("also store X^T X of MatMul/Gemm inputs"),
                                cl::location(CalOpts.hessians), cl::sub(Calibrate),
                                cl::cat(Category));
cl::opt<std::string, true>
    CalSensitivity("sensitivity",
                   cl::desc("also store each layer's output SQNR alone quantized by RECIPE"),
                   cl::value_desc("RECIPE"), cl::location(CalOpts.sensitivityRecipe),
                   cl::sub(Calibrate), cl::cat(Category));
cl::opt<std::string, true> CalCalibrator("calibrator", cl::desc("for --sensitivity"),
                                         cl::location(CalOpts.calibrator), cl::sub(Calibrate),
                                         cl::cat(Category));
cl::opt<double, true> CalPercentile("percentile", cl::desc("for --sensitivity"),
                                    cl::location(CalOpts.percentile), cl::sub(Calibrate),
                                    cl::cat(Category));
cl::opt<int, true> CalSamples("sensitivity-samples",
                              cl::desc("samples --sensitivity runs (default 4)"),
                              cl::location(CalOpts.sensitivitySamples), cl::sub(Calibrate),
                              cl::cat(Category));

cl::opt<std::string> ProgressMode("progress",
                                  cl::desc("the calibration progress line on stderr: auto (when "
                                           "stderr is a terminal), always, never"),
                                  cl::value_desc("WHEN"), cl::init("auto"), cl::sub(Calibrate),
                                  cl::sub(Quantize), cl::sub(Export), cl::cat(Category));

// quantize / export: straight into the driver's options
QuantizeOptions QOpts;
#define QUANTIZE_OPT cl::sub(Quantize), cl::sub(Export), cl::cat(Category)
cl::opt<std::string, true> QModel(cl::Positional, cl::desc("MODEL"), cl::location(QOpts.model),
                                  QUANTIZE_OPT);
cl::opt<std::string, true> QOutput("o", cl::desc("output: .mlir, .mlirbc, .so or .onnx (QDQ)"),
                                   cl::value_desc("OUT"), cl::location(QOpts.output),
                                   QUANTIZE_OPT);
cl::opt<std::string, true> QRecipe("recipe", cl::desc("w8a8 (default), w4a16-g128-gptq, ... or "
                                                      "an allocation F.json"),
                                   cl::value_desc("R"), cl::location(QOpts.recipe), QUANTIZE_OPT);
cl::opt<std::string, true> QCalib("calib", cl::desc("calibration samples"), cl::value_desc("DIR"),
                                  cl::location(QOpts.calibDir), QUANTIZE_OPT);
cl::opt<std::string, true> QCalibrator("calibrator", cl::desc("minmax, percentile, entropy, mse"),
                                       cl::location(QOpts.calibrator), QUANTIZE_OPT);
cl::opt<double, true> QPercentile("percentile", cl::desc("the percentile calibrator's (99.99)"),
                                  cl::location(QOpts.percentile), QUANTIZE_OPT);
cl::opt<std::string, true> QReport("report", cl::desc("the per-layer table as JSON"),
                                   cl::value_desc("FILE.json"), cl::location(QOpts.reportPath),
                                   QUANTIZE_OPT);
cl::opt<bool, true> QInt4Convs("int4-convs", cl::desc("4-bit recipes round convolutions too"),
                               cl::location(QOpts.int4Convs), QUANTIZE_OPT);
cl::opt<double, true> QMinSqnr("min-layer-sqnr",
                               cl::desc("keep float the layers that alone take the output SQNR "
                                        "below DB"),
                               cl::value_desc("DB"), cl::location(QOpts.minLayerSqnr),
                               QUANTIZE_OPT);
cl::opt<int, true> QSensSamples("sensitivity-samples",
                                cl::desc("samples the sensitivity runs (default 4)"),
                                cl::location(QOpts.sensitivitySamples), QUANTIZE_OPT);
cl::opt<std::string, true>
    QSensMetric("sensitivity-metric",
                cl::desc("--budget: the model output error each layer's sensitivity is measured "
                         "by: auto (kl on an output named logits, else mse), mse, kl"),
                cl::value_desc("M"), cl::location(QOpts.sensitivityMetric), QUANTIZE_OPT);
cl::opt<std::string, true> QSmoothAlpha("smooth-alpha", cl::desc("-smooth/-awq: fix alpha"),
                                        cl::value_desc("A"), cl::location(QOpts.smoothAlpha),
                                        QUANTIZE_OPT);
cl::opt<std::string, true> QOutlierRatio("outlier-ratio", cl::desc("-outliers: ratio (32)"),
                                         cl::value_desc("R"), cl::location(QOpts.outlierRatio),
                                         QUANTIZE_OPT);
cl::opt<bool, true> QOfflineRot("offline-rotation-only",
                                cl::desc("-rot: no online Hadamard transforms"),
                                cl::location(QOpts.offlineRotationOnly), QUANTIZE_OPT);
cl::opt<bool, true> QClipSearch("weight-clip-search",
                                cl::desc("4-bit weights: the clip with the least weight error"),
                                cl::location(QOpts.weightClipSearch), QUANTIZE_OPT);
cl::opt<bool, true> QSequential("gptq-sequential", cl::desc("-gptq block by block"),
                                cl::location(QOpts.gptqSequential), QUANTIZE_OPT);
cl::opt<std::string, true> QDamp("gptq-damp", cl::desc("-gptq: damping (0.01)"),
                                 cl::value_desc("F"), cl::location(QOpts.gptqDamp), QUANTIZE_OPT);
cl::opt<std::string, true> QMinShrink("gptq-min-shrink", cl::desc("-gptq: range shrink (0.8)"),
                                      cl::value_desc("R"), cl::location(QOpts.gptqMinShrink),
                                      QUANTIZE_OPT);
cl::opt<std::string, true> QActClip("activation-clip",
                                   cl::desc("per-token activations: round each row on C times its range (1), or "
                                            "'search': each layer's C on its output error"),
                                   cl::value_desc("C|search"), cl::location(QOpts.activationClip),
                                   QUANTIZE_OPT);
cl::opt<std::string, true> QKeepFloat("keep-float",
                                     cl::desc("layers left float, by ONNX node name (e.g. lm_head)"),
                                     cl::value_desc("NAME[,NAME...]"),
                                     cl::location(QOpts.keepFloat), QUANTIZE_OPT);
cl::opt<std::string, true> QRotMatrix("rotation-matrix",
                                     cl::desc("-rot: fold this [D, D] orthogonal matrix (.npy) "
                                              "instead of the randomized Hadamard"),
                                     cl::value_desc("Q.npy"),
                                     cl::location(QOpts.rotationMatrix), QUANTIZE_OPT);
cl::opt<int, true> QPrefixRows("prefix-rows",
                                cl::desc("static activations: the first N positions of every "
                                         "sequence out of the scales, rounded per token"),
                                cl::value_desc("N"), cl::location(QOpts.prefixRows),
                                QUANTIZE_OPT);
cl::opt<int, true> QPrincipal("principal-components",
                               cl::desc("quantized activations: the R leading directions of "
                                        "each MatMul input multiplied in float"),
                               cl::value_desc("R"), cl::location(QOpts.principalComponents),
                               QUANTIZE_OPT);
cl::opt<bool, true> QNoActOrder("gptq-no-act-order", cl::desc("-gptq: rows in their own order"),
                                cl::location(QOpts.gptqNoActOrder), QUANTIZE_OPT);
cl::opt<std::string> QRefit("gptq-refit-scales",
                            cl::desc("-gptq: rounds of GPTQ + scale refit (1; 0: none)"),
                            cl::value_desc("N"), cl::ValueOptional, QUANTIZE_OPT);
cl::opt<std::string, true> QBudget("budget", cl::desc("one weight format per layer within this"),
                                   cl::value_desc("4.5bpw|60MB"), cl::location(QOpts.budget),
                                   QUANTIZE_OPT);
cl::opt<std::string, true> QAllocJson("allocation-json", cl::desc("--budget's choice as JSON"),
                                      cl::value_desc("F.json"),
                                      cl::location(QOpts.allocationJson), QUANTIZE_OPT);
cl::opt<std::string, true> QSalient("salient-percent", cl::desc("-salient: channels kept (1)"),
                                    cl::value_desc("P"), cl::location(QOpts.salientPercent),
                                    QUANTIZE_OPT);
cl::opt<bool> Qdq("qdq", cl::desc("QDQ ONNX (the only export format)"), cl::sub(Export),
                  cl::cat(Category));
#undef QUANTIZE_OPT

// report
cl::opt<std::string> ReportPlan(cl::Positional, cl::desc("PLAN.json"), cl::sub(Report),
                                cl::cat(Category));
cl::opt<std::string> ReportHtml("o", cl::desc("the HTML report"), cl::value_desc("REPORT.html"),
                                cl::sub(Report), cl::cat(Category));
cl::opt<std::string> ReportMarkdown("markdown", cl::desc("also its Markdown twin"),
                                    cl::value_desc("REPORT.md"), cl::sub(Report),
                                    cl::cat(Category));
cl::opt<std::string> ReportTitle("title", cl::desc("the report's title"), cl::value_desc("T"),
                                 cl::sub(Report), cl::cat(Category));

// ---- from the options to the driver ----------------------------------------

int fail(const llvm::Twine &message, int code = 2) {
  llvm::errs() << "quantc: error: " << message << "\n";
  return code;
}

/// The model and its inputs of run, bench and compile.
bool modelInputs(ModelInputs &in) {
  if (ModelFiles.empty()) {
    fail("no model given");
    return false;
  }
  in.model = ModelFiles[0];
  in.positional.assign(ModelFiles.begin() + 1, ModelFiles.end());
  for (const std::string &v : InputFiles) {
    size_t eq = v.find('=');
    if (eq == std::string::npos)
      in.positional.push_back(v);
    else
      in.named.emplace_back(v.substr(0, eq), v.substr(eq + 1));
  }
  for (const std::string &v : Shapes) {
    size_t eq = v.rfind('=');
    std::string name = eq == std::string::npos ? "" : v.substr(0, eq);
    std::vector<int64_t> shape;
    // The dims' text outlives the loop (a StringRef into a temporary
    // substr would dangle).
    const std::string dims = eq == std::string::npos ? v : v.substr(eq + 1);
    for (llvm::StringRef rest = dims; !rest.empty();) {
      auto [d, tail] = rest.split('x');
      int64_t n;
      if (d == "?") {
        n = -1; // symbolic: compile for any size
      } else if (d.getAsInteger(10, n) || n < 0) {
        fail("--shape '" + v + "': '" + d + "' is not a dimension (write NAME=1x3x224x224)");
        return false;
      }
      shape.push_back(n);
      rest = tail;
    }
    in.shapes.emplace_back(name, shape);
  }
  return true;
}

int runImport(bool summaryOnly) {
  if (ImportFiles.empty())
    return fail("no model given");
  if (ImportFiles.size() > 1)
    return fail("more than one model given");
  mlir::MLIRContext context;
  quantc::registerONNXImportDialects(context);
  context.printOpOnDiagnostic(false);
  quantc::ONNXImportOptions options;
  options.shapeInference = !NoShapeInference;
  auto module = quantc::importONNXFile(context, ImportFiles[0], options);
  if (!module)
    return 1;
  bool summary = summaryOnly || ImportSummary;
  if (summary)
    quantc::printModelSummary(*module, summaryOnly || ImportOutput.empty() ? llvm::outs()
                                                                           : llvm::errs());
  if (summaryOnly || (summary && ImportOutput.empty()))
    return 0;
  mlir::OpPrintingFlags flags;
  if (ElideWeights)
    flags.elideLargeElementsAttrs(16).elideLargeResourceString(64);
  if (auto err = quantc::writeModelFile(*module, ImportOutput, flags))
    return fail(llvm::toString(std::move(err)), 1);
  return 0;
}

int runRun() {
  RunOptions o;
  if (!modelInputs(o.inputs))
    return 2;
  o.outputDir = OutputDir;
  o.threads = RunThreads;
  o.cpu = TargetCpu;
  o.features = TargetFeatures;
  return runModel(o, llvm::outs(), llvm::errs());
}

int runBench() {
  BenchOptions o;
  if (!modelInputs(o.inputs))
    return 2;
  o.runs = std::max(1, int(Runs));
  o.warmup = std::max(0, int(Warmup));
  o.threads = std::max(0, int(BenchThreads));
  o.profile = Profile;
  o.cpu = TargetCpu;
  o.features = TargetFeatures;
  o.compareOrt = CompareOrt;
  o.ortModel = OrtModel;
  o.rounds = Rounds;
  o.calibDir = BenchCalib;
  if (Rounds < 0)
    return fail("--rounds must be at least 0 (0: 5 rounds, or fewer when there are fewer runs)",
                2);
  BenchResult result;
  return benchModel(o, llvm::outs(), llvm::errs(), result);
}

int runCompile() {
  ModelInputs in;
  if (!modelInputs(in))
    return 2;
  if (CompileOutput.empty())
    return fail("no output given (-o OUT.so)");
  if (!in.positional.empty() || !in.named.empty())
    return fail("compile takes shapes (--shape NAME=DIMS), not input files");
  CompileModelOptions o;
  o.model = in.model;
  o.output = CompileOutput;
  o.shapes = in.shapes;
  o.cpu = TargetCpu;
  o.features = TargetFeatures;
  o.keepObject = KeepObject;
  return compileModel(o, llvm::outs(), llvm::errs());
}

/// The progress line --progress asks for; nullopt (after an error) for a
/// bad value; an empty function for none.
std::optional<quantc::calib::ProgressFn> progressLine() {
  const std::string &mode = ProgressMode;
  if (mode != "auto" && mode != "always" && mode != "never") {
    llvm::errs() << "quantc: error: --progress " << mode << ": expected auto, always or never\n";
    return std::nullopt;
  }
  if (mode == "never" || (mode == "auto" && !llvm::sys::Process::StandardErrIsDisplayed()))
    return quantc::calib::ProgressFn();
  auto line = std::make_shared<quantc::tool::ProgressLine>(
      llvm::errs(), llvm::sys::Process::StandardErrIsDisplayed());
  return quantc::calib::ProgressFn(
      [line](const std::string &stage, size_t done, size_t total) { (*line)(stage, done, total); });
}

int runCalibrate() {
  CalOpts.model = CalModel;
  std::optional<quantc::calib::ProgressFn> progress = progressLine();
  if (!progress)
    return 2;
  quantc::calib::ProgressScope scope(*progress);
  return calibrateModel(CalOpts, llvm::outs(), llvm::errs());
}

int runQuantize() {
  if (QOpts.model.empty() || QOpts.output.empty())
    return fail("quantize needs MODEL and -o OUT");
  if (QMinSqnr.getNumOccurrences() && !std::isfinite(QOpts.minLayerSqnr))
    return fail("--min-layer-sqnr: expected a finite number of dB");
  if (QRefit.getNumOccurrences()) {
    QOpts.gptqRefit = true;
    QOpts.gptqRefitRounds = QRefit;
  }
  QOpts.cpu = TargetCpu;
  QOpts.features = TargetFeatures;
  std::optional<quantc::calib::ProgressFn> progress = progressLine();
  if (!progress)
    return 2;
  QOpts.progress = *progress;
  return quantizeModel(QOpts, llvm::outs(), llvm::errs());
}

/// `quantc eval` and `quantc generate`: the Python module quantc.<name>
/// (they drive ONNX Runtime and tokenizers) with the arguments as given,
/// told which quantc binary to use.
int runPythonModule(const std::string &name, int argc, char **argv) {
  auto python = findPython(name, llvm::errs());
  if (!python)
    return 1;
  std::string pyDir = pythonDir();
  std::string file = pyDir + "/quantc/" + name + ".py";
  if (!llvm::sys::fs::exists(file))
    return fail("'" + file + "' does not exist (set QUANTC_PYTHONPATH to quantc's python/ "
                "directory)", 1);
  const char *old = getenv("PYTHONPATH");
  std::string path = pyDir + (old && *old ? ":" + std::string(old) : "");
  setenv("PYTHONPATH", path.c_str(), 1);
  std::string self = llvm::sys::fs::getMainExecutable(nullptr, (void *)&runPythonModule);
  std::vector<std::string> args = {*python, "-m", "quantc." + name, "--quantc", self};
  args.insert(args.end(), argv + 2, argv + argc);
  std::vector<llvm::StringRef> refs(args.begin(), args.end());
  std::string errMsg;
  int rc = llvm::sys::ExecuteAndWait(*python, refs, std::nullopt, {}, 0, 0, &errMsg);
  if (rc < 0)
    return fail(name + ": " + errMsg, 1);
  return rc;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  if (argc < 2)
    return usage(llvm::errs(), 2);
  std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help")
    return usage(llvm::outs(), 0);
  if (cmd == "eval" || cmd == "generate")
    return runPythonModule(cmd, argc, argv);
  static const char *commands[] = {"import",   "summary",  "run",    "bench", "compile",
                                   "calibrate", "quantize", "export", "report"};
  if (std::none_of(std::begin(commands), std::end(commands),
                   [&](const char *c) { return cmd == c; })) {
    fail("unknown command '" + cmd + "'");
    return usage(llvm::errs(), 2);
  }
  // `--gptq-refit-scales N` (a separate round count) as the parser's
  // `--gptq-refit-scales=N`.
  std::vector<const char *> args(argv, argv + argc);
  args[0] = "quantc"; // messages name the tool, not its path
  std::vector<std::string> joined;
  joined.reserve(argc);
  for (size_t i = 2; i + 1 < args.size(); ++i) {
    llvm::StringRef a(args[i]), next(args[i + 1]);
    unsigned rounds;
    if ((a == "--gptq-refit-scales" || a == "-gptq-refit-scales") && !next.getAsInteger(10, rounds)) {
      joined.push_back(a.str() + "=" + next.str());
      args[i] = joined.back().c_str();
      args.erase(args.begin() + i + 1);
    }
  }
  cl::HideUnrelatedOptions(Category);
  std::string errors;
  llvm::raw_string_ostream errs(errors);
  if (!cl::ParseCommandLineOptions(int(args.size()), args.data(),
                                   "quantc: an MLIR quantization compiler for ONNX models\n",
                                   &errs)) {
    // LLVM's messages ("quantc: for the --percentile option: 'x' value
    // invalid for floating point argument!"), as quantc errors.
    llvm::StringRef rest(errors);
    while (!rest.empty()) {
      auto [line, tail] = rest.split('\n');
      rest = tail;
      if (line.trim().empty())
        continue;
      line.consume_front("quantc: ");
      std::string text = line.str();
      size_t at = text.find("Try: 'quantc --help'");
      if (at != std::string::npos)
        text.replace(at, 20, "Try: 'quantc " + cmd + " --help'");
      llvm::errs() << "quantc: error: " << text << "\n";
    }
    return 2;
  }
  if (Import)
    return runImport(false);
  if (Summary)
    return runImport(true);
  if (Run)
    return runRun();
  if (Bench)
    return runBench();
  if (Compile)
    return runCompile();
  if (Calibrate)
    return runCalibrate();
  if (Quantize)
    return runQuantize();
  if (Export) {
    if (!Qdq)
      return (fail("export needs --qdq (the only export format)"), usage(llvm::errs(), 2));
    if (!llvm::StringRef(QOpts.output).ends_with(".onnx"))
      return fail("export --qdq needs -o OUT.onnx");
    return runQuantize();
  }
  if (Report) {
    quantc::tool::ReportOptions o{ReportPlan, ReportHtml, ReportMarkdown, ReportTitle};
    return quantc::tool::runReport(o);
  }
  return usage(llvm::errs(), 2);
}
