//===- HadamardTest.cpp - rotations for qc-fold-rotations -----------------===//
//
// hadamard(n) against its definition (entries +-1, H H^T = n I, computed
// in integers), for the sizes the transformers need (576 = 12 x 12 x 4,
// 1536 = 12 x 128, 384 = 12 x 32, the 64-wide heads) and Paley I and
// II orders (28 and 36 only by Paley II)
// alone; sizes with no construction return empty; rotation() and
// randomOrthogonal() are orthogonal in double precision (Q Q^T = I
// within 1e-12), seeded (same seed, same matrix; another seed, another).
//
//===----------------------------------------------------------------------===//
#include "quantc/Quant/Hadamard.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace quantc::quant;

namespace {

void expectHadamard(int64_t n) {
  std::vector<int8_t> h = hadamard(n);
  ASSERT_EQ(h.size(), static_cast<size_t>(n * n)) << "no Hadamard matrix of order " << n;
  for (int8_t v : h)
    ASSERT_TRUE(v == 1 || v == -1) << "order " << n;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t d = 0;
      for (int64_t k = 0; k < n; ++k)
        d += h[i * n + k] * h[j * n + k];
      ASSERT_EQ(d, i == j ? n : 0) << "order " << n << ", rows " << i << " and " << j;
    }
}

double orthogonalityError(const std::vector<double> &q, int64_t n) {
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double d = 0;
      for (int64_t k = 0; k < n; ++k)
        d += q[i * n + k] * q[j * n + k];
      worst = std::max(worst, std::fabs(d - (i == j ? 1.0 : 0.0)));
    }
  return worst;
}

} // namespace

TEST(Hadamard, Orders) {
  for (int64_t n : {1, 2, 4, 12, 20, 24, 28, 36, 44, 48, 64, 72, 384, 576, 1536})
    expectHadamard(n);
}

TEST(Hadamard, NoConstruction) {
  for (int64_t n : {3, 6, 9, 10, 18, 22})
    EXPECT_TRUE(hadamard(n).empty()) << n;
}

TEST(Hadamard, Rotations) {
  bool had = false;
  std::vector<double> q = rotation(576, 7, &had);
  EXPECT_TRUE(had);
  EXPECT_LE(orthogonalityError(q, 576), 1e-12);
  EXPECT_EQ(q, rotation(576, 7));
  EXPECT_NE(q, rotation(576, 8));
  std::vector<double> r = rotation(18, 3, &had); // no construction: random orthogonal
  EXPECT_FALSE(had);
  EXPECT_LE(orthogonalityError(r, 18), 1e-12);
  EXPECT_EQ(r, randomOrthogonal(18, 3));
}
