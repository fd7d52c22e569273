//===- Rotate.h - rotation folding (QuaRot) ---------------------*- C++ -*-===//
//
// A pre-norm transformer with RMSNorm keeps its residual stream h [..., D]
// in a basis nothing depends on: for an orthogonal Q,
//
//   RMSNorm_1(h Q) = RMSNorm_1(h) Q    (sum of squares is invariant;
//                                       RMSNorm_1 = RMSNorm with gamma = 1)
//
// so multiplying the stream by Q everywhere leaves the function unchanged
// once every weight that touches it is rotated (QuaRot, Ashkboos et al.
// 2024):
//
//   embedding table    E <- E Q
//   gamma              folded into the readers first: W <- diag(gamma) W,
//                      then the norm's Mul removed
//   readers (q, k, v, gate, up, the head: they read a norm's output)
//                      W <- Q^T W
//   writers (o, down: their output is added to the stream)
//                      W <- W Q, bias <- bias Q
//
// Q = diag(+-1) H / sqrt(D), a randomized Hadamard matrix (quant::rotation;
// a seeded random orthogonal matrix where no Hadamard construction of
// order D exists), or a given orthogonal matrix (`matrix`: a learned one). Rotated activations lose their outlier channels (each
// channel becomes a +-1/sqrt(D) mix of all of them), and so do the
// weights, which helps 4-bit weights and per-tensor activations alike.
//
// Online rotations (`online`): a writer's input (the attention output
// before o_proj, the SwiGLU product before down_proj) has no linear
// producer to fold a rotation into, and its outliers stay (SmolLM2's
// down_proj input keeps 16 dB of int8 SQNR after the offline rotation).
// There qc.hadamard rotates the activation at run time, x <- x H with H =
// hadamard(m) (x) S_{K/m} / sqrt(K) (m = quant::onlineHadamardOrder(K)),
// and the writer's weight takes H^T on its rows: (x H)(H^T W) = x W. A
// writer whose K has no such H is left unrotated (counted in the report).
//
// The stream is found from the embedding (the one Gather from a constant
// [V, D] table) through the chain of residual Adds; every reader of the
// stream must be an RMSNorm written as exporters do (x / sqrt(mean(x^2) +
// eps), then an optional Mul by a constant gamma) whose output feeds only
// MatMuls with constant [D, N] weights, or the next residual Add, whose
// other operand is a MatMul with a constant [K, D] weight (+ a constant
// bias). Anything else (LayerNorm's mean subtraction, which does not
// commute with Q; a post-norm block; an op reading the raw stream) is an
// error naming the op: rotating around it would change the function.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_ROTATE_H
#define QUANTC_CALIBRATION_ROTATE_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace quantc::calib {

struct RotationReport {
  int64_t dim = 0;          // D
  bool hadamard = false;    // a randomized Hadamard (else random orthogonal)
  bool given = false;       // RotationOptions::matrix was folded
  int64_t norms = 0, readers = 0, writers = 0;
  int64_t online = 0;        // writers given an online Hadamard
  int64_t onlineSkipped = 0; // writers whose width has none
};

struct RotationOptions {
  uint64_t seed = 0;
  bool online = false; // qc.hadamard before every writer
  /// A D x D orthogonal Q (row-major) to fold instead of the randomized
  /// Hadamard, e.g. one learned on the calibration loss (SpinQuant;
  /// python -m quantc.transformers.spinquant); `matrixName` names it in
  /// errors. Refused unless its shape is the stream's and Q^T Q = I
  /// within 1e-3 (a non-orthogonal Q would change the function).
  std::vector<double> matrix;
  std::string matrixName;
};

/// The matrix of a .npy file ([D, D], float32 or float64) for
/// RotationOptions::matrix; an error naming the file otherwise.
llvm::Expected<std::vector<double>> readRotationMatrix(const std::string &path);

/// Folds a rotation of the residual stream into `module`'s main function,
/// as above. Errors (naming the op) leave the module unchanged.
llvm::Expected<RotationReport> foldRotations(mlir::ModuleOp module,
                                             const RotationOptions &options);


} // namespace quantc::calib

#endif
