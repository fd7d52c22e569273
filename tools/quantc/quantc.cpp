//===- quantc.cpp - the quantc command line -------------------------------===//
//
//   quantc import MODEL [-o OUT.mlir] [--summary] [--no-shape-inference]
//   quantc summary MODEL
//   quantc ops
//
// Errors name the file, node, op type and opset, exit non-zero and leave no
// output file behind.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "quantc/Driver/ModelSummary.h"
#include "quantc/Driver/NpyFile.h"
#include "quantc/Driver/Quantize.h"
#include "quantc/Driver/Samples.h"
#include "quantc/Driver/Run.h"
#include "quantc/Target/CPU/JIT.h"
#include "quantc/Target/CPU/AOT.h"
#include "quantc/Calibration/Allocate.h"
#include "quantc/Calibration/Quantize.h"
#include "quantc/Calibration/Salient.h"
#include "quantc/Calibration/Sequential.h"
#include "quantc/Calibration/Rotate.h"
#include "quantc/Calibration/Outliers.h"
#include "quantc/Calibration/Smooth.h"
#include "quantc/Export/ONNX/QDQExport.h"
#include "quantc/Runtime/Profile.h"
#include "quantc/Dialect/QC/QCDialect.h"
#include "quantc/Import/ModelFile.h"
#include "quantc/Import/ONNX/ONNXImporter.h"

#include "mlir/IR/AsmState.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "llvm/Support/Path.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <cmath>
#include <map>
#include <chrono>
#include <string>
#include <sys/resource.h>
#include <vector>

using namespace mlir;

namespace {
/// A number given to `option`, or an error naming both (no silent 0 for
/// "--percentile x"). `integer`: whole numbers only.
bool numberArg(const std::string &option, const std::string &text, double &out,
               bool integer = false) {
  llvm::StringRef t(text);
  bool bad = integer ? ([&] {
    long long v;
    if (t.getAsInteger(10, v))
      return true;
    out = double(v);
    return false;
  })()
                     : t.getAsDouble(out);
  if (bad || !std::isfinite(out)) {
    llvm::errs() << "quantc: error: " << option << " '" << text << "': expected "
                 << (integer ? "a whole number" : "a number") << "\n";
    return false;
  }
  return true;
}

/// A whole number given to `option`, at least `least` (smaller values are
/// raised to it, as --runs 0 always meant one run).
bool intArg(const std::string &option, const std::string &text, int &out, int least) {
  double v;
  if (!numberArg(option, text, v, /*integer=*/true))
    return false;
  out = std::max(least, int(v));
  return true;
}

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
        "                  [--weight-clip-search] [--budget 4.5bpw|60MB [--allocation-json F.json]]\n"
        "                  [--salient-percent P] [--outlier-ratio R] [--gptq-sequential]\n"
        "                  [--gptq-damp F]\n"
        "                  [--gptq-min-shrink R] [--gptq-no-act-order] [--gptq-refit-scales [N]]\n"
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
        "      per byte; convolutions int8 unless --int4-convs), w3a16-g32|g64|g128 (the\n"
        "      same with 3-bit groups, stored as 4-bit), w4a8[-gN] (both),\n"
        "      fp8-e4m3 (float8e4m3fn weights per channel, activations per tensor),\n"
        "      w4a8-dynamic-token[-gN] (int4 symmetric weights in groups, uint8\n"
        "      activations per token at run time, an integer product per group),\n"
        "      w4a4 (int4 weights per channel, MatMul/Gemm activations rounded to 4\n"
        "      bits per token at run time; meant with -rot).\n"
        "      R-rot: the residual stream of a pre-norm RMSNorm transformer rotated by\n"
        "      a randomized Hadamard matrix folded into the weights (QuaRot), first,\n"
        "      and the inputs of the layers writing to it (o_proj, down_proj) rotated\n"
        "      at run time by a fast Hadamard transform (not with\n"
        "      --offline-rotation-only);\n"
        "      R-smooth (R with quantized activations): SmoothQuant first, alpha\n"
        "      searched per layer input on the simulated output error (--smooth-alpha\n"
        "      fixes it); R-kv8 / R-qkv8: attention's keys and values (and queries)\n"
        "      rounded to int8 per token and head (-kv4 / -qkv4: int4; after -rot, in\n"
        "      a Hadamard-rotated basis).\n"
        "      --min-layer-sqnr keeps float the layers that, quantized alone, take the\n"
        "      model's output SQNR below DB on the first N (4) calibration samples.\n"
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
        "      g32/g64/g128/g256; GPTQ with --recipe w4a16-g128-gptq) minimizing the\n"
        "      estimated output error within the budget (knapsack); the choice goes to\n"
        "      --allocation-json and is reused by --recipe F.json.\n"
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
        "               [--threads N] [--compare-ort] [--ort-model M.onnx] [--profile]\n"
        "               [--cpu C] [--features F]\n"
        "      Compile once, then report the median latency of N runs after warm-up,\n"
        "      the compile time and peak memory. --compare-ort also runs ONNX Runtime\n"
        "      (Python onnxruntime: $QUANTC_PYTHON, else python3) on the same inputs\n"
        "      and thread count and prints both latencies and their ratio;\n"
        "      --ort-model runs another ONNX model there (e.g. ONNX Runtime's own\n"
        "      quantization of MODEL, to compare a quantc recipe with it).\n";
  return code;
}

