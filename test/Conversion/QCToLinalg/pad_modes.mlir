// RUN: quant-opt %s --pass-pipeline="builtin.module(func.func(qc-to-linalg))" --split-input-file -verify-diagnostics | FileCheck %s

// reflect: i = o - 2; i < 0 -> -i; i >= 4 -> 2*3 - i; then a gather.
// CHECK-LABEL: func.func @reflect
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x8xf32>)
// CHECK: %[[I:.*]] = linalg.index 1
// CHECK: arith.subi %[[I]], %c2
// CHECK: arith.cmpi slt
// CHECK: arith.subi %c6
// CHECK: arith.cmpi sge
// CHECK: tensor.extract %arg0
func.func @reflect(%x: tensor<1x4xf32>) -> tensor<1x8xf32> {
  %p = qc.constant dense<[0, 2, 0, 2]> : tensor<4xi64>
  %n = qc.none
  %y = qc.pad %x, %p, %n, %n {mode = "reflect"} : (tensor<1x4xf32>, tensor<4xi64>, none, none) -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// CHECK-LABEL: func.func @edge
// CHECK: arith.maxsi
// CHECK: arith.minsi
func.func @edge(%x: tensor<3xf32>) -> tensor<5xf32> {
  %p = qc.constant dense<[1, 1]> : tensor<2xi64>
  %n = qc.none
  %y = qc.pad %x, %p, %n, %n {mode = "edge"} : (tensor<3xf32>, tensor<2xi64>, none, none) -> tensor<5xf32>
  return %y : tensor<5xf32>
}

// -----

// Reflecting needs pads smaller than the axis.
func.func @reflect_too_far(%x: tensor<2xf32>) -> tensor<6xf32> {
  %p = qc.constant dense<[2, 2]> : tensor<2xi64>
  %n = qc.none
  // expected-error @+2 {{reflect pads must be smaller than the axis (axis 0 has 2)}}
  // expected-error @+1 {{failed to legalize operation 'qc.pad'}}
  %y = qc.pad %x, %p, %n, %n {mode = "reflect"} : (tensor<2xf32>, tensor<2xi64>, none, none) -> tensor<6xf32>
  return %y : tensor<6xf32>
}
