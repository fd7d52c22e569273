//===- ProgressLine.cpp - the CLI's progress line with an ETA -------------===//
#include "ProgressLine.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdio>

namespace quantc::tool {

std::string ProgressLine::clock(double seconds) {
  if (!(seconds >= 0) || !std::isfinite(seconds))
    return "-";
  long long s = std::llround(seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

void ProgressLine::operator()(const std::string &stage, size_t done, size_t total) {
  Clock::time_point now = Clock::now();
  if (done == 0 || done < lastDone) {
    ++runs;
    start = now;
  }
  if (done == 1)
    afterFirst = now;
  lastDone = done;
  std::string line = llvm::formatv("{0} run {1}: {2}/{3} samples", stage, runs, done, total).str();
  if (done >= 2) {
    double per = std::chrono::duration<double>(now - afterFirst).count() / double(done - 1);
    line += llvm::formatv(", {0:F2} s/sample", per).str();
    if (done < total)
      line += ", ETA " + clock(per * double(total - done));
  } else if (done == 1 && total > 1) {
    line += llvm::formatv(", first (compiling) {0:F1} s",
                          std::chrono::duration<double>(now - start).count())
                .str();
  }
  if (done >= total)
    line += llvm::formatv(", done in {0}",
                          clock(std::chrono::duration<double>(now - start).count()))
                .str();
  if (redraw) {
    os << "\r" << line << "\x1b[K";
    if (done >= total)
      os << "\n";
  } else {
    os << line << "\n";
  }
  os.flush();
}

} // namespace quantc::tool
