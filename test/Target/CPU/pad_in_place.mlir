// RUN: quant-opt %s --pass-pipeline="builtin.module(func.func(quantc-cpu-pad-in-place))" | FileCheck %s

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A 1-byte producer (a quantize loop) is written into the interior of the
// padded tensor; only the border slabs are filled: H low 1 / high 2, W low 0
// (no slab) / high 1.
// CHECK-LABEL: func.func @int8
// CHECK-NOT: tensor.pad
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x4x13x11xi8>
// CHECK: %[[I:.*]] = tensor.extract_slice %[[E]][0, 0, 1, 0] [1, 4, 10, 10] [1, 1, 1, 1]
// CHECK: %[[G:.*]] = linalg.generic {{.*}} outs(%[[I]] : tensor<1x4x10x10xi8>)
// CHECK: %[[R:.*]] = tensor.insert_slice %[[G]] into %[[E]][0, 0, 1, 0] [1, 4, 10, 10] [1, 1, 1, 1]
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[R]][0, 0, 0, 0] [1, 4, 1, 11] [1, 1, 1, 1]
// CHECK: %[[F0:.*]] = linalg.fill ins(%{{.*}} : i8) outs(%[[S0]] : tensor<1x4x1x11xi8>)
// CHECK: %[[R0:.*]] = tensor.insert_slice %[[F0]] into %[[R]][0, 0, 0, 0] [1, 4, 1, 11]
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[R0]][0, 0, 11, 0] [1, 4, 2, 11] [1, 1, 1, 1]
// CHECK: linalg.fill
// CHECK: tensor.insert_slice {{.*}}[0, 0, 11, 0] [1, 4, 2, 11]
// CHECK: tensor.extract_slice {{.*}}[0, 0, 0, 10] [1, 4, 13, 1] [1, 1, 1, 1]
// CHECK: linalg.fill
// CHECK: %[[LAST:.*]] = tensor.insert_slice {{.*}}[0, 0, 0, 10] [1, 4, 13, 1]
// CHECK-NOT: tensor.extract_slice
// CHECK: return %[[LAST]]
func.func @int8(%x: tensor<1x4x10x10xf32>) -> tensor<1x4x13x11xi8> {
  %e = tensor.empty() : tensor<1x4x10x10xi8>
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x10x10xf32>) outs(%e : tensor<1x4x10x10xi8>) {
  ^bb0(%in: f32, %out: i8):
    %r = arith.fptosi %in : f32 to i8
    linalg.yield %r : i8
  } -> tensor<1x4x10x10xi8>
  %zp = arith.constant -3 : i8
  %p = tensor.pad %q low[0, 0, 1, 0] high[0, 0, 2, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zp : i8
  } : tensor<1x4x10x10xi8> to tensor<1x4x13x11xi8>
  return %p : tensor<1x4x13x11xi8>
}

// A large f32 buffer (1x8x258x258 floats, 2.1 MB) also, with the pad value
// a constant inside the pad's region.
// CHECK-LABEL: func.func @f32_large
// CHECK-NOT: tensor.pad
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x8x256x256xf32>)
// CHECK-COUNT-4: linalg.fill
func.func @f32_large(%x: tensor<1x8x256x256xf32>) -> tensor<1x8x258x258xf32> {
  %e = tensor.empty() : tensor<1x8x256x256xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x8x256x256xf32>) outs(%e : tensor<1x8x256x256xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<1x8x256x256xf32>
  %p = tensor.pad %y low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    %z = arith.constant 0.0 : f32
    tensor.yield %z : f32
  } : tensor<1x8x256x256xf32> to tensor<1x8x258x258xf32>
  return %p : tensor<1x8x258x258xf32>
}

// Left alone: a small f32 buffer (the copy was cheaper there), a producer
// with a second user, and a producer that reads its output operand.
// CHECK-LABEL: func.func @f32_small
// CHECK: tensor.pad
func.func @f32_small(%x: tensor<1x4x10x10xf32>) -> tensor<1x4x12x12xf32> {
  %e = tensor.empty() : tensor<1x4x10x10xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x10x10xf32>) outs(%e : tensor<1x4x10x10xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<1x4x10x10xf32>
  %z = arith.constant 0.0 : f32
  %p = tensor.pad %y low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %z : f32
  } : tensor<1x4x10x10xf32> to tensor<1x4x12x12xf32>
  return %p : tensor<1x4x12x12xf32>
}

// CHECK-LABEL: func.func @shared
// CHECK: tensor.pad
func.func @shared(%x: tensor<1x4x10x10xf32>) -> (tensor<1x4x12x12xi8>, tensor<1x4x10x10xi8>) {
  %e = tensor.empty() : tensor<1x4x10x10xi8>
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x10x10xf32>) outs(%e : tensor<1x4x10x10xi8>) {
  ^bb0(%in: f32, %out: i8):
    %r = arith.fptosi %in : f32 to i8
    linalg.yield %r : i8
  } -> tensor<1x4x10x10xi8>
  %zp = arith.constant 0 : i8
  %p = tensor.pad %q low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zp : i8
  } : tensor<1x4x10x10xi8> to tensor<1x4x12x12xi8>
  return %p, %q : tensor<1x4x12x12xi8>, tensor<1x4x10x10xi8>
}

// CHECK-LABEL: func.func @reads_out
// CHECK: tensor.pad
func.func @reads_out(%x: tensor<1x4x10x10xi8>, %acc: tensor<1x4x10x10xi8>) -> tensor<1x4x12x12xi8> {
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x10x10xi8>) outs(%acc : tensor<1x4x10x10xi8>) {
  ^bb0(%in: i8, %out: i8):
    %r = arith.addi %in, %out : i8
    linalg.yield %r : i8
  } -> tensor<1x4x10x10xi8>
  %zp = arith.constant 0 : i8
  %p = tensor.pad %q low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zp : i8
  } : tensor<1x4x10x10xi8> to tensor<1x4x12x12xi8>
  return %p : tensor<1x4x12x12xi8>
}
