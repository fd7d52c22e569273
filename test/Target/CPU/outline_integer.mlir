// RUN: quant-opt %s --pass-pipeline="builtin.module(quantc-cpu-outline-ops{ops-per-function=4 content-defined=true})" | FileCheck %s

// A content-defined run does not end after an integer contraction: its
// lowering's zero-point correction must sit in one function with the
// epilogue (cast, scale, bias) to fuse with it. The float MatMul after it
// ends the run.
// CHECK-LABEL: func.func private @ops_0_matmul_integer
// CHECK: qc.matmul_integer
// CHECK-NEXT: qc.cast
// CHECK-NEXT: qc.constant
// CHECK-NEXT: qc.mul
// CHECK-NEXT: qc.constant
// CHECK-NEXT: qc.add
// CHECK-NEXT: qc.constant
// CHECK-NEXT: qc.matmul
// CHECK-NEXT: return
// CHECK-LABEL: func.func @main
func.func @main(%a: tensor<2x3xui8>, %b: tensor<3x2xi8>, %az: tensor<ui8>, %bz: tensor<2xi8>) -> tensor<2x2xf32> {
  %y = qc.matmul_integer %a, %b, %az, %bz : (tensor<2x3xui8>, tensor<3x2xi8>, tensor<ui8>, tensor<2xi8>) -> tensor<2x2xi32>
  %f = qc.cast %y {to = f32} : (tensor<2x2xi32>) -> tensor<2x2xf32>
  %s = qc.constant dense<0.5> : tensor<2xf32>
  %m = qc.mul %f, %s : (tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %c = qc.constant dense<1.0> : tensor<2xf32>
  %r = qc.add %m, %c : (tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %w = qc.constant dense<0.25> : tensor<2x2xf32>
  %o = qc.matmul %r, %w : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %o : tensor<2x2xf32>
}
