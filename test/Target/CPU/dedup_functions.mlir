// RUN: quant-opt %s --quantc-cpu-dedup-functions | FileCheck %s

// @f0 and @f1 differ only in the constant global they read: one function
// remains, taking the address as a noalias readonly argument (no
// alignment promised); both calls pass their global.
// @f2 reads the same kind of global but adds another constant (a
// different structure): kept. @f3 and @f4 read mutable globals: kept.
// CHECK-LABEL: llvm.func @f0(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr {llvm.noalias, llvm.readonly})
// CHECK-NOT: llvm.mlir.addressof
// CHECK: llvm.return
// CHECK-NOT: llvm.func @f1
// CHECK-LABEL: llvm.func @f2
// CHECK: llvm.mlir.addressof @w2
// CHECK-LABEL: llvm.func @f3
// CHECK: llvm.mlir.addressof @m0
// CHECK-LABEL: llvm.func @f4
// CHECK: llvm.mlir.addressof @m1
// @f5 and @f6 are identical and read no constant: one remains, unchanged.
// CHECK-LABEL: llvm.func @f5(%{{.*}}: !llvm.ptr)
// CHECK-NOT: llvm.func @f6
// CHECK-LABEL: llvm.func @main
// CHECK: %[[A0:.*]] = llvm.mlir.addressof @w0
// CHECK: llvm.call @f0(%{{.*}}, %[[A0]])
// CHECK: %[[A1:.*]] = llvm.mlir.addressof @w1
// CHECK: llvm.call @f0(%{{.*}}, %[[A1]])
// CHECK: llvm.call @f2(%{{.*}})
// CHECK: llvm.call @f3(%{{.*}})
// CHECK: llvm.call @f4(%{{.*}})
// CHECK: llvm.call @f5(%{{.*}})
// CHECK-NEXT: llvm.call @f5(%{{.*}})
llvm.mlir.global private constant @w0(dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<4 x f32>
llvm.mlir.global private constant @w1(dense<[5.0, 6.0, 7.0, 8.0]> : tensor<4xf32>) {addr_space = 0 : i32, alignment = 32 : i64} : !llvm.array<4 x f32>
llvm.mlir.global private constant @w2(dense<[9.0, 1.0, 1.0, 1.0]> : tensor<4xf32>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<4 x f32>
llvm.mlir.global private @m0(dense<0.0> : tensor<4xf32>) {addr_space = 0 : i32} : !llvm.array<4 x f32>
llvm.mlir.global private @m1(dense<0.0> : tensor<4xf32>) {addr_space = 0 : i32} : !llvm.array<4 x f32>

llvm.func @f0(%out: !llvm.ptr) attributes {qc.outlined} {
  %w = llvm.mlir.addressof @w0 : !llvm.ptr
  %v = llvm.load %w : !llvm.ptr -> f32
  llvm.store %v, %out : f32, !llvm.ptr
  llvm.return
}
llvm.func @f1(%out: !llvm.ptr) attributes {qc.outlined} {
  %w = llvm.mlir.addressof @w1 : !llvm.ptr
  %v = llvm.load %w : !llvm.ptr -> f32
  llvm.store %v, %out : f32, !llvm.ptr
  llvm.return
}
llvm.func @f2(%out: !llvm.ptr) attributes {qc.outlined} {
  %w = llvm.mlir.addressof @w2 : !llvm.ptr
  %v = llvm.load %w : !llvm.ptr -> f32
  %c = llvm.mlir.constant(2.0 : f32) : f32
  %s = llvm.fadd %v, %c : f32
  llvm.store %s, %out : f32, !llvm.ptr
  llvm.return
}
llvm.func @f3(%out: !llvm.ptr) attributes {qc.outlined} {
  %w = llvm.mlir.addressof @m0 : !llvm.ptr
  %v = llvm.load %w : !llvm.ptr -> f32
  llvm.store %v, %out : f32, !llvm.ptr
  llvm.return
}
llvm.func @f4(%out: !llvm.ptr) attributes {qc.outlined} {
  %w = llvm.mlir.addressof @m1 : !llvm.ptr
  %v = llvm.load %w : !llvm.ptr -> f32
  llvm.store %v, %out : f32, !llvm.ptr
  llvm.return
}
llvm.func @f5(%out: !llvm.ptr) attributes {qc.outlined} {
  %c = llvm.mlir.constant(1.0 : f32) : f32
  llvm.store %c, %out : f32, !llvm.ptr
  llvm.return
}
llvm.func @f6(%out: !llvm.ptr) attributes {qc.outlined} {
  %c = llvm.mlir.constant(1.0 : f32) : f32
  llvm.store %c, %out : f32, !llvm.ptr
  llvm.return
}
llvm.func @main(%out: !llvm.ptr) {
  llvm.call @f0(%out) : (!llvm.ptr) -> ()
  llvm.call @f1(%out) : (!llvm.ptr) -> ()
  llvm.call @f2(%out) : (!llvm.ptr) -> ()
  llvm.call @f3(%out) : (!llvm.ptr) -> ()
  llvm.call @f4(%out) : (!llvm.ptr) -> ()
  llvm.call @f5(%out) : (!llvm.ptr) -> ()
  llvm.call @f6(%out) : (!llvm.ptr) -> ()
  llvm.return
}