int runImport(std::vector<std::string> args, bool summaryOnly) {
  std::string input, output;
  bool summary = summaryOnly, elide = false;
  quantc::ONNXImportOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-o" && i + 1 < args.size())
      output = args[++i];
    else if (a == "--summary")
      summary = true;
    else if (a == "--no-shape-inference")
      options.shapeInference = false;
    else if (a == "--elide-weights")
      elide = true;
    else if (!a.empty() && a[0] == '-' && a != "-")
      return (llvm::errs() << "quantc: error: unknown option '" << a << "'\n",
              usage(llvm::errs(), 2));
    else if (input.empty())
      input = a;
    else
      return (llvm::errs() << "quantc: error: more than one model given\n", 2);
  }
  if (input.empty())
    return (llvm::errs() << "quantc: error: no model given\n", usage(llvm::errs(), 2));

  MLIRContext context;
  quantc::registerONNXImportDialects(context);
  context.printOpOnDiagnostic(false);
  auto module = quantc::importONNXFile(context, input, options);
  if (!module)
    return 1;
  if (summary)
    quantc::printModelSummary(*module, summaryOnly || output.empty() ? llvm::outs()
                                                                     : llvm::errs());
  if (summaryOnly || (summary && output.empty()))
    return 0;
  OpPrintingFlags flags;
  if (elide)
    flags.elideLargeElementsAttrs(16).elideLargeResourceString(64);
  if (auto err = quantc::writeModelFile(*module, output, flags)) {
    llvm::errs() << "quantc: error: " << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  return 0;
}

/// Options shared by `run` and `bench`: the model and its inputs.
using InputArgs = quantc::driver::ModelInputs;

/// Consumes --input/--shape and the model path; returns false (with a
/// message) on an option it does not know and cannot leave to the caller.
bool parseInputArg(const std::vector<std::string> &args, size_t &i, InputArgs &in) {
  const std::string &a = args[i];
  if (a == "--input" && i + 1 < args.size()) {
    std::string v = args[++i];
    size_t eq = v.find('=');
    if (eq == std::string::npos)
      in.positional.push_back(v);
    else
      in.named.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    return true;
  }
  if (a == "--shape" && i + 1 < args.size()) {
    std::string v = args[++i];
    size_t eq = v.rfind('=');
    std::string name = eq == std::string::npos ? "" : v.substr(0, eq);
    std::string dims = eq == std::string::npos ? v : v.substr(eq + 1);
    std::vector<int64_t> shape;
    for (llvm::StringRef rest = dims; !rest.empty();) {
      auto [d, tail] = rest.split('x');
      int64_t n;
      if (d == "?") {
        shape.push_back(-1); // symbolic: compile for any size
        rest = tail;
        continue;
      }
      if (d.getAsInteger(10, n) || n < 0) {
        llvm::errs() << "quantc: error: --shape '" << v << "': '" << d
                     << "' is not a dimension (write NAME=1x3x224x224)\n";
        return false;
      }
      shape.push_back(n);
      rest = tail;
    }
    in.shapes.emplace_back(name, shape);
    return true;
  }
  if (!a.empty() && a[0] == '-') {
    llvm::errs() << "quantc: error: unknown option '" << a << "'\n";
    return false;
  }
  if (in.model.empty())
    in.model = a;
  else
    in.positional.push_back(a);
  return true;
}

