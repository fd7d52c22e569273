// RUN: quant-opt %s --split-input-file --quantc-cpu-results-to-out-params | FileCheck %s

// @main returns a callee's result: upstream hoists the callee's buffer
// into @main as an allocation and copies it into the out-parameter; the
// clean-up makes the callee write the out-parameter itself.
// CHECK-LABEL: func.func @main(%arg0: memref<4xf32>, %arg1: memref<4xf32>)
// CHECK-NOT: memref.alloc
// CHECK: call @callee(%arg0, %arg1)
// CHECK-NOT: memref.copy
// CHECK: return
func.func private @callee(%x: memref<4xf32>) -> memref<4xf32> {
  %a = memref.alloc() : memref<4xf32>
  memref.copy %x, %a : memref<4xf32> to memref<4xf32>
  return %a : memref<4xf32>
}
func.func @main(%x: memref<4xf32>) -> memref<4xf32> {
  %r = call @callee(%x) : (memref<4xf32>) -> memref<4xf32>
  return %r : memref<4xf32>
}

// -----

// The result is a view of a buffer (a 2-D product returned as [1, 2, 3]):
// the buffer becomes the out-parameter's collapse, the copy goes.
// CHECK-LABEL: func.func @view(%arg0: memref<2x3xf32>, %arg1: memref<1x2x3xf32>)
// CHECK: %[[V:.*]] = memref.collapse_shape %arg1 {{\[}}[0, 1], [2]] : memref<1x2x3xf32> into memref<2x3xf32>
// CHECK: memref.copy %arg0, %[[V]]
// CHECK-NOT: memref.copy
// CHECK: return
func.func @view(%x: memref<2x3xf32>) -> memref<1x2x3xf32> {
  %a = memref.alloc() : memref<2x3xf32>
  memref.copy %x, %a : memref<2x3xf32> to memref<2x3xf32>
  %e = memref.expand_shape %a [[0, 1], [2]] output_shape [1, 2, 3] : memref<2x3xf32> into memref<1x2x3xf32>
  return %e : memref<1x2x3xf32>
}

// -----

// One buffer returned twice: it becomes the second out-parameter (the
// last copy), and the first out-parameter is still copied from it.
// CHECK-LABEL: func.func @twice(%arg0: memref<4xf32>, %arg1: memref<4xf32>, %arg2: memref<4xf32>)
// CHECK-NOT: memref.alloc
// CHECK: call @callee2(%arg0, %arg2)
// CHECK: memref.copy %arg2, %arg1
// CHECK-NEXT: return
func.func private @callee2(%x: memref<4xf32>) -> memref<4xf32> {
  %a = memref.alloc() : memref<4xf32>
  memref.copy %x, %a : memref<4xf32> to memref<4xf32>
  return %a : memref<4xf32>
}
func.func @twice(%x: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>) {
  %r = call @callee2(%x) : (memref<4xf32>) -> memref<4xf32>
  return %r, %r : memref<4xf32>, memref<4xf32>
}
