// RUN: quant-opt %s --qc-insert-observers | FileCheck %s --check-prefix=INS
// RUN: quant-opt %s --qc-insert-observers --qc-quantize="recipe=w8a16" | FileCheck %s --check-prefix=W

// qc-insert-observers wraps the activation of the MatMul (constant B);
// the MatMul of two activations is no target. A weight-only recipe needs
// no statistics.
// INS-LABEL: func.func @main
// INS: %[[O:.*]] = qc.observe %arg0 {index = 0 : i64, layer = "mm"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// INS: qc.matmul %[[O]], %{{.*}} :
// INS-NOT: qc.observe
// W-LABEL: func.func @main
// W-NOT: qc.observe
// W-NOT: qc.quantize_linear
// W: qc.dequantize_linear {{.*}} : (tensor<3x2xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<3x2xf32>
func.func @main(%x: tensor<2x3xf32>, %y: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %w = qc.constant dense<[[1.0, -2.0], [0.5, 4.0], [-1.0, 0.0]]> : tensor<3x2xf32>
  %m = qc.matmul %x, %w : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32> loc("mm")
  %z = qc.matmul %m, %y : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %z : tensor<2x2xf32>
}

