//===- CompilePhases.h - time and memory of each compile phase --*- C++ -*-===//
//
// What `quantc bench` prints about a compilation: for each phase (import,
// shape specialization, MLIR lowering, LLVM translation and optimization,
// code generation), its wall time and the process's peak memory (max RSS)
// when it ended. Phases are recorded where CompileOptions::phases points.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_TARGET_CPU_COMPILEPHASES_H
#define QUANTC_TARGET_CPU_COMPILEPHASES_H

#include <chrono>
#include <string>
#include <vector>

namespace quantc::cpu {

struct CompilePhase {
  std::string name;
  double seconds;
  double peakMiB; // the process's max RSS at the end of the phase
};

/// The process's max RSS so far, in MiB.
double peakRssMiB();

/// Records one phase into `*out` (if non-null) when finished or destroyed.
class PhaseTimer {
public:
  PhaseTimer(std::vector<CompilePhase> *out, std::string name);
  ~PhaseTimer() { finish(); }
  void finish();

private:
  std::vector<CompilePhase> *out;
  std::string name;
  std::chrono::steady_clock::time_point start;
  bool done = false;
};

} // namespace quantc::cpu

#endif