int runModel(std::vector<std::string> args) {
  std::string outDir = ".";
  int threads = -1;
  quantc::cpu::CompileOptions runOpts;
  InputArgs in;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--output-dir" && i + 1 < args.size())
      outDir = args[++i];
    else if (args[i] == "--threads" && i + 1 < args.size())
    {
      if (!intArg("--threads", args[++i], threads, INT_MIN))
        return 2;
    }
    else if (args[i] == "--cpu" && i + 1 < args.size())
      runOpts.cpu = args[++i];
    else if (args[i] == "--features" && i + 1 < args.size())
      runOpts.features = args[++i];
    else if (!parseInputArg(args, i, in))
      return 2;
  }
  const std::string &model = in.model;
  if (model.empty())
    return (llvm::errs() << "quantc: error: no model given\n", usage(llvm::errs(), 2));
  quantc::driver::RunOptions o;
  o.inputs = in;
  o.outputDir = outDir;
  o.threads = threads;
  o.cpu = runOpts.cpu;
  o.features = runOpts.features;
  return quantc::driver::runModel(o, llvm::outs(), llvm::errs());
}
} // namespace

std::optional<std::string> findPython(const char *what);
int runPythonModule(const std::string &name, std::vector<std::string> args);

/// The directory of the quantc Python package's sources.
std::string pythonDir() {
  if (const char *env = getenv("QUANTC_PYTHONPATH"); env && *env)
    return env;
  return QUANTC_PYTHON_DIR;
}

