// A two-norm pre-norm transformer in miniature (D = 4): embedding, an
// RMSNorm written as exporters do (pow, reduce_mean, add eps, sqrt, div,
// mul gamma) feeding a layer, a writer with a bias added back to the
// residual stream, the final RMSNorm and the head.
func.func @main(%ids: tensor<1x3xi64>) -> tensor<1x3x5xf32> {
  %E = qc.constant dense<[[ 1.764052,  0.400157,  0.978738,  2.240893], [ 1.867558, -0.977278,  0.950088, -0.151357], [-0.103219,  0.410599,  0.144044,  1.454273], [ 0.761038,  0.121675,  0.443863,  0.333674], [ 1.494079, -0.205158,  0.313068, -0.854096], [-2.552990,  0.653619,  0.864436, -0.742165]]> : tensor<6x4xf32>
  %g1 = qc.constant dense<[0.956150, 1.068434, 0.518790, 1.117635]> : tensor<4xf32>
  %wq = qc.constant dense<[[ 1.532779,  1.469359,  0.154947,  0.378163], [-0.887786, -1.980796, -0.347912,  0.156349], [ 1.230291,  1.202380, -0.387327, -0.302303], [-1.048553, -1.420018, -1.706270,  1.950775]]> : tensor<4x4xf32>
  %wo = qc.constant dense<[[-0.509652, -0.438074, -1.252795,  0.777490], [-1.613898, -0.212740, -0.895467,  0.386903], [-0.510805, -1.180632, -0.028182,  0.428332], [ 0.066517,  0.302472, -0.634322, -0.362741]]> : tensor<4x4xf32>
  %bo = qc.constant dense<[-0.672460, -0.359553, -0.813146, -1.726283]> : tensor<4xf32>
  %g2 = qc.constant dense<[0.564147, 1.192472, 1.066601, 0.765390]> : tensor<4xf32>
  %wh = qc.constant dense<[[-0.907298,  0.051945,  0.729091,  0.128983,  1.139401], [-1.234826,  0.402342, -0.684810, -0.870797, -0.578850], [-0.311553,  0.056165, -1.165150,  0.900827,  0.465662], [-1.536244,  1.488252,  1.895889,  1.178780, -0.179925]]> : tensor<4x5xf32>
  %two = qc.constant dense<2.0> : tensor<f32>
  %eps = qc.constant dense<1.0e-5> : tensor<f32>
  %axes = qc.constant dense<[-1]> : tensor<1xi64>
  %h0 = qc.gather %E, %ids : (tensor<6x4xf32>, tensor<1x3xi64>) -> tensor<1x3x4xf32>
  %p0 = qc.pow %h0, %two : (tensor<1x3x4xf32>, tensor<f32>) -> tensor<1x3x4xf32>
  %m0 = qc.reduce_mean %p0, %axes : (tensor<1x3x4xf32>, tensor<1xi64>) -> tensor<1x3x1xf32>
  %a0 = qc.add %m0, %eps : (tensor<1x3x1xf32>, tensor<f32>) -> tensor<1x3x1xf32>
  %r0 = qc.sqrt %a0 : (tensor<1x3x1xf32>) -> tensor<1x3x1xf32>
  %n0 = qc.div %h0, %r0 : (tensor<1x3x4xf32>, tensor<1x3x1xf32>) -> tensor<1x3x4xf32>
  %x0 = qc.mul %n0, %g1 : (tensor<1x3x4xf32>, tensor<4xf32>) -> tensor<1x3x4xf32>
  %q = qc.matmul %x0, %wq : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %t = qc.tanh %q : (tensor<1x3x4xf32>) -> tensor<1x3x4xf32>
  %o = qc.matmul %t, %wo : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %ob = qc.add %o, %bo : (tensor<1x3x4xf32>, tensor<4xf32>) -> tensor<1x3x4xf32>
  %h1 = qc.add %h0, %ob : (tensor<1x3x4xf32>, tensor<1x3x4xf32>) -> tensor<1x3x4xf32>
  %p1 = qc.pow %h1, %two : (tensor<1x3x4xf32>, tensor<f32>) -> tensor<1x3x4xf32>
  %m1 = qc.reduce_mean %p1, %axes : (tensor<1x3x4xf32>, tensor<1xi64>) -> tensor<1x3x1xf32>
  %a1 = qc.add %m1, %eps : (tensor<1x3x1xf32>, tensor<f32>) -> tensor<1x3x1xf32>
  %r1 = qc.sqrt %a1 : (tensor<1x3x1xf32>) -> tensor<1x3x1xf32>
  %n1 = qc.div %h1, %r1 : (tensor<1x3x4xf32>, tensor<1x3x1xf32>) -> tensor<1x3x4xf32>
  %x1 = qc.mul %n1, %g2 : (tensor<1x3x4xf32>, tensor<4xf32>) -> tensor<1x3x4xf32>
  %y = qc.matmul %x1, %wh : (tensor<1x3x4xf32>, tensor<4x5xf32>) -> tensor<1x3x5xf32>
  return %y : tensor<1x3x5xf32>
}
