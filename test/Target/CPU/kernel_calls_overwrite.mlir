// RUN: quant-opt %s --split-input-file --quantc-cpu-kernel-calls | FileCheck %s

// A matmul whose output was zero-filled just for it: the fill goes and the
// kernel overwrites C (the _set entry points), for a weight (constb), an
// activation and a batch; the copy of a zero-filled buffer that CSE leaves
// when two products share one fill goes too, and then the shared fill.
// CHECK-LABEL: func.func @zero_filled
// CHECK-NOT: linalg.fill
// CHECK-NOT: linalg.copy
// CHECK: call @qc_rt_matmul_f32_constb_set(
// CHECK: call @qc_rt_matmul_f32_set(
// CHECK: call @qc_rt_matmul_f32_set(
// CHECK: call @qc_rt_batch_matmul_f32_set(
memref.global "private" constant @w : memref<8x6xf32> = dense<1.0>
func.func @zero_filled(%a: memref<4x8xf32>, %b: memref<8x6xf32>, %c: memref<4x6xf32>,
                       %ba: memref<2x4x8xf32>, %bb: memref<2x8x6xf32>, %bc: memref<2x4x6xf32>) {
  %zero = arith.constant 0.0 : f32
  %w = memref.get_global @w : memref<8x6xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<4x6xf32>)
  linalg.matmul ins(%a, %w : memref<4x8xf32>, memref<8x6xf32>) outs(%c : memref<4x6xf32>)
  %z = memref.alloc() : memref<4x6xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<4x6xf32>)
  %z2 = memref.alloc() : memref<4x6xf32>
  linalg.copy ins(%z : memref<4x6xf32>) outs(%z2 : memref<4x6xf32>)
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x6xf32>) outs(%z2 : memref<4x6xf32>)
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x6xf32>) outs(%z : memref<4x6xf32>)
  linalg.fill ins(%zero : f32) outs(%bc : memref<2x4x6xf32>)
  linalg.batch_matmul ins(%ba, %bb : memref<2x4x8xf32>, memref<2x8x6xf32>) outs(%bc : memref<2x4x6xf32>)
  return
}

// -----

// Not zero (a bias of one), or read between fill and matmul: C is
// accumulated into as before.
// CHECK-LABEL: func.func @kept
// CHECK: linalg.fill ins(%{{.*}} : f32)
// CHECK: call @qc_rt_matmul_f32(
// CHECK: linalg.fill
// CHECK: linalg.copy
// CHECK: call @qc_rt_matmul_f32(
func.func @kept(%a: memref<4x8xf32>, %b: memref<8x6xf32>, %c: memref<4x6xf32>, %d: memref<4x6xf32>, %e: memref<4x6xf32>) {
  %one = arith.constant 1.0 : f32
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%one : f32) outs(%c : memref<4x6xf32>)
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x6xf32>) outs(%c : memref<4x6xf32>)
  linalg.fill ins(%zero : f32) outs(%d : memref<4x6xf32>)
  memref.copy %d, %e : memref<4x6xf32> to memref<4x6xf32>
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x6xf32>) outs(%d : memref<4x6xf32>)
  return
}

// -----

// int8: a weight's product into a zero-filled i32 buffer drops the fill
// (qc_rt_matmul_i8_i32_constb_set); an activation B keeps fill and call.
// CHECK-LABEL: func.func @s8_zero_filled
// CHECK: call @qc_rt_matmul_i8_i32_constb_set(
// CHECK: linalg.fill
// CHECK: call @qc_rt_matmul_i8_i32(
memref.global "private" constant @w8 : memref<8x6xi8> = dense<3>
func.func @s8_zero_filled(%a: memref<4x8xi8>, %b: memref<8x6xi8>) -> (memref<4x6xi32>, memref<4x6xi32>) {
  %z = arith.constant 0 : i32
  %w = memref.get_global @w8 : memref<8x6xi8>
  %c = memref.alloc() : memref<4x6xi32>
  linalg.fill ins(%z : i32) outs(%c : memref<4x6xi32>)
  linalg.matmul ins(%a, %w : memref<4x8xi8>, memref<8x6xi8>) outs(%c : memref<4x6xi32>)
  %d = memref.alloc() : memref<4x6xi32>
  linalg.fill ins(%z : i32) outs(%d : memref<4x6xi32>)
  linalg.matmul ins(%a, %b : memref<4x8xi8>, memref<8x6xi8>) outs(%d : memref<4x6xi32>)
  return %c, %d : memref<4x6xi32>, memref<4x6xi32>
}

