//===- RuntimeKernelsTest.cpp - the runtime's kernels against naive loops -===//
//
// sgemm, conv2d and depthwiseConv2d against straightforward double-precision
// loops, and the int8 igemmS8 / conv2dS8 bit-exactly against int64 loops, over shapes that are not multiples of the blocking (MR, NR, KC,
// MC, NC), strided operands, padding, strides and dilations. CTest runs the
// suite once with the best micro-kernel of this CPU and once with
// QUANTC_CPU_KERNELS=generic.
//
//===----------------------------------------------------------------------===//
#include "quantc/Runtime/Kernels.h"
#include "quantc/Runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <random>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <vector>

using namespace quantc::rt;

namespace {
std::vector<float> randomVector(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(gen);
  return v;
}

void expectClose(const std::vector<float> &got, const std::vector<double> &want, double sumAbs) {
  ASSERT_EQ(got.size(), want.size());
  // float accumulation over K terms: error grows with the magnitude summed.
  double tol = 1e-5 * std::max(1.0, sumAbs);
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol) << "at flat index " << i;
}

struct GemmCase {
  int64_t M, N, K;
  bool transA, transB;
};

class SGemm : public ::testing::TestWithParam<GemmCase> {};

TEST_P(SGemm, MatchesNaiveLoops) {
  auto [M, N, K, transA, transB] = GetParam();
  auto a = randomVector(M * K, 1), b = randomVector(K * N, 2), c0 = randomVector(M * N, 3);
  // A stored K x M when transposed: element (i, k) at a[k * M + i].
  Matrix A = transA ? Matrix{a.data(), 1, M} : Matrix{a.data(), K, 1};
  Matrix B = transB ? Matrix{b.data(), 1, K} : Matrix{b.data(), N, 1};
  std::vector<double> want(M * N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = c0[i * N + j];
      for (int64_t k = 0; k < K; ++k)
        acc += double(A.ptr[i * A.rs + k * A.cs]) * B.ptr[k * B.rs + j * B.cs];
      want[i * N + j] = acc;
    }
  for (int threads : {1, 2}) {
    setNumThreads(threads);
    std::vector<float> c = c0;
    sgemm(M, N, K, A, B, c.data(), N);
    expectClose(c, want, double(K));
    // The same B as a weight: packed on the first call and kept, read
    // from the cache on the second (with other threads, other blocks).
    for (int call = 0; call < 2; ++call) {
      c = c0;
      sgemmConstB(M, N, K, A, B, c.data(), N);
      expectClose(c, want, double(K));
    }
    // overwrite: C = A * B with C's old contents (NaN here) never read.
    std::vector<double> product(M * N);
    for (int64_t i = 0; i < M * N; ++i)
      product[i] = want[i] - c0[i];
    std::fill(c.begin(), c.end(), std::nanf(""));
    sgemm(M, N, K, A, B, c.data(), N, /*overwrite=*/true);
    expectClose(c, product, double(K));
    std::fill(c.begin(), c.end(), std::nanf(""));
    sgemmConstB(M, N, K, A, B, c.data(), N, /*overwrite=*/true);
    expectClose(c, product, double(K));
  }
  // b is freed after this test; another case's B may take its address.
  releasePackedWeights();
  setNumThreads(0);
}

// The packed-weights cache is keyed by address: new weights at the same
// address are read stale until releasePackedWeights() (what a JIT model's
// destructor calls), and correctly after it.
TEST(SGemmConstB, ReleasedCacheReadsNewWeightsAtTheSameAddress) {
  const int64_t M = 20, N = 70, K = 300;
  auto a = randomVector(M * K, 5), b = randomVector(K * N, 6);
  auto reference = [&] {
    std::vector<double> want(M * N, 0.0);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j)
        for (int64_t k = 0; k < K; ++k)
          want[i * N + j] += double(a[i * K + k]) * b[k * N + j];
    return want;
  };
  std::vector<float> c(M * N, 0.0f);
  sgemmConstB(M, N, K, Matrix{a.data(), K, 1}, Matrix{b.data(), N, 1}, c.data(), N);
  expectClose(c, reference(), double(K));
  auto other = randomVector(K * N, 7);
  std::copy(other.begin(), other.end(), b.begin()); // same buffer, other values
  releasePackedWeights();
  std::fill(c.begin(), c.end(), 0.0f);
  sgemmConstB(M, N, K, Matrix{a.data(), K, 1}, Matrix{b.data(), N, 1}, c.data(), N);
  expectClose(c, reference(), double(K));
  releasePackedWeights();
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SGemm,
    ::testing::Values(GemmCase{1, 1, 1, false, false}, GemmCase{8, 32, 16, false, false},
                      GemmCase{7, 33, 5, false, false}, GemmCase{13, 70, 300, false, false},
                      GemmCase{130, 260, 257, false, false}, GemmCase{40, 360, 120, false, true},
                      GemmCase{24, 100, 864, true, false}, GemmCase{3, 5, 700, true, true},
                      GemmCase{129, 31, 9, false, true},
                      // M <= 4 with unit-stride B: the skinny kernels
                      // (SkinnyGemm.h), column tails of every width.
                      GemmCase{1, 576, 576, false, false}, GemmCase{1, 1, 3, false, false},
                      GemmCase{1, 65, 33, true, false}, GemmCase{2, 300, 129, false, false},
                      GemmCase{3, 17, 200, true, false}, GemmCase{4, 129, 64, false, false},
                      GemmCase{4, 40, 7, false, false}, GemmCase{5, 63, 31, false, false},
                      GemmCase{2, 33, 65, false, true},
                      // With 2 threads and K >= 128 the skinny product
                      // splits K (each thread a contiguous block of B's
                      // rows, partials summed after); N >= 8192 sums the
                      // partials on all threads.
                      GemmCase{1, 8200, 130, false, false}, GemmCase{4, 9000, 257, true, false},
                      // 5..8 rows: blocks of 4 rows over L2-sized column
                      // tasks (K = 700: 176 columns a task), 9 past it.
                      GemmCase{6, 1100, 700, false, false}, GemmCase{8, 177, 3000, true, false},
                      GemmCase{9, 200, 50, false, false},
                      // Column blocks shared evenly (balancedColumnBlocks):
                      // 18 panels in 6 blocks of 3, 6 in 2 of 3; 9 and 1
                      // panels (above) also split rows.
                      GemmCase{40, 576, 300, false, false}, GemmCase{24, 192, 64, false, false},
                      // More rows than the whole-A path takes (1024): row
                      // blocks of their own.
                      GemmCase{1030, 70, 40, false, false},
                      // Packed-once weights are K x NR panels: read by the
                      // direct-A path in one slice (K <= 1536) or several
                      // (K > 1536), and by the row blocks in 192-deep slices.
                      GemmCase{30, 100, 1000, false, false}, GemmCase{30, 70, 1700, false, false},
                      GemmCase{1030, 40, 700, false, false}));

