// RUN: quant-opt %s --quantc-cpu-unsigned-boundary | FileCheck %s
// RUN: quant-opt %s --pass-pipeline="builtin.module(quantc-cpu-unsigned-boundary,func.func(qc-to-linalg),reconcile-unrealized-casts)" | FileCheck %s --check-prefix=LOWER

// uint8 arguments and results of @main become signless i8 with one cast per
// user (right before it) and one after the producer of a result; other
// functions and types stay.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: tensor<4xi8>, %[[S:.*]]: tensor<f32>) -> (tensor<4xi8>, tensor<4xf32>)
// CHECK: %[[C1:.*]] = builtin.unrealized_conversion_cast %[[X]] : tensor<4xi8> to tensor<4xui8>
// CHECK: qc.dequantize_linear %[[C1]]
// CHECK: %[[Q:.*]] = qc.quantize_linear
// CHECK: %[[R:.*]] = builtin.unrealized_conversion_cast %[[Q]] : tensor<4xui8> to tensor<4xi8>
// CHECK: %[[C2:.*]] = builtin.unrealized_conversion_cast %[[X]] : tensor<4xi8> to tensor<4xui8>
// CHECK: qc.dequantize_linear %[[C2]]
// CHECK: return %[[R]], %{{.*}} : tensor<4xi8>, tensor<4xf32>
// After lowering, no cast is left: the DequantizeLinear loops read the
// argument's bits (extui), the QuantizeLinear loop writes the result's.
// LOWER-LABEL: func.func @main
// LOWER-NOT: unrealized_conversion_cast
// LOWER: return
func.func @main(%x: tensor<4xui8>, %s: tensor<f32>) -> (tensor<4xui8>, tensor<4xf32>) {
  %z = qc.constant dense<3> : tensor<ui8>
  %d = qc.dequantize_linear %x, %s, %z : (tensor<4xui8>, tensor<f32>, tensor<ui8>) -> tensor<4xf32>
  %q = qc.quantize_linear %d, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<4xui8>
  %e = qc.dequantize_linear %x, %s, %z : (tensor<4xui8>, tensor<f32>, tensor<ui8>) -> tensor<4xf32>
  return %q, %e : tensor<4xui8>, tensor<4xf32>
}
