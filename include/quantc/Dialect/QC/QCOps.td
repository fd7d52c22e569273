//===- QCOps.td - qc graph ops with ONNX semantics --------*- tablegen -*-===//
//
// One op per ONNX operator type. Attribute names, kinds and defaults follow
// the ONNX operator at opset 21; operands are positional, exactly as ONNX
// lists the inputs, and an omitted optional input is a `qc.none` value.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_DIALECT_QC_QCOPS_TD
#define QUANTC_DIALECT_QC_QCOPS_TD

include "quantc/Dialect/QC/QCDialect.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"

def QC_OptTensor : AnyTypeOf<[AnyTensor, NoneType], "tensor or none">;

class QC_Op<string mnemonic, list<Trait> traits = []>
    : Op<QC_Dialect, mnemonic, !listconcat([Pure], traits)> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Structural ops
//===----------------------------------------------------------------------===//

def QC_NoneOp : QC_Op<"none"> {
  let summary = "the value of an omitted optional ONNX input";
  let results = (outs NoneType:$none);
  let assemblyFormat = "attr-dict";
}

def QC_ConstantOp : QC_Op<"constant", [ConstantLike]> {
  let summary = "ONNX Constant and graph initializers";
  let description = [{
    A tensor constant. Large initializers are `dense_resource` blobs that
    alias the model's memory; small ones are `dense` so that shape
    arithmetic folds.
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = ?;
  let hasCustomAssemblyFormat = 1;
  let hasFolder = 1;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise unary ops without attributes
//===----------------------------------------------------------------------===//

class QC_UnaryOp<string mnemonic, list<Trait> traits = []>
    : QC_Op<mnemonic, !listconcat([SameOperandsAndResultShape], traits)> {
  let arguments = (ins AnyTensor:$X);
  let results = (outs AnyTensor:$Y);
}

foreach p = [["Abs", "abs"], ["Neg", "neg"], ["Sqrt", "sqrt"], ["Exp", "exp"],
             ["Log", "log"], ["Erf", "erf"], ["Tanh", "tanh"],
             ["Sigmoid", "sigmoid"], ["Relu", "relu"],
             ["Reciprocal", "reciprocal"], ["Floor", "floor"],
             ["Ceil", "ceil"], ["Round", "round"], ["Sin", "sin"],
             ["Cos", "cos"], ["Tan", "tan"], ["Asin", "asin"],
             ["Acos", "acos"], ["Atan", "atan"], ["Sinh", "sinh"],
             ["Cosh", "cosh"], ["Asinh", "asinh"], ["Acosh", "acosh"],
             ["Atanh", "atanh"], ["Sign", "sign"], ["Softplus", "softplus"],
             ["Softsign", "softsign"], ["HardSwish", "hard_swish"],
             ["Mish", "mish"]] in
def QC_#p[0]#Op : QC_UnaryOp<p[1], [SameOperandsAndResultElementType]> {
  let summary = "ONNX " # p[0] # " (elementwise)";
}

def QC_NotOp : QC_UnaryOp<"not", [SameOperandsAndResultElementType]> {
  let summary = "ONNX Not (elementwise logical not)";
}

def QC_IdentityOp : QC_UnaryOp<"identity", [SameOperandsAndResultElementType]> {
  let summary = "ONNX Identity";
  let hasFolder = 1;
}

def QC_ObserveOp : QC_Op<"observe", [SameOperandsAndResultShape,
                                       SameOperandsAndResultElementType]> {
  let summary = "Calibration observer: the identity, marking a tensor to measure";
  let description = [{
    Inserted by qc-insert-observers on the activation of each quantization
    target (`index` in target order, `layer` the ONNX node name). The
    calibration runner routes every observed tensor out of the JIT-compiled
    model and reduces it sample by sample (min/max, |x| histogram); the
    statistics come back as the `stats` dictionary:
    {min, max, nonfinite, samples, bin_width, total, counts = array<f64>}.
    qc-quantize reads them and removes the observers. Lowered as the
    identity.
  }];
  let arguments = (ins AnyTensor:$input, I64Attr:$index, StrAttr:$layer,
                   OptionalAttr<DictionaryAttr>:$stats);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type($input, $output)";
}

def QC_IsNaNOp : QC_UnaryOp<"is_nan"> {
  let summary = "ONNX IsNaN";
  let results = (outs TensorOf<[I1]>:$Y);
}

def QC_IsInfOp : QC_UnaryOp<"is_inf"> {
  let summary = "ONNX IsInf";
  let arguments = (ins AnyTensor:$X,
                   DefaultValuedAttr<I64Attr, "1">:$detect_negative,
                   DefaultValuedAttr<I64Attr, "1">:$detect_positive);
  let results = (outs TensorOf<[I1]>:$Y);
}

//===----------------------------------------------------------------------===//
// Activations with attributes
//===----------------------------------------------------------------------===//

class QC_UnaryAlphaOp<string mnemonic, string alpha>
    : QC_UnaryOp<mnemonic, [SameOperandsAndResultElementType]> {
  let arguments = (ins AnyTensor:$X, DefaultValuedAttr<F32Attr, alpha>:$alpha);
}

def QC_LeakyReluOp : QC_UnaryAlphaOp<"leaky_relu", "0.01"> {
  let summary = "ONNX LeakyRelu: x < 0 ? alpha * x : x";
}
def QC_EluOp : QC_UnaryAlphaOp<"elu", "1.0"> {
  let summary = "ONNX Elu: x < 0 ? alpha * (exp(x) - 1) : x";
}
def QC_CeluOp : QC_UnaryAlphaOp<"celu", "1.0"> {
  let summary = "ONNX Celu: max(0,x) + min(0, alpha*(exp(x/alpha)-1))";
}
def QC_ThresholdedReluOp : QC_UnaryAlphaOp<"thresholded_relu", "1.0"> {
  let summary = "ONNX ThresholdedRelu: x > alpha ? x : 0";
}

def QC_SeluOp : QC_UnaryOp<"selu", [SameOperandsAndResultElementType]> {
  let summary = "ONNX Selu";
  let arguments = (ins AnyTensor:$X,
                   DefaultValuedAttr<F32Attr, "1.67326319217681884765625">:$alpha,
                   DefaultValuedAttr<F32Attr, "1.05070102214813232421875">:$gamma);
}

def QC_HardSigmoidOp : QC_UnaryOp<"hard_sigmoid", [SameOperandsAndResultElementType]> {
  let summary = "ONNX HardSigmoid: max(0, min(1, alpha * x + beta))";
  let arguments = (ins AnyTensor:$X,
                   DefaultValuedAttr<F32Attr, "0.2">:$alpha,
                   DefaultValuedAttr<F32Attr, "0.5">:$beta);
}

def QC_ShrinkOp : QC_UnaryOp<"shrink", [SameOperandsAndResultElementType]> {
  let summary = "ONNX Shrink";
  let arguments = (ins AnyTensor:$input,
                   DefaultValuedAttr<F32Attr, "0.0">:$bias,
                   DefaultValuedAttr<F32Attr, "0.5">:$lambd);
}

def QC_GeluOp : QC_UnaryOp<"gelu", [SameOperandsAndResultElementType]> {
  let summary = "ONNX Gelu (approximate = none | tanh)";
  let arguments = (ins AnyTensor:$X,
                   DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let hasVerifier = 1;
}

def QC_LRNOp : QC_UnaryOp<"lrn", [SameOperandsAndResultElementType]> {
  let summary = "ONNX LRN (local response normalization across channels)";
  let arguments = (ins AnyTensor:$X,
                   DefaultValuedAttr<F32Attr, "0.0001">:$alpha,
                   DefaultValuedAttr<F32Attr, "0.75">:$beta,
                   DefaultValuedAttr<F32Attr, "1.0">:$bias,
                   I64Attr:$size);
}

class QC_SoftmaxLikeOp<string mnemonic>
    : QC_UnaryOp<mnemonic, [SameOperandsAndResultElementType]> {
  let arguments = (ins AnyTensor:$input, DefaultValuedAttr<I64Attr, "-1">:$axis);
  let hasVerifier = 1;
}
def QC_SoftmaxOp : QC_SoftmaxLikeOp<"softmax"> {
  let summary = "ONNX Softmax (opset 13 semantics: along one axis)";
}
def QC_LogSoftmaxOp : QC_SoftmaxLikeOp<"log_softmax"> {
  let summary = "ONNX LogSoftmax (opset 13 semantics: along one axis)";
}
def QC_HardmaxOp : QC_SoftmaxLikeOp<"hardmax"> {
  let summary = "ONNX Hardmax (opset 13 semantics: along one axis)";
}

def QC_CumSumOp : QC_Op<"cum_sum"> {
  let summary = "ONNX CumSum";
  let arguments = (ins AnyTensor:$x, AnyTensor:$axis,
                   DefaultValuedAttr<I64Attr, "0">:$exclusive,
                   DefaultValuedAttr<I64Attr, "0">:$reverse);
  let results = (outs AnyTensor:$y);
}

//===----------------------------------------------------------------------===//
// Elementwise binary ops (multidirectional broadcasting)
//===----------------------------------------------------------------------===//

class QC_BinaryOp<string mnemonic, list<Trait> traits = []>
    : QC_Op<mnemonic, !listconcat([ResultsBroadcastableShape], traits)> {
  let arguments = (ins AnyTensor:$A, AnyTensor:$B);
  let results = (outs AnyTensor:$C);
}

foreach p = [["Add", "add"], ["Sub", "sub"], ["Mul", "mul"], ["Div", "div"]] in
def QC_#p[0]#Op : QC_BinaryOp<p[1]> {
  let summary = "ONNX " # p[0] # " (broadcasting)";
  let hasFolder = 1;
}

foreach p = [["And", "and"], ["Or", "or"], ["Xor", "xor"]] in
def QC_#p[0]#Op : QC_BinaryOp<p[1]> {
  let summary = "ONNX " # p[0] # " (broadcasting logical op)";
}

foreach p = [["Equal", "equal"], ["Less", "less"], ["Greater", "greater"],
             ["LessOrEqual", "less_or_equal"],
             ["GreaterOrEqual", "greater_or_equal"]] in
def QC_#p[0]#Op : QC_BinaryOp<p[1]> {
  let summary = "ONNX " # p[0] # " (broadcasting comparison, bool result)";
  let results = (outs TensorOf<[I1]>:$C);
}