struct ConvCase {
  int64_t C, H, W, M, KH, KW, sh, sw, dh, dw, padT, padL;
};

class Conv2D : public ::testing::TestWithParam<ConvCase> {};

int64_t outSize(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pad);
std::vector<int8_t> randomS8(size_t n, unsigned seed);

/// The geometry of a case: a dense C x H x W image, padding on both sides.
Conv2DShape shapeOf(const ConvCase &p) {
  Conv2DShape s{};
  s.C = p.C; s.H = p.H; s.W = p.W; s.M = p.M; s.KH = p.KH; s.KW = p.KW;
  s.sh = p.sh; s.sw = p.sw; s.dh = p.dh; s.dw = p.dw; s.padT = p.padT; s.padL = p.padL;
  s.OH = outSize(p.H, p.KH, p.sh, p.dh, p.padT);
  s.OW = outSize(p.W, p.KW, p.sw, p.dw, p.padL);
  s.xsC = p.H * p.W; s.xsH = p.W; s.xsW = 1;
  return s;
}

/// Output size of a convolution with padding `pad` on both sides.
int64_t outSize(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pad) {
  return (in + 2 * pad - d * (k - 1) - 1) / s + 1;
}

TEST_P(Conv2D, DenseAndDepthwiseMatchNaiveLoops) {
  ConvCase p = GetParam();
  Conv2DShape s = shapeOf(p);
  auto x = randomVector(p.C * p.H * p.W, 4);
  auto tap = [&](int64_t c, int64_t oy, int64_t ox, int64_t ky, int64_t kx) -> double {
    int64_t iy = oy * s.sh + ky * s.dh - s.padT, ix = ox * s.sw + kx * s.dw - s.padL;
    return iy < 0 || iy >= s.H || ix < 0 || ix >= s.W ? 0.0 : x[c * s.xsC + iy * s.W + ix];
  };
  {
    auto w = randomVector(p.M * p.C * p.KH * p.KW, 5);
    std::vector<double> want(p.M * s.OH * s.OW, 0.0);
    for (int64_t m = 0; m < p.M; ++m)
      for (int64_t oy = 0; oy < s.OH; ++oy)
        for (int64_t ox = 0; ox < s.OW; ++ox) {
          double acc = 0;
          for (int64_t c = 0; c < p.C; ++c)
            for (int64_t ky = 0; ky < p.KH; ++ky)
              for (int64_t kx = 0; kx < p.KW; ++kx)
                acc += w[((m * p.C + c) * p.KH + ky) * p.KW + kx] * tap(c, oy, ox, ky, kx);
          want[(m * s.OH + oy) * s.OW + ox] = acc;
        }
    std::vector<float> out(want.size(), 0.0f);
    conv2d(s, x.data(), w.data(), out.data());
    expectClose(out, want, double(p.C * p.KH * p.KW));
    // Overwriting with a bias: the output's old contents (garbage here)
    // never read, bias[m] added once whatever the K slices.
    {
      auto bias = randomVector(p.M, 8);
      std::vector<float> set = randomVector(want.size(), 9);
      std::vector<double> wantB(want);
      for (size_t i = 0; i < wantB.size(); ++i)
        wantB[i] += bias[i / (s.OH * s.OW)];
      conv2d(s, x.data(), w.data(), set.data(), true, bias.data());
      expectClose(set, wantB, double(p.C * p.KH * p.KW));
      std::vector<float> zero = randomVector(want.size(), 10);
      conv2d(s, x.data(), w.data(), zero.data(), true);
      expectClose(zero, want, double(p.C * p.KH * p.KW));
    }
    // The path conv2d took, and the direct kernel against the im2col GEMM
    // on an output that already holds values (both add into it): the same
    // sums in the same order, so the same bits.
    std::string path = denseConvPath(s);
    std::printf("  conv %lldx%lldx%lld -> %lld, %lldx%lld: %s\n", (long long)p.C, (long long)p.H,
                (long long)p.W, (long long)p.M, (long long)p.KH, (long long)p.KW, path.c_str());
    if (path != "im2col-gemm") {
      std::vector<float> a = randomVector(want.size(), 7), b = a;
      conv2d(s, x.data(), w.data(), a.data());
      conv2dGemm(s, x.data(), w.data(), b.data());
      size_t differ = 0;
      for (size_t i = 0; i < a.size(); ++i)
        differ += !(a[i] == b[i]);
      EXPECT_EQ(differ, 0u) << path << " against the im2col GEMM";
    }
  }
  {
    auto w = randomVector(p.C * p.KH * p.KW, 6);
    Conv2DShape d = s;
    d.M = p.C;
    std::vector<double> want(p.C * s.OH * s.OW, 0.0);
    for (int64_t c = 0; c < p.C; ++c)
      for (int64_t oy = 0; oy < s.OH; ++oy)
        for (int64_t ox = 0; ox < s.OW; ++ox) {
          double acc = 0;
          for (int64_t ky = 0; ky < p.KH; ++ky)
            for (int64_t kx = 0; kx < p.KW; ++kx)
              acc += w[(c * p.KH + ky) * p.KW + kx] * tap(c, oy, ox, ky, kx);
          want[(c * s.OH + oy) * s.OW + ox] = acc;
        }
    // 64 sentinels past the output: nothing may be written beyond it.
    std::vector<float> out(want.size() + 64, 0.0f);
    std::fill(out.begin() + want.size(), out.end(), 12345.0f);
    depthwiseConv2d(d, x.data(), w.data(), out.data());
    for (size_t i = want.size(); i < out.size(); ++i)
      ASSERT_EQ(out[i], 12345.0f) << "depthwiseConv2d wrote past its output, at " << i;
    out.resize(want.size());
    expectClose(out, want, double(p.KH * p.KW));
    // Overwriting, with a bias and without: old contents never read.
    auto bias = randomVector(p.C, 8);
    std::vector<float> set = randomVector(want.size(), 9), zero = randomVector(want.size(), 10);
    std::vector<double> wantB(want);
    for (size_t i = 0; i < wantB.size(); ++i)
      wantB[i] += bias[i / (s.OH * s.OW)];
    depthwiseConv2d(d, x.data(), w.data(), set.data(), true, bias.data());
    expectClose(set, wantB, double(p.KH * p.KW));
    depthwiseConv2d(d, x.data(), w.data(), zero.data(), true);
    expectClose(zero, want, double(p.KH * p.KW));
  }
  {
    // int8 depthwise into int32, bit-exact against int64 loops: added to
    // an output holding values, and overwriting one holding garbage.
    auto xs = randomS8(p.C * p.H * p.W, 21), ws = randomS8(p.C * p.KH * p.KW, 22);
    // The extremes again for the weights (-128 * -128 in every tap of
    // channel 0: the largest sums).
    for (int64_t k = 0; k < p.KH * p.KW; ++k)
      ws[k] = -128;
    Conv2DShape d = s;
    d.M = p.C;
    std::vector<int32_t> c0(p.C * s.OH * s.OW), want(c0.size());
    for (int64_t c = 0; c < p.C; ++c)
      for (int64_t oy = 0; oy < s.OH; ++oy)
        for (int64_t ox = 0; ox < s.OW; ++ox) {
          const int64_t at = (c * s.OH + oy) * s.OW + ox;
          c0[at] = int32_t(at % 1000) - 500;
          int64_t acc = 0;
          for (int64_t ky = 0; ky < p.KH; ++ky)
            for (int64_t kx = 0; kx < p.KW; ++kx) {
              int64_t iy = oy * s.sh + ky * s.dh - s.padT, ix = ox * s.sw + kx * s.dw - s.padL;
              if (iy >= 0 && iy < s.H && ix >= 0 && ix < s.W)
                acc += int64_t(ws[(c * p.KH + ky) * p.KW + kx]) * xs[c * s.xsC + iy * s.W + ix];
            }
          want[at] = int32_t(acc);
        }
    std::vector<int32_t> acc = c0, set(c0.size(), 0x5a5a5a5a);
    depthwiseConv2dS8(d, xs.data(), ws.data(), acc.data());
    depthwiseConv2dS8(d, xs.data(), ws.data(), set.data(), true);
    size_t badAcc = 0, badSet = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      badAcc += !(acc[i] == c0[i] + want[i]);
      badSet += !(set[i] == want[i]);
    }
    EXPECT_EQ(badAcc, 0u) << "int8 depthwise, accumulating";
    EXPECT_EQ(badSet, 0u) << "int8 depthwise, overwriting";
    // With an epilogue: each channel's plane handed over once, as
    // channel c's block [c, c + 1) x [0, OH * OW).
    struct Seen {
      std::vector<int32_t> value;
      std::vector<int> visits;
      int64_t plane, C;
      bool blocks = true;
    } seen{std::vector<int32_t>(want.size(), 0), std::vector<int>(want.size(), 0),
           s.OH * s.OW, p.C};
    auto record = [](void *ctx, const int32_t *tile, int64_t ld, int64_t m0, int64_t m1,
                     int64_t n0, int64_t n1) {
      auto *st = static_cast<Seen *>(ctx);
      if (!(0 <= m0 && m1 == m0 + 1 && m1 <= st->C && n0 == 0 && n1 == st->plane)) {
        st->blocks = false;
        return;
      }
      for (int64_t n = n0; n < n1; ++n) {
        st->value[m0 * st->plane + n] = tile[n - n0];
        ++st->visits[m0 * st->plane + n];
      }
      (void)ld;
    };
    depthwiseConv2dS8Epilogue(d, xs.data(), ws.data(), Epilogue{record, &seen});
    EXPECT_TRUE(seen.blocks) << "int8 depthwise epilogue: a block other than one plane";
    size_t badEpi = 0;
    for (size_t i = 0; i < want.size(); ++i)
      badEpi += !(seen.visits[i] == 1 && seen.value[i] == want[i]);
    EXPECT_EQ(badEpi, 0u) << "int8 depthwise, with an epilogue";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Conv2D,
    ::testing::Values(
        // C  H   W   M  KH KW sh sw dh dw padT padL
        ConvCase{3, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1},   // same padding
        ConvCase{3, 17, 19, 16, 3, 3, 2, 2, 1, 1, 1, 1},  // stride 2, odd sizes
        ConvCase{5, 12, 40, 7, 1, 3, 1, 1, 1, 1, 0, 1},   // 1x3, row padding only
        ConvCase{16, 9, 9, 33, 1, 1, 1, 1, 1, 1, 0, 0},   // pointwise
        ConvCase{4, 20, 20, 6, 3, 3, 1, 1, 2, 2, 2, 2},   // dilation 2
        ConvCase{6, 15, 15, 5, 5, 5, 3, 2, 1, 1, 2, 2},   // 5x5, strides 3 and 2
        ConvCase{2, 6, 70, 40, 3, 3, 1, 1, 1, 1, 0, 0},   // no padding, wide rows
        // K = 360 > one 256-deep slice: the second starts inside channel 28
        ConvCase{40, 13, 21, 10, 3, 3, 1, 1, 1, 1, 1, 1},
        ConvCase{30, 11, 9, 12, 3, 3, 2, 1, 1, 2, 1, 2},   // stride 2 x 1, dilation 1 x 2
        // the direct kernel: 20 channels (a block of 12 and one of 8),
        // rows of 40 (a tile of 32 and one of 8), vertical stride and
        // dilation 2, K = 216 and (below) 2 slices of 256 taps
        ConvCase{24, 10, 40, 20, 3, 3, 2, 1, 2, 1, 1, 1},
        ConvCase{64, 7, 33, 48, 3, 3, 1, 1, 1, 1, 1, 1},
        // Depthwise without padding (the AVX-512 kernel: blocks of 4 rows
        // and of 1-4 x 16 outputs): 5x5 stride 2 x 1, 6 rows of 40
        // outputs (a partial row block, a partial column block); stride
        // 1 x 2, 7 rows of 10; 9 rows of 70 (two column passes).
        ConvCase{8, 16, 44, 8, 5, 5, 2, 1, 1, 1, 0, 0},
        ConvCase{3, 9, 21, 3, 3, 3, 1, 2, 1, 1, 0, 0},
        ConvCase{2, 11, 72, 2, 3, 3, 1, 1, 1, 1, 0, 0},
        // The AVX2 loops (blocks of 3 rows and of 1-4 x 8 outputs): the
        // cases above, and a horizontal stride of 3 (gathered taps), 11
        // outputs a row (a block of 8 and one of 3), 5 rows.
        ConvCase{3, 11, 33, 3, 3, 3, 2, 3, 1, 1, 0, 0},
        // 33 x 33 = 1089 taps: past what f32 sums hold exactly for int8
        // (the int8 depthwise takes its int32 loop).
        ConvCase{2, 40, 36, 2, 33, 33, 1, 1, 1, 1, 0, 0}));

