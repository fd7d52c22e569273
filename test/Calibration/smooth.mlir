// RUN: quant-opt %s --split-input-file --qc-smooth -verify-diagnostics | FileCheck %s
// RUN: quant-opt %s --split-input-file --qc-smooth=alpha=0 -verify-diagnostics | FileCheck %s --check-prefix=ALPHA0

// RMSNorm's scale g feeding q and k. max|X_j| = [16, 1] (channel ranges),
// max|W_j| over both weights' rows = [1, 4]; alpha 0.5:
// s = [sqrt(16 / 1), sqrt(1 / 4)] = [4, 0.5]. g / s = [0.5, 6]; the rows
// of each weight times s; the observers' ranges divided by s
// (channel_min [-16, -1] / s = [-4, -2], channel_max [8, 0.5] / s = [2, 1])
// and marked smoothed.
// CHECK-LABEL: func.func @main
// CHECK: %[[G:.*]] = qc.constant dense<[5.000000e-01, 6.000000e+00]> : tensor<2xf32>
// CHECK: %[[X:.*]] = qc.mul %arg0, %[[G]]
// CHECK: qc.observe %[[X]] {{.*}}channel_max = array<f64: 2.000000e+00, 1.000000e+00>, channel_min = array<f64: -4.000000e+00, -2.000000e+00>{{.*}}max = 2.000000e+00 : f64, min = -4.000000e+00 : f64{{.*}}smoothed
// CHECK: qc.constant dense<{{\[\[}}1.000000e+00, 4.000000e+00], [1.000000e+00, -2.000000e+00]]> : tensor<2x2xf32>
// CHECK: qc.constant dense<{{\[\[}}-2.000000e+00], [5.000000e-01]]> : tensor<2x1xf32>
// alpha 0: s = 1 / max|W_j| = [1, 0.25]; g / s = [2, 12].
// ALPHA0-LABEL: func.func @main
// ALPHA0: qc.constant dense<[2.000000e+00, 1.200000e+01]> : tensor<2xf32>
func.func @main(%a: tensor<3x2xf32>) -> (tensor<3x2xf32>, tensor<3x1xf32>) {
  %g = qc.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %x = qc.mul %a, %g : (tensor<3x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  %wq = qc.constant dense<[[0.25, 1.0], [2.0, -4.0]]> : tensor<2x2xf32>
  %wk = qc.constant dense<[[-0.5], [1.0]]> : tensor<2x1xf32>
  %o0 = qc.observe %x {index = 0 : i64, layer = "q", stats = {min = -16.0 : f64, max = 8.0 : f64, samples = 1 : i64, nonfinite = 0 : i64, bin_width = 8.0 : f64, total = 6.0 : f64, counts = array<f64: 3.0, 3.0>, channel_min = array<f64: -16.0, -1.0>, channel_max = array<f64: 8.0, 0.5>}} : (tensor<3x2xf32>) -> tensor<3x2xf32>
  %q = qc.matmul %o0, %wq : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %o1 = qc.observe %x {index = 1 : i64, layer = "k", stats = {min = -16.0 : f64, max = 8.0 : f64, samples = 1 : i64, nonfinite = 0 : i64, bin_width = 8.0 : f64, total = 6.0 : f64, counts = array<f64: 3.0, 3.0>, channel_min = array<f64: -16.0, -1.0>, channel_max = array<f64: 8.0, 0.5>}} : (tensor<3x2xf32>) -> tensor<3x2xf32>
  %k = qc.matmul %o1, %wk : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32>
  return %q, %k : tensor<3x2xf32>, tensor<3x1xf32>
}

// -----

// LayerNorm's gamma and beta take 1 / s; the residual connection, which
// reads the LayerNorm's output too, reads it times s. max|X_j| = [4, 9],
// max|W_j| = [1, 1]: s = [2, 3].
// CHECK-LABEL: func.func @main
// CHECK-DAG: %[[GAMMA:.*]] = qc.constant dense<[5.000000e-01, 0.333333343]> : tensor<2xf32>
// CHECK-DAG: %[[BETA:.*]] = qc.constant dense<[5.000000e-01, -0.333333343]> : tensor<2xf32>
// CHECK: %[[Y:.*]], %{{.*}}, %{{.*}} = qc.layer_normalization %arg0, %[[GAMMA]], %[[BETA]]
// CHECK: %[[S:.*]] = qc.constant dense<[2.000000e+00, 3.000000e+00]> : tensor<2xf32>
// CHECK: %[[BACK:.*]] = qc.mul %[[Y]], %[[S]]
// CHECK: qc.observe %[[Y]]
// CHECK: qc.add %[[BACK]]
func.func @main(%a: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %g = qc.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %b = qc.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %y, %m, %v = qc.layer_normalization %a, %g, %b : (tensor<3x2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<3x2xf32>, tensor<*xf32>, tensor<*xf32>)
  %w = qc.constant dense<[[1.0, 0.5], [-1.0, 0.5]]> : tensor<2x2xf32>
  %o = qc.observe %y {index = 0 : i64, layer = "fc", stats = {min = -9.0 : f64, max = 4.0 : f64, samples = 1 : i64, nonfinite = 0 : i64, bin_width = 4.5 : f64, total = 6.0 : f64, counts = array<f64: 3.0, 3.0>, channel_min = array<f64: -4.0, -9.0>, channel_max = array<f64: 4.0, 1.0>}} : (tensor<3x2xf32>) -> tensor<3x2xf32>
  %f = qc.matmul %o, %w : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %r = qc.add %y, %f : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  return %r : tensor<3x2xf32>
}

// -----

// A gated product X = a * (y U): U's columns take 1 / s (SwiGLU's up
// projection). max|X_j| = [1, 16], max|W_j| = [1, 1]: s = [1, 4].
// CHECK-LABEL: func.func @main
// CHECK: %[[U:.*]] = qc.constant dense<{{\[\[}}1.000000e+00, 5.000000e-01], [3.000000e+00, 1.000000e+00]]> : tensor<2x2xf32>
// CHECK: %[[UP:.*]] = qc.matmul %arg1, %[[U]]
// CHECK: qc.mul %arg0, %[[UP]]
// CHECK: qc.constant dense<{{\[\[}}1.000000e+00], [4.000000e+00]]> : tensor<2x1xf32>
func.func @main(%a: tensor<3x2xf32>, %y: tensor<3x2xf32>) -> tensor<3x1xf32> {
  %u = qc.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %up = qc.matmul %y, %u : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %x = qc.mul %a, %up : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  %w = qc.constant dense<[[1.0], [1.0]]> : tensor<2x1xf32>
  %o = qc.observe %x {index = 0 : i64, layer = "down", stats = {min = -16.0 : f64, max = 1.0 : f64, samples = 1 : i64, nonfinite = 0 : i64, bin_width = 8.0 : f64, total = 6.0 : f64, counts = array<f64: 3.0, 3.0>, channel_min = array<f64: -1.0, -16.0>, channel_max = array<f64: 1.0, 2.0>}} : (tensor<3x2xf32>) -> tensor<3x2xf32>
  %d = qc.matmul %o, %w : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32>
  return %d : tensor<3x1xf32>
}

// -----

// No foldable producer (a function argument): X * (1 / s) before the
// layer. max|X_j| = [4, 1], max|W_j| = [1, 1]: s = [2, 1].
// CHECK-LABEL: func.func @main
// CHECK: %[[INV:.*]] = qc.constant dense<[5.000000e-01, 1.000000e+00]> : tensor<2xf32>
// CHECK: %[[XS:.*]] = qc.mul %arg0, %[[INV]]
// CHECK: qc.observe %[[XS]]
func.func @main(%x: tensor<3x2xf32>) -> tensor<3x1xf32> {
  %w = qc.constant dense<[[1.0], [-1.0]]> : tensor<2x1xf32>
  %o = qc.observe %x {index = 0 : i64, layer = "fc", stats = {min = -4.0 : f64, max = 1.0 : f64, samples = 1 : i64, nonfinite = 0 : i64, bin_width = 2.0 : f64, total = 6.0 : f64, counts = array<f64: 3.0, 3.0>, channel_min = array<f64: -4.0, -1.0>, channel_max = array<f64: 0.0, 1.0>}} : (tensor<3x2xf32>) -> tensor<3x2xf32>
  %d = qc.matmul %o, %w : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32>
  return %d : tensor<3x1xf32>
}

// -----

// Statistics without per-channel ranges (or none): an error at the layer.
func.func @main(%x: tensor<3x2xf32>) -> tensor<3x1xf32> {
  %w = qc.constant dense<[[1.0], [-1.0]]> : tensor<2x1xf32>
  %o = qc.observe %x {index = 0 : i64, layer = "fc", stats = {min = -4.0 : f64, max = 1.0 : f64, samples = 1 : i64, nonfinite = 0 : i64, bin_width = 2.0 : f64, total = 6.0 : f64, counts = array<f64: 3.0, 3.0>}} : (tensor<3x2xf32>) -> tensor<3x2xf32>
  // expected-error @+1 {{qc-smooth: its observer has no per-channel statistics of this layer's input}}
  %d = qc.matmul %o, %w : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32>
  return %d : tensor<3x1xf32>
}

// -----

// Nothing calibrated: an error (qc-smooth needs the observers' ranges).
// expected-error @+1 {{qc-smooth: no calibrated qc.observe in the module}}
module {
  func.func @main(%x: tensor<3x2xf32>) -> tensor<3x1xf32> {
    %w = qc.constant dense<[[1.0], [-1.0]]> : tensor<2x1xf32>
    %d = qc.matmul %x, %w : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32>
    return %d : tensor<3x1xf32>
  }
}
