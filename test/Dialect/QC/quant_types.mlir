// RUN: quant-opt %s | FileCheck %s
// QDQ ops accept upstream !quant.uniform element types.

// CHECK-LABEL: func.func @per_tensor
func.func @per_tensor(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<4xf32> {
  // CHECK: qc.quantize_linear %arg0, %arg1, %arg2 : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<4x!quant.uniform<u8:f32, 5.000000e-01:10>>
  %q = qc.quantize_linear %x, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<4x!quant.uniform<u8:f32, 0.5:10>>
  %d = qc.dequantize_linear %q, %s, %z : (tensor<4x!quant.uniform<u8:f32, 0.5:10>>, tensor<f32>, tensor<ui8>) -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// CHECK-LABEL: func.func @per_axis
func.func @per_axis(%w: tensor<3x2xf32>, %s: tensor<3xf32>, %z: tensor<3xi8>) -> tensor<3x2x!quant.uniform<i8:f32:0, {0.1,0.2,0.4}>> {
  // CHECK: qc.quantize_linear %arg0, %arg1, %arg2 {axis = 0 : i64}
  %q = qc.quantize_linear %w, %s, %z {axis = 0 : i64} : (tensor<3x2xf32>, tensor<3xf32>, tensor<3xi8>) -> tensor<3x2x!quant.uniform<i8:f32:0, {0.1,0.2,0.4}>>
  return %q : tensor<3x2x!quant.uniform<i8:f32:0, {0.1,0.2,0.4}>>
}

// CHECK-LABEL: func.func @int4_storage
func.func @int4_storage(%x: tensor<2x8xf32>, %s: tensor<2x2xf32>) -> tensor<2x8xi4> {
  // CHECK: qc.quantize_linear %arg0, %arg1, %{{.*}} {block_size = 4 : i64} : (tensor<2x8xf32>, tensor<2x2xf32>, none) -> tensor<2x8xi4>
  %n = qc.none
  %q = qc.quantize_linear %x, %s, %n {axis = 1 : i64, block_size = 4 : i64} : (tensor<2x8xf32>, tensor<2x2xf32>, none) -> tensor<2x8xi4>
  return %q : tensor<2x8xi4>
}