std::vector<int8_t> randomS8(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<int8_t> v(n);
  for (int8_t &x : v)
    x = static_cast<int8_t>(dist(gen));
  // The extremes, where a saturating 16-bit sum (u8 x s8 pmaddubsw) would
  // go wrong: -128 * -128 twice in a pair.
  for (size_t i = 0; i < n && i < 8; ++i)
    v[i] = -128;
  return v;
}

class IGemm : public ::testing::TestWithParam<GemmCase> {};

/// What an epilogue was handed: each element's value and visit count (M
/// rows of N), and whether every block lay inside the result.
struct EpilogueSeen {
  std::vector<int32_t> value;
  std::vector<int> visits;
  int64_t M, N;
  bool inRange = true;
  EpilogueSeen(int64_t M, int64_t N) : value(M * N, 0), visits(M * N, 0), M(M), N(N) {}
  Epilogue epilogue() { return Epilogue{record, this}; }
  static void record(void *ctx, const int32_t *tile, int64_t ld, int64_t m0, int64_t m1,
                     int64_t n0, int64_t n1) {
    auto *st = static_cast<EpilogueSeen *>(ctx);
    if (!(0 <= m0 && m0 <= m1 && m1 <= st->M && 0 <= n0 && n0 <= n1 && n1 <= st->N)) {
      st->inRange = false;
      return;
    }
    for (int64_t m = m0; m < m1; ++m)
      for (int64_t n = n0; n < n1; ++n) {
        st->value[m * st->N + n] = tile[(m - m0) * ld + (n - n0)];
        ++st->visits[m * st->N + n];
      }
  }
};

