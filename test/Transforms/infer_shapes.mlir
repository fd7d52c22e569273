// RUN: quant-opt %s --qc-infer-shapes --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @conv_pool(%arg0: tensor<1x3x32x32xf32>, %arg1: tensor<8x3x3x3xf32>, %arg2: tensor<8x8x3x3xf32>) -> tensor<1x8x1x1xf32>
func.func @conv_pool(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x3x3xf32>, %w2: tensor<8x8x3x3xf32>) -> tensor<*xf32> {
  %n = qc.none
  // CHECK: qc.conv {{.*}} -> tensor<1x8x16x16xf32>
  %c = qc.conv %x, %w, %n {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x3x32x32xf32>, tensor<8x3x3x3xf32>, none) -> tensor<*xf32>
  // CHECK: qc.relu {{.*}} -> tensor<1x8x16x16xf32>
  %r = qc.relu %c : (tensor<*xf32>) -> tensor<*xf32>
  // floor((16 - 3) / 2) + 1 = 7; with ceil_mode ceil(13 / 2) + 1 = 8
  // CHECK: qc.max_pool {{.*}} -> (tensor<1x8x7x7xf32>, tensor<1x8x7x7xi64>)
  %p:2 = qc.max_pool %r {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<*xf32>) -> (tensor<*xf32>, tensor<*xi64>)
  // CHECK: qc.average_pool {{.*}} -> tensor<1x8x8x8xf32>
  %a = qc.average_pool %r {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, ceil_mode = 1 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  // CHECK: qc.conv {{.*}} {auto_pad = "SAME_UPPER"{{.*}} -> tensor<1x8x4x4xf32>
  %s = qc.conv %a, %w2, %n {auto_pad = "SAME_UPPER", strides = array<i64: 2, 2>} : (tensor<*xf32>, tensor<8x8x3x3xf32>, none) -> tensor<*xf32>
  // CHECK: qc.global_average_pool {{.*}} -> tensor<1x8x1x1xf32>
  %g = qc.global_average_pool %s : (tensor<*xf32>) -> tensor<*xf32>
  return %g : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @conv_transpose
func.func @conv_transpose(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<*xf32> {
  %n = qc.none
  // 2 * (5 - 1) + 1 + (3 - 1) + 1 - 1 - 1 = 10
  // CHECK: qc.conv_transpose {{.*}} -> tensor<1x2x10x10xf32>
  %c = qc.conv_transpose %x, %w, %n {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, output_padding = array<i64: 1, 1>} : (tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>, none) -> tensor<*xf32>
  return %c : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @broadcast_matmul
func.func @broadcast_matmul(%a: tensor<?x1x4x8xf32>, %b: tensor<3x8x5xf32>, %v: tensor<8xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // CHECK: qc.matmul {{.*}} -> tensor<?x3x4x5xf32>
  %m = qc.matmul %a, %b : (tensor<?x1x4x8xf32>, tensor<3x8x5xf32>) -> tensor<*xf32>
  // CHECK: qc.matmul {{.*}} -> tensor<?x1x4xf32>
  %mv = qc.matmul %a, %v : (tensor<?x1x4x8xf32>, tensor<8xf32>) -> tensor<*xf32>
  // CHECK: qc.add {{.*}} -> tensor<?x1x4x8xf32>
  %s = qc.add %a, %v : (tensor<?x1x4x8xf32>, tensor<8xf32>) -> tensor<*xf32>
  return %m, %mv, %s : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @shape_ops
func.func @shape_ops(%x: tensor<2x3x4xf32>, %s: tensor<2xi64>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %n = qc.none
  %target = qc.constant dense<[0, -1]> : tensor<2xi64>
  // CHECK: qc.reshape {{.*}} -> tensor<2x12xf32>
  %r = qc.reshape %x, %target : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<*xf32>
  // A computed target of length 2 fixes the rank only.
  // CHECK: qc.reshape {{.*}} -> tensor<?x?xf32>
  %r2 = qc.reshape %x, %s : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<*xf32>
  // CHECK: qc.transpose {{.*}} -> tensor<4x2x3xf32>
  %t = qc.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<*xf32>
  %axes = qc.constant dense<[0, 3]> : tensor<2xi64>
  // CHECK: qc.unsqueeze {{.*}} -> tensor<1x2x3x1x4xf32>
  %u = qc.unsqueeze %x, %axes : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<*xf32>
  %ax1 = qc.constant dense<1> : tensor<1xi64>
  // CHECK: qc.reduce_mean {{.*}} -> tensor<2x1x4xf32>
  %m = qc.reduce_mean %x, %ax1 : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<*xf32>
  %st = qc.constant dense<[1, -3]> : tensor<2xi64>
  %en = qc.constant dense<[100, -1]> : tensor<2xi64>
  %sa = qc.constant dense<[2, 1]> : tensor<2xi64>
  // CHECK: qc.slice {{.*}} -> tensor<2x2x3xf32>
  %sl = qc.slice %x, %st, %en, %sa, %n : (tensor<2x3x4xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, none) -> tensor<*xf32>
  // CHECK: qc.concat {{.*}} -> tensor<2x6x4xf32>
  %c = qc.concat %x, %x {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<*xf32>
  return %r, %r2, %t, %u, %m, %sl, %c : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @gather_flatten_split
// The shape of a static tensor folds to a constant as the walk goes (and the
// folder hoists it to the top of the body).
// CHECK: qc.constant dense<[5, 4, 6]> : tensor<3xi64>
func.func @gather_flatten_split(%x: tensor<5x4x6xf32>, %i: tensor<2x3xi64>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xi64>) {
  // CHECK: qc.gather {{.*}} -> tensor<5x2x3x6xf32>
  %g = qc.gather %x, %i {axis = 1 : i64} : (tensor<5x4x6xf32>, tensor<2x3xi64>) -> tensor<*xf32>
  // CHECK: qc.flatten {{.*}} -> tensor<20x6xf32>
  %f = qc.flatten %x {axis = 2 : i64} : (tensor<5x4x6xf32>) -> tensor<*xf32>
  %n = qc.none
  // Without split sizes the axis is divided evenly between the outputs.
  // CHECK: qc.split {{.*}} -> (tensor<5x4x3xf32>, tensor<5x4x3xf32>)
  %s:2 = qc.split %x, %n {axis = 2 : i64} : (tensor<5x4x6xf32>, none) -> (tensor<*xf32>, tensor<*xf32>)
  // CHECK-NOT: qc.shape
  %sh = qc.shape %x : (tensor<5x4x6xf32>) -> tensor<*xi64>
  return %g, %f, %s#0, %s#1, %sh : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xi64>
}

// -----

// Positions the way exporters write them: Shape -> Gather -> Range. The
// sequence length comes from the input's static dims, the Range's length
// from its (folded) operands: max(ceil((limit - start) / delta), 0), and
// then the Range itself folds.
// CHECK-LABEL: func.func @positions(%arg0: tensor<2x7xi64>) -> (tensor<7xi64>, tensor<0xi64>)
// CHECK-DAG: qc.constant dense<> : tensor<0xi64>
// CHECK-DAG: qc.constant dense<[0, 1, 2, 3, 4, 5, 6]> : tensor<7xi64>
// CHECK-NOT: qc.range
func.func @positions(%ids: tensor<2x7xi64>) -> (tensor<*xi64>, tensor<*xi64>) {
  %shape = qc.shape %ids : (tensor<2x7xi64>) -> tensor<*xi64>
  %one = qc.constant dense<1> : tensor<i64>
  %zero = qc.constant dense<0> : tensor<i64>
  %seq = qc.gather %shape, %one {axis = 0 : i64} : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64>
  %pos = qc.range %zero, %seq, %one : (tensor<i64>, tensor<*xi64>, tensor<i64>) -> tensor<*xi64>
  %empty = qc.range %seq, %zero, %one : (tensor<*xi64>, tensor<i64>, tensor<i64>) -> tensor<*xi64>
  return %pos, %empty : tensor<*xi64>, tensor<*xi64>
}

// -----

// A Reshape target computed from Shape the way exporters write it (batch
// and length read at run time, then the heads): with a symbolic length the
// target is known but for that element, so the result keeps its static dims
// ([1, ?, 2, 4], not [?, ?, ?, ?]). Expand to a partly known shape keeps
// the input's dims where the target's are unknown.
// CHECK-LABEL: func.func @partial_target
// CHECK: qc.reshape {{.*}} -> tensor<1x?x2x4xf32>
// CHECK: qc.expand {{.*}} -> tensor<1x3x?x8xf32>
func.func @partial_target(%x: tensor<1x?x8xf32>, %k: tensor<1x1x?x8xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %shape = qc.shape %x : (tensor<1x?x8xf32>) -> tensor<3xi64>
  %i0 = qc.constant dense<0> : tensor<i64>
  %i1 = qc.constant dense<1> : tensor<i64>
  %b = qc.gather %shape, %i0 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %s = qc.gather %shape, %i1 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %ax = qc.constant dense<[0]> : tensor<1xi64>
  %b1 = qc.unsqueeze %b, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %s1 = qc.unsqueeze %s, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %heads = qc.constant dense<[2, 4]> : tensor<2xi64>
  %target = qc.concat %b1, %s1, %heads {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<2xi64>) -> tensor<4xi64>
  %y = qc.reshape %x, %target : (tensor<1x?x8xf32>, tensor<4xi64>) -> tensor<*xf32>
  %four = qc.constant dense<[1, 3, 1, 8]> : tensor<4xi64>
  %e = qc.expand %k, %four : (tensor<1x1x?x8xf32>, tensor<4xi64>) -> tensor<*xf32>
  return %y, %e : tensor<*xf32>, tensor<*xf32>
}
