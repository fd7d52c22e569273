// RUN: quant-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(qc-to-linalg))" | FileCheck %s

// Symbolic dimensions (`--shape input_ids=1x?`): results are sized with
// tensor.dim of an operand that has the same dynamic dim; a dim of 1
// broadcasts, a dynamic one is taken to match.
// CHECK-LABEL: func.func @add_bias
// CHECK: %[[D:.*]] = tensor.dim %arg0, %{{.*}} : tensor<1x?x8xf32>
// CHECK: %[[E:.*]] = tensor.empty(%[[D]]) : tensor<1x?x8xf32>
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<1x?x8xf32>, tensor<8xf32>) outs(%[[E]] : tensor<1x?x8xf32>)
func.func @add_bias(%x: tensor<1x?x8xf32>, %b: tensor<8xf32>) -> tensor<1x?x8xf32> {
  %y = qc.add %x, %b : (tensor<1x?x8xf32>, tensor<8xf32>) -> tensor<1x?x8xf32>
  return %y : tensor<1x?x8xf32>
}

// -----

// [1, ?, K] x [K, N]: the rows collapse into one dynamic M for linalg.matmul
// (the runtime's GEMM), then expand back with M read at run time.
// CHECK-LABEL: func.func @linear
// CHECK: %[[A:.*]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<1x?x8xf32> into tensor<?x8xf32>
// CHECK: %[[M:.*]] = tensor.dim %[[A]], %{{.*}} : tensor<?x8xf32>
// CHECK: tensor.empty(%[[M]]) : tensor<?x4xf32>
// CHECK: %[[P:.*]] = linalg.matmul ins(%[[A]], %arg1 : tensor<?x8xf32>, tensor<8x4xf32>)
// CHECK: tensor.expand_shape %[[P]] {{\[}}[0, 1], [2]] output_shape [1, %{{.*}}, 4] : tensor<?x4xf32> into tensor<1x?x4xf32>
func.func @linear(%x: tensor<1x?x8xf32>, %w: tensor<8x4xf32>) -> tensor<1x?x4xf32> {
  %y = qc.matmul %x, %w : (tensor<1x?x8xf32>, tensor<8x4xf32>) -> tensor<1x?x4xf32>
  return %y : tensor<1x?x4xf32>
}

// -----

// Range with a run-time limit: n = max(ceildiv(limit - start, delta), 0).
// CHECK-LABEL: func.func @range
// CHECK: %[[L:.*]] = tensor.extract %arg0[] : tensor<i64>
// CHECK: arith.ceildivsi
// CHECK: %[[N:.*]] = arith.maxsi
// CHECK: %[[NI:.*]] = arith.index_cast %[[N]] : i64 to index
// CHECK: tensor.empty(%[[NI]]) : tensor<?xi64>
// CHECK: linalg.index 0
func.func @range(%limit: tensor<i64>) -> tensor<?xi64> {
  %s = qc.constant dense<0> : tensor<i64>
  %d = qc.constant dense<1> : tensor<i64>
  %r = qc.range %s, %limit, %d : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %r : tensor<?xi64>
}

// -----

// Shape of a dynamic tensor is read at run time; Slice with run-time ends
// clamps them to the dim.
// CHECK-LABEL: func.func @shape_slice
// CHECK: %[[D:.*]] = tensor.dim %arg0, %{{.*}} : tensor<1x?xf32>
// CHECK: %[[DI:.*]] = arith.index_cast %[[D]] : index to i64
// CHECK: tensor.from_elements %{{.*}}, %[[DI]] : tensor<2xi64>
// CHECK: arith.minsi
// CHECK: tensor.extract_slice %arg0[0, %{{.*}}] [1, %{{.*}}] [1, 1] : tensor<1x?xf32> to tensor<1x?xf32>
func.func @shape_slice(%x: tensor<1x?xf32>, %e: tensor<1xi64>) -> (tensor<2xi64>, tensor<1x?xf32>) {
  %s = qc.shape %x : (tensor<1x?xf32>) -> tensor<2xi64>
  %st = qc.constant dense<0> : tensor<1xi64>
  %ax = qc.constant dense<1> : tensor<1xi64>
  %none = qc.none
  %y = qc.slice %x, %st, %e, %ax, %none : (tensor<1x?xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, none) -> tensor<1x?xf32>
  return %s, %y : tensor<2xi64>, tensor<1x?xf32>
}

// -----

// Concat along the dynamic axis: the second input lands at the first's
// run-time length (a KV cache: past then new).
// CHECK-LABEL: func.func @concat
// CHECK: %[[P:.*]] = tensor.dim %arg0, %{{.*}} : tensor<1x?x4xf32>
// CHECK: %[[N:.*]] = tensor.dim %arg1, %{{.*}} : tensor<1x?x4xf32>
// CHECK: tensor.insert_slice %arg0 into %{{.*}}[0, 0, 0] [1, %{{.*}}, 4]
// CHECK: tensor.insert_slice %arg1 into %{{.*}}[0, %{{.*}}, 0] [1, %{{.*}}, 4]
func.func @concat(%past: tensor<1x?x4xf32>, %new: tensor<1x?x4xf32>) -> tensor<1x?x4xf32> {
  %c = qc.concat %past, %new {axis = 1 : i64} : (tensor<1x?x4xf32>, tensor<1x?x4xf32>) -> tensor<1x?x4xf32>
  return %c : tensor<1x?x4xf32>
}

// -----

// A reshape with one dynamic result dim: it is what the static dims leave
// of the input's elements.
// CHECK-LABEL: func.func @heads
// CHECK: %[[D:.*]] = tensor.dim %arg0, %{{.*}} : tensor<1x?x8xf32>
// CHECK: arith.divui
// CHECK: tensor.reshape %arg0(%{{.*}}) : (tensor<1x?x8xf32>, tensor<4xi64>) -> tensor<1x?x2x4xf32>
func.func @heads(%x: tensor<1x?x8xf32>) -> tensor<1x?x2x4xf32> {
  %s = qc.constant dense<[1, -1, 2, 4]> : tensor<4xi64>
  %y = qc.reshape %x, %s : (tensor<1x?x8xf32>, tensor<4xi64>) -> tensor<1x?x2x4xf32>
  return %y : tensor<1x?x2x4xf32>
}