def QC_PowOp : QC_BinaryOp<"pow"> {
  let summary = "ONNX Pow (broadcasting; exponent may have another type)";
  let arguments = (ins AnyTensor:$X, AnyTensor:$Y);
  let results = (outs AnyTensor:$Z);
}

def QC_PReluOp : QC_BinaryOp<"prelu"> {
  let summary = "ONNX PRelu: x < 0 ? slope * x : x (slope broadcasts to x)";
  let arguments = (ins AnyTensor:$X, AnyTensor:$slope);
  let results = (outs AnyTensor:$Y);
}

def QC_ModOp : QC_BinaryOp<"mod"> {
  let summary = "ONNX Mod (fmod = 0: sign of divisor; 1: C fmod)";
  let arguments = (ins AnyTensor:$A, AnyTensor:$B,
                   DefaultValuedAttr<I64Attr, "0">:$fmod);
}

def QC_BitShiftOp : QC_BinaryOp<"bit_shift"> {
  let summary = "ONNX BitShift (direction = LEFT | RIGHT)";
  let arguments = (ins AnyTensor:$X, AnyTensor:$Y, StrAttr:$direction);
  let results = (outs AnyTensor:$Z);
  let hasVerifier = 1;
}

foreach p = [["Max", "max"], ["Min", "min"], ["Sum", "sum"], ["Mean", "mean"]] in
def QC_#p[0]#Op : QC_Op<p[1]> {
  let summary = "ONNX " # p[0] # " (variadic, broadcasting)";
  let arguments = (ins Variadic<AnyTensor>:$data_0);
  let results = (outs AnyTensor:$result);
  let hasVerifier = 1;
}

