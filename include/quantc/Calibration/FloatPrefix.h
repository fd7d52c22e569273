//===- FloatPrefix.h - the first positions of a sequence kept float -*- C++ -*-===//
//
// Static per-tensor activations with a float prefix (PrefixQuant's
// observation, Chen et al. 2024: a transformer parks its massive
// activations on the first tokens of a sequence, the attention sink).
// One scale per tensor has to cover those rows, which are hundreds of
// times larger than the rest in a few layers (SmolLM2's layer-11
// down_proj input: position 0 at 206x the median row); per-token scales
// do not, which is why dynamic activations were within 1-2% of float and
// static ones were not.
//
//  * markFloatPrefix (pass qc-float-prefix{rows=P}): every MatMul target
//    whose activation has rank >= 3 ([..., S, K]: a sequence axis -2) gets
//    `qc.float_prefix = P`.
//  * calibrate() leaves rows s < P of such a target's activation out of
//    every statistic (min/max, histogram, channels, Hessian, kept rows):
//    the static scale is the rest's.
//  * qc-quantize (static activations only) splits such a target:
//      y[..., :P, :] = x[..., :P, :] . W~        (float rows, quantized W)
//      y[..., P:, :] = DQ(Q(x[..., P:, :])) . W~ (the integer path)
//    concatenated along -2; W~ is the one dequantized weight both read.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_FLOATPREFIX_H
#define QUANTC_CALIBRATION_FLOATPREFIX_H

#include "quantc/Calibration/Quantize.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace quantc::calib {

inline constexpr const char *kFloatPrefixAttr = "qc.float_prefix";

/// qc-float-prefix: marks every eligible target (a qc.matmul whose
/// activation is ranked with rank >= 3, not kept float) with
/// qc.float_prefix = rows; returns how many. Idempotent.
size_t markFloatPrefix(mlir::ModuleOp module, int64_t rows);

/// The prefix of a target op (0 when unmarked).
int64_t floatPrefixOf(mlir::Operation *op);

/// The prefix of the target an observer feeds (0 when none is marked).
int64_t floatPrefixOfObserved(mlir::Operation *observe);

/// `data` of `shape` ([..., S, K]) without the rows s < prefix of every
/// sequence: appended to `out`, `outShape` = shape with S - prefix.
/// Returns false (and leaves both alone) when the shape has rank < 3 or
/// S <= prefix.
bool dropPrefixRows(const float *data, llvm::ArrayRef<int64_t> shape, int64_t prefix,
                    std::vector<float> &out, std::vector<int64_t> &outShape);

/// The activation of `op` at operand `activation` becomes x[..., P:, :]
/// (returned, for the caller to quantize), axis = rank - 2 of `x`.
mlir::Value slicePrefixRest(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x, int64_t prefix);

/// After `op` (reading the quantized rest, its weight already final) is
/// built: a clone reading x[..., :P, :] in float, and the two results
/// concatenated along rank - 2; every use of op's result moves to the
/// concatenation. Both lose qc.float_prefix.
void joinFloatPrefix(mlir::OpBuilder &b, mlir::Location loc, mlir::Operation *op,
                     unsigned activation, mlir::Value x, int64_t prefix);

} // namespace quantc::calib

#endif
