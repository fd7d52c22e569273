// RUN: quant-opt %s --pass-pipeline="builtin.module(func.func(qc-to-linalg,quantc-cpu-fuse-elementwise,canonicalize))" | FileCheck %s

// add -> relu -> mul: one loop nest; the matmul stays a named op (the
// reshape around it is not propagated through it).
// CHECK-LABEL: func.func @chain
// CHECK: linalg.matmul
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel"]
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @chain(%a: tensor<1x4x8xf32>, %b: tensor<8x6xf32>, %c: tensor<6xf32>) -> tensor<1x4x6xf32> {
  %m = qc.matmul %a, %b : (tensor<1x4x8xf32>, tensor<8x6xf32>) -> tensor<1x4x6xf32>
  %s = qc.add %m, %c : (tensor<1x4x6xf32>, tensor<6xf32>) -> tensor<1x4x6xf32>
  %r = qc.relu %s : (tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  %y = qc.mul %r, %m : (tensor<1x4x6xf32>, tensor<1x4x6xf32>) -> tensor<1x4x6xf32>
  return %y : tensor<1x4x6xf32>
}

// A producer with two users is not fused (it would be computed twice).
// CHECK-LABEL: func.func @shared
// CHECK: arith.negf
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK: arith.mulf
func.func @shared(%x: tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
  %n = qc.neg %x : (tensor<16xf32>) -> tensor<16xf32>
  %a = qc.add %n, %x : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %m = qc.mul %n, %x : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  return %a, %m : tensor<16xf32>, tensor<16xf32>
}
