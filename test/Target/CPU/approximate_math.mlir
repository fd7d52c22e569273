// RUN: quant-opt %s --pass-pipeline="builtin.module(func.func(quantc-cpu-approximate-math))" | FileCheck %s

// f32 exp, tanh and erf become arith (FMA polynomials, the exponent built
// in the bits); log and f64 exp are left to libm / LLVM.
// CHECK-LABEL: func.func @f32
// CHECK-NOT: math.exp
// CHECK-NOT: math.tanh
// CHECK-NOT: math.erf
// CHECK: math.fma
// CHECK: arith.bitcast
// CHECK: math.log
// CHECK-NOT: math.exp
// CHECK: return
func.func @f32(%x: f32) -> (f32, f32, f32, f32) {
  %e = math.exp %x : f32
  %t = math.tanh %x : f32
  %r = math.erf %x : f32
  %l = math.log %x : f32
  return %e, %t, %r, %l : f32, f32, f32, f32
}

// CHECK-LABEL: func.func @f64
// CHECK: math.exp
func.func @f64(%x: f64) -> f64 {
  %e = math.exp %x : f64
  return %e : f64
}
