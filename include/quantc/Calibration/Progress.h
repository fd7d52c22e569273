//===- Progress.h - how far a calibration run has come ----------*- C++ -*-===//
//
// Calibration runs report each sample they finish to the callback of the
// innermost ProgressScope on their thread (none: nothing happens). The
// driver installs one for the Python API's progress bar; the scope ends
// with the call that installed it, so nothing outlives a quantization.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_PROGRESS_H
#define QUANTC_CALIBRATION_PROGRESS_H

#include <cstddef>
#include <functional>
#include <string>

namespace quantc::calib {

/// (stage, samples done, samples in the run).
using ProgressFn = std::function<void(const std::string &, size_t, size_t)>;

class ProgressScope {
public:
  explicit ProgressScope(ProgressFn fn);
  ~ProgressScope();
  ProgressScope(const ProgressScope &) = delete;
  ProgressScope &operator=(const ProgressScope &) = delete;

private:
  ProgressFn fn;
  ProgressScope *outer;
  friend void reportProgress(const std::string &, size_t, size_t);
};

/// Calls the innermost scope's callback on this thread, if any.
void reportProgress(const std::string &stage, size_t done, size_t total);

} // namespace quantc::calib

#endif
