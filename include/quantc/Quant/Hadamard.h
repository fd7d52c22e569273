//===- Hadamard.h - Hadamard and random orthogonal matrices -----*- C++ -*-===//
//
// Orthogonal matrices for rotation folding (qc-fold-rotations):
//
//   hadamard(n)    an n x n matrix of +-1 with H H^T = n I, for n a Kronecker
//                  product of Sylvester orders (2^k) and Paley orders
//                  (q + 1 for a prime q = 3 mod 4: 12, 20, 24, 32, 44, 48,
//                  60, ...), or failing those Paley II orders (2 (q + 1)
//                  for a prime q = 1 mod 4: 12, 20, 28, 36, 60, ...):
//                  576 = 12 x 12 x 4, 1536 = 12 x 128, 384 = 12 x 32,
//                  36 (Paley II, q = 17). Empty where no such product
//                  exists.
//   Paley's construction: with chi the quadratic character mod q and
//   Q[i][j] = chi(j - i), H = I + [[0, 1^T], [-1, Q]].
//   randomOrthogonal(n, seed)
//                  Q R of a seeded Gaussian matrix (Gram-Schmidt, signs
//                  fixed by R's diagonal): orthogonal, for sizes with no
//                  Hadamard construction.
//   rotation(n, seed)
//                  diag(+-1, seeded) H / sqrt(n) (a randomized Hadamard,
//                  QuaRot), else randomOrthogonal. Row-major n x n.
//   onlineHadamardOrder(n)
//                  the smallest m with hadamard(m) non-empty and n / m a
//                  power of two (1 for n = 2^k, 12 for 1536, 36 for 576):
//                  qc.hadamard multiplies by hadamard(m) (x) S_{n/m}
//                  (Sylvester), a fast Walsh-Hadamard transform of each
//                  block of n/m and an m x m mix. 0 when there is none.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_QUANT_HADAMARD_H
#define QUANTC_QUANT_HADAMARD_H

#include <cstdint>
#include <vector>

namespace quantc::quant {

std::vector<int8_t> hadamard(int64_t n);
std::vector<double> randomOrthogonal(int64_t n, uint64_t seed);
std::vector<double> rotation(int64_t n, uint64_t seed, bool *isHadamard = nullptr);
int64_t onlineHadamardOrder(int64_t n);
/// qc.hadamard's factor for width n: hadamard(m) / sqrt(n), row-major
/// m x m (m = onlineHadamardOrder(n)); empty when there is none. With
/// `dense`, also the whole orthogonal H = factor (x) S_{n/m}, n x n.
std::vector<float> onlineHadamardFactor(int64_t n, std::vector<float> *dense = nullptr);

} // namespace quantc::quant

#endif