/// igemmS8ConstBEpilogue hands every element of A * B over exactly once,
/// with its value (`want`, M x N), in blocks inside the product.
void expectConstBEpilogue(int64_t M, int64_t N, int64_t K, MatrixS8 A, MatrixS8 B,
                          const std::vector<int32_t> &want, int threads) {
  EpilogueSeen seen(M, N);
  igemmS8ConstBEpilogue(M, N, K, A, B, seen.epilogue());
  ASSERT_TRUE(seen.inRange) << "epilogue block outside the product";
  for (int64_t i = 0; i < M * N; ++i) {
    ASSERT_EQ(seen.visits[i], 1) << "igemmS8ConstBEpilogue (" << igemmConstBKernelName() << ") "
                                 << M << "x" << N << "x" << K << ", " << threads
                                 << " threads, at flat index " << i;
    ASSERT_EQ(seen.value[i], want[i]) << "igemmS8ConstBEpilogue (" << igemmConstBKernelName()
                                      << ") " << M << "x" << N << "x" << K << ", " << threads
                                      << " threads, at flat index " << i;
  }
}

TEST_P(IGemm, BitExactAgainstInt64Loops) {
  auto [M, N, K, transA, transB] = GetParam();
  auto a = randomS8(M * K, 11), b = randomS8(K * N, 12);
  MatrixS8 A = transA ? MatrixS8{a.data(), 1, M} : MatrixS8{a.data(), K, 1};
  MatrixS8 B = transB ? MatrixS8{b.data(), 1, K} : MatrixS8{b.data(), N, 1};
  std::vector<int32_t> c0(M * N), want(M * N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      c0[i * N + j] = static_cast<int32_t>((i * 7 + j * 3) % 1000) - 500;
      int64_t acc = c0[i * N + j];
      for (int64_t k = 0; k < K; ++k)
        acc += int64_t(A.ptr[i * A.rs + k * A.cs]) * B.ptr[k * B.rs + j * B.cs];
      want[i * N + j] = static_cast<int32_t>(acc);
    }
  for (int threads : {1, 2}) {
    setNumThreads(threads);
    std::vector<int32_t> c = c0;
    igemmS8(M, N, K, A, B, c.data(), N);
    for (size_t i = 0; i < c.size(); ++i)
      ASSERT_EQ(c[i], want[i]) << "at flat index " << i << " with " << threads << " threads";
    // B as a weight: packed once (u8 x s8 quads where the CPU has AVX-512
    // VNNI), then read from the cache by the second call.
    for (int call = 0; call < 2; ++call) {
      c = c0;
      igemmS8ConstB(M, N, K, A, B, c.data(), N);
      for (size_t i = 0; i < c.size(); ++i)
        ASSERT_EQ(c[i], want[i]) << "igemmS8ConstB (" << igemmConstBKernelName() << ", call "
                                 << call << ") at flat index " << i << " with " << threads
                                 << " threads";
    }
    // overwrite: C = A * B whatever C held.
    c.assign(M * N, 0x5a5a5a5a);
    igemmS8ConstB(M, N, K, A, B, c.data(), N, /*overwrite=*/true);
    for (size_t i = 0; i < c.size(); ++i)
      ASSERT_EQ(c[i], want[i] - c0[i]) << "igemmS8ConstB overwrite at flat index " << i;
    // With an epilogue instead of C.
    std::vector<int32_t> product(M * N);
    for (size_t i = 0; i < product.size(); ++i)
      product[i] = want[i] - c0[i];
    expectConstBEpilogue(M, N, K, A, B, product, threads);
  }
  releasePackedWeights();
  setNumThreads(0);
}

