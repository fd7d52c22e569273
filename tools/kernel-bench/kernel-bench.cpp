//===- kernel-bench.cpp - the runtime's GEMMs side by side ----------------===//
//
// Times the float GEMM (the reference) and, on the same shapes in the same
// run, the int8 GEMM (int32 accumulation), the GEMM with 4-bit weights
// dequantized while packing, and the float GEMM with B a weight packed once
// (sgemmConstB) and the int8 GEMM with B a weight packed once
// (igemmS8ConstB); prints each one's time and its speed-up over the float
// GEMM. With --peak, first this machine's measured limits (Peak.h: each
// kernel op's arithmetic peak on the given threads, the triad bandwidth),
// and each GEMM row's float and int8 rate as a fraction of the peak of
// the path that ran. Usage: quantc-kernel-bench [--threads N] [--runs N]
// [--shape MxNxK]... [--peak]
//
//===----------------------------------------------------------------------===//
#include "quantc/Runtime/Kernels.h"
#include "quantc/Runtime/ThreadPool.h"
#include "Peak.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

using namespace quantc::rt;

namespace {
template <typename F> double medianMs(F f, int runs) {
  f();
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    auto s = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s)
                    .count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}
} // namespace

int main(int argc, char **argv) {
  struct Shape {
    int64_t M, N, K;
  };
  int threads = 1, runs = 20;
  std::vector<Shape> only; // --shape MxNxK (repeatable): these instead of the default list
  // --peak is a flag; the other options take a value.
  bool peak = false, lowBit = false;
  std::vector<char *> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--peak"))
      peak = true;
    else if (!std::strcmp(argv[i], "--low-bit"))
      lowBit = true;
    else
      rest.push_back(argv[i]);
  }
  argc = static_cast<int>(rest.size());
  argv = rest.data();
  for (int i = 1; i + 1 < argc; i += 2) {
    long long m = 0, n = 0, k = 0;
    if (!std::strcmp(argv[i], "--threads"))
      threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--runs"))
      runs = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--shape") &&
             std::sscanf(argv[i + 1], "%lldx%lldx%lld", &m, &n, &k) == 3 && m > 0 && n > 0 && k > 0)
      only.push_back(Shape{m, n, k});
    else {
      std::fprintf(stderr, "error: bad option '%s %s'\nusage: quantc-kernel-bench [--threads N] "
                   "[--runs N] [--shape MxNxK]... [--peak] [--low-bit]\n", argv[i], argv[i + 1]);
      return 2;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "error: option '%s' needs a value\n", argv[argc - 1]);
    return 2;
  }
  setNumThreads(threads);
  std::printf("kernel paths: sgemm=%s igemm=%s\n", sgemmKernelName(), igemmKernelName());
  double floatPeak = 0, int8Peak = 0, int8ConstPeak = 0;
  if (peak) {
    std::printf("peaks on %d thread(s) (2 x multiply-adds per second, best of 3):\n", threads);
    for (const auto &p : quantc::bench::measurePeaks(threads)) {
      std::printf("  %-52s %8.1f G%s/s\n", p.name.c_str(), p.gopsPerSec, p.isInt8 ? "OP" : "FLOP");
      if (p.path == sgemmKernelName())
        floatPeak = p.gopsPerSec;
      if (p.path == igemmKernelName())
        int8Peak = p.gopsPerSec;
      if (p.path == igemmConstBKernelName() || p.otherPath == igemmConstBKernelName())
        int8ConstPeak = p.gopsPerSec;
    }
    std::printf("  %-52s %8.1f GB/s\n", "triad a = b + s c, 3 x 256 MiB",
                quantc::bench::measureTriad(threads, int64_t(256) << 20));
  }

  // Then a language model's prompt-sized products (SmolLM2: hidden 576,
  // MLP 1536): a few rows against a large weight.
  std::vector<Shape> shapes = {
      Shape{256, 1024, 1024}, Shape{64, 3840, 120}, Shape{480, 64, 576}, Shape{40, 480, 240},
      Shape{4, 1536, 576}, Shape{8, 1536, 576}, Shape{16, 1536, 576}, Shape{8, 576, 1536},
      Shape{32, 1536, 576},
      // MiniLM at 128 tokens: projections, FFN in and out.
      Shape{128, 384, 384}, Shape{128, 1536, 384}, Shape{128, 384, 1536},
      // SmolLM2's prompt of 256 tokens: q/o and k/v projections, MLP
      // in and out, output head.
      Shape{256, 576, 576}, Shape{256, 192, 576}, Shape{256, 1536, 576}, Shape{256, 576, 1536},
      Shape{256, 49152, 576}};
  if (!only.empty())
    shapes = only;
  if (lowBit) {
    // 3- and 2-bit weights (bit planes widened to nibbles per product)
    // against 4-bit nibbles, groups of 128, in the same run.
    std::printf("f32 x uintB g128 weights, median of %d runs, ms (time / 4-bit time)\n", runs);
    std::printf("%-18s %10s %20s %20s\n", "M x N x K", "4-bit", "3-bit planes", "2-bit planes");
    for (Shape s : shapes) {
      std::vector<float> a(s.M * s.K, 0.5f), c(s.M * s.N);
      int64_t half = (s.N + 1) / 2, groups = (s.K + 127) / 128;
      int64_t lw = (s.N + 3) / 4, hw = (s.N + 7) / 8;
      std::vector<int8_t> packed(s.K * half, 0x37), low(s.K * lw, 0x1b), high(s.K * hw, 0x5a),
          zp(groups * s.N, 2);
      std::vector<float> scale(groups * s.N, 0.01f);
      Int4Weights w4{packed.data(), half, 1, scale.data(), s.N, 1, zp.data(), s.N, 1, 128, false};
      LowBitWeights w3{low.data(), lw, high.data(), hw, 3, scale.data(), s.N, 1,
                       zp.data(), s.N, 1, 128};
      LowBitWeights w2 = w3;
      w2.bits = 2;
      Matrix A{a.data(), s.K, 1};
      double t4 = medianMs([&] { sgemmW4(s.M, s.N, s.K, A, w4, c.data(), s.N); }, runs);
      double t3 = medianMs([&] { sgemmLowBit(s.M, s.N, s.K, A, w3, c.data(), s.N); }, runs);
      double t2 = medianMs([&] { sgemmLowBit(s.M, s.N, s.K, A, w2, c.data(), s.N); }, runs);
      std::printf("%lldx%lldx%-10lld %10.3f %12.3f (%4.2fx) %12.3f (%4.2fx)\n", (long long)s.M,
                  (long long)s.N, (long long)s.K, t4, t3, t3 / t4, t2, t2 / t4);
    }
    return 0;
  }
  std::printf("threads %d, median of %d runs, ms (speed-up over the float GEMM)\n", threads, runs);
  std::printf("igemm with B a weight (packed once): %s\n", igemmConstBKernelName());
  std::printf("%-18s %10s %20s %20s %20s %20s%s\n", "M x N x K", "f32", "int8 -> int32",
              "f32 x int4 g128", "f32, B packed once", "int8, B packed once",
              peak ? "   f32 % of peak  int8 % of peak  int8 B once % of peak" : "");
  for (Shape s : shapes) {
    // C 64-byte aligned, as the compiled models' outputs and buffers are
    // (a std::vector's large blocks are 16 bytes into a page).
    std::vector<float> a(s.M * s.K, 0.5f), b(s.K * s.N, 0.25f);
    std::unique_ptr<float[], void (*)(void *)> c(
        static_cast<float *>(std::aligned_alloc(64, (s.M * s.N * 4 + 63) / 64 * 64)), std::free);
    // The int8 A and C 64-byte aligned too (a quantized model's
    // activations and accumulators are).
    std::vector<int8_t> bi(s.K * s.N, -2);
    std::unique_ptr<int8_t[], void (*)(void *)> aiBuf(
        static_cast<int8_t *>(std::aligned_alloc(64, (s.M * s.K + 63) / 64 * 64)), std::free);
    std::unique_ptr<int32_t[], void (*)(void *)> ciBuf(
        static_cast<int32_t *>(std::aligned_alloc(64, (s.M * s.N * 4 + 63) / 64 * 64)), std::free);
    std::fill(aiBuf.get(), aiBuf.get() + s.M * s.K, int8_t(3));
    std::fill(ciBuf.get(), ciBuf.get() + s.M * s.N, 0);
    int8_t *ai = aiBuf.get();
    int32_t *ci = ciBuf.get();
    int64_t half = (s.N + 1) / 2, groups = (s.K + 127) / 128;
    std::vector<int8_t> packed(s.K * half, 0x37), zp(groups * s.N, 8);
    std::vector<float> scale(groups * s.N, 0.01f);
    Int4Weights w{packed.data(), half, 1, scale.data(), s.N, 1, zp.data(), s.N, 1, 128, false};
    double tf = medianMs([&] { sgemm(s.M, s.N, s.K, Matrix{a.data(), s.K, 1},
                                     Matrix{b.data(), s.N, 1}, c.get(), s.N); }, runs);
    double ti = medianMs([&] { igemmS8(s.M, s.N, s.K, MatrixS8{ai, s.K, 1},
                                       MatrixS8{bi.data(), s.N, 1}, ci, s.N); }, runs);
    double t4 = medianMs([&] { sgemmW4(s.M, s.N, s.K, Matrix{a.data(), s.K, 1}, w, c.get(),
                                       s.N); }, runs);
    // The same float product with B a weight: packed on the first call
    // (medianMs's untimed warm-up) and read from the cache after.
    double tc = medianMs([&] { sgemmConstB(s.M, s.N, s.K, Matrix{a.data(), s.K, 1},
                                           Matrix{b.data(), s.N, 1}, c.get(), s.N); }, runs);
    double tic = medianMs([&] { igemmS8ConstB(s.M, s.N, s.K, MatrixS8{ai, s.K, 1},
                                              MatrixS8{bi.data(), s.N, 1}, ci, s.N); },
                          runs);
    releasePackedWeights();
    char shape[64];
    std::snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)s.M, (long long)s.N,
                  (long long)s.K);
    std::printf("%-18s %10.3f %12.3f (%4.2fx) %12.3f (%4.2fx) %12.3f (%4.2fx) %12.3f (%4.2fx)",
                shape, tf, ti, tf / ti, t4, tf / t4, tc, tf / tc, tic, tf / tic);
    if (peak) {
      const double ops = 2.0 * s.M * s.N * s.K;
      auto pct = [&](double ms, double peakG) { return peakG > 0 ? 100.0 * ops / (ms * 1e6) / peakG : 0.0; };
      std::printf(" %14.0f%% %14.0f%% %20.0f%%", pct(tf, floatPeak), pct(ti, int8Peak),
                  pct(tic, int8ConstPeak));
    }
    std::printf("\n");
  }
  return 0;
}
