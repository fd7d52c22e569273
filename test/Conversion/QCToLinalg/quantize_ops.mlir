// RUN: quant-opt %s --pass-pipeline="builtin.module(func.func(qc-to-linalg,canonicalize))" --split-input-file -verify-diagnostics | FileCheck %s

// Per channel (axis 1): the scale and zero point are read at d1; round half
// to even, saturate to [-128, 127], NaN to the zero point, then to i8.
// CHECK-LABEL: func.func @quantize_per_channel
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[AX:.*]], #[[AX]], #{{.*}}]
// CHECK: arith.divf
// CHECK: math.roundeven
// CHECK: arith.sitofp
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.cmpf uno
// CHECK: arith.select
// CHECK: arith.fptosi {{.*}} to i8
// CHECK-NOT: quant.scast
func.func @quantize_per_channel(%x: tensor<2x3xf32>) -> tensor<2x3xi8> {
  %s = qc.constant dense<[0.1, 0.2, 0.4]> : tensor<3xf32>
  %z = qc.constant dense<[0, 1, -2]> : tensor<3xi8>
  %q = qc.quantize_linear %x, %s, %z {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xi8>) -> tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.4:-2}>>
  %y = quant.scast %q : tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.4:-2}>> to tensor<2x3xi8>
  return %y : tensor<2x3xi8>
}

// -----

// CHECK-LABEL: func.func @dequantize_per_tensor
// CHECK: linalg.generic
// CHECK: arith.sitofp
// CHECK: arith.sitofp
// CHECK: arith.subf
// CHECK: arith.mulf
func.func @dequantize_per_tensor(%q: tensor<4xi8>) -> tensor<4xf32> {
  %s = qc.constant dense<0.5> : tensor<f32>
  %z = qc.constant dense<3> : tensor<i8>
  %y = qc.dequantize_linear %q, %s, %z : (tensor<4xi8>, tensor<f32>, tensor<i8>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// An unsigned tensor reaching anything but DequantizeLinear is refused.
func.func @uint8_not_yet(%x: tensor<4xf32>) -> tensor<4xui8> {
  %s = qc.constant dense<0.5> : tensor<f32>
  %n = qc.none
  // expected-error @+2 {{cannot lower: QuantizeLinear to 'ui8' used by 'func.return' (unsigned tensors are only lowered into DequantizeLinear yet)}}
  // expected-error @+1 {{failed to legalize operation 'qc.quantize_linear'}}
  %q = qc.quantize_linear %x, %s, %n : (tensor<4xf32>, tensor<f32>, none) -> tensor<4xui8>
  return %q : tensor<4xui8>
}