// A 64-byte aligned with K a multiple of 64: on the AMX path its whole
// 32-row blocks are read in place (the last partial block packed); K of
// 1 to 25 tiles, so one to three K slices, with and without overwrite,
// 1 and 2 threads, against int64 loops.
TEST(IGemmConstB, AlignedRowsBitExactAgainstInt64Loops) {
  struct Case { int64_t M, N, K; };
  for (Case cs : {Case{16, 33, 64}, Case{70, 100, 832}, Case{96, 64, 1600}, Case{45, 130, 256}}) {
    const int64_t M = cs.M, N = cs.N, K = cs.K;
    auto src = randomS8(M * K, 31), b = randomS8(K * N, 32);
    std::unique_ptr<int8_t[], void (*)(void *)> a(
        static_cast<int8_t *>(std::aligned_alloc(64, (M * K + 63) / 64 * 64)), std::free);
    std::copy(src.begin(), src.end(), a.get());
    const MatrixS8 A{a.get(), K, 1};
    std::printf("igemmS8ConstB %lldx%lldx%lld: %s, A read in place: %s\n", (long long)M,
                (long long)N, (long long)K, igemmConstBKernelName(),
                igemmConstBReadsAInPlace(M, K, A) ? "yes" : "no");
    if (std::string(igemmConstBKernelName()) == "amx")
      EXPECT_TRUE(igemmConstBReadsAInPlace(M, K, A));
    std::vector<int32_t> c0(M * N), want(M * N);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        c0[i * N + j] = static_cast<int32_t>((i * 5 + j * 11) % 777) - 300;
        int64_t acc = 0;
        for (int64_t k = 0; k < K; ++k)
          acc += int64_t(a[i * K + k]) * b[k * N + j];
        want[i * N + j] = static_cast<int32_t>(acc);
      }
    for (int threads : {1, 2}) {
      setNumThreads(threads);
      std::vector<int32_t> c = c0;
      igemmS8ConstB(M, N, K, A, MatrixS8{b.data(), N, 1}, c.data(), N);
      for (size_t i = 0; i < c.size(); ++i)
        ASSERT_EQ(c[i], want[i] + c0[i]) << M << "x" << N << "x" << K << " at flat index " << i
                                         << " with " << threads << " threads";
      c.assign(M * N, 0x5a5a5a5a);
      igemmS8ConstB(M, N, K, A, MatrixS8{b.data(), N, 1}, c.data(), N, /*overwrite=*/true);
      for (size_t i = 0; i < c.size(); ++i)
        ASSERT_EQ(c[i], want[i]) << M << "x" << N << "x" << K << " overwrite at flat index " << i
                                 << " with " << threads << " threads";
      expectConstBEpilogue(M, N, K, A, MatrixS8{b.data(), N, 1}, want, threads);
    }
  }
  releasePackedWeights();
  setNumThreads(0);
}

TEST(IGemmConstB, ReleasedCacheReadsNewWeightsAtTheSameAddress) {
  std::printf("igemmS8ConstB path: %s\n", igemmConstBKernelName());
  const int64_t M = 40, N = 70, K = 50;
  auto a = randomS8(M * K, 21), b = randomS8(K * N, 22);
  auto run = [&] {
    std::vector<int32_t> c(M * N, 0);
    igemmS8ConstB(M, N, K, MatrixS8{a.data(), K, 1}, MatrixS8{b.data(), N, 1}, c.data(), N);
    return c;
  };
  auto want = [&] {
    std::vector<int32_t> c(M * N, 0);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j)
        for (int64_t k = 0; k < K; ++k)
          c[i * N + j] += int32_t(a[i * K + k]) * b[k * N + j];
    return c;
  };
  ASSERT_EQ(run(), want());
  for (auto &v : b)
    v = static_cast<int8_t>(-v / 2);
  releasePackedWeights();
  ASSERT_EQ(run(), want());
  releasePackedWeights();
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, IGemm,
    ::testing::Values(GemmCase{1, 1, 1, false, false}, GemmCase{6, 16, 2, false, false},
                      GemmCase{7, 33, 5, false, false}, GemmCase{13, 70, 301, false, false},
                      GemmCase{130, 260, 1025, false, false}, GemmCase{40, 360, 120, false, true},
                      GemmCase{24, 100, 864, true, false}, GemmCase{3, 5, 700, true, true},
                      GemmCase{129, 31, 9, false, true},
                      // M <= 4 with unit-stride B: the skinny kernels
                      // (SkinnyIGemm.h), odd K, column tails of every width.
                      GemmCase{1, 1000, 301, false, false}, GemmCase{3, 96, 7, true, false},
                      GemmCase{1, 576, 576, false, false}, GemmCase{1, 1, 3, false, false},
                      GemmCase{1, 65, 33, true, false}, GemmCase{2, 300, 129, false, false},
                      GemmCase{3, 17, 200, true, false}, GemmCase{4, 129, 64, false, false},
                      GemmCase{4, 40, 7, false, false}, GemmCase{5, 63, 31, false, false},
                      GemmCase{2, 33, 65, false, true},
                      // Wide and deep decode-shaped products.
                      GemmCase{1, 8200, 130, false, false}, GemmCase{4, 300, 515, true, false},
                      // 5..32 rows: the skinny kernel on blocks of 4 rows
                      // (a partial last block), and 33 rows past it.
                      GemmCase{9, 130, 77, false, false}, GemmCase{32, 129, 64, false, false},
                      GemmCase{17, 1100, 40, true, false}, GemmCase{33, 70, 33, false, false},
                      // Above decode size for igemmS8ConstB's quads: row
                      // panels of 12 with tails, K past one slice of 1024
                      // and not a multiple of 4, column tails.
                      GemmCase{128, 384, 384, false, false}, GemmCase{61, 45, 1103, false, false},
                      GemmCase{37, 97, 6, false, false},
                      // AMX tiles (16+ rows, K of at least one 64-byte tile):
                      // one partial 32-row block, K padded to whole tiles,
                      // K of exactly one tile, a K below one tile (quads),
                      // whole 32x32 blocks over a deep K.
                      GemmCase{16, 33, 64, false, false}, GemmCase{47, 65, 200, false, true},
                      GemmCase{64, 64, 60, false, false}, GemmCase{64, 96, 2048, false, false},
                      // B packed once as int8 pairs (IGemmPairs.h, AVX2
                      // without the quads): rows past one pass of 192 in
                      // passes of unequal row panels, an odd K over three
                      // k blocks of 512, both operands strided.
                      GemmCase{400, 40, 1031, false, false}, GemmCase{200, 17, 33, true, true}));

