//===- PrefixRows.h - a sequence's first rows out of static scales -*- C++ -*-===//
//
// Static per-tensor activations with prefix rows (PrefixQuant's
// observation, Chen et al. 2024: a transformer parks its massive
// activations on the first tokens of a sequence, the attention sink).
// One scale per tensor has to cover those rows, which are hundreds of
// times larger than the rest in a few layers (SmolLM2's layer-11
// down_proj input: position 0 at 206x the median row); per-token scales
// do not, which is why dynamic activations were within 1-2% of float and
// static ones were not.
//
//  * markPrefixRows (pass qc-prefix-rows{rows=P}): every MatMul target
//    whose activation has rank >= 3 ([..., S, K]: a sequence axis -2) gets
//    `qc.prefix_rows = P`.
//  * calibrate() leaves rows s < P of such a target's activation out of
//    every statistic (min/max, histogram, channels, Hessian, kept rows):
//    the static scale is the rest's.
//  * qc-quantize (static activations only) splits such a target:
//      y[..., :P, :] = R(x[..., :P, :]) . W~     (each row rounded to uint8
//                                                  on its own range)
//      y[..., P:, :] = DQ(Q(x[..., P:, :])) . W~ (the static scale)
//    concatenated along -2, both integer products with the int8 weights
//    (float prefix rows where the weights are not int8 per channel).
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_PREFIXROWS_H
#define QUANTC_CALIBRATION_PREFIXROWS_H

#include "quantc/Calibration/Quantize.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace quantc::calib {

inline constexpr const char *kPrefixRowsAttr = "qc.prefix_rows";

/// qc-prefix-rows: marks every eligible target (a qc.matmul whose
/// activation is ranked with rank >= 3, not kept float) with
/// qc.prefix_rows = rows; returns how many. Idempotent.
size_t markPrefixRows(mlir::ModuleOp module, int64_t rows);

/// The prefix of a target op (0 when unmarked).
int64_t prefixRowsOf(mlir::Operation *op);

/// The prefix of the target an observer feeds (0 when none is marked).
int64_t prefixRowsOfObserved(mlir::Operation *observe);

/// `data` of `shape` ([..., S, K]) without the rows s < prefix of every
/// sequence: appended to `out`, `outShape` = shape with S - prefix.
/// Returns false (and leaves both alone) when the shape has rank < 3 or
/// S <= prefix.
bool dropPrefixRows(const float *data, llvm::ArrayRef<int64_t> shape, int64_t prefix,
                    std::vector<float> &out, std::vector<int64_t> &outShape);

/// x[..., P:, :] (axis rank - 2 of `x`): the rows the caller rounds
/// with the static scale.
mlir::Value slicePrefixRest(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x, int64_t prefix);

/// The int8 weights of a layer whose prefix rows take the integer path:
/// [K, N] row-major, symmetric, one scale per output channel N.
struct PrefixWeights {
  /// The int8 [K, N] constant the static rows' product reads, when the
  /// layer has one in that layout (shared, not copied); else `kn`.
  mlir::Value constant;
  std::vector<int8_t> kn;
  std::vector<float> scales;
  int64_t K = 0, N = 0;
};

/// After `op` (reading the quantized rest, its weight already final) is
/// built: the rows x[..., :P, :] multiplied on their own, and the two
/// results concatenated along rank - 2; every use of op's result moves
/// to the concatenation; op loses qc.prefix_rows. With `weights` (int8
/// per channel) the prefix rows are rounded to uint8 per row at run time
/// (qc.dynamic_quantize_rows) into an integer product with those
/// weights, rescaled by row scale x channel scale; without, a clone of
/// op multiplies them in float by its (dequantized) weight.
void joinPrefixRows(mlir::OpBuilder &b, mlir::Location loc, mlir::Operation *op,
                    unsigned activation, mlir::Value x, int64_t prefix,
                    const PrefixWeights *weights);

} // namespace quantc::calib

#endif
