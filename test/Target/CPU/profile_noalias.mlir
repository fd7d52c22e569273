// RUN: quant-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(quantc-cpu-profile-ops))" | FileCheck %s --check-prefix=PROF
// RUN: quant-opt %s --split-input-file --quantc-cpu-noalias-args | FileCheck %s --check-prefix=NOALIAS

// A mark before each qc op other than constants (ids in order), and -1
// before the return.
// PROF-LABEL: func.func @main
// PROF: qc.constant
// PROF: %[[I0:.*]] = arith.constant 0 : i64
// PROF: call @qc_rt_prof_mark(%[[I0]])
// PROF-NEXT: qc.relu
// PROF: %[[I1:.*]] = arith.constant 1 : i64
// PROF: call @qc_rt_prof_mark(%[[I1]])
// PROF-NEXT: qc.add
// PROF: %[[END:.*]] = arith.constant -1 : i64
// PROF: call @qc_rt_prof_mark(%[[END]])
// PROF-NEXT: return
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = qc.constant dense<1.0> : tensor<4xf32>
  %r = qc.relu %x : (tensor<4xf32>) -> tensor<4xf32>
  %y = qc.add %r, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Pointer arguments of outlined functions become noalias; other functions
// are left alone.
// NOALIAS-LABEL: llvm.func @outlined
// NOALIAS-SAME: (%{{.*}}: !llvm.ptr {llvm.noalias}, %{{.*}}: i64, %{{.*}}: !llvm.ptr {llvm.noalias})
// NOALIAS-LABEL: llvm.func @plain
// NOALIAS-NOT: llvm.noalias
llvm.func @outlined(%a: !llvm.ptr, %n: i64, %b: !llvm.ptr) attributes {qc.outlined} {
  llvm.return
}
llvm.func @plain(%a: !llvm.ptr, %b: !llvm.ptr) {
  llvm.return
}
