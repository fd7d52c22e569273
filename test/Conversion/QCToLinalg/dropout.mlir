// RUN: quant-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(qc-to-linalg,canonicalize))" -verify-diagnostics | FileCheck %s

// Dropout at inference is the identity with an all-true mask; a constant
// false training_mode is inference too.
// CHECK-LABEL: func.func @inference
// CHECK: %[[M:.*]] = linalg.fill ins(%true
// CHECK: return %arg0, %[[M]]
func.func @inference(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi1>) {
  %r = qc.constant dense<0.5> : tensor<f32>
  %t = qc.constant dense<false> : tensor<i1>
  %y, %m = qc.dropout %x, %r, %t : (tensor<4xf32>, tensor<f32>, tensor<i1>) -> (tensor<4xf32>, tensor<4xi1>)
  return %y, %m : tensor<4xf32>, tensor<4xi1>
}

// -----

// Training mode drops random elements: refused, not silently the identity.
func.func @training(%x: tensor<4xf32>, %t: tensor<i1>) -> tensor<4xf32> {
  %r = qc.constant dense<0.5> : tensor<f32>
  // expected-error @+2 {{cannot lower: Dropout with training_mode that is not a constant false (random masks are not supported)}}
  // expected-error @+1 {{failed to legalize operation 'qc.dropout'}}
  %y, %m = qc.dropout %x, %r, %t : (tensor<4xf32>, tensor<f32>, tensor<i1>) -> (tensor<4xf32>, tensor<4xi1>)
  return %y : tensor<4xf32>
}
