// RUN: quant-opt %s --pass-pipeline="builtin.module(quantc-cpu-outline-ops{ops-per-function=4 content-defined=true})" | FileCheck %s

// A transpose that only feeds a MatMul moves down to just before it, so
// both are outlined into one function (where quantc-cpu-fold-transposes
// can read it as a strided view) although a contraction ends the run
// between them: K's transpose, written right after K's projection, would
// otherwise be returned from that function and copied.
// CHECK-LABEL: func.func private @ops_0_matmul
// CHECK: qc.matmul
// CHECK-NOT: qc.transpose
// CHECK: return
// CHECK-LABEL: func.func private @ops_1_matmul
// CHECK-NOT: qc.transpose
// CHECK: return
// CHECK-LABEL: func.func private @ops_2_transpose
// CHECK: qc.transpose
// CHECK-NEXT: qc.matmul
// CHECK: return
func.func @main(%x: tensor<4x8xf32>, %q: tensor<4x8xf32>) -> tensor<4x4xf32> {
  %w = qc.constant dense<1.0> : tensor<8x8xf32>
  %k = qc.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %kt = qc.transpose %k {perm = array<i64: 1, 0>} : (tensor<4x8xf32>) -> tensor<8x4xf32>
  %q2 = qc.matmul %q, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %s = qc.matmul %q2, %kt : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xf32>
  return %s : tensor<4x4xf32>
}
