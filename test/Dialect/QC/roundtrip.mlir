// RUN: quant-opt %s | quant-opt | FileCheck %s
// Printing and parsing qc ops gives back the same IR.

// CHECK-LABEL: func.func @graph
func.func @graph(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x8x8xf32> {
  // CHECK: %[[N:.*]] = qc.none
  %n = qc.none
  // CHECK: qc.conv %arg0, %arg1, %arg2 {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  %c = qc.conv %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  // CHECK: qc.clip %{{.*}}, %[[N]], %[[N]] : (tensor<1x4x8x8xf32>, none, none) -> tensor<1x4x8x8xf32>
  %r = qc.clip %c, %n, %n : (tensor<1x4x8x8xf32>, none, none) -> tensor<1x4x8x8xf32>
  // CHECK: qc.hard_sigmoid %{{.*}} {alpha = 0.166666672 : f32}
  %h = qc.hard_sigmoid %r {alpha = 0.166666672 : f32} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %h : tensor<1x4x8x8xf32>
}

// CHECK-LABEL: func.func @multi_result
func.func @multi_result(%x: tensor<2x8xf32>, %s: tensor<2xi64>) -> (tensor<2x3xf32>, tensor<2x5xf32>, tensor<*xi64>) {
  // CHECK: %{{.*}}:2 = qc.split %arg0, %arg1 {axis = 1 : i64} : (tensor<2x8xf32>, tensor<2xi64>) -> (tensor<2x3xf32>, tensor<2x5xf32>)
  %a:2 = qc.split %x, %s {axis = 1 : i64} : (tensor<2x8xf32>, tensor<2xi64>) -> (tensor<2x3xf32>, tensor<2x5xf32>)
  // CHECK: qc.arg_max %arg0 {axis = 1 : i64} : (tensor<2x8xf32>) -> tensor<*xi64>
  %m = qc.arg_max %x {axis = 1 : i64} : (tensor<2x8xf32>) -> tensor<*xi64>
  return %a#0, %a#1, %m : tensor<2x3xf32>, tensor<2x5xf32>, tensor<*xi64>
}

// CHECK-LABEL: func.func @cast
func.func @cast(%x: tensor<?xf32>) -> tensor<?xi64> {
  // CHECK: qc.cast %arg0 {to = i64} : (tensor<?xf32>) -> tensor<?xi64>
  %0 = qc.cast %x {to = i64} : (tensor<?xf32>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}
