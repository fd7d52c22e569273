//===- Run.h - run and benchmark a model in this process ---------*- C++ -*-===//
#ifndef QUANTC_DRIVER_RUN_H
#define QUANTC_DRIVER_RUN_H

#include "quantc/Driver/Options.h"
#include "quantc/Target/CPU/JIT.h"

#include "llvm/Support/raw_ostream.h"

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

} // namespace quantc::driver

#endif
