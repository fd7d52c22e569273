// RUN: quant-opt %s --split-input-file --quantc-cpu-fold-transposes | FileCheck %s

// Attention's V split into heads ([1, 5, 2, 8] -> [1, 2, 5, 8]): a
// transpose into a fresh buffer read only by a batched matmul (through a
// collapse) becomes a strided view of V (rows 16 apart, unit column
// stride), the collapse is rebuilt on it, and no copy is left.
// CHECK-LABEL: func.func @context
// CHECK-NOT: linalg.transpose
// CHECK: %[[T:.*]] = memref.transpose %arg1 (d0, d1, d2, d3) -> (d0, d2, d1, d3) : memref<1x5x2x8xf32> to memref<1x2x5x8xf32, strided<[80, 8, 16, 1]>>
// CHECK: %[[C:.*]] = memref.collapse_shape %[[T]] {{\[}}[0, 1], [2], [3]] : memref<1x2x5x8xf32, strided<[80, 8, 16, 1]>> into memref<2x5x8xf32, strided<[8, 16, 1]>>
// CHECK: linalg.batch_matmul ins(%{{.*}}, %[[C]] : memref<2x4x5xf32>, memref<2x5x8xf32, strided<[8, 16, 1]>>)
func.func @context(%p: memref<2x4x5xf32>, %v: memref<1x5x2x8xf32>, %out: memref<2x4x8xf32>) {
  %t = memref.alloc() {alignment = 64 : i64} : memref<1x2x5x8xf32>
  linalg.transpose ins(%v : memref<1x5x2x8xf32>) outs(%t : memref<1x2x5x8xf32>) permutation = [0, 2, 1, 3]
  %c = memref.collapse_shape %t [[0, 1], [2], [3]] : memref<1x2x5x8xf32> into memref<2x5x8xf32>
  linalg.batch_matmul ins(%p, %c : memref<2x4x5xf32>, memref<2x5x8xf32>) outs(%out : memref<2x4x8xf32>)
  return
}

// -----

// Kept as copies: a buffer also read by something else (a copy out); one
// that would need a collapse its strides do not allow ([1, 4, 2, 3] ->
// merging the last two dims of the permuted layout); and Kᵀ as B, whose
// view would have a column stride of 8 (the skinny decode kernels stream
// B's rows with unit stride only).
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-3: linalg.transpose
// CHECK-NOT: memref.transpose
func.func @kept(%x: memref<1x2x4x3xf32>, %w: memref<6x5xf32>, %o: memref<4x5xf32>, %copy: memref<1x4x2x3xf32>,
                %q: memref<2x4x8xf32>, %k: memref<1x2x5x8xf32>, %s: memref<2x4x5xf32>) {
  %t = memref.alloc() : memref<1x4x2x3xf32>
  linalg.transpose ins(%x : memref<1x2x4x3xf32>) outs(%t : memref<1x4x2x3xf32>) permutation = [0, 2, 1, 3]
  memref.copy %t, %copy : memref<1x4x2x3xf32> to memref<1x4x2x3xf32>
  %t2 = memref.alloc() : memref<1x4x2x3xf32>
  linalg.transpose ins(%x : memref<1x2x4x3xf32>) outs(%t2 : memref<1x4x2x3xf32>) permutation = [0, 2, 1, 3]
  %c = memref.collapse_shape %t2 [[0, 1], [2, 3]] : memref<1x4x2x3xf32> into memref<4x6xf32>
  linalg.matmul ins(%c, %w : memref<4x6xf32>, memref<6x5xf32>) outs(%o : memref<4x5xf32>)
  %t3 = memref.alloc() : memref<1x2x8x5xf32>
  linalg.transpose ins(%k : memref<1x2x5x8xf32>) outs(%t3 : memref<1x2x8x5xf32>) permutation = [0, 1, 3, 2]
  %c3 = memref.collapse_shape %t3 [[0, 1], [2], [3]] : memref<1x2x8x5xf32> into memref<2x8x5xf32>
  linalg.batch_matmul ins(%q, %c3 : memref<2x4x8xf32>, memref<2x8x5xf32>) outs(%s : memref<2x4x5xf32>)
  return
}
