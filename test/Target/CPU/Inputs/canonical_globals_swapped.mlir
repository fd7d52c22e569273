// canonical_globals.mlir's module with its constants created in another
// order and under other names.
module {
  memref.global "private" constant @dup : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]> {alignment = 64 : i64}
  memref.global "private" @scratch : memref<4xf32> = uninitialized
  memref.global "private" constant @__constant_4xf32 : memref<4xf32> = dense<[5.0, 6.0, 7.0, 8.0]> {alignment = 64 : i64}
  memref.global constant @public_table : memref<2xi32> = dense<[1, 2]>
  memref.global "private" constant @__constant_4xf32_0 : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]> {alignment = 64 : i64}
  func.func @f() -> (memref<4xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>) {
    %0 = memref.get_global @__constant_4xf32_0 : memref<4xf32>
    %1 = memref.get_global @__constant_4xf32 : memref<4xf32>
    %2 = memref.get_global @dup : memref<4xf32>
    %3 = memref.get_global @scratch : memref<4xf32>
    return %0, %1, %2, %3 : memref<4xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>
  }
}