def QC_WhereOp : QC_Op<"where"> {
  let summary = "ONNX Where: condition ? X : Y (broadcasting)";
  let arguments = (ins AnyTensor:$condition, AnyTensor:$X, AnyTensor:$Y);
  let results = (outs AnyTensor:$output);
}

def QC_ClipOp : QC_Op<"clip"> {
  let summary = "ONNX Clip: min(max(input, min), max); omitted bounds are open";
  let arguments = (ins AnyTensor:$input, QC_OptTensor:$min, QC_OptTensor:$max);
  let results = (outs AnyTensor:$output);
}

//===----------------------------------------------------------------------===//
// Linear algebra, convolution and normalization
//===----------------------------------------------------------------------===//

def QC_MatMulOp : QC_Op<"matmul"> {
  let summary = "ONNX MatMul (numpy matmul semantics)";
  let arguments = (ins AnyTensor:$A, AnyTensor:$B);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

def QC_GemmOp : QC_Op<"gemm"> {
  let summary = "ONNX Gemm: alpha * op(A) * op(B) + beta * C";
  let arguments = (ins AnyTensor:$A, AnyTensor:$B, QC_OptTensor:$C,
                   DefaultValuedAttr<F32Attr, "1.0">:$alpha,
                   DefaultValuedAttr<F32Attr, "1.0">:$beta,
                   DefaultValuedAttr<I64Attr, "0">:$transA,
                   DefaultValuedAttr<I64Attr, "0">:$transB);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

def QC_ConvAttrs {
  dag attrs = (ins DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
               OptionalAttr<DenseI64ArrayAttr>:$dilations,
               DefaultValuedAttr<I64Attr, "1">:$group,
               OptionalAttr<DenseI64ArrayAttr>:$kernel_shape,
               OptionalAttr<DenseI64ArrayAttr>:$pads,
               OptionalAttr<DenseI64ArrayAttr>:$strides);
}

def QC_ConvOp : QC_Op<"conv"> {
  let summary = "ONNX Conv (N-d, grouped)";
  let arguments = !con((ins AnyTensor:$X, AnyTensor:$W, QC_OptTensor:$B),
                       QC_ConvAttrs.attrs);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

def QC_ConvTransposeOp : QC_Op<"conv_transpose"> {
  let summary = "ONNX ConvTranspose (N-d, grouped)";
  let arguments = !con((ins AnyTensor:$X, AnyTensor:$W, QC_OptTensor:$B),
                       QC_ConvAttrs.attrs,
                       (ins OptionalAttr<DenseI64ArrayAttr>:$output_padding,
                            OptionalAttr<DenseI64ArrayAttr>:$output_shape));
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

def QC_ConvIntegerOp : QC_Op<"conv_integer"> {
  let summary = "ONNX ConvInteger: integer conv with zero points, int32 result";
  let arguments = !con((ins AnyTensor:$x, AnyTensor:$w,
                            QC_OptTensor:$x_zero_point, QC_OptTensor:$w_zero_point),
                       QC_ConvAttrs.attrs);
  let results = (outs TensorOf<[I32]>:$y);
}

def QC_QLinearConvOp : QC_Op<"qlinear_conv"> {
  let summary = "ONNX QLinearConv: quantized conv with requantization";
  let arguments = !con((ins AnyTensor:$x, AnyTensor:$x_scale, AnyTensor:$x_zero_point,
                            AnyTensor:$w, AnyTensor:$w_scale, AnyTensor:$w_zero_point,
                            AnyTensor:$y_scale, AnyTensor:$y_zero_point,
                            QC_OptTensor:$B),
                       QC_ConvAttrs.attrs);
  let results = (outs AnyTensor:$y);
}

def QC_MatMulIntegerOp : QC_Op<"matmul_integer"> {
  let summary = "ONNX MatMulInteger: (A - a_zp) x (B - b_zp) in int32";
  let arguments = (ins AnyTensor:$A, AnyTensor:$B,
                   QC_OptTensor:$a_zero_point, QC_OptTensor:$b_zero_point);
  let results = (outs TensorOf<[I32]>:$Y);
}

def QC_QLinearMatMulOp : QC_Op<"qlinear_matmul"> {
  let summary = "ONNX QLinearMatMul: quantized matmul with requantization";
  let arguments = (ins AnyTensor:$a, AnyTensor:$a_scale, AnyTensor:$a_zero_point,
                   AnyTensor:$b, AnyTensor:$b_scale, AnyTensor:$b_zero_point,
                   AnyTensor:$y_scale, AnyTensor:$y_zero_point);
  let results = (outs AnyTensor:$y);
}

def QC_BatchNormalizationOp : QC_Op<"batch_normalization"> {
  let summary = "ONNX BatchNormalization (inference mode)";
  let description = [{
    Y = scale * (X - input_mean) / sqrt(input_var + epsilon) + B, with the
    statistics broadcast along axis 1. Training mode is rejected on import.
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$scale, AnyTensor:$B,
                   AnyTensor:$input_mean, AnyTensor:$input_var,
                   DefaultValuedAttr<F32Attr, "1e-05">:$epsilon,
                   DefaultValuedAttr<F32Attr, "0.9">:$momentum,
                   DefaultValuedAttr<I64Attr, "0">:$training_mode);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

def QC_InstanceNormalizationOp : QC_Op<"instance_normalization"> {
  let summary = "ONNX InstanceNormalization";
  let arguments = (ins AnyTensor:$input, AnyTensor:$scale, AnyTensor:$B,
                   DefaultValuedAttr<F32Attr, "1e-05">:$epsilon);
  let results = (outs AnyTensor:$output);
}

def QC_LayerNormalizationOp : QC_Op<"layer_normalization"> {
  let summary = "ONNX LayerNormalization (normalizes over axes [axis, rank))";
  let arguments = (ins AnyTensor:$X, AnyTensor:$Scale, QC_OptTensor:$B,
                   DefaultValuedAttr<I64Attr, "-1">:$axis,
                   DefaultValuedAttr<F32Attr, "1e-05">:$epsilon,
                   DefaultValuedAttr<I64Attr, "1">:$stash_type);
  let results = (outs AnyTensor:$Y, AnyTensor:$Mean, AnyTensor:$InvStdDev);
  let hasVerifier = 1;
}

def QC_MeanVarianceNormalizationOp : QC_Op<"mean_variance_normalization"> {
  let summary = "ONNX MeanVarianceNormalization";
  let arguments = (ins AnyTensor:$X,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{0, 2, 3}">:$axes);
  let results = (outs AnyTensor:$Y);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

foreach p = [["ReduceMean", "reduce_mean"], ["ReduceSum", "reduce_sum"],
             ["ReduceMax", "reduce_max"], ["ReduceMin", "reduce_min"],
             ["ReduceL1", "reduce_l1"], ["ReduceL2", "reduce_l2"],
             ["ReduceProd", "reduce_prod"], ["ReduceLogSum", "reduce_log_sum"],
             ["ReduceLogSumExp", "reduce_log_sum_exp"],
             ["ReduceSumSquare", "reduce_sum_square"]] in
def QC_#p[0]#Op : QC_Op<p[1]> {
  let summary = "ONNX " # p[0] # " (opset 18 form: axes is an input)";
  let arguments = (ins AnyTensor:$data, QC_OptTensor:$axes,
                   DefaultValuedAttr<I64Attr, "1">:$keepdims,
                   DefaultValuedAttr<I64Attr, "0">:$noop_with_empty_axes);
  let results = (outs AnyTensor:$reduced);
}

foreach p = [["ArgMax", "arg_max"], ["ArgMin", "arg_min"]] in
def QC_#p[0]#Op : QC_Op<p[1]> {
  let summary = "ONNX " # p[0] # " (int64 indices)";
  let arguments = (ins AnyTensor:$data,
                   DefaultValuedAttr<I64Attr, "0">:$axis,
                   DefaultValuedAttr<I64Attr, "1">:$keepdims,
                   DefaultValuedAttr<I64Attr, "0">:$select_last_index);
  let results = (outs TensorOf<[I64]>:$reduced);
}

def QC_TopKOp : QC_Op<"top_k"> {
  let summary = "ONNX TopK (opset 11 form: K is an input)";
  let arguments = (ins AnyTensor:$X, AnyTensor:$K,
                   DefaultValuedAttr<I64Attr, "-1">:$axis,
                   DefaultValuedAttr<I64Attr, "1">:$largest,
                   DefaultValuedAttr<I64Attr, "1">:$sorted);
  let results = (outs AnyTensor:$Values, TensorOf<[I64]>:$Indices);
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

def QC_MaxPoolOp : QC_Op<"max_pool"> {
  let summary = "ONNX MaxPool (Indices is always produced; unused is fine)";
  let arguments = (ins AnyTensor:$X,
                   DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                   DefaultValuedAttr<I64Attr, "0">:$ceil_mode,
                   OptionalAttr<DenseI64ArrayAttr>:$dilations,
                   DenseI64ArrayAttr:$kernel_shape,
                   OptionalAttr<DenseI64ArrayAttr>:$pads,
                   DefaultValuedAttr<I64Attr, "0">:$storage_order,
                   OptionalAttr<DenseI64ArrayAttr>:$strides);
  let results = (outs AnyTensor:$Y, TensorOf<[I64]>:$Indices);
  let hasVerifier = 1;
}

def QC_AveragePoolOp : QC_Op<"average_pool"> {
  let summary = "ONNX AveragePool";
  let arguments = (ins AnyTensor:$X,
                   DefaultValuedStrAttr<StrAttr, "NOTSET">:$auto_pad,
                   DefaultValuedAttr<I64Attr, "0">:$ceil_mode,
                   DefaultValuedAttr<I64Attr, "0">:$count_include_pad,
                   OptionalAttr<DenseI64ArrayAttr>:$dilations,
                   DenseI64ArrayAttr:$kernel_shape,
                   OptionalAttr<DenseI64ArrayAttr>:$pads,
                   OptionalAttr<DenseI64ArrayAttr>:$strides);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

foreach p = [["GlobalAveragePool", "global_average_pool"],
             ["GlobalMaxPool", "global_max_pool"]] in
def QC_#p[0]#Op : QC_Op<p[1]> {
  let summary = "ONNX " # p[0] # " (over all spatial dims, kept as 1)";
  let arguments = (ins AnyTensor:$X);
  let results = (outs AnyTensor:$Y);
}

//===----------------------------------------------------------------------===//
// Shape and data movement
//===----------------------------------------------------------------------===//

def QC_ReshapeOp : QC_Op<"reshape"> {
  let summary = "ONNX Reshape (0 copies a dim unless allowzero, -1 infers)";
  let arguments = (ins AnyTensor:$data, AnyTensor:$shape,
                   DefaultValuedAttr<I64Attr, "0">:$allowzero);
  let results = (outs AnyTensor:$reshaped);
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def QC_TransposeOp : QC_Op<"transpose"> {
  let summary = "ONNX Transpose (default perm reverses the dims)";
  let arguments = (ins AnyTensor:$data, OptionalAttr<DenseI64ArrayAttr>:$perm);
  let results = (outs AnyTensor:$transposed);
  let hasFolder = 1;
  let hasCanonicalizer = 1;
  let hasVerifier = 1;
}

def QC_ConcatOp : QC_Op<"concat"> {
  let summary = "ONNX Concat";
  let arguments = (ins Variadic<AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyTensor:$concat_result);
  let hasFolder = 1;
  let hasVerifier = 1;
}

def QC_SliceOp : QC_Op<"slice"> {
  let summary = "ONNX Slice (opset 10+ form: starts/ends/axes/steps inputs)";
  let arguments = (ins AnyTensor:$data, AnyTensor:$starts, AnyTensor:$ends,
                   QC_OptTensor:$axes, QC_OptTensor:$steps);
  let results = (outs AnyTensor:$output);
  let hasFolder = 1;
}

def QC_SplitOp : QC_Op<"split"> {
  let summary = "ONNX Split (opset 18 form: split is an input)";
  let arguments = (ins AnyTensor:$input, QC_OptTensor:$split,
                   DefaultValuedAttr<I64Attr, "0">:$axis,
                   OptionalAttr<I64Attr>:$num_outputs);
  let results = (outs Variadic<AnyTensor>:$outputs);
}

def QC_GatherOp : QC_Op<"gather"> {
  let summary = "ONNX Gather";
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs AnyTensor:$output);
  let hasFolder = 1;
}

def QC_GatherElementsOp : QC_Op<"gather_elements"> {
  let summary = "ONNX GatherElements";
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs AnyTensor:$output);
}

def QC_GatherNDOp : QC_Op<"gather_nd"> {
  let summary = "ONNX GatherND";
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs AnyTensor:$output);
}

def QC_ScatterElementsOp : QC_Op<"scatter_elements"> {
  let summary = "ONNX ScatterElements (and the deprecated Scatter)";
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices, AnyTensor:$updates,
                   DefaultValuedAttr<I64Attr, "0">:$axis,
                   DefaultValuedStrAttr<StrAttr, "none">:$reduction);
  let results = (outs AnyTensor:$output);
}

def QC_ScatterNDOp : QC_Op<"scatter_nd"> {
  let summary = "ONNX ScatterND";
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices, AnyTensor:$updates,
                   DefaultValuedStrAttr<StrAttr, "none">:$reduction);
  let results = (outs AnyTensor:$output);
}

def QC_SqueezeOp : QC_Op<"squeeze"> {
  let summary = "ONNX Squeeze (opset 13 form: axes is an input)";
  let arguments = (ins AnyTensor:$data, QC_OptTensor:$axes);
  let results = (outs AnyTensor:$squeezed);
  let hasFolder = 1;
}

def QC_UnsqueezeOp : QC_Op<"unsqueeze"> {
  let summary = "ONNX Unsqueeze (opset 13 form: axes is an input)";
  let arguments = (ins AnyTensor:$data, AnyTensor:$axes);
  let results = (outs AnyTensor:$expanded);
  let hasFolder = 1;
}

def QC_FlattenOp : QC_Op<"flatten"> {
  let summary = "ONNX Flatten: 2-D [prod(dims[:axis]), prod(dims[axis:])]";
  let arguments = (ins AnyTensor:$input, DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs AnyTensor:$output);
  let hasVerifier = 1;
}

def QC_ExpandOp : QC_Op<"expand"> {
  let summary = "ONNX Expand (broadcast to shape)";
  let arguments = (ins AnyTensor:$input, AnyTensor:$shape);
  let results = (outs AnyTensor:$output);
}

def QC_ShapeOp : QC_Op<"shape"> {
  let summary = "ONNX Shape (int64 dims in [start, end))";
  let arguments = (ins AnyTensor:$data, DefaultValuedAttr<I64Attr, "0">:$start,
                   OptionalAttr<I64Attr>:$end);
  let results = (outs TensorOf<[I64]>:$shape);
  let hasFolder = 1;
}

def QC_SizeOp : QC_Op<"size"> {
  let summary = "ONNX Size (int64 element count)";
  let arguments = (ins AnyTensor:$data);
  let results = (outs TensorOf<[I64]>:$size);
  let hasFolder = 1;
}

def QC_CastOp : QC_Op<"cast"> {
  let summary = "ONNX Cast (to is the element type)";
  let arguments = (ins AnyTensor:$input, TypeAttr:$to,
                   DefaultValuedAttr<I64Attr, "1">:$saturate);
  let results = (outs AnyTensor:$output);
  let hasFolder = 1;
  let hasVerifier = 1;
}

def QC_CastLikeOp : QC_Op<"cast_like"> {
  let summary = "ONNX CastLike";
  let arguments = (ins AnyTensor:$input, AnyTensor:$target_type,
                   DefaultValuedAttr<I64Attr, "1">:$saturate);
  let results = (outs AnyTensor:$output);
}

def QC_ResizeOp : QC_Op<"resize"> {
  let summary = "ONNX Resize (opset 19 attributes; Upsample imports here)";
  let arguments = (ins AnyTensor:$X, QC_OptTensor:$roi, QC_OptTensor:$scales,
                   QC_OptTensor:$sizes,
                   DefaultValuedAttr<I64Attr, "0">:$antialias,
                   OptionalAttr<DenseI64ArrayAttr>:$axes,
                   DefaultValuedStrAttr<StrAttr, "half_pixel">:$coordinate_transformation_mode,
                   DefaultValuedAttr<F32Attr, "-0.75">:$cubic_coeff_a,
                   DefaultValuedAttr<I64Attr, "0">:$exclude_outside,
                   DefaultValuedAttr<F32Attr, "0.0">:$extrapolation_value,
                   DefaultValuedStrAttr<StrAttr, "stretch">:$keep_aspect_ratio_policy,
                   DefaultValuedStrAttr<StrAttr, "nearest">:$mode,
                   DefaultValuedStrAttr<StrAttr, "round_prefer_floor">:$nearest_mode);
  let results = (outs AnyTensor:$Y);
  let hasVerifier = 1;
}

def QC_PadOp : QC_Op<"pad"> {
  let summary = "ONNX Pad (opset 18 form: pads, constant_value, axes inputs)";
  let arguments = (ins AnyTensor:$data, AnyTensor:$pads,
                   QC_OptTensor:$constant_value, QC_OptTensor:$axes,
                   DefaultValuedStrAttr<StrAttr, "constant">:$mode);
  let results = (outs AnyTensor:$output);
  let hasVerifier = 1;
}

def QC_ConstantOfShapeOp : QC_Op<"constant_of_shape"> {
  let summary = "ONNX ConstantOfShape (value defaults to a float 0)";
  let arguments = (ins AnyTensor:$input, OptionalAttr<ElementsAttr>:$value);
  let results = (outs AnyTensor:$output);
  let hasFolder = 1;
}

def QC_RangeOp : QC_Op<"range"> {
  let summary = "ONNX Range";
  let description = [{
    output[i] = start + i * delta for i in [0, max(ceil((limit - start) /
    delta), 0)). Folds to a constant when start, limit and delta are
    constants (positions of a sequence whose length the input shapes fix).
  }];
  let arguments = (ins AnyTensor:$start, AnyTensor:$limit, AnyTensor:$delta);
  let results = (outs AnyTensor:$output);
  let hasFolder = 1;
}

def QC_TileOp : QC_Op<"tile"> {
  let summary = "ONNX Tile";
  let arguments = (ins AnyTensor:$input, AnyTensor:$repeats);
  let results = (outs AnyTensor:$output);
}

def QC_EinsumOp : QC_Op<"einsum"> {
  let summary = "ONNX Einsum";
  let arguments = (ins Variadic<AnyTensor>:$Inputs, StrAttr:$equation);
  let results = (outs AnyTensor:$Output);
}

def QC_DropoutOp : QC_Op<"dropout"> {
  let summary = "ONNX Dropout (identity at inference; mask is all true)";
  let arguments = (ins AnyTensor:$data, QC_OptTensor:$ratio,
                   QC_OptTensor:$training_mode, OptionalAttr<I64Attr>:$seed);
  let results = (outs AnyTensor:$output, AnyTensor:$mask);
}

def QC_DepthToSpaceOp : QC_Op<"depth_to_space"> {
  let summary = "ONNX DepthToSpace (mode DCR | CRD)";
  let arguments = (ins AnyTensor:$input, I64Attr:$blocksize,
                   DefaultValuedStrAttr<StrAttr, "DCR">:$mode);
  let results = (outs AnyTensor:$output);
}

def QC_SpaceToDepthOp : QC_Op<"space_to_depth"> {
  let summary = "ONNX SpaceToDepth";
  let arguments = (ins AnyTensor:$input, I64Attr:$blocksize);
  let results = (outs AnyTensor:$output);
}

def QC_TriluOp : QC_Op<"trilu"> {
  let summary = "ONNX Trilu";
  let arguments = (ins AnyTensor:$input, QC_OptTensor:$k,
                   DefaultValuedAttr<I64Attr, "1">:$upper);
  let results = (outs AnyTensor:$output);
}

def QC_OneHotOp : QC_Op<"one_hot"> {
  let summary = "ONNX OneHot";
  let arguments = (ins AnyTensor:$indices, AnyTensor:$depth, AnyTensor:$values,
                   DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs AnyTensor:$output);
}

def QC_NonZeroOp : QC_Op<"non_zero"> {
  let summary = "ONNX NonZero (int64 indices, data-dependent shape)";
  let arguments = (ins AnyTensor:$X);
  let results = (outs TensorOf<[I64]>:$Y);
}

def QC_EyeLikeOp : QC_Op<"eye_like"> {
  let summary = "ONNX EyeLike (dtype as an element type)";
  let arguments = (ins AnyTensor:$input, OptionalAttr<TypeAttr>:$dtype,
                   DefaultValuedAttr<I64Attr, "0">:$k);
  let results = (outs AnyTensor:$output);
}

def QC_CompressOp : QC_Op<"compress"> {
  let summary = "ONNX Compress";
  let arguments = (ins AnyTensor:$input, AnyTensor:$condition,
                   OptionalAttr<I64Attr>:$axis);
  let results = (outs AnyTensor:$output);
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

def QC_QuantizeLinearOp : QC_Op<"quantize_linear"> {
  let summary = "ONNX QuantizeLinear (per-tensor, per-axis or blocked)";
  let description = [{
    y = saturate(round_half_even(x / y_scale) + y_zero_point). With a 1-D
    scale, `axis` selects the quantized axis; with `block_size` > 0 the
    scale has the shape of x except along `axis`, where it is
    ceil(dim / block_size). When scale and zero point are constants the
    result's element type is the matching `!quant.uniform` type.
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$y_scale, QC_OptTensor:$y_zero_point,
                   DefaultValuedAttr<I64Attr, "1">:$axis,
                   DefaultValuedAttr<I64Attr, "0">:$block_size,
                   DefaultValuedAttr<I64Attr, "1">:$saturate);
  let results = (outs AnyTensor:$y);
  let hasVerifier = 1;
}

def QC_DequantizeLinearOp : QC_Op<"dequantize_linear"> {
  let summary = "ONNX DequantizeLinear (per-tensor, per-axis or blocked)";
  let description = [{
    y = (x - x_zero_point) * x_scale, with the same scale layouts as
    `qc.quantize_linear`. x may carry a `!quant.uniform` element type.
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$x_scale, QC_OptTensor:$x_zero_point,
                   DefaultValuedAttr<I64Attr, "1">:$axis,
                   DefaultValuedAttr<I64Attr, "0">:$block_size);
  let results = (outs AnyTensor:$y);
  let hasVerifier = 1;
}

def QC_DynamicQuantizeLinearOp : QC_Op<"dynamic_quantize_linear"> {
  let summary = "ONNX DynamicQuantizeLinear (uint8, scale from the data range)";
  let arguments = (ins AnyTensor:$x);
  let results = (outs AnyTensor:$y, AnyTensor:$y_scale, AnyTensor:$y_zero_point);
}

//===----------------------------------------------------------------------===//
// quantc extensions (no ONNX operator; made by quantc's own passes, never
// imported, refused by the QDQ export)
//===----------------------------------------------------------------------===//

def QC_DynamicQuantizeRowsOp : QC_Op<"dynamic_quantize_rows"> {
  let summary = "DynamicQuantizeLinear of each row (per-token dynamic quantization)";
  let description = [{
    ONNX DynamicQuantizeLinear applied to each row of x (the slices along
    its last axis) on its own: for a row r, lo = min(0, min r), hi =
    max(0, max r), scale = (hi - lo) / L, zero point =
    saturate(round(-lo / scale)), y = saturate(round(r / scale) + zero
    point), rounding half to even, saturating to [0, L], stored as uint8
    (L = `levels`, 255 by default; 15 for 4-bit activations, w4a4); an
    all-zero row has scale 1 (as ONNX Runtime's DynamicQuantizeLinear
    reports it), zero point 0 and y 0. y has x's shape; y_scale (f32) and
    y_zero_point (ui8) have x's shape without its last axis.
    w8a8-dynamic-token quantizes each token's activation row of a
    MatMul/Gemm this way (LLM.int8's and SmoothQuant's per-token scales):
    a token with large values no longer coarsens the scale of every other
    token.
    With `clip` c < 1 (0 < c <= 1) the row's range is [c lo, c hi]
    instead: the values beyond it saturate at 0 or L. For 4-bit rows
    (QuaRot clips its per-token activations at 0.9) a narrower grid for
    the bulk of the row is worth more than the few values it clips.
  }];
  let arguments = (ins AnyTensor:$x, DefaultValuedAttr<I64Attr, "255">:$levels,
                   DefaultValuedAttr<F32Attr, "1.0">:$clip);
  let results = (outs AnyTensor:$y, AnyTensor:$y_scale, AnyTensor:$y_zero_point);
  let hasVerifier = 1;
}

def QC_HadamardOp : QC_Op<"hadamard"> {
  let summary = "online Hadamard rotation of the last axis (QuaRot)";
  let description = [{
    y = x H along the last axis of x (n wide), with H = F (x) S: F the
    m x m `factor` (a constant), S the Sylvester matrix of order p = n / m,
    a power of two, S[b][d] = (-1)^popcount(b & d). For i = a p + b and
    o = c p + d:

      y[..., o] = sum_i x[..., i] F[a][c] S[b][d]

    qc-fold-rotations inserts it where a rotation cannot be folded into a
    producer (the input of a down projection, whose producer is the
    nonlinear SwiGLU product; the queries and keys after RoPE), with F a
    Hadamard matrix of order m scaled by 1/sqrt(n), so H is orthogonal and
    the reader's weight rows are multiplied by H^T offline. Lowered to the
    runtime's fast Walsh-Hadamard transform (p log p additions per block,
    then an m x m mix of the m blocks): O(n (log p + m)) per row instead of
    the n^2 of a dense product.
  }];
  let arguments = (ins AnyRankedTensor:$x, AnyRankedTensor:$factor);
  let results = (outs AnyRankedTensor:$y);
  let hasVerifier = 1;
}

def QC_AttentionOp : QC_Op<"attention"> {
  let summary = "scaled dot-product attention over grouped K/V heads";
  let description = [{
    For query [b, H, m, d], key [b, G, s, d], value [b, G, s, dv] with
    H = R * G, and mask (optional, broadcastable to [b, H, m, s]):

      output[b, h] = softmax(scale * query[b, h] x key[b, h / R]^T
                             + mask[b, h]) x value[b, h / R]

    with the softmax over the last axis; output is [b, H, m, dv]. Made by
    qc-fuse-attention from the MatMul / Div / Add / Softmax / MatMul
    exporters write (never imported); lowered to the runtime's fused
    attention kernel, which never holds more than a block of score rows.
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$key, AnyRankedTensor:$value,
                   QC_OptTensor:$mask, F32Attr:$scale);
  let results = (outs AnyRankedTensor:$output);
  let hasVerifier = 1;
}

def QC_AttentionKernelOp : Op<QC_Dialect, "attention_kernel", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "qc.attention in destination-passing style (tensors or buffers)";
  let description = [{
    What qc-to-linalg lowers `qc.attention` to: the same computation written
    into `init` (an empty tensor, or after bufferization a buffer, when the
    op has no result). quantc-cpu-kernel-calls turns the buffer form into a
    call of the runtime's qc_rt_attention_f32. Operands may be strided
    views (transposes read in place).
  }];
  let arguments = (ins AnyShaped:$query, AnyShaped:$key,
                   AnyShaped:$value, Optional<AnyShaped>:$mask,
                   AnyShaped:$init, F32Attr:$scale);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`mask` $mask^)? `into` $init attr-dict `:`
    type($query) `,` type($key) `,` type($value) (`,` type($mask)^)? `into` type($init)
    (`->` type($result)^)?
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
  }];
}

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

def QC_IfOp : Op<QC_Dialect, "if", [RecursiveMemoryEffects, NoRegionArguments]> {
  let summary = "ONNX If: the outputs of one of two subgraphs";
  let description = [{
    `cond` holds one boolean. The `then_branch` region runs when it is
    true, `else_branch` otherwise; each ends in `qc.yield` with one value
    per result. As in ONNX, the branches use values defined outside them
    directly. A result's type is the branches' common type (dimensions on
    which the branches differ are dynamic).
  }];
  let arguments = (ins AnyTensor:$cond);
  let results = (outs Variadic<AnyTensor>:$outputs);
  let regions = (region SizedRegion<1>:$then_branch, SizedRegion<1>:$else_branch);
  let assemblyFormat = [{
    $cond `:` type($cond) (`->` `(` type($outputs)^ `)`)? `then` $then_branch
    `else` $else_branch attr-dict
  }];
  let hasVerifier = 1;
}

def QC_YieldOp : Op<QC_Dialect, "yield", [Pure, Terminator, HasParent<"IfOp">]> {
  let summary = "the outputs of a qc.if branch";
  let arguments = (ins Variadic<AnyTensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif
