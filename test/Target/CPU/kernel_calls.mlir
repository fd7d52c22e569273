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

// -----

// int8 operands into int32 (signed casts) call the int8 kernels, the
// depthwise convolution too; an unsigned-cast matmul stays.
// RUN: quant-opt %s --split-input-file --quantc-cpu-kernel-calls | FileCheck %s --check-prefix=S8
// S8-LABEL: func.func @s8
// S8: memref.cast %arg0 : memref<4x8xi8> to memref<?x?xi8, strided<[?, ?], offset: ?>>
// S8: call @qc_rt_matmul_i8_i32
// S8: linalg.matmul {cast = #linalg.type_fn<cast_unsigned>}
// S8: call @qc_rt_batch_matmul_i8_i32
// S8: call @qc_rt_conv2d_nchw_i8_i32
// S8: memref.cast %arg9 : memref<3x3x3xi8> to memref<?x?x?xi8, strided<[?, ?, ?], offset: ?>>
// S8: call @qc_rt_depthwise_conv2d_nchw_i8_i32(
// S8-NOT: linalg.depthwise_conv_2d_nchw_chw
func.func @s8(%a: memref<4x8xi8>, %b: memref<8x6xi8>, %c: memref<4x6xi32>,
              %ba: memref<2x4x8xi8>, %bb: memref<2x8x6xi8>, %bc: memref<2x4x6xi32>,
              %x: memref<1x3x9x9xi8>, %w: memref<2x3x3x3xi8>, %y: memref<1x2x4x4xi32>,
              %dw: memref<3x3x3xi8>, %dy: memref<1x3x4x4xi32>) {
  linalg.matmul ins(%a, %b : memref<4x8xi8>, memref<8x6xi8>) outs(%c : memref<4x6xi32>)
  linalg.matmul {cast = #linalg.type_fn<cast_unsigned>} ins(%a, %b : memref<4x8xi8>, memref<8x6xi8>) outs(%c : memref<4x6xi32>)
  linalg.batch_matmul ins(%ba, %bb : memref<2x4x8xi8>, memref<2x8x6xi8>) outs(%bc : memref<2x4x6xi32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%x, %w : memref<1x3x9x9xi8>, memref<2x3x3x3xi8>) outs(%y : memref<1x2x4x4xi32>)
  linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%x, %dw : memref<1x3x9x9xi8>, memref<3x3x3xi8>) outs(%dy : memref<1x3x4x4xi32>)
  return
}

// -----

// An int8 convolution whose weight is a constant (a memref.global) calls
// the entry that packs it once (conv2dS8ConstW); a weight argument keeps
// the per-call one.
// RUN: quant-opt %s --split-input-file --quantc-cpu-kernel-calls | FileCheck %s --check-prefix=CONSTW
// CONSTW-LABEL: func.func @constw
// CONSTW: call @qc_rt_conv2d_nchw_i8_i32_constw(
// CONSTW: call @qc_rt_conv2d_nchw_i8_i32(
memref.global "private" constant @cw8 : memref<2x3x3x3xi8> = dense<1>
func.func @constw(%x: memref<1x3x9x9xi8>, %y: memref<1x2x4x4xi32>, %wa: memref<2x3x3x3xi8>) {
  %w = memref.get_global @cw8 : memref<2x3x3x3xi8>
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%x, %w : memref<1x3x9x9xi8>, memref<2x3x3x3xi8>) outs(%y : memref<1x2x4x4xi32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%x, %wa : memref<1x3x9x9xi8>, memref<2x3x3x3xi8>) outs(%y : memref<1x2x4x4xi32>)
  return
}

// -----

