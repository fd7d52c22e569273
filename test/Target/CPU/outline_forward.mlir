// RUN: quant-opt %s --pass-pipeline="builtin.module(quantc-cpu-outline-ops{ops-per-function=2})" | FileCheck %s --check-prefix=OUTLINE
// RUN: quant-opt %s --pass-pipeline="builtin.module(quantc-cpu-outline-ops{ops-per-function=2},func.func(qc-to-linalg,canonicalize),quantc-cpu-forward-results)" | FileCheck %s --check-prefix=FORWARD

// Runs of two qc ops become private noinline functions with read-only
// arguments; constants are cloned into the functions that use them.
// OUTLINE-LABEL: func.func private @ops_0_relu
// OUTLINE-SAME: bufferization.writable = false
// OUTLINE-SAME: passthrough = ["noinline"]
// OUTLINE-SAME: qc.outlined
// OUTLINE: qc.relu
// OUTLINE: qc.identity
// OUTLINE-LABEL: func.func private @ops_1_mul
// OUTLINE: qc.constant
// OUTLINE: qc.mul
// OUTLINE: qc.neg
// OUTLINE-LABEL: func.func private @ops_2_add
// OUTLINE-LABEL: func.func @main
// OUTLINE: %[[A:.*]]:2 = call @ops_0_relu(%arg0)
// OUTLINE: %[[B:.*]] = call @ops_1_mul(%[[A]]#1)
// OUTLINE: call @ops_2_add(%[[B]], %[[A]]#0)

// Identity folds away, so @ops_0_relu would return its relu result twice:
// the repeated result is dropped and the call's user takes the first.
// FORWARD-LABEL: func.func private @ops_0_relu
// FORWARD-SAME: -> tensor<8xf32>
// FORWARD: return %{{.*}} : tensor<8xf32>
// FORWARD-LABEL: func.func @main
// FORWARD: %[[R:.*]] = call @ops_0_relu(%arg0) : (tensor<8xf32>) -> tensor<8xf32>
// FORWARD: %[[B:.*]] = call @ops_1_mul(%[[R]])
// FORWARD: call @ops_2_add(%[[B]], %[[R]])
func.func @main(%x: tensor<8xf32>) -> tensor<8xf32> {
  %one = qc.constant dense<1.0> : tensor<f32>
  %r = qc.relu %x : (tensor<8xf32>) -> tensor<8xf32>
  %i = qc.identity %r : (tensor<8xf32>) -> tensor<8xf32>
  %m = qc.mul %i, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %n = qc.neg %m : (tensor<8xf32>) -> tensor<8xf32>
  %y = qc.add %n, %r : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}
