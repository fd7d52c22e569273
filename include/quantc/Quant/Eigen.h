//===- Eigen.h - leading eigenvectors of a symmetric matrix -----*- C++ -*-===//
//
// The k leading eigenpairs of a symmetric positive semidefinite K x K
// matrix H (a layer input's second moment, sum x^T x), for the principal
// split (quantc/Calibration/Principal.h). No MLIR, no LAPACK:
//
//   * K <= 96: cyclic Jacobi rotations on all of H (exact to rounding).
//   * otherwise block subspace iteration with Rayleigh-Ritz: a block Y
//     of p = min(K, 2k + 8) orthonormal columns (seeded Gaussian start),
//     repeated Y <- orth(H Y) (two passes of modified Gram-Schmidt), then
//     T = Y^T H Y (p x p) diagonalized by Jacobi and the k leading Ritz
//     vectors Y V. The columns beyond k (oversampling) make the top-k
//     subspace converge at the rate (lambda_{p+1} / lambda_k)^iterations
//     instead of (lambda_{k+1} / lambda_k)^iterations; the iteration stops
//     when the k leading Ritz values move by less than `tolerance`
//     (relative) between checks, or after `maxIterations`.
//
// Eigenvalues come out in decreasing order, eigenvectors as rows of
// `vectors` (k x K, row-major, orthonormal to rounding error). Where the
// gap between lambda_k and lambda_{k+1} is small, the individual vectors
// near the gap are not determined, but the subspace they span with the
// vectors above is what a projection needs.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_QUANT_EIGEN_H
#define QUANTC_QUANT_EIGEN_H

#include <cstdint>
#include <vector>

namespace quantc::quant {

struct EigenOptions {
  int maxIterations = 300;
  double tolerance = 1e-10;
  uint64_t seed = 0;
};

struct Eigenpairs {
  std::vector<double> values;  // k, decreasing
  std::vector<double> vectors; // k x K, row-major
  int iterations = 0;          // subspace iterations run (0: Jacobi on H)
};

/// The k leading eigenpairs of the symmetric K x K matrix H (row-major;
/// only its symmetric part is used). 1 <= k <= K.
Eigenpairs leadingEigenpairs(const std::vector<double> &H, int64_t K, int64_t k,
                             const EigenOptions &options = {});

/// All eigenpairs of a small symmetric n x n matrix by cyclic Jacobi
/// rotations: values decreasing, vectors as rows (n x n).
Eigenpairs jacobiEigenpairs(const std::vector<double> &A, int64_t n);

} // namespace quantc::quant

#endif
