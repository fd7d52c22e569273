// RUN: quant-opt %s --pass-pipeline='builtin.module(func.func(qc-to-linalg),one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},quantc-cpu-kernel-calls)' | FileCheck %s
// qc.hadamard lowers to a contraction marked for the runtime (the
// Sylvester sign from the indices' popcount, the factor read at
// (i / p, o / p)), which quantc-cpu-kernel-calls turns into a call of
// qc_rt_hadamard_f32 on [rows, n] views, its zero fill dropped.
// RUN: quant-opt %s --pass-pipeline='builtin.module(func.func(qc-to-linalg))' | FileCheck %s --check-prefix=GEN
// GEN: affine_map<(d0, d1, d2) -> (d2 floordiv 128, d1 floordiv 128)>
// GEN: linalg.generic {{.*}} attrs = {qc.kernel = "hadamard"}
// GEN: math.ctpop
// Numbers: three shapes against numpy's dense x (F kron S) (Inputs/hadamard_case.py).
// RUN: rm -rf %t.d && mkdir -p %t.d
// RUN: %python %S/Inputs/hadamard_case.py write %t.d
// RUN: quantc run %t.d/case.mlir %t.d/a.npy %t.d/b.npy %t.d/c.npy --output-dir %t.d/out
// RUN: %python %S/Inputs/hadamard_case.py check %t.d %t.d/out

// CHECK-LABEL: func.func @rotate
// CHECK-NOT: linalg.fill
// CHECK: memref.collapse_shape
// CHECK: call @qc_rt_hadamard_f32({{.*}}) : (memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>) -> ()
// CHECK-NOT: linalg.generic
func.func @rotate(%x: tensor<2x3x1536xf32>, %f: tensor<12x12xf32>) -> tensor<2x3x1536xf32> {
  %y = "qc.hadamard"(%x, %f) : (tensor<2x3x1536xf32>, tensor<12x12xf32>) -> tensor<2x3x1536xf32>
  return %y : tensor<2x3x1536xf32>
}
