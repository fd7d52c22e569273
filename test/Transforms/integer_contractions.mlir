// RUN: quant-opt %s --split-input-file --qc-integer-contractions | FileCheck %s

// A dequantized uint8 input and per-channel int8 weights into a Conv: a
// ConvInteger on the integers, cast to f32, times sx * sw[m] (one
// constant, [M, 1, 1]) plus the bias reshaped to [M, 1, 1]. The weights'
// DequantizeLinear goes; the input's stays for its other user.
// CHECK-LABEL: func.func @conv
// CHECK: %[[Q:.*]] = qc.quantize_linear
// CHECK: qc.dequantize_linear %[[Q]]
// CHECK-NOT: qc.dequantize_linear
// CHECK: %[[B:.*]] = qc.constant dense<{{\[\[\[}}1.000000e+00]], {{\[\[}}-1.000000e+00]]]> : tensor<2x1x1xf32>
// CHECK: %[[A:.*]] = qc.conv_integer %[[Q]], %{{.*}}, %{{.*}}, %{{.*}} {{.*}}pads = array<i64: 1, 1, 1, 1>{{.*}} -> tensor<1x2x4x4xi32>
// CHECK: %[[F:.*]] = qc.cast %[[A]] {to = f32}
// CHECK: %[[S:.*]] = qc.constant dense<{{\[\[\[}}1.000000e+00]], {{\[\[}}2.500000e-01]]]> : tensor<2x1x1xf32>
// CHECK: %[[M:.*]] = qc.mul %[[F]], %[[S]]
// CHECK: %[[Y:.*]] = qc.add %[[M]], %[[B]]
// CHECK-NOT: qc.conv {{.*}}
// CHECK: return %[[Y]]
func.func @conv(%x: tensor<1x1x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x1x4x4xf32>) {
  %s = qc.constant dense<0.5> : tensor<f32>
  %z = qc.constant dense<3> : tensor<ui8>
  %q = qc.quantize_linear %x, %s, %z : (tensor<1x1x4x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x1x4x4xui8>
  %d = qc.dequantize_linear %q, %s, %z : (tensor<1x1x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x1x4x4xf32>
  %wq = qc.constant dense<[[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]], [[[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]]]]> : tensor<2x1x3x3xi8>
  %ws = qc.constant dense<[2.0, 0.5]> : tensor<2xf32>
  %wz = qc.constant dense<0> : tensor<2xi8>
  %w = qc.dequantize_linear %wq, %ws, %wz {axis = 0 : i64} : (tensor<2x1x3x3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x1x3x3xf32>
  %b = qc.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %y = qc.conv %d, %w, %b {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %r = qc.relu %d : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %y, %r : tensor<1x2x4x4xf32>, tensor<1x1x4x4xf32>
}

// -----

// MatMul with per-column weights: scales along the last axis, no bias.
// CHECK-LABEL: func.func @matmul
// CHECK: %[[A:.*]] = qc.matmul_integer {{.*}} -> tensor<2x5x3xi32>
// CHECK: %[[F:.*]] = qc.cast %[[A]] {to = f32}
// CHECK: qc.mul %[[F]], %{{.*}} : (tensor<2x5x3xf32>, tensor<3xf32>) -> tensor<2x5x3xf32>
// CHECK-NOT: qc.matmul %
func.func @matmul(%x: tensor<2x5x4xf32>) -> tensor<2x5x3xf32> {
  %s = qc.constant dense<0.5> : tensor<f32>
  %z = qc.constant dense<3> : tensor<i8>
  %q = qc.quantize_linear %x, %s, %z : (tensor<2x5x4xf32>, tensor<f32>, tensor<i8>) -> tensor<2x5x4xi8>
  %d = qc.dequantize_linear %q, %s, %z : (tensor<2x5x4xi8>, tensor<f32>, tensor<i8>) -> tensor<2x5x4xf32>
  %wq = qc.constant dense<1> : tensor<4x3xi8>
  %ws = qc.constant dense<[2.0, 0.5, 1.0]> : tensor<3xf32>
  %n = qc.none
  %w = qc.dequantize_linear %wq, %ws, %n {axis = 1 : i64} : (tensor<4x3xi8>, tensor<3xf32>, none) -> tensor<4x3xf32>
  %y = qc.matmul %d, %w : (tensor<2x5x4xf32>, tensor<4x3xf32>) -> tensor<2x5x3xf32>
  return %y : tensor<2x5x3xf32>
}

// -----

// A depthwise convolution (group = C = M) with symmetric weights (zero
// point absent or zero) runs on its integers too: ConvInteger keeps the
// group; per-channel scales broadcast as [M, 1, 1].
// CHECK-LABEL: func.func @depthwise
// CHECK: %[[A:.*]] = qc.conv_integer %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {group = 2 : i64
// CHECK: %[[F:.*]] = qc.cast %[[A]] {to = f32}
// CHECK: qc.constant dense<{{\[}}{{\[}}{{\[}}5.000000e-01{{\]}}{{\]}}, {{\[}}{{\[}}1.000000e+00{{\]}}{{\]}}{{\]}}> : tensor<2x1x1xf32>
// CHECK: qc.conv_integer %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {group = 2 : i64
// CHECK-NOT: qc.conv %
func.func @depthwise(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %s = qc.constant dense<0.5> : tensor<f32>
  %z = qc.constant dense<3> : tensor<i8>
  %q = qc.quantize_linear %x, %s, %z : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<i8>) -> tensor<1x2x4x4xi8>
  %d = qc.dequantize_linear %q, %s, %z : (tensor<1x2x4x4xi8>, tensor<f32>, tensor<i8>) -> tensor<1x2x4x4xf32>
  %wq = qc.constant dense<1> : tensor<2x1x3x3xi8>
  %ws = qc.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %n = qc.none
  %w = qc.dequantize_linear %wq, %ws, %n {axis = 0 : i64} : (tensor<2x1x3x3xi8>, tensor<2xf32>, none) -> tensor<2x1x3x3xf32>
  %y = qc.conv %d, %w, %n {group = 2 : i64, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>, none) -> tensor<1x2x4x4xf32>
  %wz = qc.constant dense<0> : tensor<2xi8>
  %w0 = qc.dequantize_linear %wq, %ws, %wz {axis = 0 : i64} : (tensor<2x1x3x3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x1x3x3xf32>
  %y0 = qc.conv %d, %w0, %n {group = 2 : i64, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>, none) -> tensor<1x2x4x4xf32>
  return %y, %y0 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Left alone: a grouped convolution that is not depthwise, a depthwise
// one whose weights have a nonzero zero point, and weights per input
// channel.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: _integer
// CHECK: qc.conv
// CHECK: qc.conv
// CHECK: qc.matmul
func.func @left_alone(%x: tensor<1x2x4x4xf32>, %x4: tensor<1x4x4x4xf32>, %m: tensor<5x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<5x3xf32>) {
  %s = qc.constant dense<0.5> : tensor<f32>
  %z = qc.constant dense<3> : tensor<i8>
  %q = qc.quantize_linear %x, %s, %z : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<i8>) -> tensor<1x2x4x4xi8>
  %d = qc.dequantize_linear %q, %s, %z : (tensor<1x2x4x4xi8>, tensor<f32>, tensor<i8>) -> tensor<1x2x4x4xf32>
  %q4 = qc.quantize_linear %x4, %s, %z : (tensor<1x4x4x4xf32>, tensor<f32>, tensor<i8>) -> tensor<1x4x4x4xi8>
  %d4 = qc.dequantize_linear %q4, %s, %z : (tensor<1x4x4x4xi8>, tensor<f32>, tensor<i8>) -> tensor<1x4x4x4xf32>
  %n = qc.none
  %gq = qc.constant dense<1> : tensor<2x2x3x3xi8>
  %g = qc.dequantize_linear %gq, %s, %n : (tensor<2x2x3x3xi8>, tensor<f32>, none) -> tensor<2x2x3x3xf32>
  %yg = qc.conv %d4, %g, %n {group = 2 : i64, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x4x4x4xf32>, tensor<2x2x3x3xf32>, none) -> tensor<1x2x4x4xf32>
  %wq = qc.constant dense<1> : tensor<2x1x3x3xi8>
  %w = qc.dequantize_linear %wq, %s, %z : (tensor<2x1x3x3xi8>, tensor<f32>, tensor<i8>) -> tensor<2x1x3x3xf32>
  %y = qc.conv %d, %w, %n {group = 2 : i64, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>, none) -> tensor<1x2x4x4xf32>
  %mq = qc.quantize_linear %m, %s, %z : (tensor<5x4xf32>, tensor<f32>, tensor<i8>) -> tensor<5x4xi8>
  %md = qc.dequantize_linear %mq, %s, %z : (tensor<5x4xi8>, tensor<f32>, tensor<i8>) -> tensor<5x4xf32>
  %vq = qc.constant dense<1> : tensor<4x3xi8>
  %vs = qc.constant dense<[2.0, 0.5, 1.0, 3.0]> : tensor<4xf32>
  %v = qc.dequantize_linear %vq, %vs, %n {axis = 0 : i64} : (tensor<4x3xi8>, tensor<4xf32>, none) -> tensor<4x3xf32>
  %r = qc.matmul %md, %v : (tensor<5x4xf32>, tensor<4x3xf32>) -> tensor<5x3xf32>
  return %yg, %y, %r : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<5x3xf32>
}

// -----

// A bias held as a resource blob (how the ONNX importer keeps large
// initializers; PP-OCRv4 rec's convolutions stayed float for it): read
// from the blob into the [M, 1, 1] constant.
// CHECK-LABEL: func.func @conv_resource_bias
// CHECK: %[[B:.*]] = qc.constant dense<{{\[\[\[}}1.000000e+00]], {{\[\[}}-1.000000e+00]]]> : tensor<2x1x1xf32>
// CHECK: qc.conv_integer
// CHECK: qc.add %{{.*}}, %[[B]]
// CHECK-NOT: qc.conv {{.*}}
func.func @conv_resource_bias(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %s = qc.constant dense<0.5> : tensor<f32>
  %z = qc.constant dense<3> : tensor<ui8>
  %q = qc.quantize_linear %x, %s, %z : (tensor<1x1x4x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x1x4x4xui8>
  %d = qc.dequantize_linear %q, %s, %z : (tensor<1x1x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x1x4x4xf32>
  %wq = qc.constant dense<[[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]], [[[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]]]]> : tensor<2x1x3x3xi8>
  %ws = qc.constant dense<[2.0, 0.5]> : tensor<2xf32>
  %wz = qc.constant dense<0> : tensor<2xi8>
  %w = qc.dequantize_linear %wq, %ws, %wz {axis = 0 : i64} : (tensor<2x1x3x3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x1x3x3xf32>
  %b = qc.constant dense_resource<conv_bias> : tensor<2xf32>
  %y = qc.conv %d, %w, %b {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

{-#
  dialect_resources: {
    builtin: {
      conv_bias: "0x040000000000803F000080BF"
    }
  }
#-}

// -----

// A result still unranked (shapes not inferred yet): left as it is, not
// rewritten on a type it cannot clone (quant-opt crashed printing it).
// CHECK-LABEL: func.func @conv_unranked
// CHECK-NOT: qc.conv_integer
// CHECK: qc.conv
func.func @conv_unranked(%x: tensor<1x1x4x4xf32>) -> tensor<*xf32> {
  %s = qc.constant dense<0.5> : tensor<f32>
  %z = qc.constant dense<3> : tensor<ui8>
  %q = qc.quantize_linear %x, %s, %z : (tensor<1x1x4x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x1x4x4xui8>
  %d = qc.dequantize_linear %q, %s, %z : (tensor<1x1x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x1x4x4xf32>
  %wq = qc.constant dense<1> : tensor<2x1x3x3xi8>
  %ws = qc.constant dense<[2.0, 0.5]> : tensor<2xf32>
  %wz = qc.constant dense<0> : tensor<2xi8>
  %w = qc.dequantize_linear %wq, %ws, %wz {axis = 0 : i64} : (tensor<2x1x3x3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x1x3x3xf32>
  %n = qc.none
  %y = qc.conv %d, %w, %n {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}
