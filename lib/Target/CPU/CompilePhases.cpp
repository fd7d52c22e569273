//===- CompilePhases.cpp - time and memory of each compile phase ----------===//
#include "quantc/Target/CPU/CompilePhases.h"

#include <sys/resource.h>

namespace quantc::cpu {

double peakRssMiB() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0; // kilobytes on Linux
}

PhaseTimer::PhaseTimer(std::vector<CompilePhase> *out, std::string name)
    : out(out), name(std::move(name)), start(std::chrono::steady_clock::now()) {}

void PhaseTimer::finish() {
  if (done || !out)
    return;
  done = true;
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out->push_back({name, s, peakRssMiB()});
}

} // namespace quantc::cpu