class Conv2DS8 : public ::testing::TestWithParam<ConvCase> {};

TEST_P(Conv2DS8, BitExactAgainstInt64Loops) {
  ConvCase p = GetParam();
  Conv2DShape s = shapeOf(p);
  auto x = randomS8(p.C * p.H * p.W, 14), w = randomS8(p.M * p.C * p.KH * p.KW, 15);
  std::vector<int32_t> want(p.M * s.OH * s.OW);
  for (int64_t m = 0; m < p.M; ++m)
    for (int64_t oy = 0; oy < s.OH; ++oy)
      for (int64_t ox = 0; ox < s.OW; ++ox) {
        int64_t acc = 0;
        for (int64_t c = 0; c < p.C; ++c)
          for (int64_t ky = 0; ky < p.KH; ++ky)
            for (int64_t kx = 0; kx < p.KW; ++kx) {
              int64_t iy = oy * s.sh + ky * s.dh - s.padT, ix = ox * s.sw + kx * s.dw - s.padL;
              if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W)
                continue;
              acc += int64_t(w[((m * p.C + c) * p.KH + ky) * p.KW + kx]) *
                     x[c * s.xsC + iy * s.W + ix];
            }
        want[(m * s.OH + oy) * s.OW + ox] = static_cast<int32_t>(acc);
      }
  std::vector<int32_t> out(want.size(), 0);
  conv2dS8(s, x.data(), w.data(), out.data());
  for (size_t i = 0; i < out.size(); ++i)
    ASSERT_EQ(out[i], want[i]) << "at flat index " << i;
  // The constant-weight form (packed once: the second call reads the
  // cache), accumulating into what out holds, on 1 and 2 threads.
  std::printf("conv2dS8ConstW path: %s\n", convS8ConstWKernelName());
  for (int threads : {1, 2}) {
    setNumThreads(threads);
    for (int call = 0; call < 2; ++call) {
      std::vector<int32_t> acc(want.size());
      for (size_t i = 0; i < acc.size(); ++i)
        acc[i] = static_cast<int32_t>(i % 97) - 48;
      conv2dS8ConstW(s, x.data(), w.data(), acc.data());
      for (size_t i = 0; i < acc.size(); ++i)
        ASSERT_EQ(acc[i], want[i] + static_cast<int32_t>(i % 97) - 48)
            << "conv2dS8ConstW (" << convS8ConstWKernelName() << ", call " << call << ", "
            << threads << " threads) at flat index " << i;
    }
    // overwrite: out = the convolution, whatever it held.
    std::vector<int32_t> set(want.size(), 0x5a5a5a5a);
    conv2dS8ConstW(s, x.data(), w.data(), set.data(), /*overwrite=*/true);
    for (size_t i = 0; i < set.size(); ++i)
      ASSERT_EQ(set[i], want[i]) << "conv2dS8ConstW overwrite (" << convS8ConstWKernelName()
                                 << ", " << threads << " threads) at flat index " << i;
    // With an epilogue: every element handed over exactly once, with its
    // value, in blocks whose coordinates say where it belongs.
    EpilogueSeen seen(p.M, s.OH * s.OW);
    conv2dS8ConstWEpilogue(s, x.data(), w.data(), seen.epilogue());
    ASSERT_TRUE(seen.inRange) << "epilogue block outside the output";
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(seen.visits[i], 1) << "conv2dS8ConstWEpilogue (" << convS8ConstWKernelName()
                                   << ", " << threads << " threads) at flat index " << i;
      ASSERT_EQ(seen.value[i], want[i]) << "conv2dS8ConstWEpilogue (" << convS8ConstWKernelName()
                                        << ", " << threads << " threads) at flat index " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Conv2DS8,
    ::testing::Values(ConvCase{3, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1},
                      ConvCase{3, 17, 19, 16, 3, 3, 2, 2, 1, 1, 1, 1},
                      ConvCase{5, 12, 40, 7, 1, 3, 1, 1, 1, 1, 0, 1},
                      ConvCase{16, 9, 9, 33, 1, 1, 1, 1, 1, 1, 0, 0},
                      ConvCase{4, 20, 20, 6, 3, 3, 1, 1, 2, 2, 2, 2},
                      ConvCase{6, 15, 15, 5, 5, 5, 3, 2, 1, 1, 2, 2},
                      ConvCase{64, 6, 70, 40, 3, 3, 1, 1, 1, 1, 0, 0},
                      // For the constant-weight form: K of whole AMX tiles
                      // (96 x 3 x 3) with 24 output channels and pixels
                      // past one task of 96; a pointwise K of 72 (18 quads,
                      // padded to whole tiles on AMX machines);
                      // 70 channels over 3 panels, strided and dilated.
                      ConvCase{96, 20, 17, 24, 3, 3, 1, 1, 1, 1, 1, 1},
                      ConvCase{72, 13, 11, 33, 1, 1, 1, 1, 1, 1, 0, 0},
                      ConvCase{16, 11, 12, 70, 3, 3, 2, 1, 1, 2, 1, 2},
                      // The image's planes to channels-last in 16 x 16
                      // byte blocks: 24 channels (a last block of rows
                      // overlapping the first), rows of 40 pixels (of
                      // columns), 33 channels over rows of 16.
                      ConvCase{24, 5, 40, 16, 3, 3, 1, 1, 1, 1, 1, 1},
                      ConvCase{33, 4, 16, 8, 1, 3, 1, 1, 1, 1, 0, 1},
                      // Pointwise on AMX as W x X (PointwiseConvAMX.h):
                      // 130 channels (a last quad of 2), 360 pixels (11
                      // panels of 32 and one of 8), 70 output rows (two
                      // 32-row blocks and one of 6).
                      ConvCase{130, 9, 40, 70, 1, 1, 1, 1, 1, 1, 0, 0}));

struct W4Case {
  int64_t M, N, K, group;
  bool isSigned;
};

class SGemmW4 : public ::testing::TestWithParam<W4Case> {};

/// sgemmW4 against dequantizing the nibbles in double and naive loops.
TEST_P(SGemmW4, MatchesDequantizedNaiveLoops) {
  auto [M, N, K, group, isSigned] = GetParam();
  int64_t half = (N + 1) / 2, G = (K + group - 1) / group;
  std::mt19937 gen(21);
  std::uniform_int_distribution<int> nib(0, 15), zpd(isSigned ? -8 : 0, isSigned ? 7 : 15);
  std::vector<int8_t> packed(K * half), zp(G * N);
  std::vector<int32_t> q(K * N);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      int v = nib(gen);
      packed[k * half + n / 2] = static_cast<int8_t>(
          static_cast<uint8_t>(packed[k * half + n / 2]) | (n % 2 ? v << 4 : v));
      q[k * N + n] = isSigned && v >= 8 ? v - 16 : v;
    }
  for (int8_t &z : zp)
    z = static_cast<int8_t>(zpd(gen));
  auto scale = randomVector(G * N, 22);
  auto a = randomVector(M * K, 23);
  std::vector<double> want(M * N, 0.0);
  double sumAbs = 0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) {
        double w = double(q[k * N + n] - zp[(k / group) * N + n]) * scale[(k / group) * N + n];
        acc += double(a[i * K + k]) * w;
        sumAbs += std::fabs(w);
      }
      want[i * N + n] = acc;
    }
  Int4Weights w{packed.data(), half, 1, scale.data(), N, 1, zp.data(), N, 1, group, isSigned};
  for (int threads : {1, 2}) {
    setNumThreads(threads);
    std::vector<float> c(M * N, 0.0f);
    sgemmW4(M, N, K, Matrix{a.data(), K, 1}, w, c.data(), N);
    expectClose(c, want, 16.0 * K);
  }
  setNumThreads(0);
}

INSTANTIATE_TEST_SUITE_P(Shapes, SGemmW4,
                         ::testing::Values(W4Case{1, 7, 96, 32, false}, W4Case{5, 65, 300, 128, false},
                                           W4Case{40, 48, 256, 32, true},
                                           W4Case{130, 33, 64, 64, true},
                                           // M <= 4: the skinny W4 kernels, with
                                           // column tails and a partial last group.
                                           W4Case{1, 96, 256, 128, true}, W4Case{3, 70, 200, 32, false},
                                           W4Case{4, 33, 64, 64, true}, W4Case{2, 1000, 96, 32, false},
                                           W4Case{1, 576, 576, 128, false},
                                           // Wide and deep decode-shaped products.
                                           W4Case{2, 8200, 300, 64, true}, W4Case{4, 40, 1000, 128, false},
                                           // 5..64 rows: blocks of 4 rows (a partial
                                           // last one); 65 rows: the packed GEMM.
                                           W4Case{9, 130, 200, 32, true}, W4Case{64, 40, 128, 64, false},
                                           W4Case{23, 1100, 96, 32, false}, W4Case{65, 48, 64, 32, true}));

struct LowBitCase {
  int64_t M, N, K, group;
  int bits;
};

class SGemmLowBit : public ::testing::TestWithParam<LowBitCase> {};

/// sgemmLowBit (2- and 3-bit planes, Kernels.h's LowBitWeights) against
/// the integers it was built from, dequantized in double, in naive loops.
/// The planes' rows are padded (row strides above the packed width).
TEST_P(SGemmLowBit, MatchesDequantizedNaiveLoops) {
  auto [M, N, K, group, bits] = GetParam();
  const int64_t lrs = (N + 3) / 4 + 3, hrs = (N + 7) / 8 + 5, G = (K + group - 1) / group;
  std::mt19937 gen(31);
  std::uniform_int_distribution<int> val(0, (1 << bits) - 1);
  std::vector<int8_t> low(K * lrs, 0), high(K * hrs, 0), zp(G * N);
  std::vector<int32_t> q(K * N);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      int v = val(gen);
      q[k * N + n] = v;
      low[k * lrs + n / 4] = static_cast<int8_t>(static_cast<uint8_t>(low[k * lrs + n / 4]) |
                                                  (v & 3) << (2 * (n % 4)));
      high[k * hrs + n / 8] = static_cast<int8_t>(static_cast<uint8_t>(high[k * hrs + n / 8]) |
                                                   ((v >> 2) & 1) << (n % 8));
    }
  for (int8_t &z : zp)
    z = static_cast<int8_t>(val(gen));
  auto scale = randomVector(G * N, 32);
  auto a = randomVector(M * K, 33);
  std::vector<double> want(M * N, 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += double(a[i * K + k]) * double(q[k * N + n] - zp[(k / group) * N + n]) *
               scale[(k / group) * N + n];
      want[i * N + n] = acc;
    }
  LowBitWeights w{low.data(), lrs, bits == 3 ? high.data() : nullptr, hrs, bits, scale.data(),
                  N, 1, zp.data(), N, 1, group};
  // The widened nibbles hold the integers.
  const int64_t half = (N + 1) / 2;
  std::vector<int8_t> nib(K * half);
  unpackLowBitRows(w, 0, K, N, nib.data(), half);
  int64_t wrong = 0;
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      wrong += ((static_cast<uint8_t>(nib[k * half + n / 2]) >> (4 * (n % 2))) & 15) != q[k * N + n];
  EXPECT_EQ(wrong, 0);
  for (int threads : {1, 2}) {
    setNumThreads(threads);
    std::vector<float> c(M * N, 0.0f);
    sgemmLowBit(M, N, K, Matrix{a.data(), K, 1}, w, c.data(), N);
    expectClose(c, want, 16.0 * K);
  }
  setNumThreads(0);
}

