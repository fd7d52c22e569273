//===- Eigen.cpp - leading eigenvectors of a symmetric matrix -------------===//
//
// See quantc/Quant/Eigen.h.
//
//===----------------------------------------------------------------------===//
#include "quantc/Quant/Eigen.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace quantc::quant {

Eigenpairs jacobiEigenpairs(const std::vector<double> &A0, int64_t n) {
  // a: the symmetric part of A; v: accumulated rotations (columns are
  // eigenvectors at the end).
  std::vector<double> a(n * n), v(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      a[i * n + j] = 0.5 * (A0[i * n + j] + A0[j * n + i]);
  for (int64_t i = 0; i < n; ++i)
    v[i * n + i] = 1.0;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, diag = 0;
    for (int64_t i = 0; i < n; ++i) {
      diag += a[i * n + i] * a[i * n + i];
      for (int64_t j = i + 1; j < n; ++j)
        off += a[i * n + j] * a[i * n + j];
    }
    if (!(off > 1e-30 * diag) || !std::isfinite(off))
      break;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = p + 1; q < n; ++q) {
        const double apq = a[p * n + q];
        if (apq == 0.0)
          continue;
        // The rotation that zeroes a_pq (Golub & Van Loan, 8.5.2).
        const double theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
        for (int64_t r = 0; r < n; ++r) {
          const double arp = a[r * n + p], arq = a[r * n + q];
          a[r * n + p] = c * arp - s * arq;
          a[r * n + q] = s * arp + c * arq;
        }
        for (int64_t r = 0; r < n; ++r) {
          const double apr = a[p * n + r], aqr = a[q * n + r];
          a[p * n + r] = c * apr - s * aqr;
          a[q * n + r] = s * apr + c * aqr;
        }
        for (int64_t r = 0; r < n; ++r) {
          const double vrp = v[r * n + p], vrq = v[r * n + q];
          v[r * n + p] = c * vrp - s * vrq;
          v[r * n + q] = s * vrp + c * vrq;
        }
      }
  }
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t x, int64_t y) { return a[x * n + x] > a[y * n + y]; });
  Eigenpairs out;
  out.values.resize(n);
  out.vectors.resize(n * n);
  for (int64_t i = 0; i < n; ++i) {
    out.values[i] = a[order[i] * n + order[i]];
    for (int64_t r = 0; r < n; ++r)
      out.vectors[i * n + r] = v[r * n + order[i]];
  }
  return out;
}

namespace {

/// Columns of Y (K x p, row-major) orthonormalized in place: two passes of
/// modified Gram-Schmidt; a column that vanishes is replaced by a unit
/// vector orthogonal to the ones before it.
void orthonormalize(std::vector<double> &Y, int64_t K, int64_t p) {
  int64_t restart = 0;
  for (int64_t c = 0; c < p; ++c) {
    for (int pass = 0; pass < 2; ++pass)
      for (int64_t d = 0; d < c; ++d) {
        double dot = 0;
        for (int64_t r = 0; r < K; ++r)
          dot += Y[r * p + d] * Y[r * p + c];
        for (int64_t r = 0; r < K; ++r)
          Y[r * p + c] -= dot * Y[r * p + d];
      }
    double norm = 0;
    for (int64_t r = 0; r < K; ++r)
      norm += Y[r * p + c] * Y[r * p + c];
    norm = std::sqrt(norm);
    if (!(norm > 1e-300) && restart < K) {
      // H Y lost this direction (H of low rank): restart it from the next
      // basis vector not tried yet and orthogonalize again.
      for (int64_t r = 0; r < K; ++r)
        Y[r * p + c] = r == restart ? 1.0 : 0.0;
      ++restart;
      --c;
      continue;
    }
    for (int64_t r = 0; r < K; ++r)
      Y[r * p + c] /= norm;
  }
}

} // namespace

Eigenpairs leadingEigenpairs(const std::vector<double> &H, int64_t K, int64_t k,
                             const EigenOptions &options) {
  k = std::clamp<int64_t>(k, 1, K);
  if (K <= 96) {
    Eigenpairs all = jacobiEigenpairs(H, K);
    all.values.resize(k);
    all.vectors.resize(k * K);
    return all;
  }
  const int64_t p = std::min<int64_t>(K, 2 * k + 8);
  std::mt19937_64 rng(options.seed);
  std::normal_distribution<double> normal;
  std::vector<double> Y(K * p), Z(K * p), T(p * p);
  for (double &y : Y)
    y = normal(rng);
  orthonormalize(Y, K, p);
  auto multiply = [&](const std::vector<double> &X, std::vector<double> &out) {
    // out = sym(H) X, X and out K x p.
    std::fill(out.begin(), out.end(), 0.0);
    for (int64_t i = 0; i < K; ++i)
      for (int64_t j = 0; j < K; ++j) {
        const double h = 0.5 * (H[i * K + j] + H[j * K + i]);
        if (h == 0.0)
          continue;
        const double *x = &X[j * p];
        double *o = &out[i * p];
        for (int64_t c = 0; c < p; ++c)
          o[c] += h * x[c];
      }
  };
  std::vector<double> previous(k, 0.0);
  Eigenpairs ritz;
  int it = 0;
  for (;;) {
    multiply(Y, Z);
    // Rayleigh-Ritz every 5 iterations (and at the end): T = Y^T H Y.
    const bool check = it % 5 == 4 || it + 1 >= options.maxIterations;
    if (check) {
      for (int64_t a = 0; a < p; ++a)
        for (int64_t b = 0; b < p; ++b) {
          double s = 0;
          for (int64_t r = 0; r < K; ++r)
            s += Y[r * p + a] * Z[r * p + b];
          T[a * p + b] = s;
        }
      ritz = jacobiEigenpairs(T, p);
      double change = 0, scale = std::fabs(ritz.values[0]);
      for (int64_t i = 0; i < k; ++i)
        change = std::max(change, std::fabs(ritz.values[i] - previous[i]));
      for (int64_t i = 0; i < k; ++i)
        previous[i] = ritz.values[i];
      if (!(change > options.tolerance * scale) || it + 1 >= options.maxIterations)
        break;
    }
    Y.swap(Z);
    orthonormalize(Y, K, p);
    ++it;
  }
  Eigenpairs out;
  out.iterations = it + 1;
  out.values.assign(ritz.values.begin(), ritz.values.begin() + k);
  out.vectors.assign(k * K, 0.0);
  // Ritz vectors: Y V (V's rows are T's eigenvectors), normalized.
  for (int64_t i = 0; i < k; ++i) {
    double norm = 0;
    for (int64_t r = 0; r < K; ++r) {
      double s = 0;
      for (int64_t c = 0; c < p; ++c)
        s += Y[r * p + c] * ritz.vectors[i * p + c];
      out.vectors[i * K + r] = s;
      norm += s * s;
    }
    norm = std::sqrt(norm);
    for (int64_t r = 0; r < K; ++r)
      out.vectors[i * K + r] /= norm > 0 ? norm : 1.0;
  }
  return out;
}

} // namespace quantc::quant
