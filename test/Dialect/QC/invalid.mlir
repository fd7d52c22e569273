// RUN: quant-opt %s --split-input-file --verify-diagnostics

func.func @transpose_perm(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{perm is not a permutation}}
  %0 = qc.transpose %x {perm = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @transpose_rank(%x: tensor<2x3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{perm has 3 entries for an input of rank 2}}
  %0 = qc.transpose %x {perm = array<i64: 0, 1, 2>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = qc.concat %a, %a {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @concat_ranks(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{inputs have different ranks (2 and 1)}}
  %0 = qc.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gemm_rank(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) -> tensor<*xf32> {
  %n = qc.none
  // expected-error @+1 {{A must be 2-D, got rank 3}}
  %0 = qc.gemm %a, %b, %n : (tensor<2x3x4xf32>, tensor<4x5xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gemm_k(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<*xf32> {
  %n = qc.none
  // expected-error @+1 {{contraction dims differ: 3 vs 4}}
  %0 = qc.gemm %a, %b, %n : (tensor<2x3xf32>, tensor<4x5xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @matmul_k(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{contraction dims differ: 3 vs 4}}
  %0 = qc.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<*xf32> {
  %n = qc.none
  // expected-error @+1 {{weight dim 1 is 2 but input has 3 channels in 1 group(s)}}
  %0 = qc.conv %x, %w, %n : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_pads(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<*xf32> {
  %n = qc.none
  // expected-error @+1 {{pads has 2 values, expected 4}}
  %0 = qc.conv %x, %w, %n {pads = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_rank(%x: tensor<3x8xf32>, %w: tensor<4x3xf32>) -> tensor<*xf32> {
  %n = qc.none
  // expected-error @+1 {{input X must have rank >= 3, got 2}}
  %0 = qc.conv %x, %w, %n : (tensor<3x8xf32>, tensor<4x3xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @softmax_axis(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axis -3 is out of range for rank 2}}
  %0 = qc.softmax %x {axis = -3 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @batchnorm_training(%x: tensor<1x3x4x4xf32>, %s: tensor<3xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{training_mode = 1 is not supported}}
  %0 = qc.batch_normalization %x, %s, %s, %s, %s {training_mode = 1 : i64} : (tensor<1x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

func.func @batchnorm_channels(%x: tensor<1x3x4x4xf32>, %s: tensor<4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{statistic of size 4 does not match 3 channels}}
  %0 = qc.batch_normalization %x, %s, %s, %s, %s : (tensor<1x3x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

func.func @gelu_mode(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{approximate must be 'none' or 'tanh', got 'fast'}}
  %0 = qc.gelu %x {approximate = "fast"} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @pool_kernel(%x: tensor<1x3x8x8xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{kernel_shape has 1 values, expected 2}}
  %0 = qc.average_pool %x {kernel_shape = array<i64: 2>} : (tensor<1x3x8x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @cast_mismatch(%x: tensor<4xf32>) -> tensor<4xi32> {
  // expected-error @+1 {{result element type 'i32' differs from 'to' 'i64'}}
  %0 = qc.cast %x {to = i64} : (tensor<4xf32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @resize_mode(%x: tensor<1x1x2x2xf32>, %s: tensor<4xf32>) -> tensor<*xf32> {
  %n = qc.none
  // expected-error @+1 {{mode must be nearest, linear or cubic, got 'area'}}
  %0 = qc.resize %x, %n, %s, %n {mode = "area"} : (tensor<1x1x2x2xf32>, none, tensor<4xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @resize_needs_scales(%x: tensor<1x1x2x2xf32>) -> tensor<*xf32> {
  %n = qc.none
  // expected-error @+1 {{needs scales or sizes}}
  %0 = qc.resize %x, %n, %n, %n : (tensor<1x1x2x2xf32>, none, none, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @pad_mode(%x: tensor<2xf32>, %p: tensor<2xi64>) -> tensor<*xf32> {
  %n = qc.none
  // expected-error @+1 {{mode must be constant, reflect, edge or wrap, got 'mirror'}}
  %0 = qc.pad %x, %p, %n, %n {mode = "mirror"} : (tensor<2xf32>, tensor<2xi64>, none, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @quant_axis_size(%x: tensor<3x2xf32>, %s: tensor<2xf32>) -> tensor<3x2xi8> {
  %n = qc.none
  // expected-error @+1 {{per-axis scale has 2 values but axis 0 has size 3}}
  %0 = qc.quantize_linear %x, %s, %n {axis = 0 : i64} : (tensor<3x2xf32>, tensor<2xf32>, none) -> tensor<3x2xi8>
  return %0 : tensor<3x2xi8>
}

// -----

func.func @quant_block_rank(%x: tensor<2x8xi8>, %s: tensor<4xf32>) -> tensor<*xf32> {
  %n = qc.none
  // expected-error @+1 {{blocked scale must have the rank of the input (2), got 1}}
  %0 = qc.dequantize_linear %x, %s, %n {block_size = 4 : i64} : (tensor<2x8xi8>, tensor<4xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @quant_result(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xcomplex<f32>> {
  %n = qc.none
  // expected-error @+1 {{is not an integer, float8 or quantized type}}
  %0 = qc.quantize_linear %x, %s, %n : (tensor<4xf32>, tensor<f32>, none) -> tensor<4xcomplex<f32>>
  return %0 : tensor<4xcomplex<f32>>
}

// -----

func.func @flatten_axis(%x: tensor<2x3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{axis 3 is out of range for rank 2}}
  %0 = qc.flatten %x {axis = 3 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @max_empty() -> tensor<*xf32> {
  // expected-error @+1 {{needs at least one input}}
  %0 = qc.max : () -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{operands don't have broadcast-compatible shapes}}
  %0 = qc.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @compare_type(%a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{must be tensor of 1-bit signless integer values}}
  %0 = qc.less %a, %a : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @bitshift_direction(%a: tensor<2xui8>) -> tensor<2xui8> {
  // expected-error @+1 {{direction must be LEFT or RIGHT, got 'UP'}}
  %0 = qc.bit_shift %a, %a {direction = "UP"} : (tensor<2xui8>, tensor<2xui8>) -> tensor<2xui8>
  return %0 : tensor<2xui8>
}

// -----

func.func @constant_type() -> tensor<3xf32> {
  // expected-error @+1 {{value type 'tensor<2xf32>' differs from result type 'tensor<3xf32>'}}
  %0 = "qc.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @dynamic_quantize_rows_shape(%x: tensor<4x8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{the scale and zero point have x's shape without its last axis}}
  %y, %s, %z = qc.dynamic_quantize_rows %x : (tensor<4x8xf32>) -> (tensor<4x8xui8>, tensor<8xf32>, tensor<4xui8>)
  return %s : tensor<8xf32>
}

// -----

func.func @dynamic_quantize_rows_f16(%x: tensor<4x8xf16>) -> tensor<4xf32> {
  // expected-error @+1 {{x must be f32}}
  %y, %s, %z = qc.dynamic_quantize_rows %x : (tensor<4x8xf16>) -> (tensor<4x8xui8>, tensor<4xf32>, tensor<4xui8>)
  return %s : tensor<4xf32>
}