INSTANTIATE_TEST_SUITE_P(Shapes, SGemmLowBit,
                         ::testing::Values(
                             // Column tails (N % 8), a partial last group,
                             // decode (skinny) and prefill (packed GEMM) rows.
                             LowBitCase{1, 7, 96, 32, 3}, LowBitCase{1, 576, 576, 64, 3},
                             LowBitCase{5, 65, 300, 128, 3}, LowBitCase{70, 43, 200, 64, 3},
                             LowBitCase{1, 9, 64, 32, 2}, LowBitCase{3, 1000, 96, 32, 2},
                             LowBitCase{65, 48, 130, 64, 2}, LowBitCase{2, 8200, 64, 32, 3}));

} // namespace

// Which micro-kernels this run uses, printed for the log, and consistent
// with the CPU and with QUANTC_CPU_KERNELS (CTest runs this under "generic"
// too; run under `qemu-x86_64 -cpu Haswell` it must pick no AVX-512 path).
TEST(KernelPaths, MatchTheCpuAndTheCap) {
  std::string sg = sgemmKernelName(), ig = igemmKernelName(), dw = depthwiseKernelName(),
              is = skinnyIgemmKernelName(), sm = softmaxKernelName(),
              hd = hadamardKernelName(), iw = igemmConstBKernelName(),
              lb = lowBitWidenKernelName(), cv = denseConvKernelName();
  std::printf("kernel paths: sgemm=%s igemm=%s igemm-weight=%s depthwise=%s "
              "conv-few-channels=%s igemm-skinny=%s softmax=%s hadamard=%s low-bit-widen=%s\n",
              sg.c_str(), ig.c_str(), iw.c_str(), dw.c_str(), cv.c_str(), is.c_str(), sm.c_str(),
              hd.c_str(), lb.c_str());
  for (const std::string &k : {sg, ig, dw, is, sm, hd, iw, lb, cv})
    EXPECT_NE(k, "unknown");
  const char *cap = std::getenv("QUANTC_CPU_KERNELS");
  std::string limit = cap ? cap : "";
#if defined(__x86_64__)
  __builtin_cpu_init();
  bool avx512 = __builtin_cpu_supports("avx512f"), avx2 = __builtin_cpu_supports("avx2");
#else
  bool avx512 = false, avx2 = false;
#endif
  if (limit == "generic" || !avx2) {
    EXPECT_EQ(sg, "generic");
    EXPECT_EQ(ig, "generic");
    EXPECT_EQ(dw, "generic");
    EXPECT_EQ(is, "generic");
    EXPECT_EQ(sm, "generic");
    EXPECT_EQ(hd, "generic");
    EXPECT_EQ(lb, "generic");
  }
  if (limit.empty() && avx2)
    EXPECT_EQ(lb, "avx2") << "an AVX2 CPU widens 2/3-bit planes 64 columns a step";
  // Few-channel convolutions: the direct kernel of the widest ISA allowed.
  if (limit == "generic" || !avx2)
    EXPECT_EQ(cv, "im2col-gemm");
  else if (limit != "avx2" && avx512)
    EXPECT_EQ(cv, "direct-avx512");
  else
    EXPECT_EQ(cv, "direct-avx2");
  // The u8s8 weight path needs AVX-512 VNNI and is capped with the others;
  // on a CPU with AMX-INT8 (and an OS that saves the tiles) it runs on
  // tiles unless capped at all (QUANTC_CPU_KERNELS=avx512 keeps the VNNI
  // quads).
  bool amx = false;
#if defined(__x86_64__)
  {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (d & (1u << 24)) && (d & (1u << 25)) &&
        __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 27))) {
      unsigned lo = 0, hi = 0;
      __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
      amx = (lo & (3u << 17)) == (3u << 17);
    }
  }
#endif
  std::printf("AMX-INT8 tiles: CPU and OS %s, used %s\n", amx ? "yes" : "no",
              amxInt8Usable() ? "yes" : "no");
  EXPECT_EQ(amxInt8Usable(), amx && (limit.empty() || limit == "amx"));
  if (limit == "avx2" || limit == "generic" || !avx512) {
    EXPECT_NE(iw, "avx512vnni-u8s8");
    EXPECT_NE(iw, "amx");
  } else {
    EXPECT_EQ(iw == "avx512vnni-u8s8" || iw == "amx", ig == "avx512vnni")
        << "the weight path and the int8 kernel both follow AVX-512 VNNI";
    if (ig == "avx512vnni")
      EXPECT_EQ(iw == "amx", amxInt8Usable());
  }
  if (limit == "avx2" || !avx512) {
    EXPECT_NE(sg, "avx512");
    EXPECT_NE(dw, "avx512");
    EXPECT_NE(is, "avx512bw");
    EXPECT_NE(sm, "avx512");
    EXPECT_NE(hd, "avx512");
  }
  if (limit.empty() && avx2)
    EXPECT_NE(ig, "generic") << "an AVX2 CPU runs the AVX2 int8 kernel";
  // Without AVX-512 (or capped at avx2) depthwise convolutions run the
  // AVX2 loops, and int8 products with B a weight keep B packed as int8
  // pairs wherever the AVX2 int8 kernel is the one chosen.
  const char *prepack = std::getenv("QUANTC_PREPACK");
  if (avx2 && __builtin_cpu_supports("fma") && (limit == "avx2" || (limit.empty() && !avx512)))
    EXPECT_EQ(dw, "avx2");
  if (ig == "avx2" && !(prepack && prepack[0] == '0'))
    EXPECT_EQ(iw, "avx2-pairs");
  if (limit.empty() && avx2)
    EXPECT_NE(sm, "generic") << "an AVX2 CPU runs a vectorized softmax";
}
