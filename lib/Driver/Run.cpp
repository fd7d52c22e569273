//===- Run.cpp - quantc run and quantc bench: a model in this process -----===//
//
// The model JIT-compiled for its inputs' shapes (files or --shape), run
// once with the outputs written as .npy (`run`), or timed with the
// compile phases and an optional per-op profile (`bench`).
//
//===----------------------------------------------------------------------===//
#include "quantc/Driver/Run.h"
#include "Common.h"
#include "CalibrationBench.h"
#include "quantc/Support/NpyFile.h"
#include "quantc/Driver/Samples.h"
#include "quantc/Runtime/Profile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <thread>
#include <chrono>
#include <map>
#include <sys/resource.h>

using namespace mlir;

namespace quantc::driver {
namespace {

/// Loads the input files, or fills inputs named by --shape with
/// deterministic pseudo-random data (floats in [0, 1), integers 0).
bool gatherInputs(const ModelInputs &in, const std::vector<cpu::TensorSpec> &specs,
                  std::vector<cpu::HostTensor> &inputs, llvm::raw_ostream &err) {
  inputs.assign(specs.size(), {});
  std::vector<bool> given(specs.size(), false);
  auto load = [&](size_t i, const std::string &file) -> bool {
    auto t = readNpy(file);
    if (!t) {
      err << "quantc: error: " << llvm::toString(t.takeError()) << "\n";
      return false;
    }
    inputs[i] = std::move(*t);
    inputs[i].name = specs[i].name;
    given[i] = true;
    return true;
  };
  auto find = [&](const std::string &name) -> int64_t {
    auto it = std::find_if(specs.begin(), specs.end(), [&](auto &s) { return s.name == name; });
    if (it == specs.end()) {
      err << "quantc: error: the model has no input named '" << name << "'\n";
      return -1;
    }
    return it - specs.begin();
  };
  size_t next = 0;
  for (const auto &file : in.positional) {
    while (next < specs.size() && given[next])
      ++next;
    if (next >= specs.size()) {
      err << "quantc: error: more inputs given than the model has (" << specs.size()
                   << ")\n";
      return false;
    }
    if (!load(next, file))
      return false;
  }
  for (const auto &[name, file] : in.named) {
    int64_t i = find(name);
    if (i < 0 || !load(i, file))
      return false;
  }
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  for (const auto &[name, shape] : in.shapes) {
    int64_t i = name.empty() ? 0 : find(name);
    if (i < 0)
      return false;
    if (name.empty() && specs.size() != 1) {
      err << "quantc: error: the model has " << specs.size()
                   << " inputs: write --shape NAME=DIMS\n";
      return false;
    }
    if (llvm::is_contained(shape, -1)) {
      err << "quantc: error: --shape " << specs[i].name
                   << ": '?' (a symbolic dimension) is for compile; this command runs the model "
                      "and needs every size\n";
      return false;
    }
    cpu::HostTensor &t = inputs[i];
    t.name = specs[i].name;
    t.dtype = specs[i].dtype;
    t.shape = shape;
    t.data.assign(t.numElements() * cpu::dtypeSize(t.dtype), 0);
    if (t.dtype == cpu::DType::F32) {
      float *f = reinterpret_cast<float *>(t.data.data());
      for (int64_t k = 0; k < t.numElements(); ++k) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        f[k] = static_cast<float>(seed >> 40) / static_cast<float>(1ull << 24);
      }
    }
    given[i] = true;
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!given[i]) {
      err << "quantc: error: input '" << specs[i].name
                   << "' was not given (--input NAME=FILE.npy or --shape NAME=DIMS)\n";
      return false;
    }
    if (inputs[i].dtype != specs[i].dtype) {
      err << "quantc: error: input '" << specs[i].name << "' must be "
                   << cpu::dtypeName(specs[i].dtype) << ", the file holds "
                   << cpu::dtypeName(inputs[i].dtype) << "\n";
      return false;
    }
  }
  return true;
}

/// What `run` and `bench` share: the model loaded, its inputs gathered
/// (files or --shape), and the JIT compiled for their shapes. Null after
/// printing the error.
std::unique_ptr<cpu::JITModel>
compileWithInputs(MLIRContext &context, const ModelInputs &in,
                  const cpu::CompileOptions &options, std::vector<cpu::HostTensor> &inputs,
                  llvm::raw_ostream &err, const std::vector<cpu::HostTensor> *given = nullptr) {
  cpu::PhaseTimer importTimer(options.phases, "import");
  auto module = openModel(context, in.model, err);
  if (!module)
    return nullptr;
  importTimer.finish();
  auto specs = cpu::JITModel::inputsOf(*module);
  if (given)
    inputs = *given;
  else if (!gatherInputs(in, specs, inputs, err))
    return nullptr;
  std::vector<std::vector<int64_t>> shapes;
  for (const auto &t : inputs)
    shapes.push_back(t.shape);
  auto jit = cpu::JITModel::compile(*module, shapes, options);
  if (!jit) {
    err << "quantc: error: " << in.model << ": " << llvm::toString(jit.takeError())
                 << "\n";
    return nullptr;
  }
  return std::move(*jit);
}

double medianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Per op type, then the costliest nodes: milliseconds per run.
void printProfile(const std::vector<cpu::ProfiledOp> &ops, const std::vector<double> &seconds,
                  int runs, llvm::raw_ostream &out) {
  std::map<std::string, std::pair<double, int>> byType;
  double total = 0;
  for (size_t i = 0; i < ops.size() && i < seconds.size(); ++i) {
    byType[ops[i].opName].first += seconds[i];
    byType[ops[i].opName].second += 1;
    total += seconds[i];
  }
  std::vector<std::pair<std::string, std::pair<double, int>>> rows(byType.begin(), byType.end());
  std::sort(rows.begin(), rows.end(),
            [](auto &a, auto &b) { return a.second.first > b.second.first; });
  out << "profile (ms per run; marks between ops, --runs runs):\n";
  for (auto &[name, v] : rows)
    out << llvm::format("  %-28s %5d ops %9.3f ms %5.1f%%\n", name.c_str(), v.second,
                                 1e3 * v.first / runs, total > 0 ? 100 * v.first / total : 0.0);
  std::vector<size_t> order(std::min(ops.size(), seconds.size()));
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return seconds[a] > seconds[b]; });
  out << "  costliest nodes:\n";
  for (size_t i = 0; i < order.size() && i < (getenv("QUANTC_PROFILE_TOP") ? size_t(atoi(getenv("QUANTC_PROFILE_TOP"))) : 12); ++i)
    out << llvm::format("    %-40s %-24s %8.3f ms\n", ops[order[i]].nodeName.c_str(),
                                 ops[order[i]].opName.c_str(), 1e3 * seconds[order[i]] / runs);
}

} // namespace

int runModel(const RunOptions &o, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  if (o.inputs.model.empty()) {
    err << "quantc: error: no model given\n";
    return 2;
  }
  if (o.threads >= 0)
    cpu::setNumThreads(o.threads);
  cpu::CompileOptions runOpts;
  runOpts.cpu = o.cpu;
  runOpts.features = o.features;
  MLIRContext context;
  DiagnosticsTo diagnostics(context, err);
  std::vector<cpu::HostTensor> inputs;
  auto jit = compileWithInputs(context, o.inputs, runOpts, inputs, err);
  if (!jit)
    return 1;
  std::vector<cpu::HostTensor> outputs;
  if (auto e = jit->run(inputs, outputs)) {
    err << "quantc: error: " << llvm::toString(std::move(e)) << "\n";
    return 1;
  }
  const std::string &outputDir = o.outputDir;
  llvm::sys::fs::create_directories(outputDir);
  for (const auto &o : outputs) {
    llvm::SmallString<256> path(outputDir);
    llvm::sys::path::append(path, fileNameFor(o.name) + ".npy");
    if (auto e = writeNpy(std::string(path), o)) {
      err << "quantc: error: " << llvm::toString(std::move(e)) << "\n";
      return 1;
    }
    out << o.name << ": " << cpu::dtypeName(o.dtype) << "[";
    for (size_t i = 0; i < o.shape.size(); ++i)
      out << (i ? "," : "") << o.shape[i];
    out << "] -> " << path << "\n";
  }
  return 0;
}

