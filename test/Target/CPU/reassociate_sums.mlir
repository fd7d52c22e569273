// RUN: quant-opt %s --pass-pipeline="builtin.module(func.func(quantc-cpu-reassociate-sums))" | FileCheck %s

#in = affine_map<(d0, d1) -> (d0, d1)>
#out = affine_map<(d0, d1) -> (d0)>

// The add onto the accumulator of a sum reduction (either operand order)
// gets reassoc; the add before it (not on the accumulator) does not.
// CHECK-LABEL: func.func @sums
// CHECK: arith.addf %{{.*}}, %cst : f32
// CHECK-NOT: fastmath
// CHECK: arith.addf %out, %{{.*}} fastmath<reassoc> : f32
// CHECK: arith.addf %{{.*}}, %out fastmath<reassoc> : f32
func.func @sums(%x: memref<8x16xf32>, %s: memref<8xf32>, %t: memref<8xf32>) {
  %c = arith.constant 1.0 : f32
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x16xf32>) outs(%s : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %c : f32
    %r = arith.addf %out, %a : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x16xf32>) outs(%t : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %out : f32
    linalg.yield %r : f32
  }
  return
}

// A parallel op's add, a product reduction and a max reduction: unchanged.
// CHECK-LABEL: func.func @others
// CHECK-NOT: fastmath
// CHECK: return
func.func @others(%x: memref<8x16xf32>, %y: memref<8x16xf32>, %p: memref<8xf32>, %m: memref<8xf32>) {
  linalg.generic {indexing_maps = [#in, #in], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<8x16xf32>) outs(%y : memref<8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %out : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x16xf32>) outs(%p : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.mulf %in, %out : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x16xf32>) outs(%m : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %out : f32
    linalg.yield %r : f32
  }
  return
}
