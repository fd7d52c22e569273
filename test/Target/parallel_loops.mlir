// RUN: quant-opt %s --split-input-file --quantc-cpu-parallel-outline="min-iterations=64" | FileCheck %s
// RUN: quant-opt %s --split-input-file --quantc-cpu-parallel-outline="min-iterations=64" --convert-linalg-to-loops --expand-strided-metadata --finalize-memref-to-llvm --convert-arith-to-llvm --convert-scf-to-cf --convert-cf-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts --quantc-cpu-parallel-dispatch | FileCheck %s --check-prefix=LLVM

// A broadcast add: split along d0 (extent 4), the [8] operand passed
// whole, the same function for both identical ops; an op below the
// threshold stays.
// CHECK-LABEL: func.func @f
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[C4:.*]] = arith.constant 4 : index
// CHECK: call @qc_par_0(%[[C0]], %[[C4]], %arg0, %arg1, %arg2)
// CHECK: call @qc_par_0(%{{.*}}, %{{.*}}, %arg2, %arg1, %arg3)
// CHECK: linalg.generic {{.*}} outs(%arg4 : memref<2x3xf32>)
// CHECK: func.func private @qc_par_0(%[[LO:.*]]: index, %[[HI:.*]]: index, %[[X:.*]]: memref<4x16x8xf32>, %[[B:.*]]: memref<8xf32>, %[[Y:.*]]: memref<4x16x8xf32>) attributes {qc.parallel_body}
// CHECK: %[[N:.*]] = arith.subi %[[HI]], %[[LO]]
// CHECK: %[[XS:.*]] = memref.subview %[[X]][%[[LO]], 0, 0] [%[[N]], 16, 8] [1, 1, 1]
// CHECK: %[[YS:.*]] = memref.subview %[[Y]][%[[LO]], 0, 0] [%[[N]], 16, 8] [1, 1, 1]
// CHECK: linalg.generic {{.*}} ins(%[[XS]], %[[B]] : {{.*}}) outs(%[[YS]] : {{.*}})
// CHECK-NOT: func.func private @qc_par_1

// LLVM-LABEL: llvm.func @f
// LLVM: %[[CTX:.*]] = llvm.alloca %{{.*}} x !llvm.struct<(ptr, ptr, i64
// LLVM: %[[FN:.*]] = llvm.mlir.addressof @qc_par_0_tramp
// LLVM: llvm.call @qc_rt_parallel_for(%[[FN]], %{{.*}}, %{{.*}}) : (!llvm.ptr, !llvm.ptr, i64) -> ()
// LLVM-NOT: llvm.call @qc_par_0(
// LLVM: llvm.func internal @qc_par_0_tramp(%[[C:.*]]: !llvm.ptr, %[[L:.*]]: i64, %[[H:.*]]: i64)
// LLVM: llvm.call @qc_par_0(%[[L]], %[[H]],
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#last = affine_map<(d0, d1, d2) -> (d2)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @f(%x: memref<4x16x8xf32>, %b: memref<8xf32>, %y: memref<4x16x8xf32>, %z: memref<4x16x8xf32>, %s: memref<2x3xf32>) {
  linalg.generic {indexing_maps = [#id, #last, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %b : memref<4x16x8xf32>, memref<8xf32>) outs(%y : memref<4x16x8xf32>) {
  ^bb0(%i: f32, %j: f32, %o: f32):
    %r = arith.addf %i, %j : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id, #last, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y, %b : memref<4x16x8xf32>, memref<8xf32>) outs(%z : memref<4x16x8xf32>) {
  ^bb0(%i: f32, %j: f32, %o: f32):
    %r = arith.addf %i, %j : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]} outs(%s : memref<2x3xf32>) {
  ^bb0(%o: f32):
    %r = arith.addf %o, %o : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A row reduction [4, 16, 8] -> [4, 16, 1]: split along d0 (parallel, in
// the output); the reduced d2 never is. A transpose-like map on the input
// (d1 indexes the input's first dim) still splits d0, found at position 1.
// CHECK-LABEL: func.func @reduce
// CHECK: call @qc_par_0(%{{.*}}, %{{.*}}, %arg0, %arg1)
// CHECK: call @qc_par_1(%{{.*}}, %{{.*}}, %arg2, %arg3)
// CHECK: func.func private @qc_par_0
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: func.func private @qc_par_1(%[[LO:.*]]: index, %[[HI:.*]]: index, %[[T:.*]]: memref<16x4x8xf32>, %[[O:.*]]: memref<4x16x8xf32>)
// CHECK: memref.subview %[[T]][0, %[[LO]], 0] [16, %{{.*}}, 8] [1, 1, 1]
#in = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#tr = affine_map<(d0, d1, d2) -> (d1, d0, d2)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @reduce(%x: memref<4x16x8xf32>, %m: memref<4x16x1xf32>, %t: memref<16x4x8xf32>, %o: memref<4x16x8xf32>) {
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<4x16x8xf32>) outs(%m : memref<4x16x1xf32>) {
  ^bb0(%i: f32, %a: f32):
    %r = arith.maximumf %a, %i : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#tr, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%t : memref<16x4x8xf32>) outs(%o : memref<4x16x8xf32>) {
  ^bb0(%i: f32, %a: f32):
    linalg.yield %i : f32
  }
  return
}

// -----

// Dynamic ranges (a symbolic sequence length): the extent is read with
// memref.dim, and the size checked at run time: large instances go to the
// pool, small ones call the body through a serial wrapper, which the
// dispatch leaves a direct call.
// CHECK-LABEL: func.func @dyn
// CHECK: %[[N:.*]] = memref.dim %arg0, %{{.*}} : memref<?x64xf32>
// CHECK: %[[BIG:.*]] = arith.cmpi sge, %{{.*}}, %{{.*}} : index
// CHECK: scf.if %[[BIG]] {
// CHECK:   call @qc_par_0(%{{.*}}, %[[N]], %arg0, %arg1)
// CHECK: } else {
// CHECK:   call @qc_par_0_serial(%{{.*}}, %[[N]], %arg0, %arg1)
// CHECK: func.func private @qc_par_0(%[[LO:.*]]: index, %[[HI:.*]]: index, %{{.*}}: memref<?x64xf32>, %{{.*}}: memref<?x64xf32>) attributes {qc.parallel_body}
// CHECK: func.func private @qc_par_0_serial({{.*}}) attributes {qc.serial_wrapper}
// CHECK-NEXT: call @qc_par_0(

// LLVM-LABEL: llvm.func @dyn
// LLVM: llvm.call @qc_rt_parallel_for(
// LLVM: llvm.func @qc_par_0_serial({{.*}}qc.serial_wrapper
// LLVM-NOT: qc_rt_parallel_for
// LLVM: llvm.call @qc_par_0(
#d2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @dyn(%x: memref<?x64xf32>, %y: memref<?x64xf32>) {
  linalg.generic {indexing_maps = [#d2, #d2], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>) {
  ^bb0(%i: f32, %o: f32):
    %r = arith.mulf %i, %i : f32
    linalg.yield %r : f32
  }
  return
}
