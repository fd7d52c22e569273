// RUN: quant-opt %s --quantc-cpu-canonical-globals | FileCheck %s
// The same constants created in the other order (names swapped, the
// duplicate first) give the same module: names and order come from the
// contents alone.
// RUN: quant-opt %s --quantc-cpu-canonical-globals > %t.a.mlir
// RUN: quant-opt %S/Inputs/canonical_globals_swapped.mlir --quantc-cpu-canonical-globals > %t.b.mlir
// RUN: diff %t.a.mlir %t.b.mlir

// Three constants, two of them equal: two globals remain, named by type
// and content hash, sorted, at the start of the module; every
// get_global reads the renamed one; the mutable global and the public
// one keep their names and places.
// CHECK: memref.global "private" constant @__constant_4xf32_[[A:[0-9a-f]+]] : memref<4xf32> = dense<
// CHECK-NEXT: memref.global "private" constant @__constant_4xf32_[[B:[0-9a-f]+]] : memref<4xf32> = dense<
// CHECK-NOT: memref.global "private" constant @__constant
// CHECK: memref.global "private" @scratch
// CHECK: memref.global constant @public_table
// CHECK-LABEL: func.func @f
// CHECK-NEXT: memref.get_global @[[ONE:__constant_4xf32_[0-9a-f]+]]
// CHECK-NEXT: memref.get_global @[[FIVE:__constant_4xf32_[0-9a-f]+]]
// CHECK-NEXT: memref.get_global @[[ONE]]
// CHECK-NEXT: memref.get_global @scratch
// CHECK-NOT: @__constant_4xf32_0
// CHECK-NOT: @dup
module {
  memref.global "private" constant @__constant_4xf32 : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]> {alignment = 64 : i64}
  memref.global "private" @scratch : memref<4xf32> = uninitialized
  memref.global "private" constant @__constant_4xf32_0 : memref<4xf32> = dense<[5.0, 6.0, 7.0, 8.0]> {alignment = 64 : i64}
  memref.global constant @public_table : memref<2xi32> = dense<[1, 2]>
  memref.global "private" constant @dup : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]> {alignment = 64 : i64}
  func.func @f() -> (memref<4xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>) {
    %0 = memref.get_global @__constant_4xf32 : memref<4xf32>
    %1 = memref.get_global @__constant_4xf32_0 : memref<4xf32>
    %2 = memref.get_global @dup : memref<4xf32>
    %3 = memref.get_global @scratch : memref<4xf32>
    return %0, %1, %2, %3 : memref<4xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>
  }
}
