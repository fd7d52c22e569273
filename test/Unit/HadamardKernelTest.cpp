//===- HadamardKernelTest.cpp - the runtime's online Hadamard transform ----===//
//
// quantc::rt::hadamardF32 (qc.hadamard's kernel) against the dense product
// x H in double, H = hadamard(m) (x) hadamard(n/m) / sqrt(n) built by
// quant::hadamard (the Sylvester factor by its own recursion, not by the
// kernel's popcount rule): the sizes the transformers need (64, 1536 =
// 12 x 128, 576 = 36 x 16, 384 = 12 x 32), a power of two with no factor
// (m = 1) and a whole-factor size (n = m = 12); strided rows, in place,
// row counts around the thread pool's block of 16. Also: the rows keep
// their norm (the transform is orthogonal). Runs under every kernel cap.
//
//===----------------------------------------------------------------------===//
#include "quantc/Quant/Hadamard.h"
#include "quantc/Runtime/Kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace quantc;

namespace {

struct HadamardCase {
  int64_t n, rows;
  bool inPlace;
};

class HadamardRows : public ::testing::TestWithParam<HadamardCase> {};

TEST_P(HadamardRows, MatchesTheDenseProduct) {
  const HadamardCase c = GetParam();
  const int64_t n = c.n, rows = c.rows;
  const int64_t m = quant::onlineHadamardOrder(n);
  ASSERT_GT(m, 0) << "no online Hadamard of order " << n;
  const int64_t p = n / m;
  std::vector<int8_t> hm = quant::hadamard(m), hp = quant::hadamard(p);
  ASSERT_EQ(hm.size(), size_t(m * m));
  ASSERT_EQ(hp.size(), size_t(p * p));
  const double scale = 1.0 / std::sqrt(double(n));
  std::vector<float> F(m * m);
  for (int64_t i = 0; i < m * m; ++i)
    F[i] = float(hm[i] * scale);
  // Rows with a stride wider than n (a view of a larger buffer).
  const int64_t xs = n + 5;
  std::mt19937 rng(n * 131 + rows);
  std::normal_distribution<float> normal;
  std::vector<float> x(rows * xs);
  for (float &v : x)
    v = normal(rng);
  // A few outlier channels, as in the activations this is for.
  for (int64_t r = 0; r < rows; ++r)
    x[r * xs + (r * 7) % n] *= 50.0f;
  std::vector<float> y(rows * xs, std::nanf(""));
  std::vector<float> xin = x;
  float *out = c.inPlace ? x.data() : y.data();
  rt::hadamardF32(rows, n, x.data(), xs, F.data(), m, out, xs);
  double worst = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double normIn = 0, normOut = 0, normRef = 0;
    for (int64_t o = 0; o < n; ++o) {
      double ref = 0;
      for (int64_t i = 0; i < n; ++i)
        ref += double(xin[r * xs + i]) * hm[(i / p) * m + o / p] * hp[(i % p) * p + o % p];
      ref *= scale;
      double got = out[r * xs + o];
      double err = std::fabs(got - ref);
      worst = std::max(worst, err);
      normRef += ref * ref;
      normOut += got * got;
      normIn += double(xin[r * xs + o]) * xin[r * xs + o];
    }
    // NaN-safe: a NaN output fails both.
    double tol = 1e-5 * std::sqrt(normRef) + 1e-6;
    ASSERT_TRUE(worst <= tol) << "row " << r << ": max error " << worst << " (tol " << tol << ")";
    ASSERT_TRUE(std::fabs(normOut - normIn) <= 1e-4 * normIn) << "row " << r << " norm changed";
  }
  if (!c.inPlace) // the gaps between rows are untouched
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = n; i < xs; ++i)
        ASSERT_TRUE(std::isnan(y[r * xs + i]));
}

INSTANTIATE_TEST_SUITE_P(Shapes, HadamardRows,
                         ::testing::Values(HadamardCase{64, 1, false}, HadamardCase{64, 37, true},
                                           HadamardCase{1536, 33, false},
                                           HadamardCase{576, 17, false},
                                           HadamardCase{36, 20, false},
                                           HadamardCase{384, 16, true}, HadamardCase{8, 3, false},
                                           HadamardCase{12, 5, false}, HadamardCase{2, 65, true},
                                           HadamardCase{1536, 1, true}));

TEST(OnlineHadamardOrder, SmallestFactor) {
  EXPECT_EQ(quant::onlineHadamardOrder(64), 1);
  EXPECT_EQ(quant::onlineHadamardOrder(1536), 12);
  EXPECT_EQ(quant::onlineHadamardOrder(576), 36);
  EXPECT_EQ(quant::onlineHadamardOrder(72), 36);
  EXPECT_EQ(quant::onlineHadamardOrder(384), 12);
  EXPECT_EQ(quant::onlineHadamardOrder(12), 12);
  EXPECT_EQ(quant::onlineHadamardOrder(9), 0);
  EXPECT_EQ(quant::onlineHadamardOrder(0), 0);
}

} // namespace
