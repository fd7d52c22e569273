// RUN: quant-opt %s --pass-pipeline="builtin.module(func.func(qc-to-linalg,canonicalize))" --split-input-file -verify-diagnostics | FileCheck %s

// Per channel (axis 1): the scale and zero point are read at d1; round half
// to even, saturate to [-128, 127], NaN to the zero point, then to i8.
// CHECK-LABEL: func.func @quantize_per_channel
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[AX:.*]], #[[AX]], #{{.*}}]
// CHECK: arith.divf
// CHECK: math.roundeven
// CHECK: arith.sitofp
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.cmpf uno
// CHECK: arith.select
// CHECK: arith.fptosi {{.*}} to i8
// CHECK-NOT: quant.scast
func.func @quantize_per_channel(%x: tensor<2x3xf32>) -> tensor<2x3xi8> {
  %s = qc.constant dense<[0.1, 0.2, 0.4]> : tensor<3xf32>
  %z = qc.constant dense<[0, 1, -2]> : tensor<3xi8>
  %q = qc.quantize_linear %x, %s, %z {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xi8>) -> tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.4:-2}>>
  %y = quant.scast %q : tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.4:-2}>> to tensor<2x3xi8>
  return %y : tensor<2x3xi8>
}

// -----

// CHECK-LABEL: func.func @dequantize_per_tensor
// CHECK: linalg.generic
// CHECK: arith.sitofp
// CHECK: arith.sitofp
// CHECK: arith.subf
// CHECK: arith.mulf
func.func @dequantize_per_tensor(%q: tensor<4xi8>) -> tensor<4xf32> {
  %s = qc.constant dense<0.5> : tensor<f32>
  %z = qc.constant dense<3> : tensor<i8>
  %y = qc.dequantize_linear %q, %s, %z : (tensor<4xi8>, tensor<f32>, tensor<i8>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// An unsigned tensor reaching anything but DequantizeLinear is refused.
func.func @uint8_not_yet(%x: tensor<4xf32>) -> tensor<4xui8> {
  %s = qc.constant dense<0.5> : tensor<f32>
  %n = qc.none
  // expected-error @+2 {{cannot lower: qc.quantize_linear result of 'ui8' used by 'func.return' (unsigned tensors are only lowered into DequantizeLinear, MatMulInteger, ConvInteger, QLinearMatMul and QLinearConv, directly or through a Slice, yet)}}
  // expected-error @+1 {{failed to legalize operation 'qc.quantize_linear'}}
  %q = qc.quantize_linear %x, %s, %n : (tensor<4xf32>, tensor<f32>, none) -> tensor<4xui8>
  return %q : tensor<4xui8>
}

// -----

// Blocked (groups of 2 along axis 0) uint4 constant: stored as i8 bytes
// packed along the last dim (3 values -> 2 bytes per row: 0x21, 0x03 for
// row 0), read at d1 floordiv 2, the nibble picked by the parity of d1
// (shift right by 0 or 4, mask 15); the scale and zero point at
// (d0 floordiv 2, d1).
// CHECK-DAG: #[[PACK:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 2)>
// CHECK-DAG: #[[BLOCK:.*]] = affine_map<(d0, d1) -> (d0 floordiv 2, d1)>
// CHECK-LABEL: func.func @dequantize_blocked_uint4
// CHECK: arith.constant dense<{{\[\[}}33, 3], [84, 6], [-121, 9], [-70, 12]]> : tensor<4x2xi8>
// CHECK: linalg.generic {indexing_maps = [#[[PACK]], #[[BLOCK]], #[[BLOCK]], #{{.*}}]
// CHECK: linalg.index 1
// CHECK: arith.shrui
// CHECK: arith.andi
// CHECK: arith.uitofp
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK-NOT: xi4>
func.func @dequantize_blocked_uint4() -> tensor<4x3xf32> {
  %q = qc.constant dense<[[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]> : tensor<4x3xui4>
  %s = qc.constant dense<[[0.5, 1.0, 2.0], [0.25, 0.125, 4.0]]> : tensor<2x3xf32>
  %z = qc.constant dense<[[8, 8, 8], [1, 2, 3]]> : tensor<2x3xui4>
  %y = qc.dequantize_linear %q, %s, %z {axis = 0 : i64, block_size = 2 : i64} : (tensor<4x3xui4>, tensor<2x3xf32>, tensor<2x3xui4>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// Signed int4 with an all-zero zero point: no subtraction; the nibble is
// sign-extended by a shift left then an arithmetic shift right.
// CHECK-LABEL: func.func @dequantize_blocked_int4
// CHECK: linalg.generic
// CHECK: arith.shli
// CHECK: arith.shrsi
// CHECK: arith.sitofp
// CHECK-NOT: arith.subf
// CHECK: arith.mulf
func.func @dequantize_blocked_int4() -> tensor<2x4xf32> {
  %q = qc.constant dense<[[-8, 7, -1, 0], [1, -2, 3, -4]]> : tensor<2x4xi4>
  %s = qc.constant dense<[[0.5, 1.0, 2.0, 4.0]]> : tensor<1x4xf32>
  %z = qc.constant dense<0> : tensor<1x4xi4>
  %y = qc.dequantize_linear %q, %s, %z {axis = 0 : i64, block_size = 2 : i64} : (tensor<2x4xi4>, tensor<1x4xf32>, tensor<1x4xi4>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// A blocked scale whose shape does not match the input is refused by name.
func.func @blocked_mismatch() -> tensor<4x3xf32> {
  %q = qc.constant dense<1> : tensor<4x3xi8>
  %s = qc.constant dense<1.0> : tensor<3x3xf32>
  %n = qc.none
  // expected-error @+2 {{cannot lower: blocked the scale 'tensor<3x3xf32>' does not match the input 'tensor<4x3xi8>' with axis 0 and block_size 2}}
  // expected-error @+1 {{failed to legalize operation 'qc.dequantize_linear'}}
  %y = qc.dequantize_linear %q, %s, %n {axis = 0 : i64, block_size = 2 : i64} : (tensor<4x3xi8>, tensor<3x3xf32>, none) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// MatMulInteger on 8-bit operands: uint8 A shifted into int8 (xor 0x80),
// an i8 x i8 -> i32 linalg.matmul (the runtime's int8 GEMM), B's column sums
// folded at compile time (constant B) or reduced, A's row sums reduced, and
// one epilogue subtracting za'*colsum(B) + zb'*rowsum(A) and adding
// K*za'*zb' (za' = za - 128 for the uint8 A).
// CHECK-LABEL: func.func @matmul_integer
// CHECK: linalg.generic
// CHECK: arith.xori {{.*}} : i8
// CHECK: linalg.matmul ins({{.*}} : tensor<2x3xi8>, tensor<3x2xi8>) outs({{.*}} : tensor<2x2xi32>)
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK: arith.extui
// CHECK: arith.subi
// CHECK: arith.muli
// CHECK: arith.subi
// CHECK: arith.extsi
// CHECK: arith.muli
// CHECK: arith.subi
// CHECK: arith.muli
// CHECK: arith.muli {{.*}}%c3_i32
// CHECK: arith.addi
func.func @matmul_integer(%b: tensor<3x2xi8>) -> tensor<2x2xi32> {
  %a = qc.constant dense<[[1, 200, 3], [4, 5, 255]]> : tensor<2x3xui8>
  %az = qc.constant dense<128> : tensor<ui8>
  %bz = qc.constant dense<[1, -1]> : tensor<2xi8>
  %y = qc.matmul_integer %a, %b, %az, %bz : (tensor<2x3xui8>, tensor<3x2xi8>, tensor<ui8>, tensor<2xi8>) -> tensor<2x2xi32>
  return %y : tensor<2x2xi32>
}

// -----

// A constant int8 B with per-column zero points and a signed A without one:
// only the B term, with A's row sums; the constant weights' column sums
// are not needed (za' = 0).
// CHECK-LABEL: func.func @matmul_integer_weights
// CHECK-NOT: arith.xori
// CHECK: linalg.matmul ins({{.*}} : tensor<4x3xi8>, tensor<3x2xi8>)
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: linalg.generic
// CHECK-NOT: arith.extui
// CHECK: arith.extsi
// CHECK: arith.muli
// CHECK: arith.subi
// CHECK-NEXT: linalg.yield
func.func @matmul_integer_weights(%a: tensor<4x3xi8>) -> tensor<4x2xi32> {
  %b = qc.constant dense<[[1, 2], [3, 4], [5, -6]]> : tensor<3x2xi8>
  %n = qc.none
  %bz = qc.constant dense<[1, -1]> : tensor<2xi8>
  %y = qc.matmul_integer %a, %b, %n, %bz : (tensor<4x3xi8>, tensor<3x2xi8>, none, tensor<2xi8>) -> tensor<4x2xi32>
  return %y : tensor<4x2xi32>
}

// -----

// ConvInteger (2-D, one group): uint8 x shifted, padded with its shifted
// zero point (a real zero), an i8 linalg.conv_2d_nchw_fchw into i32; the
// weights' sums per output channel folded at compile time
// (1+2+3+4 = 10, -1-2-3-4 = -10) and subtracted times za' = 3 - 128.
// CHECK-LABEL: func.func @conv_integer
// CHECK-DAG: %[[SUMS:.*]] = arith.constant dense<[10, -10]> : tensor<2xi32>
// CHECK: arith.fptoui
// CHECK: arith.xori
// CHECK: tensor.pad
// CHECK: linalg.conv_2d_nchw_fchw {{.*}} ins({{.*}} : tensor<1x1x6x6xi8>, tensor<2x1x2x2xi8>) outs({{.*}} : tensor<1x2x5x5xi32>)
// CHECK: linalg.generic {{.*}} ins({{.*}}, %[[SUMS]] :
// CHECK: arith.subi
// CHECK: arith.muli
// CHECK: arith.subi
func.func @conv_integer(%f: tensor<1x1x4x4xf32>) -> tensor<1x2x5x5xi32> {
  %s = qc.constant dense<0.5> : tensor<f32>
  %z = qc.constant dense<3> : tensor<ui8>
  %x = qc.quantize_linear %f, %s, %z : (tensor<1x1x4x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x1x4x4xui8>
  %w = qc.constant dense<[[[[1, 2], [3, 4]]], [[[-1, -2], [-3, -4]]]]> : tensor<2x1x2x2xi8>
  %xz = qc.constant dense<3> : tensor<ui8>
  %n = qc.none
  %y = qc.conv_integer %x, %w, %xz, %n {kernel_shape = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x1x4x4xui8>, tensor<2x1x2x2xi8>, tensor<ui8>, none) -> tensor<1x2x5x5xi32>
  return %y : tensor<1x2x5x5xi32>
}

// -----

// QLinearMatMul: the i32 accumulator requantized in one epilogue:
// round_half_even(acc * (sa * sb / sy)) + zy, saturated to [-128, 127].
// CHECK-LABEL: func.func @qlinear_matmul
// CHECK: arith.muli
// CHECK: linalg.generic
// CHECK: arith.divf
// CHECK: arith.sitofp {{.*}} : i32 to f32
// CHECK: arith.mulf
// CHECK: math.roundeven
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.fptosi {{.*}} to i8
func.func @qlinear_matmul(%a: tensor<2x3xi8>, %b: tensor<3x2xi8>) -> tensor<2x2xi8> {
  %sa = qc.constant dense<0.5> : tensor<f32>
  %za = qc.constant dense<1> : tensor<i8>
  %sb = qc.constant dense<[0.25, 0.125]> : tensor<2xf32>
  %zb = qc.constant dense<0> : tensor<i8>
  %sy = qc.constant dense<2.0> : tensor<f32>
  %zy = qc.constant dense<-3> : tensor<i8>
  %y = qc.qlinear_matmul %a, %sa, %za, %b, %sb, %zb, %sy, %zy : (tensor<2x3xi8>, tensor<f32>, tensor<i8>, tensor<3x2xi8>, tensor<2xf32>, tensor<i8>, tensor<f32>, tensor<i8>) -> tensor<2x2xi8>
  return %y : tensor<2x2xi8>
}

// -----

// DynamicQuantizeLinear: min and max reductions, the scale and zero point
// as scalars, then one quantizing loop.
// CHECK-LABEL: func.func @dynamic_quantize
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]
// CHECK: arith.minnumf
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]
// CHECK: arith.maxnumf
// CHECK: arith.divf
// CHECK: math.roundeven
// CHECK: linalg.generic
// CHECK: arith.fptoui {{.*}} to i8
// CHECK: tensor.from_elements
// CHECK: tensor.from_elements
func.func @dynamic_quantize(%x: tensor<2x3xf32>) -> (tensor<2x3xi8>, tensor<f32>) {
  %y, %s, %z = qc.dynamic_quantize_linear %x : (tensor<2x3xf32>) -> (tensor<2x3xui8>, tensor<f32>, tensor<ui8>)
  %n = qc.none
  %b = qc.constant dense<1> : tensor<3x3xi8>
  %m = qc.matmul_integer %y, %b, %z, %n : (tensor<2x3xui8>, tensor<3x3xi8>, tensor<ui8>, none) -> tensor<2x3xi32>
  %c = qc.cast %m {to = i8} : (tensor<2x3xi32>) -> tensor<2x3xi8>
  return %c, %s : tensor<2x3xi8>, tensor<f32>
}

// -----

// Per row (w8a8-dynamic-token): min and max of each row in one reduction
// over the last axis (both start at 0), the row's scale, divisor and zero
// point, then y elementwise reading them at the row; into the integer
// matmul with a zero point per row (the correction reads it along d0).
// CHECK-LABEL: func.func @dynamic_quantize_rows
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.minnumf
// CHECK: arith.maxnumf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel"]
// CHECK: arith.select
// CHECK: math.roundeven
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK: math.roundeven
// CHECK: arith.fptoui
// CHECK: linalg.matmul
// CHECK-NOT: qc.
func.func @dynamic_quantize_rows(%x: tensor<2x3xf32>) -> (tensor<2x3xi32>, tensor<2xf32>) {
  %y, %s, %z = qc.dynamic_quantize_rows %x : (tensor<2x3xf32>) -> (tensor<2x3xui8>, tensor<2xf32>, tensor<2xui8>)
  %n = qc.none
  %b = qc.constant dense<1> : tensor<3x3xi8>
  %m = qc.matmul_integer %y, %b, %z, %n : (tensor<2x3xui8>, tensor<3x3xi8>, tensor<2xui8>, none) -> tensor<2x3xi32>
  return %m, %s : tensor<2x3xi32>, tensor<2xf32>
}

// -----

// MatMul with 4-bit weights (uint4 in blocks of 2 along K, zero points):
// one contraction over the packed nibbles (two per byte along N), the scales
// and the zero points (as i8), dequantizing in its body and marked for the
// runtime's kernel; no float weight tensor is built.
// CHECK-LABEL: func.func @matmul_uint4
// CHECK-DAG: arith.constant dense<{{\[\[}}33], [67], [-128], [0]]> : tensor<4x1xi8>
// CHECK-DAG: arith.constant dense<{{\[\[}}8, 7], [1, 0]]> : tensor<2x2xi8>
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins({{.*}} : tensor<3x4xf32>, tensor<4x1xi8>, tensor<2x2xf32>, tensor<2x2xi8>)
// CHECK-SAME: attrs = {qc.group = 2 : i64, qc.kernel = "matmul_f32_w4", qc.signed = false}
// CHECK: linalg.index 1
// CHECK: arith.shrui
// CHECK: arith.subi
// CHECK: arith.sitofp
// CHECK: arith.mulf
// CHECK: } -> tensor<3x2xf32>
func.func @matmul_uint4(%a: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = qc.constant dense<[[1, 2], [3, 4], [0, 8], [0, 0]]> : tensor<4x2xui4>
  %s = qc.constant dense<[[0.5, 0.25], [1.0, 2.0]]> : tensor<2x2xf32>
  %z = qc.constant dense<[[8, 7], [1, 0]]> : tensor<2x2xui4>
  %d = qc.dequantize_linear %w, %s, %z {axis = 0 : i64, block_size = 2 : i64} : (tensor<4x2xui4>, tensor<2x2xf32>, tensor<2x2xui4>) -> tensor<4x2xf32>
  %y = qc.matmul %a, %d : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// uint4 weights whose values all fit in 3 bits (w3a16): two bit planes, the
// low one with bits 0-1 of four values per byte, the high one with bit 2 of
// eight values per byte (no value crosses a byte), marked for the runtime's
// 3-bit kernel; the body takes the value apart with shifts and masks.
// CHECK-LABEL: func.func @matmul_uint3
// CHECK-DAG: arith.constant dense<{{\[\[}}57, 57, 1], [-1, 0, 2]]> : tensor<2x3xi8>
// CHECK-DAG: arith.constant dense<{{\[\[}}120, 1], [15, 1]]> : tensor<2x2xi8>
// CHECK: linalg.generic
// CHECK-SAME: ins({{.*}} : tensor<3x2xf32>, tensor<2x3xi8>, tensor<2x2xi8>, tensor<1x9xf32>, tensor<1x9xi8>)
// CHECK-SAME: attrs = {qc.bits = 3 : i64, qc.group = 2 : i64, qc.kernel = "matmul_f32_wlow"}
// CHECK: arith.shrui
// CHECK: arith.ori
// CHECK: } -> tensor<3x9xf32>
func.func @matmul_uint3(%a: tensor<3x2xf32>) -> tensor<3x9xf32> {
  %w = qc.constant dense<[[1, 2, 3, 4, 5, 6, 7, 0, 5], [7, 7, 7, 7, 0, 0, 0, 0, 6]]> : tensor<2x9xui4>
  %s = qc.constant dense<0.5> : tensor<1x9xf32>
  %z = qc.constant dense<3> : tensor<1x9xui4>
  %d = qc.dequantize_linear %w, %s, %z {axis = 0 : i64, block_size = 2 : i64} : (tensor<2x9xui4>, tensor<1x9xf32>, tensor<1x9xui4>) -> tensor<2x9xf32>
  %y = qc.matmul %a, %d : (tensor<3x2xf32>, tensor<2x9xf32>) -> tensor<3x9xf32>
  return %y : tensor<3x9xf32>
}

// -----

// Values that fit in 2 bits (w2a16): the low plane only.
// CHECK-LABEL: func.func @matmul_uint2
// CHECK: arith.constant dense<{{\[\[}}57, 3], [-64, 2]]> : tensor<2x2xi8>
// CHECK: linalg.generic
// CHECK-SAME: ins({{.*}} : tensor<3x2xf32>, tensor<2x2xi8>, tensor<1x5xf32>, tensor<1x5xi8>)
// CHECK-SAME: attrs = {qc.bits = 2 : i64, qc.group = 2 : i64, qc.kernel = "matmul_f32_wlow"}
// CHECK-NOT: arith.ori
// CHECK: } -> tensor<3x5xf32>
func.func @matmul_uint2(%a: tensor<3x2xf32>) -> tensor<3x5xf32> {
  %w = qc.constant dense<[[1, 2, 3, 0, 3], [0, 0, 0, 3, 2]]> : tensor<2x5xui4>
  %s = qc.constant dense<0.5> : tensor<1x5xf32>
  %z = qc.constant dense<1> : tensor<1x5xui4>
  %d = qc.dequantize_linear %w, %s, %z {axis = 0 : i64, block_size = 2 : i64} : (tensor<2x5xui4>, tensor<1x5xf32>, tensor<1x5xui4>) -> tensor<2x5xf32>
  %y = qc.matmul %a, %d : (tensor<3x2xf32>, tensor<2x5xf32>) -> tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// -----

// fp8: QuantizeLinear to float8e4m3fn is one loop of integer operations on
// the f32 pattern (bitcast, shifts for the mantissa rounding) into i8;
// DequantizeLinear decodes the i8 pattern back. No fp8 type is left.
// CHECK-LABEL: func.func @fp8_qdq
// CHECK-NOT: f8E4M3FN
// CHECK: linalg.generic
// CHECK: arith.divf
// CHECK: arith.bitcast {{.*}} : f32 to i32
// CHECK: arith.shrui
// CHECK: math.roundeven
// CHECK: arith.trunci {{.*}} : i32 to i8
// CHECK: linalg.generic
// CHECK: arith.extui {{.*}} : i8 to i32
// CHECK: arith.bitcast {{.*}} : i32 to f32
// CHECK: arith.mulf
// CHECK-NOT: f8E4M3FN
func.func @fp8_qdq(%x: tensor<4xf32>) -> tensor<4xf32> {
  %s = qc.constant dense<0.5> : tensor<f32>
  %n = qc.none
  %q = qc.quantize_linear %x, %s, %n : (tensor<4xf32>, tensor<f32>, none) -> tensor<4xf8E4M3FN>
  %d = qc.dequantize_linear %q, %s, %n : (tensor<4xf8E4M3FN>, tensor<f32>, none) -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// An fp8 zero point must be zero.
func.func @fp8_zero_point(%x: tensor<4xf32>) -> tensor<4xf8E4M3FN> {
  %s = qc.constant dense<0.5> : tensor<f32>
  %z = qc.constant dense<1.0> : tensor<f8E4M3FN>
  // expected-error @+2 {{cannot lower: an fp8 zero point must be a constant zero}}
  // expected-error @+1 {{failed to legalize operation 'qc.quantize_linear'}}
  %q = qc.quantize_linear %x, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<f8E4M3FN>) -> tensor<4xf8E4M3FN>
  return %q : tensor<4xf8E4M3FN>
}
