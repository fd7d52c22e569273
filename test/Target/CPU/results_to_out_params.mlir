// RUN: quant-opt %s --quantc-cpu-results-to-out-params | FileCheck %s

// A function whose results are all static gets them as out-parameters
// (upstream's buffer-results-to-out-params, static allocs hoisted); one
// with a dynamically shaped result keeps returning its buffers, since no
// caller could allocate them, and its call stays as it was.
// CHECK-LABEL: func.func private @static_result(%{{.*}}: memref<4xf32>, %{{.*}}: memref<4xf32>)
// CHECK-NOT: memref.alloc
// CHECK-LABEL: func.func private @dynamic_result(%{{.*}}: memref<?xf32>) -> memref<?xf32>
// CHECK: memref.alloc
// CHECK: return %{{.*}} : memref<?xf32>
// CHECK-LABEL: func.func @main
// CHECK: call @static_result(%{{.*}}, %{{.*}}) : (memref<4xf32>, memref<4xf32>) -> ()
// CHECK: call @dynamic_result(%{{.*}}) : (memref<?xf32>) -> memref<?xf32>
func.func private @static_result(%x: memref<4xf32>) -> memref<4xf32> {
  %a = memref.alloc() : memref<4xf32>
  memref.copy %x, %a : memref<4xf32> to memref<4xf32>
  return %a : memref<4xf32>
}
func.func private @dynamic_result(%x: memref<?xf32>) -> memref<?xf32> {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?xf32>
  %a = memref.alloc(%n) : memref<?xf32>
  memref.copy %x, %a : memref<?xf32> to memref<?xf32>
  return %a : memref<?xf32>
}
func.func @main(%x: memref<4xf32>, %y: memref<?xf32>) -> memref<?xf32> {
  %s = call @static_result(%x) : (memref<4xf32>) -> memref<4xf32>
  %d = call @dynamic_result(%y) : (memref<?xf32>) -> memref<?xf32>
  return %d : memref<?xf32>
}
