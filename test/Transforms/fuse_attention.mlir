// RUN: quant-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(qc-fuse-attention))' | FileCheck %s

// Grouped-query attention as exporters write it (6 query heads on 2 K/V
// heads repeated 3 times, Div by sqrt(8), a causal [4, 5] mask): one
// qc.attention on the K/V heads themselves, scale 1/sqrt(8), the mask with
// two leading unit axes; the repeats, scores and softmax are gone.
// CHECK-LABEL: func.func @gqa
// CHECK-NOT: qc.expand
// CHECK-NOT: qc.softmax
// CHECK: %[[M:.*]] = qc.unsqueeze %arg3, %{{.*}} : (tensor<4x5xf32>, tensor<2xi64>) -> tensor<1x1x4x5xf32>
// CHECK: %[[O:.*]] = qc.attention %arg0, %arg1, %arg2, %[[M]] {scale = 0.353553385 : f32} : (tensor<1x6x4x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x1x4x5xf32>) -> tensor<1x6x4x8xf32>
// CHECK-NOT: qc.matmul
// CHECK: return %[[O]]
func.func @gqa(%q: tensor<1x6x4x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>, %mask: tensor<4x5xf32>) -> tensor<1x6x4x8xf32> {
  %ax = qc.constant dense<[2]> : tensor<1xi64>
  %s5 = qc.constant dense<[1, 2, 3, 5, 8]> : tensor<5xi64>
  %s4 = qc.constant dense<[1, 6, 5, 8]> : tensor<4xi64>
  %c = qc.constant dense<2.82842708> : tensor<f32>
  %ku = qc.unsqueeze %k, %ax : (tensor<1x2x5x8xf32>, tensor<1xi64>) -> tensor<1x2x1x5x8xf32>
  %ke = qc.expand %ku, %s5 : (tensor<1x2x1x5x8xf32>, tensor<5xi64>) -> tensor<1x2x3x5x8xf32>
  %kr = qc.reshape %ke, %s4 : (tensor<1x2x3x5x8xf32>, tensor<4xi64>) -> tensor<1x6x5x8xf32>
  %vu = qc.unsqueeze %v, %ax : (tensor<1x2x5x8xf32>, tensor<1xi64>) -> tensor<1x2x1x5x8xf32>
  %ve = qc.expand %vu, %s5 : (tensor<1x2x1x5x8xf32>, tensor<5xi64>) -> tensor<1x2x3x5x8xf32>
  %vr = qc.reshape %ve, %s4 : (tensor<1x2x3x5x8xf32>, tensor<4xi64>) -> tensor<1x6x5x8xf32>
  %kt = qc.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x6x5x8xf32>) -> tensor<1x6x8x5xf32>
  %s = qc.matmul %q, %kt : (tensor<1x6x4x8xf32>, tensor<1x6x8x5xf32>) -> tensor<1x6x4x5xf32>
  %sd = qc.div %s, %c : (tensor<1x6x4x5xf32>, tensor<f32>) -> tensor<1x6x4x5xf32>
  %sm = qc.add %sd, %mask : (tensor<1x6x4x5xf32>, tensor<4x5xf32>) -> tensor<1x6x4x5xf32>
  %p = qc.softmax %sm : (tensor<1x6x4x5xf32>) -> tensor<1x6x4x5xf32>
  %o = qc.matmul %p, %vr : (tensor<1x6x4x5xf32>, tensor<1x6x5x8xf32>) -> tensor<1x6x4x8xf32>
  return %o : tensor<1x6x4x8xf32>
}

// -----

// MiniLM's form: the keys' transpose [0, 2, 3, 1] of [b, s, H, d] composes
// with the swap of the last two axes into [0, 2, 1, 3]; no mask, no scale
// op (scale 1).
// CHECK-LABEL: func.func @minilm_keys
// CHECK: %[[K:.*]] = qc.transpose %arg1 {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x7x3x4xf32>) -> tensor<2x3x7x4xf32>
// CHECK: %[[N:.*]] = qc.none
// CHECK: qc.attention %arg0, %[[K]], %arg2, %[[N]] {scale = 1.000000e+00 : f32}
// CHECK-NOT: qc.softmax
func.func @minilm_keys(%q: tensor<2x3x7x4xf32>, %k: tensor<2x7x3x4xf32>, %v: tensor<2x3x7x4xf32>) -> tensor<2x3x7x4xf32> {
  %kt = qc.transpose %k {perm = array<i64: 0, 2, 3, 1>} : (tensor<2x7x3x4xf32>) -> tensor<2x3x4x7xf32>
  %s = qc.matmul %q, %kt : (tensor<2x3x7x4xf32>, tensor<2x3x4x7xf32>) -> tensor<2x3x7x7xf32>
  %p = qc.softmax %s : (tensor<2x3x7x7xf32>) -> tensor<2x3x7x7xf32>
  %o = qc.matmul %p, %v : (tensor<2x3x7x7xf32>, tensor<2x3x7x4xf32>) -> tensor<2x3x7x4xf32>
  return %o : tensor<2x3x7x4xf32>
}

// -----

// The probabilities have a second user (an observer during calibration,
// here a return): nothing is fused.
// CHECK-LABEL: func.func @shared_probabilities
// CHECK-NOT: qc.attention
// CHECK: qc.softmax
func.func @shared_probabilities(%q: tensor<1x2x3x4xf32>, %kt: tensor<1x2x4x3xf32>, %v: tensor<1x2x3x4xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3x3xf32>) {
  %s = qc.matmul %q, %kt : (tensor<1x2x3x4xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x3x3xf32>
  %p = qc.softmax %s : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %o = qc.matmul %p, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %o, %p : tensor<1x2x3x4xf32>, tensor<1x2x3x3xf32>
}

// -----

// Softmax over another axis than the last is not attention.
// CHECK-LABEL: func.func @other_axis
// CHECK-NOT: qc.attention
func.func @other_axis(%q: tensor<1x2x3x4xf32>, %kt: tensor<1x2x4x3xf32>, %v: tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32> {
  %s = qc.matmul %q, %kt : (tensor<1x2x3x4xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x3x3xf32>
  %p = qc.softmax %s {axis = 2 : i64} : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %o = qc.matmul %p, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}
