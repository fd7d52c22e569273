// RUN: quant-opt %s --split-input-file --qc-quantize -verify-diagnostics | FileCheck %s

// Without observers, w8a8 is an error at the layer.
func.func @main(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  %w = qc.constant dense<[[1.0, -2.0], [0.5, 4.0], [-1.0, 0.0]]> : tensor<3x2xf32>
  // expected-error @+1 {{qc-quantize: the input of this layer was never observed}}
  %m = qc.matmul %x, %w : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  return %m : tensor<2x2xf32>
}

// -----

// qc-quantize reads the observer's statistics: min/max [-1, 3] gives
// uint8 scale 4/255 and zero point round(1 / (4/255)) = 64; the weight
// column absmax 1 and 4 give int8 scales 1/127 and 4/127 (the
// least-squares range search keeps the full range for these values).
// CHECK-LABEL: func.func @main
// CHECK-NOT: qc.observe
// CHECK: qc.quantize_linear %arg0, {{.*}} -> tensor<2x3x!quant.uniform<u8:f32, 0.01568627{{[0-9]*}}:64>>
// CHECK: qc.constant dense<{{\[\[}}127, -64], [64, 127], [-127, 0]]> : tensor<3x2xi8>
// CHECK: qc.constant dense<[0.00787401571, 0.0314960629]> : tensor<2xf32>
// CHECK: qc.dequantize_linear {{.*}} : (tensor<3x2xi8>, tensor<2xf32>, tensor<2xi8>)
func.func @main(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  %w = qc.constant dense<[[1.0, -2.0], [0.5, 4.0], [-1.0, 0.0]]> : tensor<3x2xf32>
  %o = qc.observe %x {index = 0 : i64, layer = "mm", stats = {min = -1.0 : f64, max = 3.0 : f64, samples = 1 : i64, nonfinite = 0 : i64, bin_width = 1.5 : f64, total = 6.0 : f64, counts = array<f64: 3.0, 3.0>}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = qc.matmul %o, %w : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  return %m : tensor<2x2xf32>
}

// -----

// Statistics that do not parse are an error naming the layer.
func.func @main(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  %w = qc.constant dense<1.0> : tensor<3x2xf32>
  // expected-error @+1 {{qc-quantize: layer 'mm': bad qc.observe stats: expected {min, max (f64, min <= max), samples, nonfinite (i64), bin_width, total (f64), counts = array<f64: ...>}}}
  %o = qc.observe %x {index = 0 : i64, layer = "mm", stats = {min = 1.0 : f64}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = qc.matmul %o, %w : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  return %m : tensor<2x2xf32>
}
