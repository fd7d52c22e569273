// RUN: quant-opt %s --split-input-file --qc-fold-rotations -verify-diagnostics

// A LayerNorm reads the residual stream: its mean subtraction does not
// commute with a rotation, so nothing is rotated.
// expected-error @+1 {{qc-fold-rotations: qc.layer_normalization: reads the residual stream (only RMSNorms and the next residual Add may; a LayerNorm's mean subtraction does not commute with a rotation)}}
module {
  func.func @main(%ids: tensor<1x3xi64>) -> tensor<1x3x4xf32> {
    %E = qc.constant dense<1.0> : tensor<6x4xf32>
    %g = qc.constant dense<1.0> : tensor<4xf32>
    %h0 = qc.gather %E, %ids : (tensor<6x4xf32>, tensor<1x3xi64>) -> tensor<1x3x4xf32>
    %y, %m, %v = qc.layer_normalization %h0, %g, %g : (tensor<1x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<1x3x4xf32>, tensor<*xf32>, tensor<*xf32>)
    return %y : tensor<1x3x4xf32>
  }
}

// -----

// No embedding table: nothing to start the residual stream from.
// expected-error @+1 {{qc-fold-rotations: expected one embedding (a Gather from a constant [V, D] table), found 0}}
module {
  func.func @main(%x: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
    return %x : tensor<1x3x4xf32>
  }
}

// -----

// Calibrated already: the statistics would describe the old basis.
// expected-error @+1 {{qc-fold-rotations: the module has observers; fold rotations before calibrating}}
module {
  func.func @main(%x: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
    %o = qc.observe %x {index = 0 : i64, layer = "l"} : (tensor<1x3x4xf32>) -> tensor<1x3x4xf32>
    return %o : tensor<1x3x4xf32>
  }
}
