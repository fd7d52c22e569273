// qc-fold-rotations{online}: the writer's input (tanh's output) is rotated
// at run time by qc.hadamard (width 4: the Sylvester order 4, factor
// [[1/2]]), the writer's weight took H^T on its rows, and the model still
// computes the same outputs (quantc runs both; qc.hadamard runs as the
// runtime's transform).
// RUN: quant-opt %S/Inputs/rms_block.mlir --qc-fold-rotations="seed=1 online=true" -o %t.rot.mlir
// RUN: FileCheck %s < %t.rot.mlir
// RUN: rm -rf %t.d && mkdir -p %t.d
// RUN: %python -c "import numpy as np; np.save('%t.d/ids.npy', np.array([[5, 0, 3]], np.int64))"
// RUN: quantc run %S/Inputs/rms_block.mlir %t.d/ids.npy --output-dir %t.d/a
// RUN: quantc run %t.rot.mlir %t.d/ids.npy --output-dir %t.d/b
// RUN: %python -c "import glob, numpy as np; a = np.load(glob.glob('%t.d/a/*.npy')[0]); b = np.load(glob.glob('%t.d/b/*.npy')[0]); e = np.max(np.abs(a - b)) / np.max(np.abs(a)); print('max rel error', e); assert e <= 1e-5 and not np.allclose(a, 0), e"
// Without online, the same seed gives another writer weight and no qc.hadamard.
// RUN: quant-opt %S/Inputs/rms_block.mlir --qc-fold-rotations=seed=1 | FileCheck %s --check-prefix=OFF

// CHECK-LABEL: func.func @main
// CHECK: %[[T:.*]] = qc.tanh
// CHECK: %[[WO:.*]] = qc.constant {{.*}} : tensor<4x4xf32>
// CHECK: %[[F:.*]] = qc.constant dense<5.000000e-01> : tensor<1x1xf32>
// CHECK: %[[H:.*]] = qc.hadamard %[[T]], %[[F]]
// CHECK: qc.matmul %[[H]], %[[WO]]
// OFF-NOT: qc.hadamard
