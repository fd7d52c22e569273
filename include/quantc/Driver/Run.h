//===- Run.h - run and benchmark a model in this process ---------*- C++ -*-===//
#ifndef QUANTC_DRIVER_RUN_H
#define QUANTC_DRIVER_RUN_H

#include "quantc/Driver/Options.h"
#include "quantc/Target/CPU/JIT.h"

#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace quantc::driver {

/// `quantc run` (see RunOptions); the CLI's exit status.
int runModel(const RunOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err);

/// What benchModel measured, for a comparison with another runtime on
/// the same inputs.
struct BenchResult {
  double medianMs = 0, minMs = 0;
  int threads = 0;
  std::vector<cpu::HostTensor> inputs;
};

/// `quantc bench` (see BenchOptions): prints the timings; the CLI's exit
/// status.
int benchModel(const BenchOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err,
               BenchResult &result);

/// `quantc bench --compare-ort`: ONNX Runtime's median latency on the
/// inputs `result` was measured with (same threads, runs and warm-up),
/// for `ortModel` (empty: `model`), printed with the ratio.
int compareWithOrt(const std::string &model, const std::string &ortModel,
                   const BenchOptions &options, const BenchResult &result,
                   llvm::raw_ostream &out, llvm::raw_ostream &err);

/// The directory of the quantc Python package's sources
/// ($QUANTC_PYTHONPATH, else the source tree's python/).
std::string pythonDir();
/// The Python interpreter ($QUANTC_PYTHON, else python3) for `what`; an
/// error to `err` when it cannot be found.
std::optional<std::string> findPython(const std::string &what, llvm::raw_ostream &err);

} // namespace quantc::driver

#endif
