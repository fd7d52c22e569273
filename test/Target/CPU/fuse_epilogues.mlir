// RUN: quant-opt %s --split-input-file --quantc-cpu-fuse-epilogues | FileCheck %s
// RUN: quant-opt %s --split-input-file --quantc-cpu-fuse-epilogues --convert-linalg-to-loops \
// RUN:   --lower-affine --convert-scf-to-cf --expand-strided-metadata --lower-affine \
// RUN:   --finalize-memref-to-llvm --convert-arith-to-llvm --convert-index-to-llvm \
// RUN:   --convert-func-to-llvm --convert-cf-to-llvm --reconcile-unrealized-casts \
// RUN:   --quantc-cpu-epilogue-dispatch | FileCheck %s --check-prefix=LLVM

// The int32 product of an int8 convolution read once, by an elementwise
// loop (a per-channel scale, a per-channel vector of shape Mx1x1 and a
// same-shape residual beside it): the loop moves into @qc_epi_0, run on
// blocks of the product by the kernel; Y's buffer goes. The convolution
// moves past the fill of another buffer.
// CHECK-LABEL: func.func @fused
// CHECK-NOT: memref.alloc() {{.*}} : memref<1x8x8x10xi32>
// CHECK-NOT: qc_rt_conv2d_nchw_i8_i32_constw_set
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<1x8x8x10xf32>
// CHECK: linalg.fill
// CHECK: call @qc_epilaunch_0({{(%[0-9]+, )+}}%c8_i64, %c3_i64, %c3_i64{{[_0-9]*}}, %c8_i64{{[_0-9]*}}, %c10_i64, {{(%c1_i64, )+}}%arg1, %arg2, %arg3, %[[OUT]])
// CHECK-NOT: linalg.generic
// CHECK: return
// CHECK: func.func private @qc_epi_0(%{{.*}}: memref<?xi32>, %{{.*}}: index, %[[M0:.*]]: index, %[[M1:.*]]: index, %[[N0:.*]]: index, %[[N1:.*]]: index, {{.*}}) attributes {qc.epilogue_body}
// CHECK: scf.for %[[H:.*]] =
// CHECK: memref.reinterpret_cast %{{.*}} to offset: [%{{.*}}], sizes: [1, %{{.*}}, 1, %{{.*}}], strides: [1, %{{.*}}, 1, 1]
// CHECK: memref.subview %{{.*}}[%[[M0]]] [%{{.*}}] [1] : memref<8xf32>
// CHECK: memref.subview %{{.*}}[%[[M0]], 0, 0] [%{{.*}}, 1, 1] [1, 1, 1] : memref<8x1x1xf32>
// CHECK: memref.subview %{{.*}}[0, %[[M0]], %[[H]], %{{.*}}] [1, %{{.*}}, 1, %{{.*}}] [1, 1, 1, 1] : memref<1x8x8x10xf32>
// CHECK: linalg.generic
// CHECK: arith.sitofp
// CHECK: func.func private @qc_epilaunch_0({{.*}}) attributes {qc.epilogue_body_name = "qc_epi_0", qc.epilogue_entry = "qc_rt_conv2d_nchw_i8_epilogue", qc.epilogue_kernel_args = 17 : i64}

