//===- RuntimeSmooth.h - runtime smoothing of dynamic activations -*- C++ -*-===//
//
// Runtime smoothing (Rotated Runtime Smooth, Yi et al. 2024) for the
// per-token dynamic recipes (w8a8-dynamic-token-rs, w4a4-rs, and after
// -rot): at run time, per input channel j of the activation X [M, K],
//
//   s_j = max_m |X_mj|,   s_g = max(max_{j in g} s_j, 1e-12)
//
// over groups g of G consecutive channels (G = 128, 64 or 32, the largest
// that divides K; else one group), and X' = X / s_g is quantized per token
// (q, scale d_m, zero point z_m; qc.dynamic_quantize_rows). The product is
// computed in integers per group and the groups are summed in float with
// their scales (folded into the weight side per group):
//
//   y[m, n] = d_m * w_n * sum_g s_g * sum_{k in g} (q[m, k] - z_m) W[k, n]
//
// (w_n the weight's per-channel scale). One outlier channel then coarsens
// only its own group's grid, not every token's.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_LIB_CALIBRATION_RUNTIMESMOOTH_H
#define QUANTC_LIB_CALIBRATION_RUNTIMESMOOTH_H

#include "mlir/IR/Builders.h"

#include <cstdint>
#include <vector>

namespace quantc::calib {

/// The group size for K channels (128, 64 or 32 dividing K; else K).
int64_t runtimeSmoothGroup(int64_t K);

/// x [M, K] -> (x / s_g expanded to [1, K], s_g [K / G, 1]).
std::pair<mlir::Value, mlir::Value> runtimeSmoothRows(mlir::OpBuilder &b, mlir::Location loc,
                                                      mlir::Value x, int64_t K, int64_t G);

/// sum_g c_g * ((q - z) W)[:, g] in f32 [M, N]: one qc.matmul_integer per
/// group of G rows of the int8 weight `kn` [K, N] (the last group may be
/// shorter). c_g = s_g (runtime smoothing: `sg` [ceil(K / G), 1], or null)
/// times the weight's scales of group g (`wscale` [ceil(K / G), N]
/// row-major, grouped weights; empty: none).
mlir::Value groupedIntegerProduct(mlir::OpBuilder &b, mlir::Location loc, mlir::Value q,
                                  mlir::Value z, const std::vector<int8_t> &kn, int64_t K,
                                  int64_t N, int64_t G, mlir::Value sg,
                                  const std::vector<float> &wscale = {});

/// The same with the activation rounded per row and group (-ag): for
/// each group g of G channels, x[:, g] [M, G] through
/// qc.dynamic_quantize_rows (`rowAttrs`: levels, clip) into (q_g, d_g
/// [M], z_g [M]), and sum_g d_g[:, None] * wscale_g[None, :] * ((q_g -
/// z_g) W_g) in f32 [M, N]: each token's group of channels has its own
/// scale, so one large value costs the resolution of G channels, not K.
mlir::Value groupedRowsProduct(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                               const std::vector<int8_t> &kn, int64_t K, int64_t N, int64_t G,
                               const std::vector<float> &wscale,
                               llvm::ArrayRef<mlir::NamedAttribute> rowAttrs);

} // namespace quantc::calib

#endif
