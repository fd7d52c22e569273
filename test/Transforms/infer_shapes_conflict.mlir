// RUN: quant-opt %s --qc-infer-shapes --verify-diagnostics --split-input-file

func.func @conflict(%x: tensor<2x3xf32>, %y: tensor<3x4xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{result 0 has type 'tensor<2x5xf32>' but its operands give a dimension of 4}}
  %0 = qc.matmul %x, %y : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @rank_conflict(%x: tensor<2x3x4xf32>) -> tensor<24xf32> {
  // expected-error @+1 {{result 0 has type 'tensor<24xf32>' but its operands give rank 2}}
  %0 = qc.flatten %x : (tensor<2x3x4xf32>) -> tensor<24xf32>
  return %0 : tensor<24xf32>
}