// A contraction marked qc.kernel = "matmul_f32_w4" (the 4-bit MatMul of
// qc-to-linalg) calls the GEMM that dequantizes while packing, with its
// group size and signedness.
// RUN: quant-opt %s --split-input-file --quantc-cpu-kernel-calls | FileCheck %s --check-prefix=W4
// W4-LABEL: func.func @w4
// W4: %[[G:.*]] = arith.constant 2 : i64
// W4: %[[S:.*]] = arith.constant 0 : i64
// W4: call @qc_rt_matmul_f32_w4({{.*}}, %[[G]], %[[S]]) : (memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64, i64) -> ()
// W4-NOT: linalg.generic
#a = affine_map<(m, n, k) -> (m, k)>
#p = affine_map<(m, n, k) -> (k, n floordiv 2)>
#s = affine_map<(m, n, k) -> (k floordiv 2, n)>
#c = affine_map<(m, n, k) -> (m, n)>
func.func @w4(%a: memref<3x4xf32>, %p: memref<4x1xi8>, %s: memref<2x2xf32>, %z: memref<2x2xi8>, %c: memref<3x2xf32>) {
  linalg.generic {indexing_maps = [#a, #p, #s, #s, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %p, %s, %z : memref<3x4xf32>, memref<4x1xi8>, memref<2x2xf32>, memref<2x2xi8>) outs(%c : memref<3x2xf32>)
      attrs = {qc.group = 2 : i64, qc.kernel = "matmul_f32_w4", qc.signed = false} {
  ^bb0(%x: f32, %b: i8, %sc: f32, %zp: i8, %o: f32):
    linalg.yield %o : f32
  }
  return
}

// -----

// "matmul_f32_wlow" with qc.bits = 3 (two planes) or 2 (one) calls the
// 3- or 2-bit entry with its group size.
// RUN: quant-opt %s --split-input-file --quantc-cpu-kernel-calls | FileCheck %s --check-prefix=WLOW
// WLOW-LABEL: func.func @w3
// WLOW: %[[G:.*]] = arith.constant 2 : i64
// WLOW: call @qc_rt_matmul_f32_w3({{.*}}, %[[G]]) : (memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64) -> ()
// WLOW-NOT: linalg.generic
#ta = affine_map<(m, n, k) -> (m, k)>
#tl = affine_map<(m, n, k) -> (k, n floordiv 4)>
#th = affine_map<(m, n, k) -> (k, n floordiv 8)>
#ts = affine_map<(m, n, k) -> (k floordiv 2, n)>
#tc = affine_map<(m, n, k) -> (m, n)>
func.func @w3(%a: memref<3x4xf32>, %p: memref<4x1xi8>, %q: memref<4x1xi8>, %s: memref<2x2xf32>, %z: memref<2x2xi8>, %c: memref<3x2xf32>) {
  linalg.generic {indexing_maps = [#ta, #tl, #th, #ts, #ts, #tc], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %p, %q, %s, %z : memref<3x4xf32>, memref<4x1xi8>, memref<4x1xi8>, memref<2x2xf32>, memref<2x2xi8>) outs(%c : memref<3x2xf32>)
      attrs = {qc.bits = 3 : i64, qc.group = 2 : i64, qc.kernel = "matmul_f32_wlow"} {
  ^bb0(%x: f32, %b: i8, %hb: i8, %sc: f32, %zp: i8, %o: f32):
    linalg.yield %o : f32
  }
  return
}

// -----

// WLOW-LABEL: func.func @w2
// WLOW: call @qc_rt_matmul_f32_w2({{.*}}) : (memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64) -> ()
#ua = affine_map<(m, n, k) -> (m, k)>
#ul = affine_map<(m, n, k) -> (k, n floordiv 4)>
#us = affine_map<(m, n, k) -> (k floordiv 2, n)>
#uc = affine_map<(m, n, k) -> (m, n)>
func.func @w2(%a: memref<3x4xf32>, %p: memref<4x1xi8>, %s: memref<2x2xf32>, %z: memref<2x2xi8>, %c: memref<3x2xf32>) {
  linalg.generic {indexing_maps = [#ua, #ul, #us, #us, #uc], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %p, %s, %z : memref<3x4xf32>, memref<4x1xi8>, memref<2x2xf32>, memref<2x2xi8>) outs(%c : memref<3x2xf32>)
      attrs = {qc.bits = 2 : i64, qc.group = 2 : i64, qc.kernel = "matmul_f32_wlow"} {
  ^bb0(%x: f32, %b: i8, %sc: f32, %zp: i8, %o: f32):
    linalg.yield %o : f32
  }
  return
}

// -----

// An int8 weight (B from memref.get_global) calls the _constb entry that
// packs it once; an int8 activation B keeps the plain one.
// RUN: quant-opt %s --split-input-file --quantc-cpu-kernel-calls | FileCheck %s --check-prefix=S8W
// S8W-LABEL: func.func @s8_weight
// S8W: call @qc_rt_matmul_i8_i32_constb(
// S8W: call @qc_rt_matmul_i8_i32(
memref.global "private" constant @w8 : memref<8x6xi8> = dense<3>
func.func @s8_weight(%a: memref<4x8xi8>, %b: memref<8x6xi8>, %c: memref<4x6xi32>) {
  %w = memref.get_global @w8 : memref<8x6xi8>
  linalg.matmul ins(%a, %w : memref<4x8xi8>, memref<8x6xi8>) outs(%c : memref<4x6xi32>)
  linalg.matmul ins(%a, %b : memref<4x8xi8>, memref<8x6xi8>) outs(%c : memref<4x6xi32>)
  return
}
