//===- GPTQ.h - error-compensating weight rounding (GPTQ) -------*- C++ -*-===//
//
// GPTQ (Frantar et al. 2023) for a linear layer y = x W, W [K, N], with
// H = sum over calibration rows of x^T x (K x K): the input dimensions
// are rounded one at a time, and each rounding error is pushed onto the
// input dimensions not rounded yet, weighted so as to minimize the
// layer's output error ||X W - X Q||^2 on the calibration rows:
//
//   H += damp * mean(diag H) * I               (dead inputs: H_kk = 1, W_k = 0)
//   U = chol(H^-1), upper (H^-1 = U^T U)
//   for k in order:   q_k = round(W_k),  e = (W_k - q_k) / U_kk,
//                     W_j -= U_kj e   for every j after k
//
// (W_k: row k of W, N values, one per output.) The updates of a block of
// `block` rows are applied to the rows after it at once (lazy batch, one
// GEMM). With act-order the rows go by decreasing H_kk; the groups stay
// the contiguous runs of `group` rows in the original order (static
// groups), so the run-time layout is unchanged. Each group's scale and
// zero point per output column come from the original W's min/max over
// the group (symmetric: max |w|, qmin = -2^(b-1)), before any update.
// With `minShrink` < 1 the range [lo, hi] is shrunk to [r lo, r hi] for
// the r in {1, 0.99, ..., minShrink} that minimizes the group's rounding
// error weighted by each input's energy,
//
//   sum_k H_kk (w_k - s (clamp(round(w_k / s) + z) - z))^2,
//
// the diagonal of the layer-output error tr(D^T H D) (D = W - Q). The
// plain weight error (H_kk = 1) is what round-to-nearest's clip search
// minimizes; the diagonal weighs the inputs the calibration data uses.
// With `refitScales`, once the integers are fixed, each output column's
// G group scales are refitted to the layer's whole output error: with
// a_k = q_k - z_g(k) and A [K, G] holding a_k in column g(k),
//
//   s = argmin (w - A s)^T H (w - A s) = (A^T H A)^-1 A^T H w
//
// (the original w and H, no damping). The min/max scales are one point
// of that least-squares problem, so the output error on the calibration
// rows cannot grow; a group whose integers all sit at the zero point, or
// a solution with a scale <= 0, keeps the old scales. Rounds > 1
// alternate: GPTQ's rounding with the refitted scales, then the refit of
// those integers (each step lowers the output error on the calibration
// rows, up to GPTQ's own approximation).
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_QUANT_GPTQ_H
#define QUANTC_QUANT_GPTQ_H

#include <cstdint>
#include <string>
#include <vector>

namespace quantc::quant {

struct GPTQOptions {
  int bits = 4;
  int64_t group = 128; // rows per group along K; 0: one group (per channel)
  bool asymmetric = true;
  double damp = 0.01;
  int64_t block = 128;
  bool actOrder = true;
  /// Smallest range ratio tried per group and column (1: min/max only).
  double minShrink = 1.0;
  /// Scales refitted to the output error once the integers are fixed;
  /// with refitRounds > 1, GPTQ runs again on the refitted scales (same
  /// zero points) and refits again, that many times in all.
  bool refitScales = false;
  int refitRounds = 1;
};

struct GPTQResult {
  std::vector<int32_t> q;     // [K, N], in [qmin, qmax] (zero point included)
  std::vector<float> scale;   // [G, N]
  std::vector<int32_t> zero;  // [G, N]
  int64_t groups = 0;         // G
  int64_t deadInputs = 0;     // H_kk = 0: never active on calibration data
  std::string error;          // non-empty: H not positive definite after damping
};

/// W row-major [K, N]; H row-major [K, K] (any positive scale).
GPTQResult gptq(const float *W, int64_t K, int64_t N, const std::vector<double> &H,
                const GPTQOptions &options);

/// The least-squares refit of `r`'s scales for W (see above); gptq()
/// calls it with refitScales.
void refitScales(const float *W, int64_t K, int64_t N, const std::vector<double> &H,
                 const GPTQOptions &options, GPTQResult &r);

/// Round-to-nearest with the same group parameters (GPTQ's starting point).
GPTQResult roundToNearest(const float *W, int64_t K, int64_t N, const GPTQOptions &options);

} // namespace quantc::quant

#endif
