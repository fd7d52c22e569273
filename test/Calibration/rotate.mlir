// qc-fold-rotations on a miniature pre-norm block (Inputs/rms_block.mlir):
// the gamma Muls are gone (folded into the readers), every weight that
// touches the residual stream is rewritten, and the rotated model computes
// the same outputs (run by quantc on both, compared within 1e-5 of the
// output's magnitude).
// RUN: quant-opt %S/Inputs/rms_block.mlir --qc-fold-rotations=seed=1 -o %t.rot.mlir
// RUN: FileCheck %s < %t.rot.mlir
// RUN: rm -rf %t.d && mkdir -p %t.d
// RUN: %python -c "import numpy as np; np.save('%t.d/ids.npy', np.array([[5, 0, 3]], np.int64))"
// RUN: quantc run %S/Inputs/rms_block.mlir %t.d/ids.npy --output-dir %t.d/a
// RUN: quantc run %t.rot.mlir %t.d/ids.npy --output-dir %t.d/b
// RUN: %python -c "import glob, numpy as np; a = np.load(glob.glob('%t.d/a/*.npy')[0]); b = np.load(glob.glob('%t.d/b/*.npy')[0]); e = np.max(np.abs(a - b)) / np.max(np.abs(a)); print('max rel error', e); assert e <= 1e-5 and not np.allclose(a, 0), e"
// The identity seed check: another seed, other weights, same outputs.
// RUN: quant-opt %S/Inputs/rms_block.mlir --qc-fold-rotations=seed=2 -o %t.rot2.mlir
// RUN: not diff -q %t.rot.mlir %t.rot2.mlir
// RUN: quantc run %t.rot2.mlir %t.d/ids.npy --output-dir %t.d/c
// RUN: %python -c "import glob, numpy as np; a = np.load(glob.glob('%t.d/a/*.npy')[0]); c = np.load(glob.glob('%t.d/c/*.npy')[0]); e = np.max(np.abs(a - c)) / np.max(np.abs(a)); assert e <= 1e-5, e"

// CHECK-LABEL: func.func @main
// CHECK-NOT: qc.mul
// CHECK-NOT: dense<[0.956150
// CHECK: %[[E:.*]] = qc.constant {{.*}} : tensor<6x4xf32>
// CHECK: qc.gather %[[E]]
// CHECK: %[[N:.*]] = qc.div
// CHECK: %[[WQ:.*]] = qc.constant {{.*}} : tensor<4x4xf32>
// CHECK: qc.matmul %[[N]], %[[WQ]]
// CHECK: qc.tanh
// CHECK: %[[WO:.*]] = qc.constant {{.*}} : tensor<4x4xf32>
// CHECK: qc.matmul {{.*}}, %[[WO]]
// CHECK: %[[BO:.*]] = qc.constant {{.*}} : tensor<4xf32>
// CHECK: qc.add {{.*}}, %[[BO]]
// CHECK: %[[N1:.*]] = qc.div
// CHECK: %[[WH:.*]] = qc.constant {{.*}} : tensor<4x5xf32>
// CHECK: qc.matmul %[[N1]], %[[WH]]
