//===- ProgressLine.h - the CLI's progress line with an ETA -----*- C++ -*-===//
//
// The calibration runs report (stage, samples done, samples in the run);
// the CLI shows them on stderr as one line redrawn in place:
//
//   calibration run 2: 5/8 samples, 0.13 s/sample, ETA 0:00:01
//
// The rate leaves out each run's first sample (it includes compiling the
// observed model). On a terminal by default (--progress forces it on or
// off); a line that is not redrawn ends with a newline when its run ends.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_TOOLS_PROGRESSLINE_H
#define QUANTC_TOOLS_PROGRESSLINE_H

#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstddef>
#include <string>

namespace quantc::tool {

class ProgressLine {
public:
  /// `redraw`: a terminal (carriage return); otherwise one line per
  /// sample.
  ProgressLine(llvm::raw_ostream &os, bool redraw) : os(os), redraw(redraw) {}
  void operator()(const std::string &stage, size_t done, size_t total);

  /// "1:02:03" for h:mm:ss; "-" for a negative or non-finite time.
  static std::string clock(double seconds);

private:
  using Clock = std::chrono::steady_clock;
  llvm::raw_ostream &os;
  bool redraw;
  int runs = 0;
  size_t lastDone = 0;
  Clock::time_point start, afterFirst;
};

} // namespace quantc::tool

#endif
