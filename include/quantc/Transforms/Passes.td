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
      constant operands where the op takes shapes or axes as inputs;
    * Range: [max(ceil((limit - start) / delta), 0)] from constant operands.

    Reshape, Expand and ConstantOfShape also read targets that are computed,
    element by element as far as they are known (`partialInts`): Shape of
    a tensor gives its dims (`?` for symbolic ones), and Gather with
    constant indices, Concat, Slice with constant bounds, Unsqueeze /
    Squeeze / Reshape / Cast / Identity and integer Add / Sub / Mul / Div
    carry them through. Exporters write Reshape(x, Concat(Unsqueeze(Gather(
    Shape(x), 0)), Unsqueeze(Gather(Shape(x), 1)), [9], [64])); with a
    symbolic length this gives [1, ?, 9, 64] rather than [?, ?, ?, ?].

    A result whose known dimension contradicts the inferred one is an error.
    Function result types are updated to the refined types.
  }];
  let dependentDialects = ["::quantc::qc::QCDialect"];
}

def QCIntegerContractions : Pass<"qc-integer-contractions", "::mlir::func::FuncOp"> {
  let summary = "Run dequantized convolutions and matmuls on their integers";
  let description = [{
    A 2-D convolution with one group, a depthwise one (group = C = M,
    weights of one input channel) with symmetric int8 weights (zero point
    absent or zero: the int8 depthwise kernel needs no window sums), or a
    MatMul with a 2-D right operand,
    whose operands are both DequantizeLinear outputs -- the input per
    tensor with 8-bit values, the weights a constant with 8-bit values
    per tensor or per output channel (Conv: axis 0; MatMul: the last axis)
    -- is rewritten as

      y = float(ConvInteger(xq, wq, zx, zw)) * (sx * sw) + bias
      y = float(MatMulInteger(xq, wq, zx, zw)) * (sx * sw)

    with the product of the scales folded into one constant (per output
    channel, shaped to broadcast) and a constant Conv bias reshaped to
    [M, 1, 1]. The integer op accumulates exactly in int32 and lowers to
    the int8 kernels (qc-to-linalg); the epilogue is element-wise and fuses
    with what follows. The result equals the dequantized float computation
    up to float rounding of the sum (which the integer sum does not have).
    Other grouped convolutions, blocked or non-constant scales and
    4-bit operands are left as they are.
  }];
  let dependentDialects = ["::quantc::qc::QCDialect"];
}

def QCFuseAttention : Pass<"qc-fuse-attention", "::mlir::func::FuncOp"> {
  let summary = "Scaled dot-product attention as one qc.attention";
  let description = [{
    Exporters write attention as

      S = MatMul(Q, Kt)            Q [b, H, m, d], Kt [b, H, d, s]
      S = Div(S, c) | Mul(S, c)    (optional; c a scalar constant)
      S = Add(S, mask)             (optional; f32, broadcastable)
      P = Softmax(S, axis = -1)
      O = MatMul(P, V)             V [b, H, s, dv]

    which is qc.attention(Q, K, V, mask) with scale 1/c (or c), K the
    [b, H, s, d] keys: Kt's transpose, read from Kt's own transpose when it
    has one (MiniLM's Transpose(k, [0, 2, 3, 1]) gives K = Transpose(k,
    [0, 2, 1, 3])). When K and V are both grouped-query repeats (the form
    qc-fold-kv-repeat folds: Reshape(Expand(Unsqueeze(kv)))), qc.attention
    reads the G = H / R heads kv directly: head h uses K/V head h / R.
    A mask of rank < 4 gets leading unit axes. Every intermediate must have
    this chain as its only user (an observer on the scores or
    probabilities keeps the ops apart); batch and head counts must be
    static and equal across Q, Kt and V. On the CPU qc.attention is one
    runtime kernel: the [m, s] scores of all heads are never stored, only
    a block of rows per thread.
  }];
  let dependentDialects = ["::quantc::qc::QCDialect"];
}

def QCQuantizeKV : Pass<"qc-quantize-kv", "::mlir::func::FuncOp"> {
  let summary = "Round attention's keys and values (and queries) to int8, one scale per token and head";
  let description = [{
    For each qc.attention, the keys and values (the KV cache) and, with
    `query`, the queries are replaced by their int8 round trip with
    per-row dynamic scales (rows: the last axis, one head's vector of one
    token):

      lo = min(0, min r), hi = max(0, max r), scale = (hi - lo) / 255,
      zp = round(-lo / scale), r' = (clamp(round(r / scale) + zp, 0, 255) - zp) * scale

    (qc.dynamic_quantize_rows, then the dequantization), so QK^T and P x V
    read what an int8 cache, or an int8 x int8 score product, holds; the
    kernel still computes in float (the accuracy of int8 attention
    operands, not its speed or memory). Where K or V is a Concat along
    the sequence axis (axis 2: the past cache, then this step's tokens),
    only the last operand, the new tokens, is rounded, so the present
    outputs carry the rounded values and the past ones, which came from
    an earlier step's present, are not rounded twice. Softmax
    probabilities stay float.

    `bits` = 4 rounds to 15 levels instead of 255 (an int4 cache). With
    `rotate`, each row is rounded in a rotated basis (QuaRot's KV cache):
    r' = roundtrip(r H) H^T with H = hadamard(m) (x) S_{d/m} / sqrt(d)
    orthogonal over the head dimension d (two qc.hadamard ops), so a
    head's outlier dimensions are spread before the rounding and the
    cache, queries and outputs stay in the model's basis (in float,
    H H^T = I: nothing changes).
  }];
  let options = [
    Option<"query", "query", "bool", /*default=*/"false",
           "also round the queries (both operands of Q x K^T int8)">,
    Option<"bits", "bits", "int64_t", /*default=*/"8", "8 (int8 rows) or 4 (int4 rows)">,
    Option<"rotate", "rotate", "bool", /*default=*/"false",
           "round each row after an online Hadamard rotation, then rotate it back">,
  ];
  let dependentDialects = ["::quantc::qc::QCDialect"];
}

def QCFoldKVRepeat : Pass<"qc-fold-kv-repeat", "::mlir::func::FuncOp"> {
  let summary = "Grouped-query attention without materialising repeated K/V heads";
  let description = [{
    Exporters write grouped-query attention (H query heads sharing G = H / R
    key/value heads) by repeating each K/V head R times:

      Kr = Reshape(Expand(Unsqueeze(K, [2]), [b, G, R, s, d]), [b, H, s, d])

    and then S = Q x Transpose(Kr, [0, 1, 3, 2]) and O = P x Kr (for V).
    Query head h = g * R + r reads K/V head g, and Q's heads are contiguous
    in that order, so with Q' = Reshape(Q, [b, G, R * m, d]) (query rows of
    the R heads of group g stacked):

      Q x Transpose(Kr)  =  Reshape(Q' x Transpose(K), [b, H, m, s])
      P x Kr             =  Reshape(Reshape(P, [b, G, R * m, s]) x K,
                                    [b, H, m, d])

    element for element the same dot products, without the R-fold copy of
    the cache (and of its transpose) that the exported form makes on every
    layer and token. Needs static b, G, R and d (after qc-infer-shapes);
    the lengths m and s may be symbolic: Q' then has one unknown dim (-1
    in its target) and the products' reshapes back to H heads read m and s
    with Shape at run time. The repeat stays where it has other uses.
  }];
  let dependentDialects = ["::quantc::qc::QCDialect"];
}

#endif