int runBench(std::vector<std::string> args) {
  InputArgs in;
  quantc::driver::BenchOptions o;
  bool compareOrt = false;
  std::string ortModel;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "--ort-model" && i + 1 < args.size()) {
      ortModel = args[++i];
      compareOrt = true;
    } else if (a == "--runs" && i + 1 < args.size())
    {
      if (!intArg("--runs", args[++i], o.runs, 1))
        return 2;
    }
    else if (a == "--warmup" && i + 1 < args.size())
    {
      if (!intArg("--warmup", args[++i], o.warmup, 0))
        return 2;
    }
    else if (a == "--threads" && i + 1 < args.size())
    {
      if (!intArg("--threads", args[++i], o.threads, 0))
        return 2;
    }
    else if (a == "--cpu" && i + 1 < args.size())
      o.cpu = args[++i];
    else if (a == "--features" && i + 1 < args.size())
      o.features = args[++i];
    else if (a == "--compare-ort")
      compareOrt = true;
    else if (a == "--profile")
      o.profile = true;
    else if (!parseInputArg(args, i, in))
      return 2;
  }
  if (in.model.empty())
    return (llvm::errs() << "quantc: error: no model given\n", usage(llvm::errs(), 2));
  o.inputs = in;
  quantc::driver::BenchResult result;
  if (int rc = quantc::driver::benchModel(o, llvm::outs(), llvm::errs(), result))
    return rc;
  const int threads = result.threads, runs = o.runs, warmup = o.warmup;
  double median = result.medianMs;
  const std::vector<quantc::cpu::HostTensor> &inputs = result.inputs;
  if (!compareOrt)
    return 0;
  if (ortModel.empty())
    ortModel = in.model;
  if (!llvm::StringRef(ortModel).ends_with(".onnx")) {
    llvm::errs() << "quantc: error: --compare-ort needs an .onnx model (or --ort-model FILE.onnx)\n";
    return 1;
  }
  if (!llvm::sys::fs::exists(ortModel)) {
    llvm::errs() << "quantc: error: --ort-model '" << ortModel << "' does not exist\n";
    return 1;
  }
  llvm::SmallString<128> dir;
  if (auto ec = llvm::sys::fs::createUniqueDirectory("quantc-bench", dir)) {
    llvm::errs() << "quantc: error: cannot create a temporary directory: " << ec.message() << "\n";
    return 1;
  }
  std::vector<std::string> argvS;
  auto found = findPython("--compare-ort");
  if (!found)
    return 1;
  std::string python = *found;
  // ONNX Runtime's latency on the same inputs: a child Python process
  // (onnxruntime is a Python package here) reading them from .npy files.
  argvS = {python, pythonDir() + "/quantc/ort_bench.py", ortModel, std::to_string(threads),
           std::to_string(runs), std::to_string(warmup)};
  for (const auto &t : inputs) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, quantc::driver::fileNameFor(t.name) + ".npy");
    if (auto err = quantc::writeNpy(std::string(path), t)) {
      llvm::errs() << "quantc: error: " << llvm::toString(std::move(err)) << "\n";
      return 1;
    }
    argvS.push_back(t.name + "=" + std::string(path));
  }
  llvm::SmallString<256> outFile(dir);
  llvm::sys::path::append(outFile, "ort.txt");
  std::vector<llvm::StringRef> argvRefs(argvS.begin(), argvS.end());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(outFile),
                                                std::nullopt};
  std::string errMsg;
  int rc = llvm::sys::ExecuteAndWait(*found, argvRefs, std::nullopt, redirects, 0, 0, &errMsg);
  auto text = llvm::MemoryBuffer::getFile(outFile);
  llvm::sys::fs::remove_directories(dir);
  if (rc != 0 || !text) {
    llvm::errs() << "quantc: error: ONNX Runtime failed (exit " << rc << ") " << errMsg << "\n";
    return 1;
  }
  llvm::StringRef out = (*text)->getBuffer().trim();
  double ortMedian = 0;
  llvm::SmallVector<llvm::StringRef> fields;
  out.split(fields, ' ');
  std::string version;
  for (llvm::StringRef f : fields) {
    auto [k, v] = f.split('=');
    if (k == "ort_median_ms")
      v.getAsDouble(ortMedian);
    if (k == "ort_version")
      version = v.str();
  }
  llvm::outs() << llvm::format("onnxruntime:  median %.3f ms (onnxruntime %s, %d threads%s%s)\n",
                               ortMedian, version.c_str(), threads,
                               ortModel != in.model ? ", " : "",
                               ortModel != in.model ? ortModel.c_str() : "");
  llvm::outs() << llvm::format("ratio:        quantc / onnxruntime = %.2f\n",
                               ortMedian > 0 ? median / ortMedian : 0.0);
  return 0;
}

/// `quantc compile`: the model ahead of time into a shared library.
int runCompile(std::vector<std::string> args) {
  InputArgs in;
  std::string output;
  quantc::cpu::AOTOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-o" && i + 1 < args.size())
      output = args[++i];
    else if (a == "--cpu" && i + 1 < args.size())
      options.compile.cpu = args[++i];
    else if (a == "--features" && i + 1 < args.size())
      options.compile.features = args[++i];
    else if (a == "--keep-object")
      options.keepObject = true;
    else if (!parseInputArg(args, i, in))
      return 2;
  }
  if (in.model.empty())
    return (llvm::errs() << "quantc: error: no model given\n", usage(llvm::errs(), 2));
  if (output.empty())
    return (llvm::errs() << "quantc: error: no output given (-o OUT.so)\n", 2);
  if (!in.positional.empty() || !in.named.empty())
    return (llvm::errs() << "quantc: error: compile takes shapes (--shape NAME=DIMS), not input "
                            "files\n", 2);
  quantc::driver::CompileModelOptions o;
  o.model = in.model;
  o.output = output;
  o.shapes = in.shapes;
  o.cpu = options.compile.cpu;
  o.features = options.compile.features;
  o.keepObject = options.keepObject;
  return quantc::driver::compileModel(o, llvm::outs(), llvm::errs());
}

