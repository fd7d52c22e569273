// RUN: quant-opt %s --quantc-cpu-kernel-calls | FileCheck %s

// f32 contractions on buffers become calls to the runtime's kernels with
// fully dynamic strided descriptors; other element types stay; strided
// copies become linalg.copy and rank-0 copies a load and a store.
// CHECK-DAG: func.func private @qc_rt_matmul_f32({{.*}}) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @qc_rt_conv2d_nchw_f32({{.*}}, i64, i64, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @f
// CHECK: memref.cast %arg0 : memref<4x8xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: call @qc_rt_matmul_f32
// CHECK: linalg.matmul ins({{.*}} : memref<4x8xi32>, memref<8x6xi32>)
// CHECK: arith.constant 2 : i64
// CHECK: call @qc_rt_conv2d_nchw_f32(
// CHECK: linalg.copy ins(%{{.*}} : memref<4x8xf32, strided<[16, 1]>>)
// CHECK: %[[V:.*]] = memref.load %{{.*}}[] : memref<f32>
// CHECK: memref.store %[[V]], %{{.*}}[] : memref<f32>
// CHECK-NOT: memref.copy
func.func @f(%a: memref<4x8xf32>, %b: memref<8x6xf32>, %c: memref<4x6xf32>,
             %ai: memref<4x8xi32>, %bi: memref<8x6xi32>, %ci: memref<4x6xi32>,
             %x: memref<1x3x9x9xf32>, %w: memref<2x3x3x3xf32>, %y: memref<1x2x4x4xf32>,
             %s: memref<4x8xf32, strided<[16, 1]>>, %d: memref<4x8xf32>,
             %p: memref<f32>, %q: memref<f32>) {
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x6xf32>) outs(%c : memref<4x6xf32>)
  linalg.matmul ins(%ai, %bi : memref<4x8xi32>, memref<8x6xi32>) outs(%ci : memref<4x6xi32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%x, %w : memref<1x3x9x9xf32>, memref<2x3x3x3xf32>) outs(%y : memref<1x2x4x4xf32>)
  memref.copy %s, %d : memref<4x8xf32, strided<[16, 1]>> to memref<4x8xf32>
  memref.copy %p, %q : memref<f32> to memref<f32>
  return
}
