// RUN: quant-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(qc-fold-kv-repeat))' | FileCheck %s

// Grouped-query attention as exporters write it: 6 query heads on 2 K/V
// heads, each K/V head repeated 3 times (Unsqueeze -> Expand -> Reshape).
// The scores multiply Q regrouped to [1, 2, 3*4, 8] by the transpose of K
// itself, the context P regrouped to [1, 2, 3*4, 5] by V itself; both
// products are reshaped back to 6 heads and no repeat is left.
// CHECK-LABEL: func.func @gqa
// CHECK-NOT: qc.expand
// CHECK: %[[KT:.*]] = qc.transpose %arg1 {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x5x8xf32>) -> tensor<1x2x8x5xf32>
// CHECK: %[[Q:.*]] = qc.reshape %arg0, %{{.*}} : (tensor<1x6x4x8xf32>, tensor<4xi64>) -> tensor<1x2x12x8xf32>
// CHECK: %[[S:.*]] = qc.matmul %[[Q]], %[[KT]] : (tensor<1x2x12x8xf32>, tensor<1x2x8x5xf32>) -> tensor<1x2x12x5xf32>
// CHECK: %[[S6:.*]] = qc.reshape %[[S]], %{{.*}} -> tensor<1x6x4x5xf32>
// CHECK: %[[P:.*]] = qc.softmax %[[S6]]
// CHECK: %[[PG:.*]] = qc.reshape %[[P]], %{{.*}} -> tensor<1x2x12x5xf32>
// CHECK: %[[C:.*]] = qc.matmul %[[PG]], %arg2 : (tensor<1x2x12x5xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x12x8xf32>
// CHECK: %[[C6:.*]] = qc.reshape %[[C]], %{{.*}} -> tensor<1x6x4x8xf32>
// CHECK-NOT: qc.expand
// CHECK: return %[[C6]]
func.func @gqa(%q: tensor<1x6x4x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>) -> tensor<1x6x4x8xf32> {
  %ax = qc.constant dense<[2]> : tensor<1xi64>
  %s5 = qc.constant dense<[1, 2, 3, 5, 8]> : tensor<5xi64>
  %s4 = qc.constant dense<[1, 6, 5, 8]> : tensor<4xi64>
  %ku = qc.unsqueeze %k, %ax : (tensor<1x2x5x8xf32>, tensor<1xi64>) -> tensor<1x2x1x5x8xf32>
  %ke = qc.expand %ku, %s5 : (tensor<1x2x1x5x8xf32>, tensor<5xi64>) -> tensor<1x2x3x5x8xf32>
  %kr = qc.reshape %ke, %s4 : (tensor<1x2x3x5x8xf32>, tensor<4xi64>) -> tensor<1x6x5x8xf32>
  %vu = qc.unsqueeze %v, %ax : (tensor<1x2x5x8xf32>, tensor<1xi64>) -> tensor<1x2x1x5x8xf32>
  %ve = qc.expand %vu, %s5 : (tensor<1x2x1x5x8xf32>, tensor<5xi64>) -> tensor<1x2x3x5x8xf32>
  %vr = qc.reshape %ve, %s4 : (tensor<1x2x3x5x8xf32>, tensor<4xi64>) -> tensor<1x6x5x8xf32>
  %kt = qc.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x6x5x8xf32>) -> tensor<1x6x8x5xf32>
  %s = qc.matmul %q, %kt : (tensor<1x6x4x8xf32>, tensor<1x6x8x5xf32>) -> tensor<1x6x4x5xf32>
  %p = qc.softmax %s {axis = -1 : i64} : (tensor<1x6x4x5xf32>) -> tensor<1x6x4x5xf32>
  %c = qc.matmul %p, %vr : (tensor<1x6x4x5xf32>, tensor<1x6x5x8xf32>) -> tensor<1x6x4x8xf32>
  return %c : tensor<1x6x4x8xf32>
}

// -----

