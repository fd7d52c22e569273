//===- Hadamard.cpp - Hadamard and random orthogonal matrices -------------===//
#include "quantc/Quant/Hadamard.h"

#include <cmath>
#include <random>

namespace quantc::quant {
namespace {

bool isPrime(int64_t q) {
  if (q < 2)
    return false;
  for (int64_t d = 2; d * d <= q; ++d)
    if (q % d == 0)
      return false;
  return true;
}

/// Paley I for a prime q = 3 (mod 4): order q + 1.
std::vector<int8_t> paley(int64_t q) {
  int64_t n = q + 1;
  std::vector<int> chi(q, -1);
  chi[0] = 0;
  for (int64_t x = 1; x < q; ++x)
    chi[(x * x) % q] = 1;
  std::vector<int8_t> h(n * n);
  // S = [[0, 1^T], [-1, Q]], H = I + S.
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int s;
      if (i == 0)
        s = j == 0 ? 0 : 1;
      else if (j == 0)
        s = -1;
      else
        s = chi[((j - i) % q + q) % q];
      h[i * n + j] = static_cast<int8_t>(s + (i == j ? 1 : 0));
    }
  return h;
}

/// Paley II for a prime q = 1 (mod 4): order 2 (q + 1). C is the
/// symmetric conference matrix of order q + 1 (0 on the diagonal, 1 on
/// the first row and column, chi(j - i) elsewhere) and H = C (x) [[1, 1],
/// [1, -1]] + I (x) [[1, -1], [-1, -1]].
std::vector<int8_t> paley2(int64_t q) {
  const int64_t c = q + 1, n = 2 * c;
  std::vector<int> chi(q, -1);
  chi[0] = 0;
  for (int64_t x = 1; x < q; ++x)
    chi[(x * x) % q] = 1;
  auto conf = [&](int64_t i, int64_t j) -> int {
    if (i == j)
      return 0;
    if (i == 0 || j == 0)
      return 1;
    return chi[((j - i) % q + q) % q];
  };
  std::vector<int8_t> h(n * n);
  for (int64_t i = 0; i < c; ++i)
    for (int64_t j = 0; j < c; ++j)
      for (int64_t a = 0; a < 2; ++a)
        for (int64_t b = 0; b < 2; ++b) {
          int v = conf(i, j) * ((a == 1 && b == 1) ? -1 : 1);
          if (i == j)
            v += (a == b) ? (a == 0 ? 1 : -1) : -1;
          h[(2 * i + a) * n + 2 * j + b] = static_cast<int8_t>(v);
        }
  return h;
}

std::vector<int8_t> kron(const std::vector<int8_t> &a, int64_t na, const std::vector<int8_t> &b,
                         int64_t nb) {
  int64_t n = na * nb;
  std::vector<int8_t> h(n * n);
  for (int64_t i = 0; i < na; ++i)
    for (int64_t j = 0; j < na; ++j)
      for (int64_t k = 0; k < nb; ++k)
        for (int64_t l = 0; l < nb; ++l)
          h[(i * nb + k) * n + j * nb + l] = static_cast<int8_t>(a[i * na + j] * b[k * nb + l]);
  return h;
}

} // namespace

std::vector<int8_t> hadamard(int64_t n) {
  if (n == 1)
    return {1};
  if (n == 2)
    return {1, 1, 1, -1};
  if (n % 2 == 0 && (n & (n - 1)) == 0)
    return kron({1, 1, 1, -1}, 2, hadamard(n / 2), n / 2);
  // A Paley order p = q + 1 dividing n, the rest built recursively.
  for (int64_t p = 4; p <= n; p += 4) {
    if (n % p != 0 || !isPrime(p - 1) || (p - 1) % 4 != 3)
      continue;
    std::vector<int8_t> rest = hadamard(n / p);
    if (rest.empty())
      continue;
    return kron(paley(p - 1), p, rest, n / p);
  }
  // Else a Paley II order p = 2 (q + 1), q prime = 1 (mod 4), dividing n.
  for (int64_t p = 4; p <= n; p += 4) {
    int64_t q = p / 2 - 1;
    if (n % p != 0 || !isPrime(q) || q % 4 != 1)
      continue;
    std::vector<int8_t> rest = hadamard(n / p);
    if (rest.empty())
      continue;
    return kron(paley2(q), p, rest, n / p);
  }
  return {};
}

std::vector<double> randomOrthogonal(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> q(n * n);
  for (double &v : q)
    v = normal(rng);
  // Modified Gram-Schmidt on the rows (twice, for accuracy).
  for (int pass = 0; pass < 2; ++pass)
    for (int64_t i = 0; i < n; ++i) {
      double *ri = q.data() + i * n;
      for (int64_t j = 0; j < i; ++j) {
        const double *rj = q.data() + j * n;
        double d = 0;
        for (int64_t k = 0; k < n; ++k)
          d += ri[k] * rj[k];
        for (int64_t k = 0; k < n; ++k)
          ri[k] -= d * rj[k];
      }
      double norm = 0;
      for (int64_t k = 0; k < n; ++k)
        norm += ri[k] * ri[k];
      norm = std::sqrt(norm);
      for (int64_t k = 0; k < n; ++k)
        ri[k] /= norm;
    }
  return q;
}

std::vector<double> rotation(int64_t n, uint64_t seed, bool *isHadamard) {
  std::vector<int8_t> h = hadamard(n);
  if (isHadamard)
    *isHadamard = !h.empty();
  if (h.empty())
    return randomOrthogonal(n, seed);
  std::mt19937_64 rng(seed);
  std::vector<double> q(n * n);
  double scale = 1.0 / std::sqrt(static_cast<double>(n));
  for (int64_t i = 0; i < n; ++i) {
    double sign = (rng() & 1) ? 1.0 : -1.0;
    for (int64_t j = 0; j < n; ++j)
      q[i * n + j] = sign * scale * h[i * n + j];
  }
  return q;
}

int64_t onlineHadamardOrder(int64_t n) {
  if (n <= 0)
    return 0;
  int64_t p = n & -n; // the largest power of two dividing n
  for (; p >= 1; p /= 2)
    if (!hadamard(n / p).empty())
      return n / p;
  return 0;
}

std::vector<float> onlineHadamardFactor(int64_t n, std::vector<float> *dense) {
  const int64_t m = onlineHadamardOrder(n);
  if (m == 0)
    return {};
  const int64_t p = n / m;
  std::vector<int8_t> hm = hadamard(m);
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
  std::vector<float> factor(m * m);
  for (int64_t i = 0; i < m * m; ++i)
    factor[i] = hm[i] * scale;
  if (dense) {
    std::vector<int8_t> hp = hadamard(p);
    dense->resize(n * n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t o = 0; o < n; ++o)
        (*dense)[i * n + o] = hm[(i / p) * m + o / p] * hp[(i % p) * p + o % p] * scale;
  }
  return factor;
}

} // namespace quantc::quant
