//===- Passes.td - calibration and quantization passes -----*- tablegen -*-===//
#ifndef QUANTC_CALIBRATION_PASSES_TD
#define QUANTC_CALIBRATION_PASSES_TD

include "mlir/Pass/PassBase.td"

def QCInsertObservers : Pass<"qc-insert-observers", "::mlir::ModuleOp"> {
  let summary = "Put a qc.observe on the activation of every quantization target";
  let description = [{
    Targets: every Conv, MatMul (2-D right operand) and Gemm (A not
    transposed) with a constant float weight, also inside qc.if branches,
    in walk order. Observer k (index = k, layer = the node name) wraps the
    target's activation operand. `quantc calibrate` (the JIT runner) then
    attaches each observer's statistics as its `stats` attribute.
  }];
  let dependentDialects = ["::quantc::qc::QCDialect"];
}

def QCSmooth : Pass<"qc-smooth", "::mlir::ModuleOp"> {
  let summary = "SmoothQuant: move activation outliers into the weights (calibrated IR)";
  let description = [{
    The MatMul/Gemm targets reading one activation X [..., K] form a site;
    per input channel j

      s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)

    (max|X_j| from the observers' per-channel statistics, max|W_j| over row
    j of all the site's weights; s_j = 1 where either is 0; clamped to
    [1e-5, 1e5]) and X W = (X / s)(diag(s) W). The weights become diag(s) W;
    X / s is folded into X's producer: RMSNorm's constant scale (g / s),
    LayerNorm's gamma and beta (/ s), the up projection of a gated product
    X = a * (y U + c) (U's columns and c / s); any other producer gets an
    explicit X * (1 / s) before the consumers. Other readers of a folded X
    (a residual connection) read X * s, so the float function is unchanged.
    The observers' min, max and per-channel ranges are divided by s
    exactly; their histograms cannot be, so they are marked `smoothed` and
    qc-quantize then accepts only calibrator=minmax (`quantc quantize
    --recipe R-smooth` calibrates the smoothed model again instead, and
    searches alpha per site on the recipe's simulated output error).
    Convolutions and layers inside qc.if regions are left alone.

    With `awq` (AWQ, Lin et al. 2024, for weight-only 4-bit recipes) the
    scales are activation-aware instead: s_j = mean|X_j|^alpha / sqrt(max_j
    s_j * min_j s_j) (mean |x| per channel over every calibration row, the
    observers' `channel_absmean`), the same folds; the salient input
    channels (large mean |x|) get their weight rows scaled up before the
    4-bit rounding, so their relative rounding error shrinks. `quantc
    quantize --recipe w4a16-gN-awq` searches alpha in {0.05, ..., 1} per
    site on the weight-only quantized output error of the kept rows.
  }];
  let options = [
    Option<"alpha", "alpha", "double", "0.5",
           "migration strength in [0, 1]: 0 leaves activations' ranges to the weights' scale, 1 flattens the activations">,
    Option<"awq", "awq", "bool", "false", "AWQ's scales (mean |x|^alpha) instead of SmoothQuant's">,
  ];
  let dependentDialects = ["::quantc::qc::QCDialect"];
}

def QCFoldRotations : Pass<"qc-fold-rotations", "::mlir::ModuleOp"> {
  let summary = "QuaRot: rotate a pre-norm transformer's residual stream, folded into its weights";
  let description = [{
    For an orthogonal Q (D x D), RMSNorm with gamma = 1 commutes with Q:
    RMSNorm_1(h Q) = RMSNorm_1(h) Q, since mean((h Q)^2) = mean(h^2). So
    the residual stream h can live in the basis h Q with the function
    unchanged once every weight touching it is rotated:

      embedding table  E <- E Q
      norm readers     W <- Q^T diag(gamma) W   (q, k, v, gate, up, head;
                                                  the gamma Mul removed)
      stream writers   W <- W Q, bias <- bias Q  (o, down)

    Q = diag(+-1) H / sqrt(D): a Hadamard matrix H of order D built as a
    Kronecker product of Sylvester (2^k) and Paley (q + 1, q prime = 3
    mod 4) orders (576 = 12 x 12 x 4), signs drawn from `seed`; a seeded
    random orthogonal matrix where no such product exists. Rotated, the
    activations and weights lose their outlier channels, which helps
    per-tensor activations and 4-bit weights. With `matrix=FILE.npy` Q is
    that [D, D] array instead (float32/float64; refused unless Q^T Q = I
    within 1e-3): a rotation learned on the quantized model's loss
    (SpinQuant's R1: python -m quantc.transformers.spinquant).

    Runs before calibration (observers are an error). The stream is
    traced from the embedding (one Gather from a constant [V, D] table)
    through the residual Adds; a reader of the stream that is not an
    RMSNorm (x / sqrt(mean(x^2) + eps), optional Mul by gamma) feeding
    MatMuls with constant weights, or a residual Add whose other operand
    is not such a MatMul (+ constant bias), is an error naming the op: a
    LayerNorm's mean subtraction, for one, does not commute with Q.

    With `online`, each writer's input (no linear producer to fold into:
    the SwiGLU product before down_proj, the attention output before
    o_proj) is rotated at run time by a `qc.hadamard`, x <- x H with H =
    hadamard(m) (x) S_{K/m} / sqrt(K) orthogonal (m the smallest Hadamard
    order with K/m a power of two: 12 for 1536, 36 for 576), and the
    writer's weight rows take H^T: (x H)(H^T W) = x W. Writers whose K has
    no such H keep their input as is.
  }];
  let options = [
    Option<"seed", "seed", "uint64_t", "0", "seed of the random signs (or matrix)">,
    Option<"online", "online", "bool", "false",
           "rotate every writer's input at run time (qc.hadamard)">,
    Option<"matrix", "matrix", "std::string", "\"\"",
           "a .npy file with the D x D orthogonal Q to fold instead">,
  ];
  let dependentDialects = ["::quantc::qc::QCDialect"];
}

def QCSplitSalient : Pass<"qc-split-salient", "::mlir::ModuleOp"> {
  let summary = "Keep each MatMul's most salient input channels float beside the rounded matrix";
  let description = [{
    Structured salient weights (the GWQ / SliM-LLM line). On calibrated IR
    whose observers carry Hessians H = sum x^T x (`quantc calibrate
    --hessians`), for every MatMul target y = x W with W [K, N] constant:

      score_j = H_jj * ||W_j||^2          (row j of W: input channel j)
      S       = the ceil(percent / 100 * K) channels of largest score
      y       = x W_R + gather(x, S, axis = -1) W_S

    W_R is W with the rows S set to 0 and stays the quantization target
    (a 4-bit group holds 0 exactly; GPTQ may still move error onto those
    rows, since x_S reaches W_R too); W_S = W's rows S [|S|, N] is a float
    constant read by a qc.matmul marked `qc.salient_side`, which
    quantization skips. W_R + (W_S scattered back) = W, so the float
    function is unchanged. Then qc-quantize with a -salient recipe (e.g.
    w4a16-g128-salient-gptq). Gemm and convolution targets are left alone.
  }];
  let options = [
    Option<"percent", "percent", "double", "1.0",
           "share of each MatMul's input channels kept float, in (0, 100]">,
  ];
  let dependentDialects = ["::quantc::qc::QCDialect"];
}

def QCSplitOutliers : Pass<"qc-split-outliers", "::mlir::ModuleOp"> {
  let summary = "Take activation outlier channels out of the quantized input, multiplied in float";
  let description = [{
    LLM.int8()'s decomposition with the channels fixed at calibration (the
    -outliers recipes). On calibrated IR (observers with per-channel
    ranges, `quantc calibrate`), for every activation x [.., K] read by
    MatMuls y_c = x W_c with constant 2-D weights:

      a_j = max(|channel_min_j|, |channel_max_j|), m = median_j a_j
      S   = the channels with a_j > ratio * m, largest first, at most
            ceil(K / 100)
      y_c = (x * mask_S) W_c,R + gather(x, S, axis = -1) W_c,S

    mask_S is 0 on S and 1 elsewhere (one qc.mul per activation), W_c,R is
    W_c with rows S zeroed, W_c,S those rows as a float constant read by a
    qc.matmul marked `qc.salient_side` (never quantized). The float
    function is unchanged. The observers move behind the mask and their
    statistics follow exactly: channels S become [0, 0], the per-tensor
    range is the others' (min/max over channels), a Hessian loses rows and
    columns S; the histogram cannot follow, so they are marked `smoothed`
    (qc-quantize then takes the minmax calibrator). Then qc-smooth and
    qc-quantize with an -outliers recipe (e.g. w8a8-outliers-smooth).
    Activations read by a Gemm, a convolution or a non-constant weight
    are left alone.
  }];
  let options = [
    Option<"ratio", "ratio", "double", "32.0",
           "a channel is an outlier when its absmax exceeds ratio x the median channel's (> 1)">,
  ];
  let dependentDialects = ["::quantc::qc::QCDialect"];
}

def QCKeepFloat : Pass<"qc-keep-float", "::mlir::ModuleOp"> {
  let summary = "Mixed precision: keep float the layers whose quantization alone costs the most";
  let description = [{
    Reads each quantization target's `qc.sqnr_alone_db`: the model
    output's SQNR with only that layer quantized per the recipe,

      SQNR_l = 10 log10( sum_i y_i^2 / sum_i (y_i - y~_i^(l))^2 )

    over every float output element i of the samples (y: the float model,
    y~^(l): layer l alone quantized), which `quantc calibrate --sensitivity
    R` measures and stores (with the recipe, calibrator and percentile in
    the module's `qc.sensitivity`). Every target with SQNR_l < min-sqnr
    gets `qc.keep_float`: quantizationTargets skips it, so qc-quantize (and
    every later quantization step) leaves it float. A target without a
    measurement is an error naming the layer; qc-quantize refuses a recipe,
    calibrator or percentile other than the ones measured. `quantc quantize
    --min-layer-sqnr DB` is measureSensitivity followed by this pass.
  }];
  let options = [
    Option<"minSqnr", "min-sqnr", "double", "NAN",
           "floor (dB) on a layer's output SQNR when it alone is quantized; required">,
  ];
  let dependentDialects = ["::quantc::qc::QCDialect"];
}

def QCPrefixRows : Pass<"qc-prefix-rows", "::mlir::ModuleOp"> {
  let summary = "Static activations: the first positions of every sequence out of the scales";
  let description = [{
    PrefixQuant's observation (Chen et al. 2024): a transformer parks its
    massive activations on the first tokens of a sequence (the attention
    sink), hundreds of times larger than the other rows in a few layers,
    and one static scale per tensor has to cover them. This pass marks
    every MatMul quantization target whose activation X is ranked with
    rank >= 3 ([..., S, K], the sequence on axis -2) with
    `qc.prefix_rows = P` (rows=P). Then

      * calibration leaves the rows s < P out of every statistic of that
        activation (min/max, histogram, per-channel ranges, Hessian, the
        rows the smoothing search keeps), so the static scale, qc-smooth's
        alpha and GPTQ see only the rows that get rounded;
      * qc-quantize (static activations; dynamic ones are an error) splits
        the layer, with W~ = diag-scaled int8 weights:

          Y[..., :P, :] = R(X[..., :P, :]) W~      (R: each row rounded to
                                                    uint8 on its own range
                                                    at run time)
          Y[..., P:, :] = DQ(Q(X[..., P:, :])) W~  (the static scale)
          Y = Concat(axis -2) of the two

        both as integer products with the same int8 weights (a layer
        whose weights are not int8 per channel multiplies its prefix rows
        in float by its dequantized weight instead).

    In float the split is the identity. Cost: one per-row rounding of P
    rows and a P-row integer product per layer (P of S rows). Mark
    after the function-preserving rewrites that replace layers
    (qc-fold-rotations, the outlier split) and before calibration;
    `quantc quantize --prefix-rows P` does both.
  }];
  let options = [
    Option<"rows", "rows", "int64_t", "0", "positions per sequence kept float (>= 1)">,
  ];
  let dependentDialects = ["::quantc::qc::QCDialect"];
}

def QCSplitPrincipal : Pass<"qc-split-principal", "::mlir::ModuleOp"> {
  let summary = "Take each activation's leading directions (PCA of its calibration rows) out of the quantized input, multiplied in float";
  let description = [{
    On calibrated IR whose observers carry Hessians H = sum x^T x
    (`quantc calibrate --hessians`), for every activation x [.., K] read by
    MatMuls y_c = x W_c with constant 2-D weights (at least one of them not
    qc.keep_float) and K > rank: U [rank, K] = the rank leading
    eigenvectors of H (orthonormal rows; Jacobi or block subspace
    iteration, quantc/Quant/Eigen.h), then

      p   = x U^T                 (qc.matmul, float)
      x_r = x - p U               (qc.matmul, qc.sub, float)
      y_c = x_r W_c + p (U W_c)   (U W_c a [rank, N_c] float constant)

    The three side products are marked `qc.salient_side` (never
    quantized); x = x U^T U + x (I - U^T U), so the float function is
    unchanged to float32 rounding. The layers keep their weights and read
    x_r: the directions that hold most of the activation's energy (a
    massive channel, rotated or not) no longer set its quantization grid.
    The observers' statistics describe x, not x_r: the pass removes every
    observer, and the module is calibrated again before qc-quantize
    (quantc calibrate [--hessians]). `quantc quantize --principal-components
    R` does it all. Cost per row: rank (2 K + sum_c N_c) float
    multiply-adds against the layers' K sum_c N_c.
  }];
  let options = [
    Option<"rank", "rank", "int64_t", "0", "directions kept float per activation, in [1, 256]">,
  ];
  let dependentDialects = ["::quantc::qc::QCDialect"];
}

def QCQuantize : Pass<"qc-quantize", "::mlir::ModuleOp"> {
  let summary = "Quantize the targets per a recipe, from their observers' statistics";
  let description = [{
    Removes the qc.observe ops and rewrites each quantization target per
    the recipe (see quantc/Calibration/Quantize.h): activations get
    QuantizeLinear/DequantizeLinear with `!quant.uniform` (uint8) or fp8
    types and the calibrator's range from the observer's `stats`;
    weights are stored quantized (int8 per channel, uint4 in groups,
    float8e4m3fn) behind a DequantizeLinear; w8a8-dynamic uses
    DynamicQuantizeLinear into MatMulInteger/ConvInteger.
    w8a8-dynamic-token quantizes each row x_m of a MatMul/Gemm activation,
    reshaped to [M, K], on its own (qc.dynamic_quantize_rows: s_m =
    (max(0, max x_m) - min(0, min x_m)) / 255, z_m = round(-min / s_m)),
    and rescales y[m, n] = s_m * s_w[n] * (sum_k (q[m, k] - z_m) w[k, n]):
    one token's outliers no longer coarsen every token's grid. w4a4 does
    the same with 15 levels (s_m = range / 15) and symmetric int4 weights
    per channel. Weight-only recipes need no observers.
    With -rs (runtime smoothing, per-token dynamic recipes) each row x_m
    is first divided by s_g = max over the rows and the group's channels
    of |x| (groups of G = 128, 64 or 32 channels, computed at run time)
    and the products are summed per group: y = d_m w_n sum_g s_g
    sum_{k in g} (q_mk - z_m) W_kn, one MatMulInteger per group.
    w4a8-dynamic-token-gN: int4 symmetric weights in groups of N rows, the
    same per-group sum with the groups' weight scales in place of s_g. A target of the
    main function whose activation was never observed is an error.

    4-bit weights round to nearest on each group's min/max range, int8
    weights on the per-channel clip ratio with the least weight error.
    With a `-gptq` recipe (e.g. w4a16-g128-gptq) they are rounded by GPTQ
    instead, from the Hessian H = sum x^T x that `quantc calibrate
    --hessians` stores in the observers' stats: for W [K, N] and U upper
    with U^T U = (H + 0.01 mean(diag H) I)^-1, the rows k (input
    dimensions) are rounded in order of decreasing H_kk, each one's error
    e = (W_k - Q_k) / U_kk subtracted from every later row j as U_kj e, in
    blocks of 128 (quant::gptq); the group scales and zero points are the
    original W's min/max per group of consecutive rows (static groups), so
    the run-time layout is that of round-to-nearest. `gptq-damp` sets the
    0.01, `gptq-act-order=false` keeps the rows' own order, and
    `gptq-min-shrink=R` < 1 (default 0.8; 1: min/max) shrinks each group's range [lo, hi] (per
    output column) to [r lo, r hi] for the r in {1, 0.99, ..., R} that
    minimizes sum_k H_kk (w_k - dq(q(w_k)))^2, the diagonal part of the
    layer's output error tr(D^T H D). `gptq-refit-scales` (default on) then refits
    each output column's G group scales with the integers fixed: with
    a_k = q_k - z_g(k) in column g(k) of A [K, G],
    s = (A^T H A)^-1 A^T H w, the least-squares minimum of the output
    error (w - A s)^T H (w - A s), of which the min/max scales are one
    point (a scale <= 0 or a group all at its zero point keeps its scale);
    with `gptq-refit-rounds=N`, GPTQ rounds again with the refitted
    scales and refits again, N times in all.

    `activation-clip=c` (per-token dynamic recipes) rounds each row on
    [c lo, c hi] (qc.dynamic_quantize_rows clip): s_m = c (max(0, max x_m)
    - min(0, min x_m)) / L, the values beyond saturating. A target op's
    own `qc.activation_clip` attribute (`quantc quantize --activation-clip
    search` sets it: the c in {1, 0.95, ..., 0.5} minimizing ||X W -
    Q_c(X) W||^2 / ||X W||^2 on calibration rows, ActivationClip.h) takes
    precedence.
  }];
  let options = [
    Option<"recipe", "recipe", "std::string", "\"w8a8\"",
           "w8a8, w8a8-dynamic[-token], w8a16, w4a16-g32|g64|g128, w4a8[-gN], w4a4, fp8-e4m3; "
           "+ -rot, -smooth, -awq, -salient, -gptq (the rotation, smoothing and split done by their passes first)">,
    Option<"calibrator", "calibrator", "std::string", "\"minmax\"",
           "minmax, percentile, entropy or mse">,
    Option<"percentile", "percentile", "double", "99.99",
           "the percentile of |x| kept by the percentile calibrator">,
    Option<"gptqDamp", "gptq-damp", "double", "0.01",
           "-gptq: damping added to H's diagonal, as a fraction of its mean">,
    Option<"gptqActOrder", "gptq-act-order", "bool", "true",
           "-gptq: round the rows by decreasing H_kk (static groups)">,
    Option<"gptqMinShrink", "gptq-min-shrink", "double", "0.8",
           "-gptq: smallest ratio of each group's range tried by the diag(H)-weighted search (1: min/max)">,
    Option<"gptqRefitScales", "gptq-refit-scales", "bool", "true",
           "-gptq: refit the group scales by least squares once the integers are fixed">,
    Option<"gptqRefitRounds", "gptq-refit-rounds", "int", "1",
           "-gptq with gptq-refit-scales: rounds of GPTQ on the refitted scales and refit">,
    Option<"activationClip", "activation-clip", "double", "1.0",
           "per-token dynamic recipes: round each row on [c lo, c hi] of its range (0.5 <= c <= 1)">,
  ];
  let dependentDialects = ["::quantc::qc::QCDialect", "::mlir::quant::QuantDialect"];
}

#endif