// -----

// int8 convolutions: a weight's convolution into a zero-filled i32 buffer
// drops the fill (qc_rt_conv2d_nchw_i8_i32_constw_set); an activation
// weight keeps fill and call; a weight's convolution into a buffer filled
// with a bias keeps the fill and accumulates; a zero-filled f32 one drops
// its fill too (qc_rt_conv2d_nchw_f32_set).
// CHECK-LABEL: func.func @s8_conv_zero_filled
// CHECK-NOT: linalg.fill
// CHECK: call @qc_rt_conv2d_nchw_i8_i32_constw_set(
// CHECK: linalg.fill
// CHECK: call @qc_rt_conv2d_nchw_i8_i32(
// CHECK: linalg.fill
// CHECK: call @qc_rt_conv2d_nchw_i8_i32_constw(
// CHECK-NOT: linalg.fill
// CHECK: call @qc_rt_conv2d_nchw_f32_set(
memref.global "private" constant @cw8 : memref<4x3x3x3xi8> = dense<2>
memref.global "private" constant @cwf : memref<4x3x3x3xf32> = dense<0.5>
func.func @s8_conv_zero_filled(%x: memref<1x3x8x8xi8>, %wa: memref<4x3x3x3xi8>, %xf: memref<1x3x8x8xf32>)
    -> (memref<1x4x6x6xi32>, memref<1x4x6x6xi32>, memref<1x4x6x6xi32>, memref<1x4x6x6xf32>) {
  %z = arith.constant 0 : i32
  %seven = arith.constant 7 : i32
  %zf = arith.constant 0.0 : f32
  %w = memref.get_global @cw8 : memref<4x3x3x3xi8>
  %wf = memref.get_global @cwf : memref<4x3x3x3xf32>
  %y = memref.alloc() : memref<1x4x6x6xi32>
  linalg.fill ins(%z : i32) outs(%y : memref<1x4x6x6xi32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<1x3x8x8xi8>, memref<4x3x3x3xi8>) outs(%y : memref<1x4x6x6xi32>)
  %ya = memref.alloc() : memref<1x4x6x6xi32>
  linalg.fill ins(%z : i32) outs(%ya : memref<1x4x6x6xi32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %wa : memref<1x3x8x8xi8>, memref<4x3x3x3xi8>) outs(%ya : memref<1x4x6x6xi32>)
  %yb = memref.alloc() : memref<1x4x6x6xi32>
  linalg.fill ins(%seven : i32) outs(%yb : memref<1x4x6x6xi32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<1x3x8x8xi8>, memref<4x3x3x3xi8>) outs(%yb : memref<1x4x6x6xi32>)
  %yf = memref.alloc() : memref<1x4x6x6xf32>
  linalg.fill ins(%zf : f32) outs(%yf : memref<1x4x6x6xf32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%xf, %wf : memref<1x3x8x8xf32>, memref<4x3x3x3xf32>) outs(%yf : memref<1x4x6x6xf32>)
  return %y, %ya, %yb, %yf : memref<1x4x6x6xi32>, memref<1x4x6x6xi32>, memref<1x4x6x6xi32>, memref<1x4x6x6xf32>
}

