//===- Passes.td - quantc conversion passes ---------------*- tablegen -*-===//
#ifndef QUANTC_CONVERSION_PASSES_TD
#define QUANTC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def QCToLinalg : Pass<"qc-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Lower qc graph ops to linalg, tensor, arith and math";
  let description = [{
    Every qc op becomes tensor-level IR with the op's ONNX semantics:

    * elementwise ops: one `linalg.generic` whose indexing maps implement
      numpy broadcasting (a size-1 operand dim reads index 0);
    * MatMul/Gemm: a contraction `linalg.generic` over
      C[b.., m, n] = sum_k A[b.., m, k] * B[b.., k, n] (Gemm: alpha * op(A)
      op(B) + beta * C);
    * Conv: Y[n, f, o..] = sum_{c, k..} Xpad[n, g(f) * Cg + c, o.. * s + k.. * d]
      * W[f, c, k..] + B[f], g(f) = f floordiv (M / group), with explicit
      zero padding (`tensor.pad`);
    * pooling: the same window with max (padding -inf) or sum divided by the
      number of in-bounds elements (count_include_pad = 0) or the window size;
    * reductions and softmax: reduction `linalg.generic`s (softmax is
      exp(x - max) / sum exp(x - max));
    * data movement: tensor.reshape / linalg.transpose / tensor slices.

    Results must have static shapes: the driver specializes a model's input
    shapes and runs qc-infer-shapes and canonicalization first. Ops or cases
    that are not lowered yet are reported on the op.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::affine::AffineDialect", "::mlir::scf::SCFDialect"
  ];
}

#endif
