//===- Samples.h - calibration samples, in memory or on disk ----*- C++ -*-===//
//
// A calibration set is read sample by sample by every pass that runs the
// model over it (the calibration run, smoothing's and clipping's searches,
// Hessians, sensitivities). A SampleSet either holds its samples (given
// from Python, or built in a test) or reads each one from its files when
// asked, so that a set on disk costs one sample's memory however large it
// is (issue 16: calibration memory flat in the number of samples).
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_SAMPLES_H
#define QUANTC_CALIBRATION_SAMPLES_H

#include "quantc/Support/HostTensor.h"

#include "llvm/Support/Error.h"

#include <functional>
#include <memory>
#include <vector>

namespace quantc::calib {

/// One calibration sample: a tensor per model input, in input order.
using Sample = std::vector<cpu::HostTensor>;

class SampleSet {
public:
  /// Reads one sample (its files) when called.
  using Loader = std::function<llvm::Expected<Sample>()>;

  SampleSet() = default;
  /// Samples held in memory.
  SampleSet(std::vector<Sample> samples);
  /// Samples read when asked for, one loader each.
  static SampleSet onDemand(std::vector<Loader> loaders);

  size_t size() const { return count; }
  bool empty() const { return count == 0; }
  /// Sample i (a copy of a held one, or read now).
  llvm::Expected<Sample> get(size_t i) const;
  /// The first min(n, size()) samples (sharing this set's storage).
  SampleSet prefix(size_t n) const;
  /// Whether the samples are read from files when asked for.
  bool readOnDemand() const { return loaders != nullptr; }

private:
  std::shared_ptr<const std::vector<Sample>> held;
  std::shared_ptr<const std::vector<Loader>> loaders;
  size_t count = 0;
};

/// Gives the allocator's free pages back to the system (glibc's
/// malloc_trim; nothing elsewhere). Called after each sample read from
/// disk is dropped: glibc keeps large freed blocks mapped (its mmap
/// threshold grows with the blocks it sees), and 48 samples of 4 MiB
/// grew a calibration by up to 176 MiB without it
/// (calibration_memory.test).
void releaseFreeMemory();

} // namespace quantc::calib

#endif