// f32 convolutions whose output was set to a constant per-channel bias
// (the broadcast a Conv's B input lowers to) take the bias: the broadcast
// is erased and qc_rt_conv2d_nchw_f32_bias(X, W, B, Y, ...) writes
// Y = B + conv. A bias that is not a constant, a broadcast along another
// dimension, or a fill of another value keep the write and accumulate.
// CHECK-LABEL: func.func @f32_conv_bias
// CHECK: %[[B:.*]] = memref.get_global @cb : memref<4xf32>
// CHECK-NOT: linalg.generic
// CHECK: %[[BC:.*]] = memref.cast %[[B]] : memref<4xf32> to memref<?xf32, strided<[?], offset: ?>>
// CHECK: call @qc_rt_conv2d_nchw_f32_bias(%{{.*}}, %{{.*}}, %[[BC]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (memref<?x?x?x?xf32, {{.*}}>, memref<?x?x?x?xf32, {{.*}}>, memref<?xf32, strided<[?], offset: ?>>, memref<?x?x?x?xf32, {{.*}}>, i64, i64, i64, i64) -> ()
// CHECK: linalg.generic
// CHECK: call @qc_rt_conv2d_nchw_f32(
// CHECK: linalg.generic
// CHECK: call @qc_rt_conv2d_nchw_f32(
// CHECK: linalg.fill
// CHECK: call @qc_rt_conv2d_nchw_f32(
memref.global "private" constant @cb : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
memref.global "private" constant @cb6 : memref<6xf32> = dense<1.0>
#chan = affine_map<(n, f, y, x) -> (f)>
#row = affine_map<(n, f, y, x) -> (y)>
#id = affine_map<(n, f, y, x) -> (n, f, y, x)>
func.func @f32_conv_bias(%xf: memref<1x3x8x8xf32>, %ba: memref<4xf32>)
    -> (memref<1x4x6x6xf32>, memref<1x4x6x6xf32>, memref<1x4x6x6xf32>, memref<1x4x6x6xf32>) {
  %wf = memref.get_global @cwf : memref<4x3x3x3xf32>
  %b = memref.get_global @cb : memref<4xf32>
  %b6 = memref.get_global @cb6 : memref<6xf32>
  %seven = arith.constant 7.0 : f32
  %y = memref.alloc() : memref<1x4x6x6xf32>
  linalg.generic {indexing_maps = [#chan, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
    ins(%b : memref<4xf32>) outs(%y : memref<1x4x6x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%xf, %wf : memref<1x3x8x8xf32>, memref<4x3x3x3xf32>) outs(%y : memref<1x4x6x6xf32>)
  %ya = memref.alloc() : memref<1x4x6x6xf32>
  linalg.generic {indexing_maps = [#chan, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
    ins(%ba : memref<4xf32>) outs(%ya : memref<1x4x6x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%xf, %wf : memref<1x3x8x8xf32>, memref<4x3x3x3xf32>) outs(%ya : memref<1x4x6x6xf32>)
  %yr = memref.alloc() : memref<1x4x6x6xf32>
  linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
    ins(%b6 : memref<6xf32>) outs(%yr : memref<1x4x6x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%xf, %wf : memref<1x3x8x8xf32>, memref<4x3x3x3xf32>) outs(%yr : memref<1x4x6x6xf32>)
  %ys = memref.alloc() : memref<1x4x6x6xf32>
  linalg.fill ins(%seven : f32) outs(%ys : memref<1x4x6x6xf32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%xf, %wf : memref<1x3x8x8xf32>, memref<4x3x3x3xf32>) outs(%ys : memref<1x4x6x6xf32>)
  return %y, %ya, %yr, %ys : memref<1x4x6x6xf32>, memref<1x4x6x6xf32>, memref<1x4x6x6xf32>, memref<1x4x6x6xf32>
}

// Depthwise convolutions likewise: a constant bias broadcast along the
// channels goes into qc_rt_depthwise_conv2d_nchw_f32_bias, a zero fill
// is dropped for _set.
// CHECK-LABEL: func.func @f32_depthwise_bias
// CHECK: %[[B:.*]] = memref.get_global @cb : memref<4xf32>
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.fill
// CHECK: %[[BC:.*]] = memref.cast %[[B]] : memref<4xf32> to memref<?xf32, strided<[?], offset: ?>>
// CHECK: call @qc_rt_depthwise_conv2d_nchw_f32_bias(%{{.*}}, %{{.*}}, %[[BC]], %{{.*}}
// CHECK-NOT: linalg.fill
// CHECK: call @qc_rt_depthwise_conv2d_nchw_f32_set(
func.func @f32_depthwise_bias(%x: memref<1x4x8x8xf32>, %w: memref<4x3x3xf32>)
    -> (memref<1x4x6x6xf32>, memref<1x4x6x6xf32>) {
  %b = memref.get_global @cb : memref<4xf32>
  %zf = arith.constant 0.0 : f32
  %y = memref.alloc() : memref<1x4x6x6xf32>
  linalg.generic {indexing_maps = [#chan, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
    ins(%b : memref<4xf32>) outs(%y : memref<1x4x6x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<1x4x8x8xf32>, memref<4x3x3xf32>) outs(%y : memref<1x4x6x6xf32>)
  %yz = memref.alloc() : memref<1x4x6x6xf32>
  linalg.fill ins(%zf : f32) outs(%yz : memref<1x4x6x6xf32>)
  linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<1x4x8x8xf32>, memref<4x3x3xf32>) outs(%yz : memref<1x4x6x6xf32>)
  return %y, %yz : memref<1x4x6x6xf32>, memref<1x4x6x6xf32>
}

// -----

// A small f32 depthwise input that is only a zero-padded copy of another
// buffer (the form quantc-cpu-pad-in-place leaves): the fill, the copy and
// the padded buffer go, and the kernel reads the unpadded buffer with the
// padding's top and left (qc_rt_depthwise_conv2d_nchw_f32_set_pad). A pad
// of another value, or a padded buffer with another reader, stays.
// CHECK-LABEL: func.func @implicit_pad
// CHECK-NOT: memref.alloc() : memref<1x4x10x11xf32>
// CHECK-NOT: {{(memref|linalg)}}.copy
// CHECK: %[[X:.*]] = memref.cast %arg0 : memref<1x4x8x8xf32> to memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
// CHECK: %[[L:.*]] = arith.constant 2 : i64
// CHECK: call @qc_rt_depthwise_conv2d_nchw_f32_set_pad(%[[X]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[L]])
// CHECK: linalg.copy
// CHECK: call @qc_rt_depthwise_conv2d_nchw_f32_set(
// CHECK: linalg.copy
// CHECK: call @qc_rt_depthwise_conv2d_nchw_f32_set(
func.func @implicit_pad(%x: memref<1x4x8x8xf32>, %w: memref<4x3x3xf32>)
    -> (memref<1x4x8x9xf32>, memref<1x4x8x8xf32>, memref<1x4x8x8xf32>, memref<1x4x10x10xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %p = memref.alloc() : memref<1x4x10x11xf32>
  linalg.map outs(%p : memref<1x4x10x11xf32>) (%init: f32) { linalg.yield %zero : f32 }
  %pi = memref.subview %p[0, 0, 1, 2] [1, 4, 8, 8] [1, 1, 1, 1] : memref<1x4x10x11xf32> to memref<1x4x8x8xf32, strided<[440, 110, 11, 1], offset: 13>>
  memref.copy %x, %pi : memref<1x4x8x8xf32> to memref<1x4x8x8xf32, strided<[440, 110, 11, 1], offset: 13>>
  %y = memref.alloc() : memref<1x4x8x9xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<1x4x8x9xf32>)
  linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%p, %w : memref<1x4x10x11xf32>, memref<4x3x3xf32>) outs(%y : memref<1x4x8x9xf32>)
  memref.dealloc %p : memref<1x4x10x11xf32>
  %q = memref.alloc() : memref<1x4x10x10xf32>
  linalg.fill ins(%one : f32) outs(%q : memref<1x4x10x10xf32>)
  %qi = memref.subview %q[0, 0, 1, 1] [1, 4, 8, 8] [1, 1, 1, 1] : memref<1x4x10x10xf32> to memref<1x4x8x8xf32, strided<[400, 100, 10, 1], offset: 11>>
  memref.copy %x, %qi : memref<1x4x8x8xf32> to memref<1x4x8x8xf32, strided<[400, 100, 10, 1], offset: 11>>
  %y2 = memref.alloc() : memref<1x4x8x8xf32>
  linalg.fill ins(%zero : f32) outs(%y2 : memref<1x4x8x8xf32>)
  linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%q, %w : memref<1x4x10x10xf32>, memref<4x3x3xf32>) outs(%y2 : memref<1x4x8x8xf32>)
  memref.dealloc %q : memref<1x4x10x10xf32>
  %r = memref.alloc() : memref<1x4x10x10xf32>
  linalg.fill ins(%zero : f32) outs(%r : memref<1x4x10x10xf32>)
  %ri = memref.subview %r[0, 0, 1, 1] [1, 4, 8, 8] [1, 1, 1, 1] : memref<1x4x10x10xf32> to memref<1x4x8x8xf32, strided<[400, 100, 10, 1], offset: 11>>
  memref.copy %x, %ri : memref<1x4x8x8xf32> to memref<1x4x8x8xf32, strided<[400, 100, 10, 1], offset: 11>>
  %y3 = memref.alloc() : memref<1x4x8x8xf32>
  linalg.fill ins(%zero : f32) outs(%y3 : memref<1x4x8x8xf32>)
  linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%r, %w : memref<1x4x10x10xf32>, memref<4x3x3xf32>) outs(%y3 : memref<1x4x8x8xf32>)
  return %y, %y2, %y3, %r : memref<1x4x8x9xf32>, memref<1x4x8x8xf32>, memref<1x4x8x8xf32>, memref<1x4x10x10xf32>
}