/// `quantc calibrate`: qc-insert-observers and the calibration run; the
/// IR with each observer's statistics goes to OUT.mlir, which
/// `quant-opt --qc-quantize` (or `quantc quantize`) turns into a quantized
/// model.
int runCalibrate(std::vector<std::string> args) {
  InputArgs in;
  std::string output, calibDir;
  bool hessians = false;
  quantc::driver::CalibrateOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-o" && i + 1 < args.size())
      output = args[++i];
    else if (a == "--calib" && i + 1 < args.size())
      calibDir = args[++i];
    else if (a == "--hessians")
      hessians = true;
    else if (a == "--sensitivity" && i + 1 < args.size())
      o.sensitivityRecipe = args[++i];
    else if (a == "--calibrator" && i + 1 < args.size())
      o.calibrator = args[++i];
    else if (a == "--percentile" && i + 1 < args.size())
    {
      if (!numberArg("--percentile", args[++i], o.percentile))
        return 2;
    }
    else if (a == "--sensitivity-samples" && i + 1 < args.size())
    {
      if (!intArg("--sensitivity-samples", args[++i], o.sensitivitySamples, INT_MIN))
        return 2;
    }
    else if (!parseInputArg(args, i, in))
      return 2;
  }
  if (in.model.empty() || output.empty() || calibDir.empty())
    return (llvm::errs() << "quantc: error: calibrate needs MODEL, --calib DIR and -o OUT.mlir\n",
            usage(llvm::errs(), 2));
  if (!quantc::isQCIRPath(output)) {
    llvm::errs() << "quantc: error: calibrate writes qc IR: -o must end in .mlir or .mlirbc\n";
    return 2;
  }
  o.model = in.model;
  o.output = output;
  o.calibDir = calibDir;
  o.hessians = hessians;
  return quantc::driver::calibrateModel(o, llvm::outs(), llvm::errs());
}

/// `quantc quantize`: calibrate, insert QDQ, write .mlir, .so or .onnx
/// (quantc::driver::quantizeModel).
int runQuantize(std::vector<std::string> args) {
  InputArgs in;
  quantc::driver::QuantizeOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-o" && i + 1 < args.size())
      o.output = args[++i];
    else if (a == "--recipe" && i + 1 < args.size())
      o.recipe = args[++i];
    else if (a == "--calib" && i + 1 < args.size())
      o.calibDir = args[++i];
    else if (a == "--calibrator" && i + 1 < args.size())
      o.calibrator = args[++i];
    else if (a == "--percentile" && i + 1 < args.size())
    {
      if (!numberArg("--percentile", args[++i], o.percentile))
        return 2;
    }
    else if (a == "--report" && i + 1 < args.size())
      o.reportPath = args[++i];
    else if (a == "--int4-convs")
      o.int4Convs = true;
    else if (a == "--min-layer-sqnr" && i + 1 < args.size())
    {
      if (!numberArg("--min-layer-sqnr", args[++i], o.minLayerSqnr))
        return 2;
    }
    else if (a == "--smooth-alpha" && i + 1 < args.size())
      o.smoothAlpha = args[++i];
    else if (a == "--outlier-ratio" && i + 1 < args.size())
      o.outlierRatio = args[++i];
    else if (a == "--offline-rotation-only")
      o.offlineRotationOnly = true;
    else if (a == "--weight-clip-search")
      o.weightClipSearch = true;
    else if (a == "--gptq-sequential")
      o.gptqSequential = true;
    else if (a == "--gptq-damp" && i + 1 < args.size())
      o.gptqDamp = args[++i];
    else if (a == "--gptq-min-shrink" && i + 1 < args.size())
      o.gptqMinShrink = args[++i];
    else if (a == "--gptq-no-act-order")
      o.gptqNoActOrder = true;
    else if (a == "--gptq-refit-scales") {
      o.gptqRefit = true;
      // An optional round count: --gptq-refit-scales 3.
      if (i + 1 < args.size() && !args[i + 1].empty() &&
          std::all_of(args[i + 1].begin(), args[i + 1].end(), ::isdigit))
        o.gptqRefitRounds = args[++i];
    }
    else if (a == "--budget" && i + 1 < args.size())
      o.budget = args[++i];
    else if (a == "--allocation-json" && i + 1 < args.size())
      o.allocationJson = args[++i];
    else if (a == "--salient-percent" && i + 1 < args.size())
      o.salientPercent = args[++i];
    else if (a == "--sensitivity-samples" && i + 1 < args.size())
    {
      if (!intArg("--sensitivity-samples", args[++i], o.sensitivitySamples, INT_MIN))
        return 2;
    }
    else if (a == "--cpu" && i + 1 < args.size())
      o.cpu = args[++i];
    else if (a == "--features" && i + 1 < args.size())
      o.features = args[++i];
    else if (!parseInputArg(args, i, in))
      return 2;
  }
  if (in.model.empty() || o.output.empty())
    return (llvm::errs() << "quantc: error: quantize needs MODEL and -o OUT\n",
            usage(llvm::errs(), 2));
  o.model = in.model;
  return quantc::driver::quantizeModel(o, llvm::outs(), llvm::errs());
}

