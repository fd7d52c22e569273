//===- Peak.cpp - peak loops chosen by CPU, run on every thread; triad ----===//
#include "Peak.h"
#include "quantc/Runtime/Kernels.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace quantc::bench {

std::vector<PeakLoopInfo> availablePeakLoops() {
  std::vector<PeakLoopInfo> out;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    out.push_back({"f32 FMA, ymm (avx2-fma sgemm's op)", "avx2-fma", false, "", fmaLoopAVX2});
    out.push_back({"int8 vpmaddwd+vpaddd, ymm (avx2 igemm's op, avx2-pairs too)", "avx2", true,
                   "avx2-pairs", maddwdLoopAVX2});
  }
  if (__builtin_cpu_supports("avxvnni"))
    out.push_back({"int8 vpdpbusd u8xs8, ymm (AVX-VNNI; no kernel yet)", "", true, "", dpbusdLoopAVXVNNI});
  if (__builtin_cpu_supports("avx512f")) {
    out.push_back({"f32 FMA, zmm (avx512 sgemm's op)", "avx512", false, "", fmaLoopAVX512});
    if (__builtin_cpu_supports("avx512vnni")) {
      out.push_back({"int8 vpdpwssd, zmm (avx512vnni igemm's op)", "avx512vnni", true, "",
                     dpwssdLoopAVX512});
      out.push_back({"int8 vpdpbusd u8xs8, zmm (avx512vnni-u8s8 igemm, B a weight)", "avx512vnni-u8s8", true, "", dpbusdLoopAVX512});
      if (quantc::rt::amxInt8Usable())
        out.push_back({"int8 tdpbssd s8xs8, AMX tiles (amx igemm, B a weight)", "amx",
                       true, "", tdpbssdLoopAMX});
    }
  }
  return out;
}

namespace {
/// Best of three timed runs of `loop` on `threads` threads at once.
double gops(PeakLoop loop, int threads) {
  const int64_t iters = 20'000'000;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<double> macs(threads);
    std::vector<float> sinks(threads * 16);
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { macs[t] = loop(iters, &sinks[t * 16]); });
    for (auto &th : pool)
      th.join();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double total = 0;
    for (double m : macs)
      total += m;
    best = std::max(best, 2.0 * total / s / 1e9);
  }
  return best;
}
} // namespace

double measureTriad(int threads, int64_t bytesPerArray) {
  const int64_t n = bytesPerArray / 4;
  float *a = static_cast<float *>(std::aligned_alloc(64, n * 4));
  float *b = static_cast<float *>(std::aligned_alloc(64, n * 4));
  float *c = static_cast<float *>(std::aligned_alloc(64, n * 4));
  if (!a || !b || !c) {
    std::free(a), std::free(b), std::free(c);
    return 0;
  }
  auto run = [&](auto body) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        int64_t lo = n * t / threads, hi = n * (t + 1) / threads;
        body(lo, hi);
      });
    for (auto &th : pool)
      th.join();
  };
  run([&](int64_t lo, int64_t hi) { // first touch by the thread that streams it
    for (int64_t i = lo; i < hi; ++i)
      a[i] = 0, b[i] = 1, c[i] = 2;
  });
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    run([&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i)
        a[i] = b[i] + 0.5f * c[i];
    });
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 3.0 * n * 4 / s / 1e9);
  }
  volatile float keep = a[n / 2];
  (void)keep;
  std::free(a), std::free(b), std::free(c);
  return best;
}

std::vector<PeakResult> measurePeaks(int threads) {
  std::vector<PeakResult> out;
  for (const PeakLoopInfo &l : availablePeakLoops())
    out.push_back({l.name, l.path, l.isInt8, gops(l.loop, threads), l.otherPath});
  return out;
}

} // namespace quantc::bench
