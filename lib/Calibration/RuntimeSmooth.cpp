//===- RuntimeSmooth.cpp - runtime smoothing of dynamic activations -------===//
//
// See RuntimeSmooth.h.
//
//===----------------------------------------------------------------------===//
#include "RuntimeSmooth.h"
#include "GenericOps.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <algorithm>

using namespace mlir;

namespace quantc::calib {
namespace {
Operation *make(OpBuilder &b, Location loc, StringRef name, ValueRange operands, Type type,
                ArrayRef<NamedAttribute> attrs = {}) {
  return createOp(b, loc, name, operands, TypeRange(type), attrs);
}

Value i64Const(OpBuilder &b, Location loc, ArrayRef<int64_t> v) { return i64Vector(b, loc, v); }

Type unranked(Type e) { return UnrankedTensorType::get(e); }

/// Group [k0, k1) of a grouped product: x[:, k0..k1] and rows k0..k1 of
/// the int8 weight `kn` [K, N] as a constant.
std::pair<Value, Value> groupOperands(OpBuilder &b, Location loc, Value x, Value none,
                                      const std::vector<int8_t> &kn, int64_t k0, int64_t k1,
                                      int64_t N) {
  Value xg = make(b, loc, "qc.slice",
                  {x, i64Const(b, loc, {k0}), i64Const(b, loc, {k1}), i64Const(b, loc, {1}), none},
                  unranked(cast<TensorType>(x.getType()).getElementType()))
                 ->getResult(0);
  auto wType = RankedTensorType::get({k1 - k0, N}, b.getI8Type());
  Value wg = qc::ConstantOp::create(
      b, loc, wType,
      DenseElementsAttr::get(wType, ArrayRef<int8_t>(kn.data() + k0 * N, (k1 - k0) * N)));
  return {xg, wg};
}
} // namespace

int64_t runtimeSmoothGroup(int64_t K) {
  for (int64_t g : {128, 64, 32})
    if (K % g == 0)
      return g;
  return K;
}

std::pair<Value, Value> runtimeSmoothRows(OpBuilder &b, Location loc, Value x, int64_t K,
                                          int64_t G) {
  Type f32 = b.getF32Type();
  const int64_t ng = K / G;
  Value ax = make(b, loc, "qc.abs", {x}, unranked(f32))->getResult(0);
  // s_j over the rows: [1, K]; then per group: [K / G, 1].
  Value s = make(b, loc, "qc.reduce_max", {ax, i64Const(b, loc, {0})}, unranked(f32),
                 {b.getNamedAttr("keepdims", b.getI64IntegerAttr(1))})
                ->getResult(0);
  Value sg = make(b, loc, "qc.reshape", {s, i64Const(b, loc, {ng, G})}, unranked(f32))->getResult(0);
  sg = make(b, loc, "qc.reduce_max", {sg, i64Const(b, loc, {1})}, unranked(f32),
            {b.getNamedAttr("keepdims", b.getI64IntegerAttr(1))})
           ->getResult(0);
  auto scalar = RankedTensorType::get({}, f32);
  Value eps = qc::ConstantOp::create(b, loc, scalar, DenseElementsAttr::get(scalar, 1e-12f));
  sg = make(b, loc, "qc.max", {sg, eps}, unranked(f32))->getResult(0);
  Value sk = make(b, loc, "qc.expand", {sg, i64Const(b, loc, {ng, G})}, unranked(f32))->getResult(0);
  sk = make(b, loc, "qc.reshape", {sk, i64Const(b, loc, {1, K})}, unranked(f32))->getResult(0);
  Value xs = make(b, loc, "qc.div", {x, sk}, unranked(f32))->getResult(0);
  return {xs, sg};
}

Value groupedIntegerProduct(OpBuilder &b, Location loc, Value q, Value z,
                            const std::vector<int8_t> &kn, int64_t K, int64_t N, int64_t G,
                            Value sg, const std::vector<float> &wscale) {
  Type f32 = b.getF32Type();
  Value none = qc::NoneOp::create(b, loc, b.getNoneType());
  Value acc;
  for (int64_t g = 0; g * G < K; ++g) {
    const int64_t k0 = g * G, k1 = std::min(K, k0 + G);
    auto [qg, wg] = groupOperands(b, loc, q, none, kn, k0, k1, N);
    Value ig = make(b, loc, "qc.matmul_integer", {qg, wg, z, none}, unranked(b.getI32Type()))
                   ->getResult(0);
    Value fg = make(b, loc, "qc.cast", {ig}, unranked(f32),
                    {b.getNamedAttr("to", TypeAttr::get(f32))})
                   ->getResult(0);
    if (sg) { // s_g as [1, 1] against [M, N]
      Value s = make(b, loc, "qc.slice",
                     {sg, i64Const(b, loc, {g}), i64Const(b, loc, {g + 1}), i64Const(b, loc, {0}),
                      none},
                     unranked(f32))
                    ->getResult(0);
      fg = make(b, loc, "qc.mul", {fg, s}, unranked(f32))->getResult(0);
    }
    if (!wscale.empty()) { // the group's weight scales as [N]
      auto st = RankedTensorType::get({N}, f32);
      Value ws = qc::ConstantOp::create(
          b, loc, st, DenseElementsAttr::get(st, ArrayRef<float>(wscale.data() + g * N, N)));
      fg = make(b, loc, "qc.mul", {fg, ws}, unranked(f32))->getResult(0);
    }
    acc = acc ? make(b, loc, "qc.add", {acc, fg}, unranked(f32))->getResult(0) : fg;
  }
  return acc;
}

Value groupedRowsProduct(OpBuilder &b, Location loc, Value x, const std::vector<int8_t> &kn,
                         int64_t K, int64_t N, int64_t G, const std::vector<float> &wscale,
                         ArrayRef<NamedAttribute> rowAttrs) {
  Type f32 = b.getF32Type();
  Type ui8 = IntegerType::get(b.getContext(), 8, IntegerType::Unsigned);
  Value none = qc::NoneOp::create(b, loc, b.getNoneType());
  Value acc;
  for (int64_t g = 0; g * G < K; ++g) {
    const int64_t k0 = g * G, k1 = std::min(K, k0 + G);
    auto [xg, wg] = groupOperands(b, loc, x, none, kn, k0, k1, N);
    Operation *dq = createOp(b, loc, "qc.dynamic_quantize_rows", {xg},
                             {unranked(ui8), unranked(f32), unranked(ui8)}, rowAttrs);
    Value ig = make(b, loc, "qc.matmul_integer", {dq->getResult(0), wg, dq->getResult(2), none},
                    unranked(b.getI32Type()))
                   ->getResult(0);
    Value fg = make(b, loc, "qc.cast", {ig}, unranked(f32), {b.getNamedAttr("to", TypeAttr::get(f32))})
                   ->getResult(0);
    // The rows' scales [M, 1] times the group's weight scales [N].
    Value d = make(b, loc, "qc.unsqueeze", {dq->getResult(1), i64Const(b, loc, {1})}, unranked(f32))
                  ->getResult(0);
    auto st = RankedTensorType::get({N}, f32);
    Value ws = qc::ConstantOp::create(
        b, loc, st, DenseElementsAttr::get(st, ArrayRef<float>(wscale.data() + g * N, N)));
    Value c = make(b, loc, "qc.mul", {d, ws}, unranked(f32))->getResult(0);
    fg = make(b, loc, "qc.mul", {fg, c}, unranked(f32))->getResult(0);
    acc = acc ? make(b, loc, "qc.add", {acc, fg}, unranked(f32))->getResult(0) : fg;
  }
  return acc;
}

} // namespace quantc::calib
