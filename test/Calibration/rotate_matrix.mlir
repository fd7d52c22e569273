// qc-fold-rotations{matrix=FILE}: a given orthogonal Q (e.g. a learned
// rotation, quantc.transformers.spinquant) is folded instead of the
// randomized Hadamard. With Q a permutation (exact in float) the folded
// embedding is E Q, E's columns cycled, digit for digit; a random
// orthogonal Q from numpy leaves the outputs unchanged (quantc run, 1e-5
// of the output's magnitude); a Q that is not orthogonal, not the stream's
// width or not readable is an error naming the file, and nothing is
// written.
// RUN: rm -rf %t.d && mkdir -p %t.d
// RUN: %python -c "import numpy as np; np.save('%t.d/perm.npy', np.roll(np.eye(4), 1, axis=1)); np.save('%t.d/q.npy', np.linalg.qr(np.random.default_rng(3).normal(size=(4, 4)))[0].astype(np.float32)); np.save('%t.d/two.npy', 2 * np.eye(4)); np.save('%t.d/small.npy', np.eye(3)); np.save('%t.d/ints.npy', np.eye(4, dtype=np.int32)); np.save('%t.d/ids.npy', np.array([[5, 0, 3]], np.int64))"
// RUN: quant-opt %S/Inputs/rms_block.mlir --qc-fold-rotations="matrix=%t.d/perm.npy" | FileCheck %s --check-prefix=PERM
// RUN: quant-opt %S/Inputs/rms_block.mlir --qc-fold-rotations="matrix=%t.d/q.npy online=true" -o %t.d/rot.mlir
// RUN: quantc run %S/Inputs/rms_block.mlir %t.d/ids.npy --output-dir %t.d/a
// RUN: quantc run %t.d/rot.mlir %t.d/ids.npy --output-dir %t.d/b
// RUN: %python -c "import glob, numpy as np; a = np.load(glob.glob('%t.d/a/*.npy')[0]); b = np.load(glob.glob('%t.d/b/*.npy')[0]); e = np.max(np.abs(a - b)) / np.max(np.abs(a)); print('max rel error', e); assert e <= 1e-5 and not np.allclose(a, 0), e"
// RUN: not quant-opt %S/Inputs/rms_block.mlir --qc-fold-rotations="matrix=%t.d/two.npy" -o %t.d/e1.mlir 2>&1 | FileCheck %s --check-prefix=NOTORTH
// RUN: not quant-opt %S/Inputs/rms_block.mlir --qc-fold-rotations="matrix=%t.d/small.npy" -o %t.d/e2.mlir 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not quant-opt %S/Inputs/rms_block.mlir --qc-fold-rotations="matrix=%t.d/ints.npy" -o %t.d/e3.mlir 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not quant-opt %S/Inputs/rms_block.mlir --qc-fold-rotations="matrix=%t.d/missing.npy" -o %t.d/e4.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not quantc quantize %S/Inputs/rms_block.mlir --recipe w8a16 --rotation-matrix %t.d/perm.npy -o %t.d/e5.mlir 2>&1 | FileCheck %s --check-prefix=NOROT
// RUN: not test -e %t.d/e5.mlir
// RUN: not test -e %t.d/e1.mlir
// RUN: not test -e %t.d/e2.mlir

// PERM-LABEL: func.func @main
// PERM: qc.constant dense<{{\[\[}}2.24089289, 1.76405203, 4.001570e-01, 9.787380e-01], [-1.513570e-01, 1.867558, -0.977277994, 9.500880e-01]
// PERM-SAME: tensor<6x4xf32>
// NOTORTH: rotation matrix {{.*}}two.npy is not orthogonal (max |Q^T Q - I| = 3.00e+00, over 1e-3)
// SHAPE: rotation matrix {{.*}}small.npy has 9 values; the residual stream is 4 wide, so it must be 4 x 4
// DTYPE: rotation matrix {{.*}}ints.npy: expected float32 or float64 values
// MISSING: qc-fold-rotations: {{.*}}missing.npy
// NOROT: quantc: error: --rotation-matrix: recipe 'w8a16' rotates nothing (add -rot)
