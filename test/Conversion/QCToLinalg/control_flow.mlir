// RUN: quant-opt %s --pass-pipeline="builtin.module(func.func(qc-to-linalg))" | FileCheck %s

// qc.if becomes scf.if on the condition's one element; a branch whose type
// is more precise than the result's yields through a tensor.cast.
// CHECK-LABEL: func.func @select
// CHECK: %[[C:.*]] = tensor.extract %arg0[%{{.*}}] : tensor<1xi1>
// CHECK: %[[R:.*]] = scf.if %[[C]] -> (tensor<2x?xf32>) {
// CHECK:   linalg.generic
// CHECK:   %[[CAST:.*]] = tensor.cast %{{.*}} : tensor<2x3xf32> to tensor<2x?xf32>
// CHECK:   scf.yield %[[CAST]]
// CHECK: } else {
// CHECK:   scf.yield %{{.*}} : tensor<2x?xf32>
// CHECK: return %[[R]]
func.func @select(%c: tensor<1xi1>, %x: tensor<2x3xf32>, %y: tensor<2x?xf32>) -> tensor<2x?xf32> {
  %r = qc.if %c : tensor<1xi1> -> (tensor<2x?xf32>) then {
    %a = qc.relu %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
    qc.yield %a : tensor<2x3xf32>
  } else {
    qc.yield %y : tensor<2x?xf32>
  }
  return %r : tensor<2x?xf32>
}
