// RUN: quant-opt %s --pass-pipeline='builtin.module(func.func(qc-to-linalg),one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},quantc-cpu-fold-transposes,quantc-cpu-kernel-calls)' | FileCheck %s

// qc.attention becomes qc.attention_kernel into an empty tensor, then on
// buffers a call of the runtime's kernel with the scale as an f32. The
// query's transpose feeds only the kernel, so it is read in place (a
// strided view, no copy); the mask's unit axes reach the runtime, which
// broadcasts them.
// CHECK-LABEL: func.func @attention
// CHECK-NOT: linalg.transpose
// CHECK: %[[Q:.*]] = memref.transpose %arg0 (d0, d1, d2, d3) -> (d0, d2, d1, d3)
// CHECK: %[[O:.*]] = memref.alloc() {{.*}} : memref<1x6x4x8xf32>
// CHECK: %[[S:.*]] = arith.constant 0.353553385 : f32
// CHECK: call @qc_rt_attention_masked_f32({{.*}}, %[[S]]) : (memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, f32) -> ()
// CHECK: return %[[O]]
func.func @attention(%q: tensor<1x4x6x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>, %mask: tensor<1x1x4x5xf32>) -> tensor<1x6x4x8xf32> {
  %qt = qc.transpose %q {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x6x8xf32>) -> tensor<1x6x4x8xf32>
  %o = qc.attention %qt, %k, %v, %mask {scale = 0.353553385 : f32} : (tensor<1x6x4x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x1x4x5xf32>) -> tensor<1x6x4x8xf32>
  return %o : tensor<1x6x4x8xf32>
}
