// RUN: quant-opt %s --canonicalize --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @identity
// CHECK-NEXT: return %arg0
func.func @identity(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = qc.identity %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Two transposes compose into one; an identity permutation disappears.
// CHECK-LABEL: func.func @transpose_chain
// CHECK: %[[T:.*]] = qc.transpose %arg0 {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
// CHECK-NEXT: return %[[T]], %arg0
func.func @transpose_chain(%x: tensor<2x3x4xf32>) -> (tensor<4x2x3xf32>, tensor<2x3x4xf32>) {
  %0 = qc.transpose %x {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %1 = qc.transpose %0 {perm = array<i64: 1, 2, 0>} : (tensor<3x4x2xf32>) -> tensor<4x2x3xf32>
  %2 = qc.transpose %1 {perm = array<i64: 1, 2, 0>} : (tensor<4x2x3xf32>) -> tensor<2x3x4xf32>
  return %1, %2 : tensor<4x2x3xf32>, tensor<2x3x4xf32>
}

// -----

// reshape(reshape(x)) reads x directly; a reshape to the same static type
// folds away.
// CHECK-LABEL: func.func @reshape_chain
// CHECK: %[[S:.*]] = qc.constant dense<[4, 6]> : tensor<2xi64>
// CHECK: %[[R:.*]] = qc.reshape %arg0, %[[S]] : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
// CHECK-NEXT: return %[[R]], %arg0
func.func @reshape_chain(%x: tensor<2x3x4xf32>) -> (tensor<4x6xf32>, tensor<2x3x4xf32>) {
  %s1 = qc.constant dense<[6, 4]> : tensor<2xi64>
  %s2 = qc.constant dense<[4, 6]> : tensor<2xi64>
  %s3 = qc.constant dense<[2, 3, 4]> : tensor<3xi64>
  %0 = qc.reshape %x, %s1 : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %1 = qc.reshape %0, %s2 : (tensor<6x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  %2 = qc.reshape %x, %s3 : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  return %1, %2 : tensor<4x6xf32>, tensor<2x3x4xf32>
}

// -----

// A reshape whose target holds a 0 copies a dim from its input, so it must
// not be rewired past the inner reshape.
// CHECK-LABEL: func.func @reshape_chain_with_zero
// CHECK: %[[A:.*]] = qc.reshape %arg0
// CHECK: qc.reshape %[[A]]
func.func @reshape_chain_with_zero(%x: tensor<2x3x4xf32>) -> tensor<6x2x2xf32> {
  %s1 = qc.constant dense<[6, 4]> : tensor<2xi64>
  %s2 = qc.constant dense<[0, 2, -1]> : tensor<3xi64>
  %0 = qc.reshape %x, %s1 : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %1 = qc.reshape %0, %s2 : (tensor<6x4xf32>, tensor<3xi64>) -> tensor<6x2x2xf32>
  return %1 : tensor<6x2x2xf32>
}

// -----

// The exporter pattern Shape -> Gather -> Unsqueeze -> Concat folds to a
// constant shape when the input's dims are static.
// CHECK-LABEL: func.func @shape_arithmetic
// CHECK-DAG: %[[C:.*]] = qc.constant dense<[2, 12]> : tensor<2xi64>
// CHECK: %[[R:.*]] = qc.reshape %arg0, %[[C]]
// CHECK-NEXT: return %[[R]]
func.func @shape_arithmetic(%x: tensor<2x3x4xf32>) -> tensor<2x12xf32> {
  %shape = qc.shape %x : (tensor<2x3x4xf32>) -> tensor<3xi64>
  %i0 = qc.constant dense<0> : tensor<i64>
  %d0 = qc.gather %shape, %i0 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %ax = qc.constant dense<0> : tensor<1xi64>
  %u0 = qc.unsqueeze %d0, %ax : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %st = qc.constant dense<1> : tensor<1xi64>
  %en = qc.constant dense<3> : tensor<1xi64>
  %n = qc.none
  %rest = qc.slice %shape, %st, %en, %n, %n : (tensor<3xi64>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<2xi64>
  %one = qc.constant dense<1> : tensor<2xi64>
  %m = qc.mul %rest, %one : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %i1 = qc.constant dense<0> : tensor<1xi64>
  %p0 = qc.gather %m, %i1 : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  %i2 = qc.constant dense<1> : tensor<1xi64>
  %p1 = qc.gather %m, %i2 : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  %prod = qc.mul %p0, %p1 : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %target = qc.concat %u0, %prod {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %r = qc.reshape %x, %target : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x12xf32>
  return %r : tensor<2x12xf32>
}

// -----

// Integer arithmetic on constants folds, with truncating division; a
// division by zero is left alone.
// CHECK-LABEL: func.func @int_folds
// CHECK-DAG: qc.constant dense<[3, -2]> : tensor<2xi64>
// CHECK-DAG: qc.constant dense<[-1, 10]> : tensor<2xi64>
// CHECK: qc.div
func.func @int_folds() -> (tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) {
  %a = qc.constant dense<[7, -5]> : tensor<2xi64>
  %b = qc.constant dense<2> : tensor<i64>
  %z = qc.constant dense<0> : tensor<i64>
  %q = qc.div %a, %b : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  %s = qc.sub %q, %b : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  %c = qc.constant dense<[-3, 8]> : tensor<2xi64>
  %t = qc.add %c, %b : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  %d = qc.div %a, %z : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  return %q, %t, %d : tensor<2xi64>, tensor<2xi64>, tensor<2xi64>
}

// -----

// Shape of a dynamic dim does not fold.
// CHECK-LABEL: func.func @shape_dynamic
// CHECK: qc.shape %arg0
func.func @shape_dynamic(%x: tensor<?x3xf32>) -> tensor<2xi64> {
  %0 = qc.shape %x : (tensor<?x3xf32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// Cast of an integer constant folds; ConstantOfShape with a static result
// becomes a splat.
// CHECK-LABEL: func.func @cast_and_fill
// CHECK-DAG: qc.constant dense<[1.000000e+00, 4.000000e+00]> : tensor<2xf32>
// CHECK-DAG: qc.constant dense<0.000000e+00> : tensor<2x2xf32>
func.func @cast_and_fill() -> (tensor<2xf32>, tensor<2x2xf32>) {
  %a = qc.constant dense<[1, 4]> : tensor<2xi64>
  %f = qc.cast %a {to = f32} : (tensor<2xi64>) -> tensor<2xf32>
  %s = qc.constant dense<2> : tensor<2xi64>
  %z = qc.constant_of_shape %s : (tensor<2xi64>) -> tensor<2x2xf32>
  return %f, %z : tensor<2xf32>, tensor<2x2xf32>
}

// -----

// Range with constant operands folds: ints (a negative step: ceil(-5 / -2)
// = 3 values) and floats (start + i * delta).
// CHECK-LABEL: func.func @range_fold
// CHECK-DAG: qc.constant dense<[5, 3, 1]> : tensor<3xi64>
// CHECK-DAG: qc.constant dense<[5.000000e-01, 1.000000e+00, 1.500000e+00]> : tensor<3xf32>
func.func @range_fold() -> (tensor<3xi64>, tensor<3xf32>) {
  %s = qc.constant dense<5> : tensor<i64>
  %l = qc.constant dense<0> : tensor<i64>
  %d = qc.constant dense<-2> : tensor<i64>
  %r = qc.range %s, %l, %d : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<3xi64>
  %fs = qc.constant dense<0.5> : tensor<f32>
  %fl = qc.constant dense<2.0> : tensor<f32>
  %fd = qc.constant dense<0.5> : tensor<f32>
  %f = qc.range %fs, %fl, %fd : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<3xf32>
  return %r, %f : tensor<3xi64>, tensor<3xf32>
}