// The repeat has another user (returned): it stays for that user, the
// MatMul still reads V directly. A Transpose that is not the last-two swap
// is left alone.
// CHECK-LABEL: func.func @kept
// CHECK: %[[R:.*]] = qc.reshape %{{.*}} -> tensor<1x4x3x2xf32>
// CHECK: qc.transpose %[[R]] {perm = array<i64: 0, 2, 1, 3>}
// CHECK: qc.matmul %{{.*}}, %arg1 : (tensor<1x2x2x3xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x2x2xf32>
// CHECK: return %[[R]]
func.func @kept(%p: tensor<1x4x1x3xf32>, %v: tensor<1x2x3x2xf32>) -> (tensor<1x4x3x2xf32>, tensor<1x4x1x2xf32>, tensor<1x3x4x2xf32>) {
  %ax = qc.constant dense<[2]> : tensor<1xi64>
  %s5 = qc.constant dense<[1, 2, 2, 3, 2]> : tensor<5xi64>
  %s4 = qc.constant dense<[1, 4, 3, 2]> : tensor<4xi64>
  %vu = qc.unsqueeze %v, %ax : (tensor<1x2x3x2xf32>, tensor<1xi64>) -> tensor<1x2x1x3x2xf32>
  %ve = qc.expand %vu, %s5 : (tensor<1x2x1x3x2xf32>, tensor<5xi64>) -> tensor<1x2x2x3x2xf32>
  %vr = qc.reshape %ve, %s4 : (tensor<1x2x2x3x2xf32>, tensor<4xi64>) -> tensor<1x4x3x2xf32>
  %t = qc.transpose %vr {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x3x2xf32>) -> tensor<1x3x4x2xf32>
  %c = qc.matmul %p, %vr : (tensor<1x4x1x3xf32>, tensor<1x4x3x2xf32>) -> tensor<1x4x1x2xf32>
  return %vr, %c, %t : tensor<1x4x3x2xf32>, tensor<1x4x1x2xf32>, tensor<1x3x4x2xf32>
}

// -----

// Symbolic sequence lengths (queries m, keys n): Q regroups to [1, 2, ?, 8]
// (one unknown dim, -1 in the target), and the products come back to 6
// heads with m and n read from Shape at run time.
// CHECK-LABEL: func.func @gqa_dynamic
// CHECK-NOT: qc.expand
// CHECK: %[[KT:.*]] = qc.transpose %arg1 {{.*}} -> tensor<1x2x8x?xf32>
// CHECK: %[[Q:.*]] = qc.reshape %arg0, %{{.*}} : (tensor<1x6x?x8xf32>, tensor<4xi64>) -> tensor<1x2x?x8xf32>
// CHECK: %[[S:.*]] = qc.matmul %[[Q]], %[[KT]] : (tensor<1x2x?x8xf32>, tensor<1x2x8x?xf32>) -> tensor<1x2x?x?xf32>
// CHECK: %[[M:.*]] = qc.shape %arg0 {end = 3 : i64, start = 2 : i64}
// CHECK: %[[N:.*]] = qc.shape %[[KT]] {end = 4 : i64, start = 3 : i64}
// CHECK: %[[T:.*]] = qc.concat %{{.*}}, %{{.*}}, %[[M]], %[[N]] {axis = 0 : i64}
// CHECK: qc.reshape %[[S]], %[[T]] {{.*}} -> tensor<1x6x?x?xf32>
func.func @gqa_dynamic(%q: tensor<1x6x?x8xf32>, %k: tensor<1x2x?x8xf32>) -> tensor<1x6x?x?xf32> {
  %ax = qc.constant dense<[2]> : tensor<1xi64>
  %s5 = qc.constant dense<[1, 2, 3, 1, 8]> : tensor<5xi64>
  %s4 = qc.constant dense<[1, 6, -1, 8]> : tensor<4xi64>
  %ku = qc.unsqueeze %k, %ax : (tensor<1x2x?x8xf32>, tensor<1xi64>) -> tensor<1x2x1x?x8xf32>
  %ke = qc.expand %ku, %s5 : (tensor<1x2x1x?x8xf32>, tensor<5xi64>) -> tensor<1x2x3x?x8xf32>
  %kr = qc.reshape %ke, %s4 : (tensor<1x2x3x?x8xf32>, tensor<4xi64>) -> tensor<1x6x?x8xf32>
  %kt = qc.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x6x?x8xf32>) -> tensor<1x6x8x?xf32>
  %s = qc.matmul %q, %kt : (tensor<1x6x?x8xf32>, tensor<1x6x8x?xf32>) -> tensor<1x6x?x?xf32>
  return %s : tensor<1x6x?x?xf32>
}
