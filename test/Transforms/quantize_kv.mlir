// RUN: quant-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(qc-quantize-kv))' | FileCheck %s
// RUN: quant-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(qc-quantize-kv))' -o /dev/null
// RUN: quant-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(qc-quantize-kv{query=true}))' | FileCheck %s --check-prefix=QUERY
// RUN: quant-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(qc-quantize-kv{rotate=true bits=4}))' | FileCheck %s --check-prefix=ROT4
// RUN: not quant-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(qc-quantize-kv{bits=3}))' -o /dev/null 2>&1 | FileCheck %s --check-prefix=BITS

// A decode step: the cache is Concat(past, new) along the sequence axis.
// Only this step's key and value rows are rounded, before the Concat, so
// the present outputs hold the rounded rows; the past is read as it came.
// Each row of 8 (one token of one head): DynamicQuantizeLinear's range
// [min(0, min), max(0, max)] / 255 as scale, zero point round(-lo /
// scale) clamped to [0, 255], then (clamp(round(x / scale) + zp) - zp) *
// scale. The query stays float unless query=true.
// CHECK-LABEL: func.func @decode
// CHECK: %[[AX:.*]] = qc.constant dense<3> : tensor<1xi64>
// CHECK: %[[ZERO:.*]] = qc.constant dense<0.000000e+00> : tensor<f32>
// CHECK: %[[TOP:.*]] = qc.constant dense<2.550000e+02> : tensor<f32>
// CHECK: %[[MX:.*]] = qc.reduce_max %arg2, %[[AX]] : (tensor<1x2x1x8xf32>, tensor<1xi64>) -> tensor<1x2x1x1xf32>
// CHECK: %[[HI:.*]] = qc.max %[[MX]], %[[ZERO]]
// CHECK: %[[MN:.*]] = qc.reduce_min %arg2, %[[AX]]
// CHECK: %[[LO:.*]] = qc.min %[[MN]], %[[ZERO]]
// CHECK: %[[R:.*]] = qc.sub %[[HI]], %[[LO]]
// CHECK: %[[S0:.*]] = qc.div %[[R]], %[[TOP]]
// CHECK: %[[S:.*]] = qc.max %[[S0]], %{{.*}}
// CHECK: %[[NLO:.*]] = qc.neg %[[LO]]
// CHECK: %[[Z0:.*]] = qc.div %[[NLO]], %[[S]]
// CHECK: %[[Z1:.*]] = qc.round %[[Z0]]
// CHECK: %[[ZP:.*]] = qc.clip %[[Z1]], %[[ZERO]], %[[TOP]]
// CHECK: %[[XS:.*]] = qc.div %arg2, %[[S]] : (tensor<1x2x1x8xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x1x8xf32>
// CHECK: %[[XR:.*]] = qc.round %[[XS]]
// CHECK: %[[XZ:.*]] = qc.add %[[XR]], %[[ZP]]
// CHECK: %[[Q:.*]] = qc.clip %[[XZ]], %[[ZERO]], %[[TOP]]
// CHECK: %[[C:.*]] = qc.sub %[[Q]], %[[ZP]]
// CHECK: %[[KR:.*]] = qc.mul %[[C]], %[[S]]
// CHECK: %[[K:.*]] = qc.concat %arg1, %[[KR]] {axis = 2 : i64}
// CHECK: qc.reduce_max %arg4
// CHECK: %[[V:.*]] = qc.concat %arg3, %{{.*}} {axis = 2 : i64}
// CHECK-NOT: qc.reduce_max
// CHECK: qc.attention %arg0, %[[K]], %[[V]], %{{.*}} {scale = 0.353553385 : f32}
// CHECK: return
// rotate=true bits=4: the new key rows rotated over the head dimension
// (8: Sylvester, factor 1/sqrt(8)), rounded to 15 levels, rotated back
// (the factor transposed: the same 1x1), then appended to the cache.
// ROT4-LABEL: func.func @decode
// ROT4: %[[F:.*]] = qc.constant dense<0.353553385> : tensor<1x1xf32>
// ROT4: %[[H:.*]] = qc.hadamard %arg2, %[[F]] : (tensor<1x2x1x8xf32>, tensor<1x1xf32>) -> tensor<1x2x1x8xf32>
// ROT4: %[[TOP:.*]] = qc.constant dense<1.500000e+01> : tensor<f32>
// ROT4: qc.reduce_max %[[H]]
// ROT4: %[[KR:.*]] = qc.mul
// ROT4: %[[FT:.*]] = qc.constant dense<0.353553385> : tensor<1x1xf32>
// ROT4: %[[B:.*]] = qc.hadamard %[[KR]], %[[FT]]
// ROT4: %[[K:.*]] = qc.concat %arg1, %[[B]] {axis = 2 : i64}
// ROT4: qc.hadamard %arg4
// ROT4: qc.attention %arg0, %[[K]]
// BITS: qc-quantize-kv: bits must be 8 or 4, not 3
// QUERY-LABEL: func.func @decode
// QUERY-COUNT-3: qc.reduce_max
// QUERY: qc.attention %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}
func.func @decode(%q: tensor<1x6x1x8xf32>, %pk: tensor<1x2x4x8xf32>, %k: tensor<1x2x1x8xf32>, %pv: tensor<1x2x4x8xf32>, %v: tensor<1x2x1x8xf32>) -> (tensor<1x6x1x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {
  %kc = qc.concat %pk, %k {axis = 2 : i64} : (tensor<1x2x4x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x5x8xf32>
  %vc = qc.concat %pv, %v {axis = 2 : i64} : (tensor<1x2x4x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x5x8xf32>
  %n = qc.none
  %o = qc.attention %q, %kc, %vc, %n {scale = 0.353553385 : f32} : (tensor<1x6x1x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, none) -> tensor<1x6x1x8xf32>
  return %o, %kc, %vc : tensor<1x6x1x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
}

// -----

// A prompt (no cache): keys and values rounded where attention reads them;
// dynamic sequence length kept.
// CHECK-LABEL: func.func @prefill
// CHECK: qc.reduce_max %arg1, %{{.*}} : (tensor<1x2x?x8xf32>, tensor<1xi64>) -> tensor<1x2x?x1xf32>
// CHECK: qc.reduce_max %arg2
// CHECK: qc.attention %arg0, %{{[0-9]+}}, %{{[0-9]+}}
func.func @prefill(%q: tensor<1x6x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x6x?x8xf32> {
  %n = qc.none
  %o = qc.attention %q, %k, %v, %n {scale = 0.353553385 : f32} : (tensor<1x6x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, none) -> tensor<1x6x?x8xf32>
  return %o : tensor<1x6x?x8xf32>
}

// -----

// A head dimension only known at run time cannot be the rounding's row
// width: the operand stays float and the pass says so.
// CHECK-LABEL: func.func @dynamic_head
// CHECK-NOT: qc.reduce_max
// CHECK: qc.attention %arg0, %arg1, %arg2
func.func @dynamic_head(%q: tensor<1x2x3x?xf32>, %k: tensor<1x2x5x?xf32>, %v: tensor<1x2x5x?xf32>) -> tensor<1x2x3x?xf32> {
  %n = qc.none
  // expected-warning @+1 {{qc-quantize-kv: an operand of this attention stays float}}
  %o = qc.attention %q, %k, %v, %n {scale = 0.5 : f32} : (tensor<1x2x3x?xf32>, tensor<1x2x5x?xf32>, tensor<1x2x5x?xf32>, none) -> tensor<1x2x3x?xf32>
  return %o : tensor<1x2x3x?xf32>
}