// After lowering: the kernel gets its 17 scalars, the trampoline and a
// context struct holding the loop's buffers.
// LLVM-LABEL: llvm.func @fused
// LLVM: llvm.mlir.addressof @qc_epi_0_tramp
// LLVM: llvm.call @qc_rt_conv2d_nchw_i8_epilogue({{.*}}) : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, !llvm.ptr, !llvm.ptr) -> ()
// LLVM-NOT: qc_epilaunch
// LLVM: llvm.func internal @qc_epi_0_tramp(%{{.*}}: !llvm.ptr, %[[T:.*]]: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64)
// LLVM: llvm.call @qc_epi_0(%[[T]], %[[T]],
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d1)>
#ch3 = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>
memref.global "private" constant @w : memref<8x16x3x3xi8> = dense<1>
func.func private @qc_rt_conv2d_nchw_i8_i32_constw_set(memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xi32, strided<[?, ?, ?, ?], offset: ?>>, i64, i64, i64, i64) attributes {llvm.emit_c_interface}
func.func @fused(%x: memref<1x16x10x12xi8>, %s: memref<8xf32>, %b: memref<8x1x1xf32>,
                 %r: memref<1x8x8x10xf32>) -> memref<1x8x8x10xf32> {
  %w = memref.get_global @w : memref<8x16x3x3xi8>
  %y = memref.alloc() : memref<1x8x8x10xi32>
  %cx = memref.cast %x : memref<1x16x10x12xi8> to memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>
  %cw = memref.cast %w : memref<8x16x3x3xi8> to memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>
  %cy = memref.cast %y : memref<1x8x8x10xi32> to memref<?x?x?x?xi32, strided<[?, ?, ?, ?], offset: ?>>
  %one = arith.constant 1 : i64
  call @qc_rt_conv2d_nchw_i8_i32_constw_set(%cx, %cw, %cy, %one, %one, %one, %one) : (memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xi32, strided<[?, ?, ?, ?], offset: ?>>, i64, i64, i64, i64) -> ()
  %out = memref.alloc() : memref<1x8x8x10xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<1x8x8x10xf32>)
  linalg.generic {indexing_maps = [#id, #ch, #ch3, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y, %s, %b, %r : memref<1x8x8x10xi32>, memref<8xf32>, memref<8x1x1xf32>, memref<1x8x8x10xf32>)
      outs(%out : memref<1x8x8x10xf32>) {
  ^bb0(%in: i32, %sc: f32, %bi: f32, %res: f32, %o: f32):
    %f = arith.sitofp %in : i32 to f32
    %m = arith.mulf %f, %sc : f32
    %a = arith.addf %m, %bi : f32
    %t = arith.addf %a, %res : f32
    linalg.yield %t : f32
  }
  memref.dealloc %y : memref<1x8x8x10xi32>
  return %out : memref<1x8x8x10xf32>
}

// -----

// Left alone: the product read by two loops; a write to the
// convolution's input between the call and its reader (the convolution
// cannot move past it); a
// reader taking another operand at a map that is not a box (a 2x
// nearest upsample: d3 floordiv 2).
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-3: call @qc_rt_conv2d_nchw_i8_i32_constw_set(
// CHECK-NOT: qc_epilaunch
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#up = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 floordiv 2, d3 floordiv 2)>
memref.global "private" constant @w : memref<8x16x3x3xi8> = dense<1>
func.func private @qc_rt_conv2d_nchw_i8_i32_constw_set(memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xi32, strided<[?, ?, ?, ?], offset: ?>>, i64, i64, i64, i64) attributes {llvm.emit_c_interface}
func.func @kept(%x: memref<1x16x10x12xi8>, %o1: memref<1x8x8x10xf32>, %o2: memref<1x8x8x10xf32>,
                %small: memref<1x8x4x5xf32>) {
  %w = memref.get_global @w : memref<8x16x3x3xi8>
  %one = arith.constant 1 : i64
  %zero = arith.constant 0.0 : f32
  %cx = memref.cast %x : memref<1x16x10x12xi8> to memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>
  %cw = memref.cast %w : memref<8x16x3x3xi8> to memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>
  // Read twice.
  %y = memref.alloc() : memref<1x8x8x10xi32>
  %cy = memref.cast %y : memref<1x8x8x10xi32> to memref<?x?x?x?xi32, strided<[?, ?, ?, ?], offset: ?>>
  call @qc_rt_conv2d_nchw_i8_i32_constw_set(%cx, %cw, %cy, %one, %one, %one, %one) : (memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xi32, strided<[?, ?, ?, ?], offset: ?>>, i64, i64, i64, i64) -> ()
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y : memref<1x8x8x10xi32>) outs(%o1 : memref<1x8x8x10xf32>) {
  ^bb0(%in: i32, %o: f32):
    %f = arith.sitofp %in : i32 to f32
    linalg.yield %f : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y : memref<1x8x8x10xi32>) outs(%o2 : memref<1x8x8x10xf32>) {
  ^bb0(%in: i32, %o: f32):
    %f = arith.sitofp %in : i32 to f32
    linalg.yield %f : f32
  }
  memref.dealloc %y : memref<1x8x8x10xi32>
  // A write between.
  %y2 = memref.alloc() : memref<1x8x8x10xi32>
  %cy2 = memref.cast %y2 : memref<1x8x8x10xi32> to memref<?x?x?x?xi32, strided<[?, ?, ?, ?], offset: ?>>
  call @qc_rt_conv2d_nchw_i8_i32_constw_set(%cx, %cw, %cy2, %one, %one, %one, %one) : (memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xi32, strided<[?, ?, ?, ?], offset: ?>>, i64, i64, i64, i64) -> ()
  %zero8 = arith.constant 0 : i8
  linalg.fill ins(%zero8 : i8) outs(%x : memref<1x16x10x12xi8>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y2 : memref<1x8x8x10xi32>) outs(%o1 : memref<1x8x8x10xf32>) {
  ^bb0(%in: i32, %o: f32):
    %f = arith.sitofp %in : i32 to f32
    linalg.yield %f : f32
  }
  memref.dealloc %y2 : memref<1x8x8x10xi32>
  // An upsampled operand.
  %y3 = memref.alloc() : memref<1x8x8x10xi32>
  %cy3 = memref.cast %y3 : memref<1x8x8x10xi32> to memref<?x?x?x?xi32, strided<[?, ?, ?, ?], offset: ?>>
  call @qc_rt_conv2d_nchw_i8_i32_constw_set(%cx, %cw, %cy3, %one, %one, %one, %one) : (memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xi8, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xi32, strided<[?, ?, ?, ?], offset: ?>>, i64, i64, i64, i64) -> ()
  linalg.generic {indexing_maps = [#id, #up, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y3, %small : memref<1x8x8x10xi32>, memref<1x8x4x5xf32>) outs(%o1 : memref<1x8x8x10xf32>) {
  ^bb0(%in: i32, %u: f32, %o: f32):
    %f = arith.sitofp %in : i32 to f32
    %a = arith.addf %f, %u : f32
    linalg.yield %a : f32
  }
  memref.dealloc %y3 : memref<1x8x8x10xi32>
  return
}

// -----

// An int8 matrix product with a constant B whose product is read, through
// an expand_shape to [B, S, N] (a batched MatMul lowered to one 2-D
// call), by a loop with a per-column scale: the loop moves into
// @qc_epi_0, taken one segment of rows within one b at a time.
// CHECK-LABEL: func.func @matmul_batched
// CHECK-NOT: memref.alloc() {{.*}} : memref<80x72xi32>
// CHECK-NOT: memref.expand_shape
// CHECK-NOT: qc_rt_matmul_i8_i32_constb_set
// CHECK: call @qc_epilaunch_0({{(%[0-9]+, )+}}%c72_i64, %arg1, %arg2)
// CHECK-NOT: linalg.generic
// CHECK: return
// CHECK: func.func private @qc_epi_0(%{{.*}}: memref<?xi32>, %[[LD:.*]]: index, %[[M0:.*]]: index, %[[M1:.*]]: index, %[[N0:.*]]: index, %[[N1:.*]]: index, {{.*}}) attributes {qc.epilogue_body}
// CHECK: %[[NR:.*]] = arith.subi %[[N1]], %[[N0]]
// CHECK: scf.for %[[B:.*]] =
// CHECK: %[[SEG:.*]] = arith.muli %[[B]], %c40
// CHECK: %[[LO:.*]] = arith.maxsi %[[M0]], %[[SEG]]
// CHECK: %[[SLO:.*]] = arith.subi %[[LO]], %[[SEG]]
// CHECK: %[[TR:.*]] = arith.subi %[[LO]], %[[M0]]
// CHECK: %[[TOFF:.*]] = arith.muli %[[TR]], %[[LD]]
// CHECK: memref.reinterpret_cast %{{.*}} to offset: [%[[TOFF]]], sizes: [1, %{{.*}}, %[[NR]]], strides: [1, %[[LD]], 1]
// CHECK: memref.subview %{{.*}}[%[[N0]]] [%[[NR]]] [1] : memref<72xf32>
// CHECK: memref.subview %{{.*}}[%[[B]], %[[SLO]], %[[N0]]] [1, %{{.*}}, %[[NR]]] [1, 1, 1] : memref<2x40x72xf32>
// CHECK: linalg.generic
// CHECK: func.func private @qc_epilaunch_0({{.*}}) attributes {qc.epilogue_body_name = "qc_epi_0", qc.epilogue_entry = "qc_rt_matmul_i8_epilogue", qc.epilogue_kernel_args = 7 : i64}

// LLVM-LABEL: llvm.func @matmul_batched
// LLVM: llvm.mlir.addressof @qc_epi_0_tramp
// LLVM: llvm.call @qc_rt_matmul_i8_epilogue({{.*}}) : (i64, i64, i64, i64, i64, i64, i64, !llvm.ptr, !llvm.ptr) -> ()
// LLVM-NOT: qc_epilaunch
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#col = affine_map<(d0, d1, d2) -> (d2)>
memref.global "private" constant @b : memref<96x72xi8> = dense<1>
func.func private @qc_rt_matmul_i8_i32_constb_set(memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xi32, strided<[?, ?], offset: ?>>) attributes {llvm.emit_c_interface}
func.func @matmul_batched(%x: memref<80x96xi8>, %s: memref<72xf32>, %out: memref<2x40x72xf32>) {
  %w = memref.get_global @b : memref<96x72xi8>
  %y = memref.alloc() : memref<80x72xi32>
  %cx = memref.cast %x : memref<80x96xi8> to memref<?x?xi8, strided<[?, ?], offset: ?>>
  %cw = memref.cast %w : memref<96x72xi8> to memref<?x?xi8, strided<[?, ?], offset: ?>>
  %cy = memref.cast %y : memref<80x72xi32> to memref<?x?xi32, strided<[?, ?], offset: ?>>
  call @qc_rt_matmul_i8_i32_constb_set(%cx, %cw, %cy) : (memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xi32, strided<[?, ?], offset: ?>>) -> ()
  %e = memref.expand_shape %y [[0, 1], [2]] output_shape [2, 40, 72] : memref<80x72xi32> into memref<2x40x72xi32>
  linalg.generic {indexing_maps = [#id3, #col, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%e, %s : memref<2x40x72xi32>, memref<72xf32>) outs(%out : memref<2x40x72xf32>) {
  ^bb0(%in: i32, %sc: f32, %o: f32):
    %f = arith.sitofp %in : i32 to f32
    %m = arith.mulf %f, %sc : f32
    linalg.yield %m : f32
  }
  memref.dealloc %y : memref<80x72xi32>
  return
}

// -----

// Left alone: the product is read through an expand_shape that splits its
// columns (element (m, n) is not the loop's (d0, d1, d2) at m = d0 S + d1).
// CHECK-LABEL: func.func @matmul_split_columns
// CHECK: call @qc_rt_matmul_i8_i32_constb_set
// CHECK: linalg.generic
// CHECK-NOT: qc_epilaunch
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
memref.global "private" constant @b : memref<96x72xi8> = dense<1>
func.func private @qc_rt_matmul_i8_i32_constb_set(memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xi32, strided<[?, ?], offset: ?>>) attributes {llvm.emit_c_interface}
func.func @matmul_split_columns(%x: memref<80x96xi8>, %out: memref<80x8x9xf32>) {
  %w = memref.get_global @b : memref<96x72xi8>
  %y = memref.alloc() : memref<80x72xi32>
  %cx = memref.cast %x : memref<80x96xi8> to memref<?x?xi8, strided<[?, ?], offset: ?>>
  %cw = memref.cast %w : memref<96x72xi8> to memref<?x?xi8, strided<[?, ?], offset: ?>>
  %cy = memref.cast %y : memref<80x72xi32> to memref<?x?xi32, strided<[?, ?], offset: ?>>
  call @qc_rt_matmul_i8_i32_constb_set(%cx, %cw, %cy) : (memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xi32, strided<[?, ?], offset: ?>>) -> ()
  %e = memref.expand_shape %y [[0], [1, 2]] output_shape [80, 8, 9] : memref<80x72xi32> into memref<80x8x9xi32>
  linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%e : memref<80x8x9xi32>) outs(%out : memref<80x8x9xf32>) {
  ^bb0(%in: i32, %o: f32):
    %f = arith.sitofp %in : i32 to f32
    linalg.yield %f : f32
  }
  memref.dealloc %y : memref<80x72xi32>
  return
}

// -----

// Left alone: the loop writes its output over the product's input x (the
// kernel still reads x for the blocks after the first epilogue).
// CHECK-LABEL: func.func @matmul_writes_input
// CHECK: call @qc_rt_matmul_i8_i32_constb_set
// CHECK: linalg.generic
// CHECK-NOT: qc_epilaunch
#id2 = affine_map<(d0, d1) -> (d0, d1)>
memref.global "private" constant @b2 : memref<72x72xi8> = dense<1>
func.func private @qc_rt_matmul_i8_i32_constb_set(memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xi32, strided<[?, ?], offset: ?>>) attributes {llvm.emit_c_interface}
func.func @matmul_writes_input(%x: memref<80x72xi8>) {
  %w = memref.get_global @b2 : memref<72x72xi8>
  %y = memref.alloc() : memref<80x72xi32>
  %cx = memref.cast %x : memref<80x72xi8> to memref<?x?xi8, strided<[?, ?], offset: ?>>
  %cw = memref.cast %w : memref<72x72xi8> to memref<?x?xi8, strided<[?, ?], offset: ?>>
  %cy = memref.cast %y : memref<80x72xi32> to memref<?x?xi32, strided<[?, ?], offset: ?>>
  call @qc_rt_matmul_i8_i32_constb_set(%cx, %cw, %cy) : (memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xi32, strided<[?, ?], offset: ?>>) -> ()
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%y : memref<80x72xi32>) outs(%x : memref<80x72xi8>) {
  ^bb0(%in: i32, %o: i8):
    %t = arith.trunci %in : i32 to i8
    linalg.yield %t : i8
  }
  memref.dealloc %y : memref<80x72xi32>
  return
}