/// The Python interpreter for the commands that drive ONNX Runtime.
std::optional<std::string> findPython(const char *what) {
  const char *py = getenv("QUANTC_PYTHON");
  std::string python = py && *py ? py : "python3";
  auto found = llvm::sys::findProgramByName(python);
  if (!found) {
    llvm::errs() << "quantc: error: cannot find the Python interpreter '" << python << "' for "
                 << what << " (set QUANTC_PYTHON)\n";
    return std::nullopt;
  }
  return *found;
}

/// `quantc eval` and `quantc generate`: the Python module quantc.<name>
/// (they drive ONNX Runtime and tokenizers), told which quantc binary to use.
int runPythonModule(const std::string &name, std::vector<std::string> args) {
  auto python = findPython(name.c_str());
  if (!python)
    return 1;
  std::string pyDir = pythonDir();
  std::string file = pyDir + "/quantc/" + name + ".py";
  if (!llvm::sys::fs::exists(file)) {
    llvm::errs() << "quantc: error: '" << file
                 << "' does not exist (set QUANTC_PYTHONPATH to quantc's python/ directory)\n";
    return 1;
  }
  const char *old = getenv("PYTHONPATH");
  std::string path = pyDir + (old && *old ? ":" + std::string(old) : "");
  setenv("PYTHONPATH", path.c_str(), 1);
  std::string self = llvm::sys::fs::getMainExecutable(nullptr, (void *)&runPythonModule);
  std::vector<std::string> argvS = {*python, "-m", "quantc." + name, "--quantc", self};
  argvS.insert(argvS.end(), args.begin(), args.end());
  std::vector<llvm::StringRef> refs(argvS.begin(), argvS.end());
  std::string errMsg;
  int rc = llvm::sys::ExecuteAndWait(*python, refs, std::nullopt, {}, 0, 0, &errMsg);
  if (rc < 0) {
    llvm::errs() << "quantc: error: " << name << ": " << errMsg << "\n";
    return 1;
  }
  return rc;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  if (argc < 2)
    return usage(llvm::errs(), 2);
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "import")
    return runImport(args, false);
  if (cmd == "summary")
    return runImport(args, true);
  if (cmd == "run")
    return runModel(args);
  if (cmd == "bench")
    return runBench(args);
  if (cmd == "compile")
    return runCompile(args);
  if (cmd == "calibrate")
    return runCalibrate(args);
  if (cmd == "quantize")
    return runQuantize(args);
  if (cmd == "eval")
    return runPythonModule("eval", args);
  if (cmd == "report")
    return quantc::tool::runReport(args);
  if (cmd == "generate")
    return runPythonModule("generate", args);
  if (cmd == "export") {
    // `quantc export --qdq MODEL ... -o OUT.onnx`: quantize with ONNX output.
    auto qdq = std::find(args.begin(), args.end(), "--qdq");
    if (qdq == args.end()) {
      llvm::errs() << "quantc: error: export needs --qdq (the only export format)\n";
      return usage(llvm::errs(), 2);
    }
    args.erase(qdq);
    auto o = std::find(args.begin(), args.end(), "-o");
    if (o == args.end() || o + 1 == args.end() || !llvm::StringRef(*(o + 1)).ends_with(".onnx")) {
      llvm::errs() << "quantc: error: export --qdq needs -o OUT.onnx\n";
      return 2;
    }
    return runQuantize(args);
  }
  if (cmd == "-h" || cmd == "--help" || cmd == "help")
    return usage(llvm::outs(), 0);
  llvm::errs() << "quantc: error: unknown command '" << cmd << "'\n";
  return usage(llvm::errs(), 2);
}
