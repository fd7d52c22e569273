//===- Peak.h - this machine's own limits, measured ------------*- C++ -*-===//
//
// `quantc-kernel-bench --peak`: the arithmetic peak of each instruction the
// GEMM kernels are built on (float FMA; the int8 products of each ISA
// path) and the memory bandwidth (STREAM's triad), measured on whatever
// machine runs it, so kernel figures can be read as a fraction of this
// machine's limits rather than of a datasheet's.
//
// Each peak loop runs `chains` independent accumulator chains of one
// instruction (more than latency x throughput needs) for a fixed count
// on every thread at once; operations are multiply-adds counted as 2.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_TOOLS_KERNEL_BENCH_PEAK_H
#define QUANTC_TOOLS_KERNEL_BENCH_PEAK_H

#include <cstdint>
#include <string>
#include <vector>

namespace quantc::bench {

struct PeakResult {
  std::string name;  // e.g. "int8 avx512vnni vpdpwssd (the igemm kernel's op)"
  std::string path;  // the kernel-path name it bounds ("avx512vnni"), or ""
  bool isInt8 = false;
  double gopsPerSec = 0;
  std::string otherPath; // a second kernel path on the same op, or "" // 2 x multiply-adds per second, all threads
};

/// One loop of `iters` steps of the instruction; returns the number of
/// multiply-adds done (and keeps the result live through `sink`).
using PeakLoop = double (*)(int64_t iters, float *sink);

/// The loops this CPU can run (told by __builtin_cpu_supports).
struct PeakLoopInfo {
  const char *name;
  const char *path;
  bool isInt8;
  const char *otherPath; // a second kernel path on the same op, or ""
  PeakLoop loop;
};
std::vector<PeakLoopInfo> availablePeakLoops();

/// Every available loop on `threads` threads at once, and the triad.
std::vector<PeakResult> measurePeaks(int threads);
/// STREAM triad a = b + s c over three arrays of `bytesPerArray`, in
/// GB/s (3 arrays' bytes moved per pass, write-allocate not counted).
double measureTriad(int threads, int64_t bytesPerArray);

// The ISA files' loops.
double fmaLoopAVX2(int64_t iters, float *sink);
double maddwdLoopAVX2(int64_t iters, float *sink);
double dpbusdLoopAVXVNNI(int64_t iters, float *sink);
double fmaLoopAVX512(int64_t iters, float *sink);
double dpwssdLoopAVX512(int64_t iters, float *sink);
double dpbusdLoopAVX512(int64_t iters, float *sink);
double tdpbssdLoopAMX(int64_t iters, float *sink);

} // namespace quantc::bench

#endif