int benchModel(const BenchOptions &o, llvm::raw_ostream &out, llvm::raw_ostream &err,
               BenchResult &result) {
  if (o.inputs.model.empty()) {
    err << "quantc: error: no model given\n";
    return 2;
  }
  const int runs = std::max(1, o.runs), warmup = std::max(0, o.warmup);
  const bool profile = o.profile;
  const bool compare = o.compareOrt || !o.ortModel.empty();
  const std::string ortModel = o.ortModel.empty() ? o.inputs.model : o.ortModel;
  if (compare && !checkOrtModel(ortModel, err))
    return 1;
  int threads = std::max(0, o.threads);
  cpu::CompileOptions copts;
  copts.cpu = o.cpu;
  copts.features = o.features;
  cpu::setNumThreads(threads);
  threads = cpu::getNumThreads();
  MLIRContext context;
  DiagnosticsTo diagnostics(context, err);
  auto t0 = std::chrono::steady_clock::now();
  copts.profile = profile;
  std::vector<cpu::CompilePhase> phases;
  copts.phases = &phases;
  // --calib: the samples read first; the float model is timed on the
  // first one unless inputs are given.
  calib::SampleSet samples;
  calib::Sample first;
  if (!o.calibDir.empty()) {
    auto module = openModel(context, o.inputs.model, err);
    if (!module)
      return 1;
    auto loaded = loadSamples(context, o.calibDir, cpu::JITModel::inputsOf(*module));
    if (!loaded) {
      err << "quantc: error: --calib " << o.calibDir << ": " << llvm::toString(loaded.takeError())
          << "\n";
      return 1;
    }
    samples = std::move(*loaded);
    if (!samples.empty()) {
      auto read = samples.get(0);
      if (!read) {
        err << "quantc: error: --calib " << o.calibDir << ": " << llvm::toString(read.takeError())
            << "\n";
        return 1;
      }
      first = std::move(*read);
    }
  }
  const bool inputsGiven =
      !o.inputs.named.empty() || !o.inputs.positional.empty() || !o.inputs.shapes.empty();
  std::vector<cpu::HostTensor> inputs;
  auto jit = compileWithInputs(context, o.inputs, copts, inputs, err,
                               samples.empty() || inputsGiven ? nullptr : &first);
  if (!jit)
    return 1;
  std::vector<cpu::HostTensor> outputs;
  // The first run also resolves the JIT's lazily materialized code.
  {
    cpu::PhaseTimer timer(&phases, "codegen + first run");
    if (auto e = jit->run(inputs, outputs)) {
      err << "quantc: error: " << llvm::toString(std::move(e)) << "\n";
      return 1;
    }
  }
  double compileS =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (int i = 0; i < warmup; ++i)
    (void)jit->run(inputs, outputs);
  // ONNX Runtime loaded (and warmed up) now, before any timed run; the
  // timed runs then alternate in blocks, quantc's then ONNX Runtime's, so
  // that a burst of load from another process hits both.
  std::unique_ptr<OrtTimer> ort;
  if (compare && !(ort = OrtTimer::start(ortModel, threads, warmup, inputs, err)))
    return 1;
  const int rounds = ort ? std::clamp(o.rounds > 0 ? o.rounds : 5, 1, runs) : 1;
  std::vector<double> times, ortTimes, roundRatios;
  // Between blocks both runtimes get 100 ms to go idle: each one's
  // workers spin for a while after a run (ONNX Runtime's by default, ours
  // for ~20000 yields), and a block started at once shared the two cores
  // with the other's spinning threads (quantized MiniLM: 10 ms median
  // alternated without the pause, 6.8 ms alone).
  auto settle = [&] {
    if (ort)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  };
  for (int r = 0; r < rounds; ++r) {
    int n = runs * (r + 1) / rounds - runs * r / rounds;
    std::vector<double> block;
    settle();
    for (int i = 0; i < n; ++i) {
      auto t = std::chrono::steady_clock::now();
      if (auto e = jit->run(inputs, outputs)) {
        err << "quantc: error: " << llvm::toString(std::move(e)) << "\n";
        return 1;
      }
      block.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count());
    }
    times.insert(times.end(), block.begin(), block.end());
    if (!ort)
      continue;
    settle();
    auto ortBlock = ort->time(n, err);
    if (!ortBlock)
      return 1;
    ortTimes.insert(ortTimes.end(), ortBlock->begin(), ortBlock->end());
    roundRatios.push_back(medianOf(block) / medianOf(*ortBlock));
  }
  if (profile)
    rt::profileReset(jit->profiledOps().size());
  if (profile)
    for (int i = 0; i < runs; ++i)
      (void)jit->run(inputs, outputs);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double median = medianOf(times);
  out << "model:        " << o.inputs.model << "\n";
  for (const auto &t : inputs) {
    out << "input:        " << t.name << " " << cpu::dtypeName(t.dtype) << "[";
    for (size_t i = 0; i < t.shape.size(); ++i)
      out << (i ? "," : "") << t.shape[i];
    out << "]\n";
  }
  out << "threads:      " << threads << "\n";
  out << llvm::format("compile:      %.2f s (import, lower, JIT, first run)\n", compileS);
  for (const auto &p : phases)
    out << llvm::format("  %-22s %7.2f s, peak %7.1f MiB after it\n", p.name.c_str(), p.seconds,
                                 p.peakMiB);
  out << llvm::format("peak memory:  %.1f MiB (quantc process, max RSS)\n",
                               ru.ru_maxrss / 1024.0);
  out << llvm::format("quantc:       median %.3f ms, min %.3f ms over %d runs\n", median,
                               *std::min_element(times.begin(), times.end()), runs);
  if (profile)
    printProfile(jit->profiledOps(), rt::profileTimes(), runs, out);
  if (ort) {
    bool other = ortModel != o.inputs.model;
    double ortMedian = medianOf(ortTimes);
    out << llvm::format("onnxruntime:  median %.3f ms, min %.3f ms over %d runs (onnxruntime "
                        "%s, %d threads, loaded in %.2f s%s%s)\n",
                        ortMedian, *std::min_element(ortTimes.begin(), ortTimes.end()), runs,
                        ort->version().c_str(), threads, ort->loadSeconds(), other ? "; " : "",
                        other ? ortModel.c_str() : "");
    out << llvm::format("ratio:        quantc / onnxruntime = %.2f (medians; runs alternated "
                        "in %d rounds)\n",
                        median / ortMedian, rounds);
    out << "rounds:      ";
    for (double r : roundRatios)
      out << llvm::format(" %.2f", r);
    out << " (each round's ratio of medians)\n";
  }
  result.medianMs = median;
  result.minMs = *std::min_element(times.begin(), times.end());
  result.threads = threads;
  if (!samples.empty()) {
    jit.reset(); // its memory (packed weights, buffers) is not the calibration's
    return benchCalibration(context, o.inputs.model, samples, median, out, err);
  }
  return 0;
}

} // namespace quantc::driver
