// RUN: quant-opt %s --pass-pipeline="builtin.module(quantc-cpu-outline-ops{ops-per-function=4 content-defined=true})" | FileCheck %s

// Content-defined runs end after a contraction (once a run holds a
// quarter of ops-per-function, here 1) or at twice ops-per-function (8):
// the two repetitions of add -> relu -> mul -> matmul are cut at the same
// ops, so their functions have the same body.
// CHECK-LABEL: func.func private @ops_0_matmul
// CHECK-NEXT: qc.constant
// CHECK-NEXT: qc.matmul
// CHECK-NEXT: return
// CHECK-LABEL: func.func private @ops_1_add
// CHECK: qc.add
// CHECK-NEXT: qc.relu
// CHECK-NEXT: qc.mul
// CHECK-NEXT: qc.constant
// CHECK-NEXT: qc.matmul
// CHECK-NEXT: return
// CHECK-LABEL: func.func private @ops_2_add
// CHECK: qc.add
// CHECK-NEXT: qc.relu
// CHECK-NEXT: qc.mul
// CHECK-NEXT: qc.constant
// CHECK-NEXT: qc.matmul
// CHECK-NEXT: return
// CHECK-LABEL: func.func private @ops_3_add
// CHECK-LABEL: func.func @main
// The count-based default cuts every 4 ops: the repetitions differ.
// RUN: quant-opt %s --pass-pipeline="builtin.module(quantc-cpu-outline-ops{ops-per-function=4})" | FileCheck %s --check-prefix=COUNT
// COUNT-LABEL: func.func private @ops_0_matmul
// COUNT: qc.matmul
// COUNT: qc.add
// COUNT-NEXT: qc.relu
// COUNT-NEXT: qc.mul
// COUNT-NEXT: return
// COUNT-LABEL: func.func private @ops_1_matmul
func.func @main(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %w = qc.constant dense<0.5> : tensor<4x4xf32>
  %b = qc.constant dense<1.0> : tensor<4xf32>
  %m0 = qc.matmul %x, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %a0 = qc.add %m0, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %r0 = qc.relu %a0 : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %u0 = qc.mul %r0, %r0 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %m1 = qc.matmul %u0, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %a1 = qc.add %m1, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %r1 = qc.relu %a1 : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %u1 = qc.mul %r1, %r1 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %m2 = qc.matmul %u1, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %a2 = qc.add %m2, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %a2 : tensor<2x4xf32>
}
