//===- Progress.cpp - how far a calibration run has come ------------------===//
#include "quantc/Calibration/Progress.h"

namespace quantc::calib {
namespace {
thread_local ProgressScope *innermost = nullptr;
} // namespace

ProgressScope::ProgressScope(ProgressFn fn) : fn(std::move(fn)), outer(innermost) {
  innermost = this;
}

ProgressScope::~ProgressScope() { innermost = outer; }

void reportProgress(const std::string &stage, size_t done, size_t total) {
  if (innermost && innermost->fn)
    innermost->fn(stage, done, total);
}

} // namespace quantc::calib
