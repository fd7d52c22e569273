//===- Passes.td - quantc transformation passes -----------*- tablegen -*-===//
#ifndef QUANTC_TRANSFORMS_PASSES_TD
#define QUANTC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def QCInferShapes : Pass<"qc-infer-shapes", "::mlir::func::FuncOp"> {
  let summary = "Refine result types of qc ops from their operands";
  let description = [{
    Walks a function in order and gives each qc result the most precise
    tensor type its operands and attributes determine, keeping any dimension
    the IR already knows. The rules follow ONNX:

    * elementwise ops and activations: the operand's shape;
    * broadcasting ops (Add, Where, Max, ...): numpy broadcasting,
      out[i] = max(a[i], b[i]) after right-aligning, a 1 stretching to the
      other extent;
    * MatMul: numpy matmul, [..batch, M, K] x [..batch, K, N] -> [..batch,
      M, N] with 1-D operands promoted and the added dim removed;
    * Gemm: [M, N] from op(A) and op(B);
    * Conv / pooling, per spatial dim with kernel k, stride s, dilation d and
      pads p0, p1: out = floor((in + p0 + p1 - ((k - 1) * d + 1)) / s) + 1
      (ceil with ceil_mode), SAME_*: ceil(in / s), VALID: p0 = p1 = 0;
    * ConvTranspose: out = s * (in - 1) + output_padding + (k - 1) * d + 1
      - p0 - p1;
    * Reshape, Squeeze, Unsqueeze, Reduce*, Slice, Transpose, Concat,
      Flatten, Gather, Shape, Global*Pool: the ONNX shape functions, using
      constant operands where the op takes shapes or axes as inputs.

    A result whose known dimension contradicts the inferred one is an error.
    Function result types are updated to the refined types.
  }];
  let dependentDialects = ["::quantc::qc::QCDialect"];
}

#endif
