//===- Run.h - run and benchmark a model in this process ---------*- C++ -*-===//
#ifndef QUANTC_DRIVER_RUN_H
#define QUANTC_DRIVER_RUN_H

#include "quantc/Driver/Options.h"
#include "quantc/Target/CPU/JIT.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace quantc::driver {

/// `quantc run` (see RunOptions); the CLI's exit status.
int runModel(const RunOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err);

/// What benchModel measured (quantc's runs; ONNX Runtime's, when it was
/// compared, are printed only).
struct BenchResult {
  double medianMs = 0, minMs = 0;
  int threads = 0;
};

/// `quantc bench` (see BenchOptions): prints the timings; the CLI's exit
/// status.
int benchModel(const BenchOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err,
               BenchResult &result);

/// ONNX Runtime timing a model in a child process (Python onnxruntime,
/// python/quantc/ort_bench.py) on the inputs quantc is timed with, with
/// the same threads: loaded once, then blocks of runs on request, so that
/// `quantc bench --compare-ort` alternates its blocks with quantc's.
class OrtTimer {
public:
  /// Loads `ortModel` (an .onnx file) and runs it `warmup` times; null
  /// (the reason to `err`) on failure.
  static std::unique_ptr<OrtTimer> start(const std::string &ortModel, int threads, int warmup,
                                         const std::vector<cpu::HostTensor> &inputs,
                                         llvm::raw_ostream &err);
  /// The latencies (ms) of `runs` runs; nullopt (the reason to `err`)
  /// when the process failed.
  std::optional<std::vector<double>> time(int runs, llvm::raw_ostream &err);
  const std::string &version() const { return version_; }
  double loadSeconds() const { return loadSeconds_; }
  ~OrtTimer();

private:
  OrtTimer() = default;
  bool readLine(std::string &line);
  void reportExit(llvm::raw_ostream &err);
  int pid = -1, toChild = -1;
  FILE *fromChild = nullptr;
  std::string dir, version_;
  double loadSeconds_ = 0;
};

/// Whether `ortModel` can be given to ONNX Runtime (an existing .onnx
/// file); the reason to `err` when not.
bool checkOrtModel(const std::string &ortModel, llvm::raw_ostream &err);

/// The directory of the quantc Python package's sources
/// ($QUANTC_PYTHONPATH, else the source tree's python/).
std::string pythonDir();
/// The Python interpreter ($QUANTC_PYTHON, else python3) for `what`; an
/// error to `err` when it cannot be found.
std::optional<std::string> findPython(const std::string &what, llvm::raw_ostream &err);

} // namespace quantc::driver

#endif
