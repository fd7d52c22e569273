//===- QuantizeOps.cpp - QuantizeLinear / DequantizeLinear ----------------===//
//
//   quantize:    q = saturate(round_half_even(x / scale) + zp), NaN -> zp
//   dequantize:  x = (q - zp) * scale
//
// with one scale (per tensor) or one per index of `axis` (per channel),
// as ONNX defines them and lib/Quant computes them. Quantized values are
// signless integer tensors (unsigned ones read with uitofp/fptoui); a
// `!quant.uniform` element type is converted to and from its storage
// type with quant.scast. Blocked scales (a scale of the input's rank whose
// `axis` dim is ceil(dim / block_size)) are lowered for DequantizeLinear.
// A 4-bit constant input is stored packed two per byte (along its last
// dim, low nibble first) and unpacked in the dequantizing loop, so int4
// weights take half a byte in the compiled artifact. fp8 (e4m3fn, e5m2)
// values are bit patterns in i8, encoded and decoded with integer ops.
//
// Integer ops: 8-bit MatMulInteger / ConvInteger (2-D, one group) become
// int8 x int8 -> int32 linalg matmuls / convolutions (the runtime's int8
// kernels) with zero-point correction terms (see "The int8 GEMM path"
// below); other shapes widen their operands minus the zero points to i32
// and become a qc.matmul / qc.conv on i32 (loops); QLinearMatMul / QLinearConv add the
// requantization epilogue y = saturate(round(acc * sx * sw / sy) + zy)
// (the multiplier in f32, as ONNX Runtime computes it). DynamicQuantizeLinear
// reduces min/max and quantizes to uint8.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace quantc::qc;
using namespace quantc::lowering;

namespace {

/// The signless storage type of a quantized or integer element type, and
/// whether its values are unsigned (null for anything else).
IntegerType storageOf(Type elem, bool *isUnsigned = nullptr) {
  bool u = false;
  IntegerType st;
  if (auto q = dyn_cast<quant::QuantizedType>(elem)) {
    st = dyn_cast<IntegerType>(q.getStorageType());
    u = !q.isSigned();
  } else if (auto i = dyn_cast<IntegerType>(elem)) {
    st = i;
    u = i.isUnsigned();
  }
  if (!st)
    return {};
  if (isUnsigned)
    *isUnsigned = u;
  return IntegerType::get(elem.getContext(), st.getWidth());
}

/// `v` (the converted operand of an op whose original operand had type
/// `original`) as a signless integer tensor.
Value asSignless(ConversionPatternRewriter &rw, Location l, Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  // An unsigned graph input arrives through the cast from its signless
  // bits that quantc-cpu-unsigned-boundary puts at @main's entry.
  if (auto cast = v.getDefiningOp<UnrealizedConversionCastOp>())
    if (cast->getNumOperands() == 1)
      if (auto st = dyn_cast<RankedTensorType>(cast->getOperand(0).getType());
          st && t && st.getShape() == t.getShape() && st.getElementType().isSignlessInteger() &&
          st.getElementType().getIntOrFloatBitWidth() ==
              t.getElementType().getIntOrFloatBitWidth())
        return cast->getOperand(0);
  // Other unsigned tensors than constants and the results of the ops
  // lowered here have no signless form at this level.
  if (!t || t.getElementType().isUnsignedInteger())
    return {};
  if (auto q = dyn_cast<quant::QuantizedType>(t.getElementType()))
    return quant::StorageCastOp::create(
        rw, l, t.clone(IntegerType::get(t.getContext(), q.getStorageTypeIntegralWidth())), v);
  return v;
}

/// A 4-bit constant (the original qc.constant) packed two per byte along
/// its last dim, element 2i in the low nibble of byte i, as an i8
/// arith.constant; null if `orig` is not such a constant.
Value packNibbles(OpBuilder &b, Location l, Value orig) {
  auto c = orig.getDefiningOp<ConstantOp>();
  auto dense = c ? dyn_cast<DenseIntElementsAttr>(c.getValue()) : DenseIntElementsAttr();
  auto t = dyn_cast<RankedTensorType>(orig.getType());
  if (!dense || !t || t.getRank() == 0)
    return {};
  int64_t rank = t.getRank();
  int64_t last = t.getDimSize(rank - 1), half = (last + 1) / 2;
  int64_t rows = t.getNumElements() / std::max<int64_t>(1, last);
  std::vector<int8_t> bytes(rows * half, 0);
  int64_t i = 0;
  for (const APInt &v : dense.getValues<APInt>()) {
    int64_t row = i / last, col = i % last;
    uint8_t nib = static_cast<uint8_t>(v.getZExtValue() & 0xF);
    bytes[row * half + col / 2] |= static_cast<int8_t>(col % 2 ? nib << 4 : nib);
    ++i;
  }
  SmallVector<int64_t> shape(t.getShape());
  shape.back() = half;
  auto pt = RankedTensorType::get(shape, b.getI8Type());
  return arith::ConstantOp::create(b, l, DenseElementsAttr::get(pt, ArrayRef<int8_t>(bytes)));
}

/// The 4-bit value at index `idx` (along the packed dim) of its byte, as
/// i8: zero-extended, or sign-extended for int4.
Value nibbleAt(OpBuilder &b, Location l, Value byte, Value idx, bool isSigned) {
  Type i8 = b.getI8Type();
  Value odd = arith::IndexCastOp::create(
      b, l, i8, arith::AndIOp::create(b, l, idx, arith::ConstantIndexOp::create(b, l, 1)));
  Value four = arith::ConstantOp::create(b, l, b.getI8IntegerAttr(4));
  Value shift = arith::MulIOp::create(b, l, odd, four); // 0 or 4
  if (!isSigned)
    return arith::AndIOp::create(b, l, arith::ShRUIOp::create(b, l, byte, shift),
                                 arith::ConstantOp::create(b, l, b.getI8IntegerAttr(15)));
  Value up = arith::ShLIOp::create(b, l, byte, arith::SubIOp::create(b, l, four, shift));
  return arith::ShRSIOp::create(b, l, up, four);
}

/// Maps of a scale or zero-point operand: scalar (or one element) for
/// every element, or 1-D along `axis`.
FailureOr<AffineMap> paramMap(Operation *op, Value param, RankedTensorType data, int64_t axis,
                              StringRef what, int64_t blockSize = 0) {
  auto t = dyn_cast<RankedTensorType>(param.getType());
  MLIRContext *ctx = op->getContext();
  int64_t rank = data.getRank();
  // A 1-D parameter along a symbolic axis (per-row scales of a symbolic
  // sequence length) may be dynamic too: it matches the data's dim.
  bool dynAlong = t && t.getRank() == 1 && t.isDynamicDim(0) && blockSize == 0 &&
                  (axis < 0 ? axis + rank : axis) >= 0 && (axis < 0 ? axis + rank : axis) < rank &&
                  data.isDynamicDim(axis < 0 ? axis + rank : axis);
  if (dynAlong)
    return AffineMap::get(rank, 0, {getAffineDimExpr(axis < 0 ? axis + rank : axis, ctx)}, ctx);
  if (!t || !t.hasStaticShape())
    return op->emitError("cannot lower: ") << what << " needs a static shape";
  if (blockSize > 0) {
    if (axis < 0)
      axis += rank;
    SmallVector<AffineExpr> exprs;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t want = d == axis ? (data.getDimSize(d) + blockSize - 1) / blockSize
                               : data.getDimSize(d);
      if (t.getRank() != rank || t.getDimSize(d) != want)
        return op->emitError("cannot lower: blocked ")
               << what << " " << t << " does not match the input " << data << " with axis "
               << axis << " and block_size " << blockSize;
      exprs.push_back(d == axis ? getAffineDimExpr(d, ctx).floorDiv(blockSize)
                                : getAffineDimExpr(d, ctx));
    }
    return AffineMap::get(rank, 0, exprs, ctx);
  }
  if (t.getNumElements() == 1)
    return AffineMap::get(rank, 0,
                          SmallVector<AffineExpr>(t.getRank(), getAffineConstantExpr(0, ctx)), ctx);
  if (t.getRank() != 1)
    return op->emitError("cannot lower: blocked ") << what << " (rank " << t.getRank()
                                                    << ") is not lowered yet";
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank || t.getDimSize(0) != data.getDimSize(axis))
    return op->emitError("cannot lower: ") << what << " of " << t.getDimSize(0)
                                           << " values does not match axis " << axis;
  return AffineMap::get(rank, 0, {getAffineDimExpr(axis, ctx)}, ctx);
}

/// Appends the scale and (if present) zero point of a Quantize/Dequantize
/// op to the generic's inputs and maps. Sets `hasZp`.
LogicalResult addParams(Operation *op, ConversionPatternRewriter &rw, Value scale, Value zp,
                        RankedTensorType data, int64_t axis, SmallVectorImpl<Value> &ins,
                        SmallVectorImpl<AffineMap> &maps, bool &hasZp, int64_t blockSize = 0,
                        Value originalZp = {}) {
  auto sm = paramMap(op, scale, data, axis, "the scale", blockSize);
  if (failed(sm))
    return failure();
  ins.push_back(scale);
  maps.push_back(*sm);
  hasZp = !isNoneValue(zp);
  // A constant all-zero zero point is no zero point.
  if (hasZp && originalZp)
    if (auto c = originalZp.getDefiningOp<ConstantOp>())
      if (auto d = dyn_cast<DenseIntElementsAttr>(c.getValue()))
        if (d.isSplat() && d.getSplatValue<APInt>().isZero())
          hasZp = false;
  if (!hasZp)
    return success();
  zp = asSignless(rw, op->getLoc(), zp);
  if (!zp)
    return op->emitError("cannot lower: a zero point of unsigned type that is not a constant "
                         "is not lowered yet");
  auto zm = paramMap(op, zp, data, axis, "the zero point", blockSize);
  if (failed(zm))
    return failure();
  ins.push_back(zp);
  maps.push_back(*zm);
  return success();
}

/// A static ranked tensor type (unsigned element types allowed: these ops
/// read them), or null after an error.
RankedTensorType staticType(Operation *op, Value v, StringRef what) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape()) {
    op->emitError() << "cannot lower: " << what << " has type " << v.getType()
                    << "; the lowering needs static shapes";
    return {};
  }
  return t;
}

/// Unsigned tensors that are not constants are lowered to their signless
/// bits; only these ops know to read them back as unsigned.
LogicalResult checkUnsignedUsers(Operation *op, Value v) {
  auto t = dyn_cast<TensorType>(v.getType());
  if (!t || !t.getElementType().isUnsignedInteger())
    return success();
  for (Operation *user : v.getUsers())
    if (!isa<DequantizeLinearOp, MatMulIntegerOp, ConvIntegerOp, QLinearMatMulOp,
             QLinearConvOp, UnrealizedConversionCastOp>(user) &&
        // A slice moves the bits; its own users must be among these (-rs).
        !(isa<SliceOp>(user) && succeeded(checkUnsignedUsers(user, user->getResult(0)))))
      return op->emitError("cannot lower: ")
             << op->getName() << " result of " << t.getElementType() << " used by '"
             << user->getName()
             << "' (unsigned tensors are only lowered into DequantizeLinear, "
                "MatMulInteger, ConvInteger, QLinearMatMul and QLinearConv, directly or through a "
                "Slice, yet)";
  return success();
}

bool isUnsignedElem(Value original) {
  auto t = dyn_cast<TensorType>(original.getType());
  if (!t)
    return false;
  bool u = false;
  storageOf(t.getElementType(), &u);
  return u;
}

/// x - zero_point as an i32 tensor; x and the zero point (scalar, or 1-D
/// along `axis`) are read unsigned when their original types are.
Value widenMinusZp(Operation *op, ConversionPatternRewriter &rw, Value origX, Value x,
                   Value origZp, Value zp, int64_t axis, StringRef what) {
  Location l = op->getLoc();
  auto xt = dyn_cast<RankedTensorType>(x.getType());
  if (!xt || !xt.hasStaticShape()) {
    op->emitError("cannot lower: ") << what << " needs a static shape";
    return {};
  }
  Value xs = asSignless(rw, l, x);
  if (!xs) {
    op->emitError("cannot lower: ")
        << what << " is an unsigned graph input (uint8 at the graph boundary is not lowered yet)";
    return {};
  }
  xt = cast<RankedTensorType>(xs.getType());
  bool xu = isUnsignedElem(origX);
  SmallVector<Value> ins{xs};
  SmallVector<AffineMap> maps{rw.getMultiDimIdentityMap(xt.getRank())};
  bool hasZp = !isNoneValue(zp), zu = hasZp && isUnsignedElem(origZp);
  if (hasZp) {
    Value zs = asSignless(rw, l, zp);
    if (!zs) {
      op->emitError("cannot lower: the zero point of ")
          << what << " is an unsigned graph input (not lowered yet)";
      return {};
    }
    auto m = paramMap(op, zs, xt, axis, "the zero point");
    if (failed(m))
      return {};
    ins.push_back(zs);
    maps.push_back(*m);
  }
  Type i32 = rw.getI32Type();
  return buildElementwiseWithMaps(
      rw, l, RankedTensorType::get(xt.getShape(), i32), ins, maps,
      [&](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
        auto ext = [&](Value s, bool u) -> Value {
          if (s.getType() == i32)
            return s;
          return u ? Value(arith::ExtUIOp::create(b, nl, i32, s))
                   : Value(arith::ExtSIOp::create(b, nl, i32, s));
        };
        Value r = ext(v[0], xu);
        if (hasZp)
          r = arith::SubIOp::create(b, nl, r, ext(v[1], zu));
        return r;
      });
}

/// An op like `op` (a qc.conv_integer or qc.qlinear_conv) as a qc.conv of
/// i32 operands with the same attributes: lowered by the Conv patterns.
Value buildIntConv(Operation *op, ConversionPatternRewriter &rw, Value x, Value w, Value bias,
                   RankedTensorType resultType) {
  OperationState st(op->getLoc(), ConvOp::getOperationName());
  st.addOperands({x, w, bias});
  st.addTypes(RankedTensorType::get(resultType.getShape(), rw.getI32Type()));
  for (NamedAttribute a : op->getAttrs())
    st.addAttribute(a.getName(), a.getValue());
  return rw.create(st)->getResult(0);
}

/// y = saturate(round_half_even(acc * multiplier) + y_zero_point) with
/// multiplier = x_scale * w_scale / y_scale in f32 (w_scale scalar or along
/// `axis`), into the result's storage (signless for unsigned results).
Value requantize(Operation *op, ConversionPatternRewriter &rw, Value acc, Value xScale,
                 Value wScale, Value yScale, Value origYZp, Value yZp, int64_t axis,
                 RankedTensorType resultType) {
  Location l = op->getLoc();
  auto at = cast<RankedTensorType>(acc.getType());
  bool isUnsigned = false;
  IntegerType storage = storageOf(resultType.getElementType(), &isUnsigned);
  if (!storage) {
    op->emitError("cannot lower: result of ") << resultType.getElementType();
    return {};
  }
  Value zs = asSignless(rw, l, yZp);
  if (!zs) {
    op->emitError("cannot lower: an unsigned y_zero_point that is not a constant");
    return {};
  }
  SmallVector<Value> ins{acc, xScale, wScale, yScale, zs};
  SmallVector<AffineMap> maps{rw.getMultiDimIdentityMap(at.getRank())};
  for (auto [v, ax, what] : {std::tuple{xScale, int64_t(0), "x_scale"},
                             std::tuple{wScale, axis, "w_scale"},
                             std::tuple{yScale, int64_t(0), "y_scale"},
                             std::tuple{zs, int64_t(0), "y_zero_point"}}) {
    auto m = paramMap(op, v, at, ax, what);
    if (failed(m))
      return {};
    maps.push_back(*m);
  }
  bool zu = isUnsignedElem(origYZp);
  unsigned bits = storage.getWidth();
  double qmin = isUnsigned ? 0 : -std::ldexp(1.0, bits - 1);
  double qmax = isUnsigned ? std::ldexp(1.0, bits) - 1 : std::ldexp(1.0, bits - 1) - 1;
  Value q = buildElementwiseWithMaps(
      rw, l, RankedTensorType::get(at.getShape(), storage), ins, maps,
      [&](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
        Type f = b.getF32Type();
        auto toF = [&](Value s) -> Value {
          return s.getType() == f ? s : Value(arith::ExtFOp::create(b, nl, f, s));
        };
        Value mult = arith::DivFOp::create(
            b, nl, arith::MulFOp::create(b, nl, toF(v[1]), toF(v[2])), toF(v[3]));
        Value x = arith::MulFOp::create(b, nl, arith::SIToFPOp::create(b, nl, f, v[0]), mult);
        Value zpf = zu ? Value(arith::UIToFPOp::create(b, nl, f, v[4]))
                       : Value(arith::SIToFPOp::create(b, nl, f, v[4]));
        Value s = arith::AddFOp::create(b, nl, math::RoundEvenOp::create(b, nl, x), zpf);
        s = arith::MaximumFOp::create(b, nl, s, arith::ConstantOp::create(b, nl, b.getFloatAttr(f, qmin)));
        s = arith::MinimumFOp::create(b, nl, s, arith::ConstantOp::create(b, nl, b.getFloatAttr(f, qmax)));
        return isUnsigned ? Value(arith::FPToUIOp::create(b, nl, storage, s))
                          : Value(arith::FPToSIOp::create(b, nl, storage, s));
      });
  if (isa<quant::QuantizedType>(resultType.getElementType()))
    q = quant::StorageCastOp::create(rw, l, resultType, q);
  return q;
}

/// Both operands of an integer matmul or conv minus their zero points, as
/// i32 (A's zero point along `aAxis`, B's along `bAxis`); null after an
/// error.
std::pair<Value, Value> widenOperands(Operation *op, ConversionPatternRewriter &rw, Value origA,
                                      Value a, Value origAZp, Value aZp, int64_t aAxis,
                                      StringRef aName, Value origB, Value b, Value origBZp,
                                      Value bZp, int64_t bAxis, StringRef bName) {
  Value A = widenMinusZp(op, rw, origA, a, origAZp, aZp, aAxis, aName);
  if (!A)
    return {};
  Value B = widenMinusZp(op, rw, origB, b, origBZp, bZp, bAxis, bName);
  if (!B)
    return {};
  return {A, B};
}

//===----------------------------------------------------------------------===//
// The int8 GEMM path of the integer ops.
//
// With a' = a - s and za' = za - s (s = 128 for unsigned operands, so that
// a' fits int8; 0 for signed ones), sum_k (a - za)(b - zb) =
//   P - za' * colsum(b') - zb' * rowsum(a') + K * za' * zb',   P = a' b'
// where P is an int8 x int8 -> int32 matmul or convolution (the runtime's
// kernels), colsum(b') of a constant b is computed here at compile time,
// and the terms of zero zero points are left out. A convolution pads a'
// with za' (a real zero), so the window sums cover all taps. The terms
// and the rest of the epilogue (bias, requantization) are one element-wise
// generic that fuses with its neighbours.
//===----------------------------------------------------------------------===//

/// The values of a constant 8-bit operand (the original value: a
/// qc.constant with dense or dense_resource data), minus 128 when
/// unsigned; nullopt for anything else.
std::optional<std::vector<int32_t>> shiftedConstant(Value orig) {
  auto c = orig ? orig.getDefiningOp<ConstantOp>() : ConstantOp();
  auto t = orig ? dyn_cast<RankedTensorType>(orig.getType()) : RankedTensorType();
  if (!c || !t || !t.hasStaticShape())
    return std::nullopt;
  bool u = false;
  IntegerType st = storageOf(t.getElementType(), &u);
  if (!st || st.getWidth() != 8)
    return std::nullopt;
  std::vector<int32_t> out;
  out.reserve(t.getNumElements());
  if (auto d = dyn_cast<DenseIntElementsAttr>(c.getValue())) {
    for (const APInt &x : d.getValues<APInt>())
      out.push_back(u ? int32_t(x.getZExtValue()) - 128 : int32_t(x.getSExtValue()));
  } else if (auto r = dyn_cast<DenseResourceElementsAttr>(c.getValue())) {
    AsmResourceBlob *blob = r.getRawHandle().getBlob();
    if (!blob || int64_t(blob->getData().size()) != t.getNumElements())
      return std::nullopt;
    for (char ch : blob->getData())
      out.push_back(u ? int32_t(uint8_t(ch)) - 128 : int32_t(int8_t(ch)));
  } else {
    return std::nullopt;
  }
  return out;
}

bool isByteInteger(Value original) {
  auto t = dyn_cast<RankedTensorType>(original.getType());
  IntegerType st = t ? storageOf(t.getElementType()) : IntegerType();
  return st && st.getWidth() == 8;
}

/// True when the shifted zero point za' of operand `origX` is known zero:
/// a signed operand with no zero point or a constant zero one.
bool zeroShiftedZp(Value origX, Value origZp) {
  if (isUnsignedElem(origX))
    return false;
  if (isNoneValue(origZp))
    return true;
  auto v = constIntOperand(origZp);
  if (!v) {
    if (auto c = origZp.getDefiningOp<ConstantOp>())
      if (auto d = dyn_cast<DenseIntElementsAttr>(c.getValue()))
        return d.isSplat() && d.getSplatValue<APInt>().isZero();
    return false;
  }
  return llvm::all_of(*v, [](int64_t x) { return x == 0; });
}

/// `x` as signless i8 holding x - 128 when the original is unsigned.
Value toS8(Operation *op, ConversionPatternRewriter &rw, Value origX, Value x, StringRef what) {
  Location l = op->getLoc();
  Value xs = asSignless(rw, l, x);
  if (!xs) {
    op->emitError("cannot lower: ")
        << what << " is an unsigned graph input (uint8 at the graph boundary is not lowered yet)";
    return {};
  }
  if (!isUnsignedElem(origX))
    return xs;
  auto t = cast<RankedTensorType>(xs.getType());
  return buildElementwise(rw, l, t, {xs}, [](OpBuilder &b, Location nl, ValueRange v, Type et) {
    Value bit = arith::ConstantOp::create(b, nl, b.getIntegerAttr(et, -128));
    return arith::XOrIOp::create(b, nl, v[0], bit);
  });
}

/// Sum of an i8 tensor over `dims` into i32 (those dims dropped).
Value sumOver(OpBuilder &b, Location l, Value x, ArrayRef<int64_t> dims) {
  auto t = cast<RankedTensorType>(x.getType());
  MLIRContext *ctx = b.getContext();
  SmallVector<int64_t> shape;
  SmallVector<AffineExpr> outE;
  SmallVector<utils::IteratorType> iters;
  for (int64_t d = 0; d < t.getRank(); ++d) {
    bool reduced = llvm::is_contained(dims, d);
    iters.push_back(reduced ? utils::IteratorType::reduction : utils::IteratorType::parallel);
    if (!reduced) {
      shape.push_back(t.getDimSize(d));
      outE.push_back(getAffineDimExpr(d, ctx));
    }
  }
  auto rt = RankedTensorType::get(shape, b.getI32Type());
  SmallVector<OpFoldResult> sizes;
  if (!rt.hasStaticShape()) {
    SmallVector<OpFoldResult> xs = mixedSizes(b, l, x);
    for (int64_t d = 0; d < t.getRank(); ++d)
      if (!llvm::is_contained(dims, d))
        sizes.push_back(xs[d]);
  }
  Value init = buildFilled(b, l, rt, b.getI32IntegerAttr(0), sizes);
  return linalg::GenericOp::create(
             b, l, TypeRange{rt}, ValueRange{x}, ValueRange{init},
             ArrayRef<AffineMap>{b.getMultiDimIdentityMap(t.getRank()),
                                 AffineMap::get(t.getRank(), 0, outE, ctx)},
             iters,
             [&](OpBuilder &nb, Location nl, ValueRange a) {
               Value e = arith::ExtSIOp::create(nb, nl, nb.getI32Type(), a[0]);
               linalg::YieldOp::create(nb, nl, arith::AddIOp::create(nb, nl, a[1], e).getResult());
             })
      .getResult(0);
}

/// The sum over `dims` of a constant operand (shifted), computed now, or
/// of `s8` at run time.
Value columnSums(OpBuilder &b, Location l, Value orig, Value s8, ArrayRef<int64_t> dims) {
  auto t = cast<RankedTensorType>(s8.getType());
  std::optional<std::vector<int32_t>> values = shiftedConstant(orig);
  if (!values)
    return sumOver(b, l, s8, dims);
  SmallVector<int64_t> shape, keptDims;
  for (int64_t d = 0; d < t.getRank(); ++d)
    if (!llvm::is_contained(dims, d)) {
      shape.push_back(t.getDimSize(d));
      keptDims.push_back(d);
    }
  auto rt = RankedTensorType::get(shape, b.getI32Type());
  std::vector<int32_t> sums(rt.getNumElements(), 0);
  SmallVector<int64_t> strides(t.getRank(), 1);
  for (int64_t d = t.getRank() - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * t.getDimSize(d + 1);
  for (int64_t flat = 0; flat < int64_t(values->size()); ++flat) {
    int64_t out = 0;
    for (int64_t d : keptDims)
      out = out * t.getDimSize(d) + (flat / strides[d]) % t.getDimSize(d);
    sums[out] += (*values)[flat];
  }
  return arith::ConstantOp::create(b, l, DenseElementsAttr::get(rt, ArrayRef<int32_t>(sums)));
}

/// One operand of the zero-point epilogue: an input with its map, read by
/// the body as v[index] (index -1: not an input).
struct EpilogueInputs {
  SmallVector<Value> values;
  SmallVector<AffineMap> maps;
  int64_t add(Value v, AffineMap m) {
    values.push_back(v);
    maps.push_back(m);
    return int64_t(values.size()) - 1;
  }
};

/// Adds the zero point of `origX` (shifted, as i32 in the body) to the
/// epilogue: its index, or -1 when absent (then the body uses -shift).
FailureOr<int64_t> addZeroPoint(Operation *op, ConversionPatternRewriter &rw, EpilogueInputs &in,
                                Value zp, RankedTensorType accType, int64_t axis,
                                StringRef what) {
  if (isNoneValue(zp))
    return int64_t(-1);
  Value zs = asSignless(rw, op->getLoc(), zp);
  if (!zs)
    return op->emitError("cannot lower: ") << what << " is an unsigned graph input";
  auto m = paramMap(op, zs, accType, axis, what);
  if (failed(m))
    return failure();
  return in.add(zs, *m);
}

/// The body's value of a shifted zero point as i32.
Value shiftedZp(OpBuilder &b, Location l, ValueRange v, int64_t index, bool isUnsigned) {
  Type i32 = b.getI32Type();
  if (index < 0)
    return arith::ConstantOp::create(b, l, b.getI32IntegerAttr(isUnsigned ? -128 : 0));
  Value z = isUnsigned ? Value(arith::ExtUIOp::create(b, l, i32, v[index]))
                       : Value(arith::ExtSIOp::create(b, l, i32, v[index]));
  if (isUnsigned)
    z = arith::SubIOp::create(b, l, z, arith::ConstantOp::create(b, l, b.getI32IntegerAttr(128)));
  return z;
}

/// The zero-point-corrected accumulator (plus `bias` along `biasAxis`):
/// acc = P - za'*colsum - zb'*rowsum + K*za'*zb' + bias.
struct Correction {
  Value zpA, origA, sumB; // za and the column sums of B (null sumB: term left out)
  AffineMap sumBMap;
  int64_t zpAAxis;
  Value zpB, origB, sumA; // zb and the row sums of A (null sumA: term left out)
  AffineMap sumAMap;
  int64_t zpBAxis;
  int64_t K;
};

Value correctedAccumulator(Operation *op, ConversionPatternRewriter &rw, Value P,
                           const Correction &c, Value bias, int64_t biasAxis) {
  auto accType = cast<RankedTensorType>(P.getType());
  EpilogueInputs in;
  in.add(P, rw.getMultiDimIdentityMap(accType.getRank()));
  int64_t za = -1, sb = -1, zb = -1, sa = -1, bi = -1;
  if (c.sumB) {
    auto z = addZeroPoint(op, rw, in, c.zpA, accType, c.zpAAxis, "the first zero point");
    if (failed(z))
      return {};
    za = *z;
    sb = in.add(c.sumB, c.sumBMap);
  }
  if (c.sumA) {
    auto z = addZeroPoint(op, rw, in, c.zpB, accType, c.zpBAxis, "the second zero point");
    if (failed(z))
      return {};
    zb = *z;
    sa = in.add(c.sumA, c.sumAMap);
  }
  if (bias) {
    auto m = paramMap(op, bias, accType, biasAxis, "the bias");
    if (failed(m))
      return {};
    bi = in.add(bias, *m);
  }
  if (in.values.size() == 1)
    return P;
  bool ua = c.origA && isUnsignedElem(c.origA), ub = c.origB && isUnsignedElem(c.origB);
  return buildElementwiseWithMaps(
      rw, op->getLoc(), accType, in.values, in.maps,
      [&](OpBuilder &b, Location l, ValueRange v, Type) -> Value {
        Value acc = v[0];
        Value zA, zB;
        if (sb >= 0) {
          zA = shiftedZp(b, l, v, za, ua);
          acc = arith::SubIOp::create(b, l, acc, arith::MulIOp::create(b, l, zA, v[sb]));
        }
        if (sa >= 0) {
          zB = shiftedZp(b, l, v, zb, ub);
          acc = arith::SubIOp::create(b, l, acc, arith::MulIOp::create(b, l, zB, v[sa]));
        }
        if (sb >= 0 && sa >= 0) {
          Value k = arith::ConstantOp::create(b, l, b.getI32IntegerAttr(int32_t(c.K)));
          acc = arith::AddIOp::create(
              b, l, acc, arith::MulIOp::create(b, l, k, arith::MulIOp::create(b, l, zA, zB)));
        }
        if (bi >= 0)
          acc = arith::AddIOp::create(b, l, acc, v[bi]);
        return acc;
      });
}

/// All dims of a rank-`rank` loop nest but `skip`.
AffineMap allDimsBut(MLIRContext *ctx, int64_t rank, int64_t skip) {
  SmallVector<AffineExpr> e;
  for (int64_t d = 0; d < rank; ++d)
    if (d != skip)
      e.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(rank, 0, e, ctx);
}

/// An integer matmul on 8-bit operands through the int8 GEMM: the i32
/// accumulator with the zero points applied. Null without touching
/// anything when the shapes do not fit the named matmuls (the caller takes
/// the widening path); failure() after an error.
FailureOr<Value> fastIntMatMul(Operation *op, ConversionPatternRewriter &rw, Value origA, Value A,
                               Value origAZp, Value aZp, Value origB, Value B, Value origBZp,
                               Value bZp, ArrayRef<int64_t> shape) {
  auto at = dyn_cast<RankedTensorType>(A.getType()), bt = dyn_cast<RankedTensorType>(B.getType());
  // A's leading dims may be symbolic; K and B are static.
  if (!at || !bt || at.getRank() < 2 || at.isDynamicDim(at.getRank() - 1) ||
      !bt.hasStaticShape() || !isByteInteger(origA) || !isByteInteger(origB) ||
      bt.getRank() < 2 || (bt.getRank() != 2 && !at.hasStaticShape()))
    return Value();
  if (bt.getRank() != 2 && (at.getRank() != bt.getRank() ||
                            at.getShape().drop_back(2) != bt.getShape().drop_back(2)))
    return Value();
  Location l = op->getLoc();
  auto accType = RankedTensorType::get(shape, rw.getI32Type());
  int64_t R = accType.getRank();
  Value a8 = toS8(op, rw, origA, A, "A");
  Value b8 = a8 ? toS8(op, rw, origB, B, "B") : Value();
  if (!b8)
    return failure();
  Value P = buildNamedMatMul(rw, l, a8, b8, accType);
  if (!P)
    return op->emitError("cannot lower: the int8 matmul of ") << at << " and " << bt;
  MLIRContext *ctx = rw.getContext();
  Correction c{};
  c.origA = origA;
  c.origB = origB;
  c.zpA = aZp;
  c.zpB = bZp;
  c.zpAAxis = R - 2;
  c.zpBAxis = R - 1;
  c.K = at.getDimSize(at.getRank() - 1);
  if (!zeroShiftedZp(origA, origAZp)) {
    c.sumB = columnSums(rw, l, origB, b8, {bt.getRank() - 2});
    c.sumBMap = bt.getRank() == 2 ? AffineMap::get(R, 0, {getAffineDimExpr(R - 1, ctx)}, ctx)
                                  : allDimsBut(ctx, R, R - 2);
  }
  if (!zeroShiftedZp(origB, origBZp)) {
    c.sumA = sumOver(rw, l, a8, {at.getRank() - 1});
    c.sumAMap = allDimsBut(ctx, R, R - 1);
  }
  Value acc = correctedAccumulator(op, rw, P, c, Value(), 0);
  if (!acc)
    return failure();
  return acc;
}

/// An integer 2-D convolution with one group on 8-bit operands through the
/// int8 convolution; like fastIntMatMul. `bias` (i32 or null) is added.
template <typename ConvLike>
FailureOr<Value> fastIntConv(ConvLike op, ConversionPatternRewriter &rw, Value origX, Value x,
                             Value origXZp, Value xZp, Value origW, Value w, Value origWZp,
                             Value wZp, Value bias, ArrayRef<int64_t> shape) {
  auto xt = dyn_cast<RankedTensorType>(x.getType()), wt = dyn_cast<RankedTensorType>(w.getType());
  if (!xt || !wt || !xt.hasStaticShape() || !wt.hasStaticShape() || xt.getRank() != 4 ||
      wt.getRank() != 4 || op.getGroup() != 1 || !isByteInteger(origX) || !isByteInteger(origW))
    return Value();
  if (!isNoneValue(xZp)) {
    auto zt = dyn_cast<RankedTensorType>(xZp.getType());
    if (!zt || !zt.hasStaticShape() || zt.getNumElements() != 1)
      return Value();
  }
  Location l = op.getLoc();
  auto accType = RankedTensorType::get(shape, rw.getI32Type());
  Value x8 = toS8(op, rw, origX, x, "x");
  Value w8 = x8 ? toS8(op, rw, origW, w, "w") : Value();
  if (!w8)
    return failure();
  // The padding value: x's zero point, shifted.
  bool xu = isUnsignedElem(origX);
  Type i8 = rw.getIntegerType(8);
  Value pad;
  if (isNoneValue(xZp)) {
    pad = arith::ConstantOp::create(rw, l, rw.getIntegerAttr(i8, xu ? -128 : 0));
  } else {
    Value zs = asSignless(rw, l, xZp);
    if (!zs)
      return op.emitError("cannot lower: x_zero_point is an unsigned graph input");
    auto zt = cast<RankedTensorType>(zs.getType());
    SmallVector<Value> idx(zt.getRank(), arith::ConstantIndexOp::create(rw, l, 0));
    pad = tensor::ExtractOp::create(rw, l, zs, idx);
    if (xu)
      pad = arith::XOrIOp::create(rw, l, pad,
                                  arith::ConstantOp::create(rw, l, rw.getIntegerAttr(i8, -128)));
  }
  bool needWindowSums = !zeroShiftedZp(origW, origWZp);
  Value windowSums;
  Value P = buildConv2DS8(op, rw, x8, w8, pad, accType, op.getStrides(), op.getDilations(),
                          op.getPads(), op.getAutoPad(), needWindowSums ? &windowSums : nullptr);
  if (!P)
    return failure();
  MLIRContext *ctx = rw.getContext();
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  Correction c{};
  c.origA = origX;
  c.origB = origW;
  c.zpA = xZp;
  c.zpB = wZp;
  c.zpAAxis = 0;
  c.zpBAxis = 1;
  c.K = wt.getDimSize(1) * wt.getDimSize(2) * wt.getDimSize(3);
  if (!zeroShiftedZp(origX, origXZp)) {
    c.sumB = columnSums(rw, l, origW, w8, {1, 2, 3});
    c.sumBMap = AffineMap::get(4, 0, {d(1)}, ctx);
  }
  if (needWindowSums) {
    c.sumA = windowSums;
    c.sumAMap = AffineMap::get(4, 0, {d(0), getAffineConstantExpr(0, ctx), d(2), d(3)}, ctx);
  }
  Value acc = correctedAccumulator(op, rw, P, c, bias, 1);
  if (!acc)
    return failure();
  return acc;
}

struct MatMulIntegerLowering : OpConversionPattern<MatMulIntegerOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(MatMulIntegerOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = dyn_cast<RankedTensorType>(op.getY().getType());
    auto at = dyn_cast<RankedTensorType>(a.getA().getType());
    if (rt && at && !rt.hasStaticShape()) {
      // Symbolic rows: only the int8 GEMM path.
      auto fast = fastIntMatMul(op, rw, op.getA(), a.getA(), op.getAZeroPoint(), a.getAZeroPoint(),
                                op.getB(), a.getB(), op.getBZeroPoint(), a.getBZeroPoint(),
                                rt.getShape());
      if (failed(fast))
        return failure();
      if (!*fast)
        return op.emitError("cannot lower: MatMulInteger with symbolic dims other than A's rows");
      rw.replaceOp(op, *fast);
      return success();
    }
    rt = staticType(op, op.getY(), "the result");
    at = staticType(op, a.getA(), "A");
    if (!rt || !at)
      return failure();
    auto fast = fastIntMatMul(op, rw, op.getA(), a.getA(), op.getAZeroPoint(), a.getAZeroPoint(),
                              op.getB(), a.getB(), op.getBZeroPoint(), a.getBZeroPoint(),
                              rt.getShape());
    if (failed(fast))
      return failure();
    if (*fast) {
      rw.replaceOp(op, *fast);
      return success();
    }
    // a_zero_point: per tensor or per row (axis -2 of A); b_zero_point: per
    // tensor or per column (the last axis of B).
    auto [A, B] = widenOperands(op, rw, op.getA(), a.getA(), op.getAZeroPoint(),
                                a.getAZeroPoint(), at.getRank() - 2, "A", op.getB(), a.getB(),
                                op.getBZeroPoint(), a.getBZeroPoint(), -1, "B");
    if (!A)
      return failure();
    rw.replaceOp(op, MatMulOp::create(rw, op.getLoc(), rt, A, B).getResult());
    return success();
  }
};

struct QLinearMatMulLowering : OpConversionPattern<QLinearMatMulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(QLinearMatMulOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = staticType(op, op.getY(), "the result");
    auto at = staticType(op, a.getA(), "a");
    if (!rt || !at || failed(checkUnsignedUsers(op, op.getY())))
      return failure();
    auto fast = fastIntMatMul(op, rw, op.getA(), a.getA(), op.getAZeroPoint(), a.getAZeroPoint(),
                              op.getB(), a.getB(), op.getBZeroPoint(), a.getBZeroPoint(),
                              rt.getShape());
    if (failed(fast))
      return failure();
    Value acc = *fast;
    if (!acc) {
      auto [A, B] = widenOperands(op, rw, op.getA(), a.getA(), op.getAZeroPoint(),
                                  a.getAZeroPoint(), at.getRank() - 2, "a", op.getB(), a.getB(),
                                  op.getBZeroPoint(), a.getBZeroPoint(), -1, "b");
      if (!A)
        return failure();
      auto accType = RankedTensorType::get(rt.getShape(), rw.getI32Type());
      acc = MatMulOp::create(rw, op.getLoc(), accType, A, B).getResult();
    }
    Value y = requantize(op, rw, acc, a.getAScale(), a.getBScale(), a.getYScale(),
                         op.getYZeroPoint(), a.getYZeroPoint(), rt.getRank() - 1, rt);
    if (!y)
      return failure();
    rw.replaceOp(op, y);
    return success();
  }
};

struct ConvIntegerLowering : OpConversionPattern<ConvIntegerOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ConvIntegerOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = staticType(op, op.getY(), "the result");
    if (!rt)
      return failure();
    auto fast = fastIntConv(op, rw, op.getX(), a.getX(), op.getXZeroPoint(), a.getXZeroPoint(),
                            op.getW(), a.getW(), op.getWZeroPoint(), a.getWZeroPoint(), Value(),
                            rt.getShape());
    if (failed(fast))
      return failure();
    if (*fast) {
      rw.replaceOp(op, *fast);
      return success();
    }
    // Padding with x_zero_point is padding the difference with zeros.
    auto [x, w] = widenOperands(op, rw, op.getX(), a.getX(), op.getXZeroPoint(),
                                a.getXZeroPoint(), 1, "x", op.getW(), a.getW(), op.getWZeroPoint(),
                                a.getWZeroPoint(), 0, "w");
    if (!x)
      return failure();
    rw.replaceOp(op, buildIntConv(op, rw, x, w, NoneOp::create(rw, op.getLoc(), rw.getNoneType()), rt));
    return success();
  }
};

struct QLinearConvLowering : OpConversionPattern<QLinearConvOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(QLinearConvOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = staticType(op, op.getY(), "the result");
    if (!rt || failed(checkUnsignedUsers(op, op.getY())))
      return failure();
    auto fast = fastIntConv(op, rw, op.getX(), a.getX(), op.getXZeroPoint(), a.getXZeroPoint(),
                            op.getW(), a.getW(), op.getWZeroPoint(), a.getWZeroPoint(),
                            isNoneValue(a.getB()) ? Value() : a.getB(), rt.getShape());
    if (failed(fast))
      return failure();
    Value acc = *fast;
    if (!acc) {
      auto [x, w] = widenOperands(op, rw, op.getX(), a.getX(), op.getXZeroPoint(),
                                  a.getXZeroPoint(), 1, "x", op.getW(), a.getW(),
                                  op.getWZeroPoint(), a.getWZeroPoint(), 0, "w");
      if (!x)
        return failure();
      Value bias = isNoneValue(a.getB())
                       ? Value(NoneOp::create(rw, op.getLoc(), rw.getNoneType()))
                       : a.getB();
      acc = buildIntConv(op, rw, x, w, bias, rt);
    }
    Value y = requantize(op, rw, acc, a.getXScale(), a.getWScale(), a.getYScale(),
                         op.getYZeroPoint(), a.getYZeroPoint(), 1, rt);
    if (!y)
      return failure();
    rw.replaceOp(op, y);
    return success();
  }
};

/// An f32 clamped to [0, hi] (DynamicQuantizeLinear's uint8 range: 255).
Value clamp255(OpBuilder &b, Location l, Value v, double hi = 255.0) {
  Type f = b.getF32Type();
  v = arith::MaximumFOp::create(b, l, v, arith::ConstantOp::create(b, l, b.getFloatAttr(f, 0.0)));
  return arith::MinimumFOp::create(b, l, v, arith::ConstantOp::create(b, l, b.getFloatAttr(f, hi)));
}

/// DynamicQuantizeLinear: uint8 with the range [min(0, min x), max(0, max
/// x)]: scale = range / 255, zero point = saturate(round(-min / scale)),
/// y = saturate(round(x / scale) + zero point), rounding half to even. An
/// all-zero x (range 0) gives y = 0, zero point 0 and scale 1, as ONNX
/// Runtime does (test/Numerics/check_numerics.py).
struct DynamicQuantizeLinearLowering : OpConversionPattern<DynamicQuantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(DynamicQuantizeLinearOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto xt = staticType(op, a.getX(), "x");
    if (!xt || !xt.getElementType().isF32())
      return op.emitError("cannot lower: DynamicQuantizeLinear needs a static float32 input");
    if (failed(checkUnsignedUsers(op, op.getY())) ||
        failed(checkUnsignedUsers(op, op.getYZeroPoint())))
      return failure();
    Location l = op.getLoc();
    Type f = rw.getF32Type(), i8 = rw.getI8Type();
    int64_t rank = xt.getRank();
    auto scalarT = RankedTensorType::get({}, f);
    auto reduce = [&](bool isMax) -> Value {
      Value init = linalg::FillOp::create(
                       rw, l, ValueRange{arith::ConstantOp::create(
                                  rw, l, rw.getFloatAttr(f, isMax ? -INFINITY : INFINITY))},
                       ValueRange{tensor::EmptyOp::create(rw, l, ArrayRef<int64_t>{}, f)})
                       .getResult(0);
      SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::reduction);
      Value r = linalg::GenericOp::create(
                    rw, l, TypeRange{scalarT}, ValueRange{a.getX()}, ValueRange{init},
                    ArrayRef<AffineMap>{rw.getMultiDimIdentityMap(rank),
                                        AffineMap::get(rank, 0, {}, rw.getContext())},
                    iters,
                    [&](OpBuilder &b, Location nl, ValueRange v) {
                      Value m = isMax ? Value(arith::MaxNumFOp::create(b, nl, v[0], v[1]))
                                      : Value(arith::MinNumFOp::create(b, nl, v[0], v[1]));
                      linalg::YieldOp::create(b, nl, m);
                    })
                    .getResult(0);
      return tensor::ExtractOp::create(rw, l, r, ValueRange{});
    };
    Value zero = arith::ConstantOp::create(rw, l, rw.getFloatAttr(f, 0.0));
    Value mn = arith::MinimumFOp::create(rw, l, reduce(false), zero);
    Value mx = arith::MaximumFOp::create(rw, l, reduce(true), zero);
    Value scale = arith::DivFOp::create(rw, l, arith::SubFOp::create(rw, l, mx, mn),
                                        arith::ConstantOp::create(rw, l, rw.getFloatAttr(f, 255.0)));
    Value isZero = arith::CmpFOp::create(rw, l, arith::CmpFPredicate::OEQ, scale, zero);
    Value divisor = arith::SelectOp::create(
        rw, l, isZero, arith::ConstantOp::create(rw, l, rw.getFloatAttr(f, 1.0)), scale);
    Value zpf = clamp255(rw, l, math::RoundEvenOp::create(
                                    rw, l, arith::DivFOp::create(
                                               rw, l, arith::NegFOp::create(rw, l, mn), divisor)));
    Value y = buildElementwise(rw, l, RankedTensorType::get(xt.getShape(), i8), {a.getX()},
                               [&](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
                                 Value q = math::RoundEvenOp::create(
                                     b, nl, arith::DivFOp::create(b, nl, v[0], divisor));
                                 q = clamp255(b, nl, arith::AddFOp::create(b, nl, q, zpf));
                                 return arith::FPToUIOp::create(b, nl, i8, q);
                               });
    Value scaleT = tensor::FromElementsOp::create(rw, l, scalarT, ValueRange{divisor});
    Value zpT = tensor::FromElementsOp::create(rw, l, RankedTensorType::get({}, i8),
                                               ValueRange{arith::FPToUIOp::create(rw, l, i8, zpf)});
    rw.replaceOp(op, {y, scaleT, zpT});
    return success();
  }
};

/// qc.dynamic_quantize_rows: DynamicQuantizeLinear of each row (the last
/// axis) on its own. One reduction of min and max per row, the row's
/// scale and zero point, then y elementwise (the same arithmetic
/// as DynamicQuantizeLinearLowering, per row).
struct DynamicQuantizeRowsLowering : OpConversionPattern<DynamicQuantizeRowsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(DynamicQuantizeRowsOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    // The rows may be symbolic (a sequence length); sized from x.
    auto xt = dyn_cast<RankedTensorType>(a.getX().getType());
    if (!xt || xt.isDynamicDim(xt.getRank() - 1))
      return op.emitError("cannot lower: x needs a known rank and a static last dim");
    if (failed(checkUnsignedUsers(op, op.getY())) ||
        failed(checkUnsignedUsers(op, op.getYZeroPoint())))
      return failure();
    Location l = op.getLoc();
    MLIRContext *ctx = rw.getContext();
    const double levels = static_cast<double>(op.getLevels());
    Type f = rw.getF32Type(), i8 = rw.getI8Type();
    int64_t rank = xt.getRank();
    auto rowsT = RankedTensorType::get(xt.getShape().drop_back(), f);
    SmallVector<OpFoldResult> rowSizes = mixedSizes(rw, l, a.getX());
    rowSizes.pop_back();
    AffineMap id = rw.getMultiDimIdentityMap(rank);
    AffineMap rowMap = allDimsBut(ctx, rank, rank - 1);
    auto filled = [&](double v) {
      return linalg::FillOp::create(rw, l, ValueRange{arith::ConstantOp::create(rw, l, rw.getFloatAttr(f, v))},
                                    ValueRange{emptyTensor(rw, l, rowsT, rowSizes)})
          .getResult(0);
    };
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.back() = utils::IteratorType::reduction;
    // min(0, min r) and max(0, max r): the reductions start at 0.
    auto minmax = linalg::GenericOp::create(
        rw, l, TypeRange{rowsT, rowsT}, ValueRange{a.getX()}, ValueRange{filled(0.0), filled(0.0)},
        ArrayRef<AffineMap>{id, rowMap, rowMap}, iters, [&](OpBuilder &b, Location nl, ValueRange v) {
          linalg::YieldOp::create(b, nl, ValueRange{arith::MinNumFOp::create(b, nl, v[0], v[1]),
                                                    arith::MaxNumFOp::create(b, nl, v[0], v[2])});
        });
    // Per row: the scale (1 where the range is 0, as ONNX Runtime reports
    // it; also the divisor) and the zero point as a float.
    SmallVector<utils::IteratorType> rowIters(rank - 1, utils::IteratorType::parallel);
    AffineMap rowId = rw.getMultiDimIdentityMap(rank - 1);
    auto params = linalg::GenericOp::create(
        rw, l, TypeRange{rowsT, rowsT}, ValueRange{minmax.getResult(0), minmax.getResult(1)},
        ValueRange{emptyTensor(rw, l, rowsT, rowSizes), emptyTensor(rw, l, rowsT, rowSizes)},
        SmallVector<AffineMap>(4, rowId), rowIters, [&](OpBuilder &b, Location nl, ValueRange v) {
          Value zero = arith::ConstantOp::create(b, nl, b.getFloatAttr(f, 0.0));
          Value range = arith::DivFOp::create(b, nl, arith::SubFOp::create(b, nl, v[1], v[0]),
                                              arith::ConstantOp::create(b, nl, b.getFloatAttr(f, levels)));
          Value isZero = arith::CmpFOp::create(b, nl, arith::CmpFPredicate::OEQ, range, zero);
          Value scale = arith::SelectOp::create(
              b, nl, isZero, arith::ConstantOp::create(b, nl, b.getFloatAttr(f, 1.0)), range);
          Value zpf = clamp255(b, nl, math::RoundEvenOp::create(
                                          b, nl, arith::DivFOp::create(b, nl, arith::NegFOp::create(b, nl, v[0]),
                                                                       scale)), levels);
          linalg::YieldOp::create(b, nl, ValueRange{scale, zpf});
        });
    Value scale = params.getResult(0), divisor = scale, zpf = params.getResult(1);
    Value y = buildElementwiseWithMaps(
        rw, l, RankedTensorType::get(xt.getShape(), i8), {a.getX(), divisor, zpf}, {id, rowMap, rowMap},
        [&](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
          Value q = math::RoundEvenOp::create(b, nl, arith::DivFOp::create(b, nl, v[0], v[1]));
          q = clamp255(b, nl, arith::AddFOp::create(b, nl, q, v[2]), levels);
          return arith::FPToUIOp::create(b, nl, i8, q);
        });
    Value zp = buildElementwise(rw, l, RankedTensorType::get(rowsT.getShape(), i8), {zpf},
                                [&](OpBuilder &b, Location nl, ValueRange v, Type) -> Value {
                                  return arith::FPToUIOp::create(b, nl, i8, v[0]);
                                });
    rw.replaceOp(op, {y, scale, zp});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// fp8 (float8e4m3fn, float8e5m2): values are stored as their 8-bit patterns
// (i8 after lowering). Quantize computes the pattern from the f32 bits:
// normal values round the f32 mantissa to m bits, half to even (adding
// 2^(s-1) - 1 plus the lowest kept bit, s = 23 - m, carries into the
// exponent included), subnormals are round_half_even(|v| / smallest
// subnormal). Saturation clamps |v| to the largest finite value first;
// without it an overflowing value becomes NaN (e4m3fn) or Inf (e5m2). NaN
// becomes 0x7F (e4m3fn's NaN, one of e5m2's). Dequantize decodes the
// pattern the other way. Both match ml_dtypes bit for bit
// (test/Numerics/check_fp8_lowering.py).
//===----------------------------------------------------------------------===//

struct Fp8Format {
  int64_t mbits, bias;
  double maxFinite;
  bool hasInf; // e5m2
  int64_t maxCode() const { return hasInf ? 0x7B : 0x7E; }
};

std::optional<Fp8Format> fp8Format(Type t) {
  if (isa<Float8E4M3FNType>(t))
    return Fp8Format{3, 7, 448.0, false};
  if (isa<Float8E5M2Type>(t))
    return Fp8Format{2, 15, 57344.0, true};
  return std::nullopt;
}

Value i32c(OpBuilder &b, Location l, int64_t v) {
  return arith::ConstantOp::create(b, l, b.getI32IntegerAttr(static_cast<int32_t>(v)));
}
Value f32c(OpBuilder &b, Location l, double v) {
  return arith::ConstantOp::create(b, l, b.getF32FloatAttr(static_cast<float>(v)));
}

/// The fp8 pattern (i8) of the f32 `v`.
Value encodeFp8(OpBuilder &b, Location l, Value v, const Fp8Format &f, bool saturate) {
  Type i32 = b.getI32Type();
  int64_t s = 23 - f.mbits;
  Value isNan = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, v, v);
  Value bitsV = arith::BitcastOp::create(b, l, i32, v);
  Value sign = arith::AndIOp::create(b, l, arith::ShRUIOp::create(b, l, bitsV, i32c(b, l, 24)),
                                     i32c(b, l, 0x80));
  Value a = math::AbsFOp::create(b, l, v);
  if (saturate)
    a = arith::MinimumFOp::create(b, l, a, f32c(b, l, f.maxFinite));
  Value bits = arith::BitcastOp::create(b, l, i32, a);
  Value lowKept = arith::AndIOp::create(b, l, arith::ShRUIOp::create(b, l, bits, i32c(b, l, s)),
                                        i32c(b, l, 1));
  Value r = arith::AddIOp::create(
      b, l, arith::AddIOp::create(b, l, bits, i32c(b, l, (int64_t(1) << (s - 1)) - 1)), lowKept);
  Value e = arith::SubIOp::create(b, l, arith::ShRUIOp::create(b, l, r, i32c(b, l, 23)),
                                  i32c(b, l, 127 - f.bias));
  Value m = arith::AndIOp::create(b, l, arith::ShRUIOp::create(b, l, r, i32c(b, l, s)),
                                  i32c(b, l, (int64_t(1) << f.mbits) - 1));
  Value normal = arith::OrIOp::create(b, l, arith::ShLIOp::create(b, l, e, i32c(b, l, f.mbits)), m);
  Value sub = arith::FPToSIOp::create(
      b, l, i32,
      math::RoundEvenOp::create(
          b, l, arith::MulFOp::create(b, l, a, f32c(b, l, std::ldexp(1.0, f.bias - 1 + f.mbits)))));
  Value isSub = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, a,
                                      f32c(b, l, std::ldexp(1.0, 1 - f.bias)));
  Value code = arith::SelectOp::create(b, l, isSub, sub, normal);
  if (!saturate) {
    Value over = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt, code,
                                       i32c(b, l, f.maxCode()));
    code = arith::SelectOp::create(b, l, over, i32c(b, l, f.hasInf ? 0x7C : 0x7F), code);
  }
  code = arith::OrIOp::create(b, l, code, sign);
  code = arith::SelectOp::create(b, l, isNan, i32c(b, l, 0x7F), code);
  return arith::TruncIOp::create(b, l, b.getI8Type(), code);
}

/// The f32 value of the fp8 pattern `c` (i8).
Value decodeFp8(OpBuilder &b, Location l, Value c, const Fp8Format &f) {
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  Value u = arith::ExtUIOp::create(b, l, i32, c);
  Value mag = arith::AndIOp::create(b, l, u, i32c(b, l, 0x7F));
  Value e = arith::ShRUIOp::create(b, l, mag, i32c(b, l, f.mbits));
  Value m = arith::AndIOp::create(b, l, mag, i32c(b, l, (int64_t(1) << f.mbits) - 1));
  Value bits = arith::OrIOp::create(
      b, l,
      arith::ShLIOp::create(b, l, arith::AddIOp::create(b, l, e, i32c(b, l, 127 - f.bias)),
                            i32c(b, l, 23)),
      arith::ShLIOp::create(b, l, m, i32c(b, l, 23 - f.mbits)));
  Value normal = arith::BitcastOp::create(b, l, f32, bits);
  Value sub = arith::MulFOp::create(b, l, arith::SIToFPOp::create(b, l, f32, m),
                                    f32c(b, l, std::ldexp(1.0, 1 - f.bias - f.mbits)));
  Value isSub = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, e, i32c(b, l, 0));
  Value val = arith::SelectOp::create(b, l, isSub, sub, normal);
  if (f.hasInf) {
    Value top = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, e, i32c(b, l, 31));
    Value mZero = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, m, i32c(b, l, 0));
    Value special = arith::SelectOp::create(b, l, mZero, f32c(b, l, INFINITY), f32c(b, l, NAN));
    val = arith::SelectOp::create(b, l, top, special, val);
  } else {
    Value nan = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, mag, i32c(b, l, 0x7F));
    val = arith::SelectOp::create(b, l, nan, f32c(b, l, NAN), val);
  }
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne,
                                    arith::AndIOp::create(b, l, u, i32c(b, l, 0x80)),
                                    i32c(b, l, 0));
  return arith::SelectOp::create(b, l, neg, arith::NegFOp::create(b, l, val), val);
}

/// An fp8 zero point must be zero (ONNX); a constant non-zero one is an error.
LogicalResult checkFp8ZeroPoint(Operation *op, Value zp) {
  if (isNoneValue(zp))
    return success();
  auto c = zp.getDefiningOp<ConstantOp>();
  auto d = c ? dyn_cast<DenseFPElementsAttr>(c.getValue()) : DenseFPElementsAttr();
  if (d && llvm::all_of(d.getValues<APFloat>(), [](const APFloat &v) { return v.isZero(); }))
    return success();
  return op->emitError("cannot lower: an fp8 zero point must be a constant zero");
}

/// An fp8 tensor (an operand after conversion) as its i8 patterns.
Value fp8Bits(ConversionPatternRewriter &rw, Location l, Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  if (t.getElementType().isInteger(8))
    return v;
  return buildElementwise(rw, l, t.clone(rw.getI8Type()), {v},
                          [](OpBuilder &b, Location nl, ValueRange x, Type et) -> Value {
                            return arith::BitcastOp::create(b, nl, et, x[0]);
                          });
}

/// MatMul of f32 A and B = DequantizeLinear of a 4-bit constant [K, N] in
/// blocks of g along K: one contraction that reads the packed nibbles and
/// dequantizes them in its body, so no float weight tensor exists. Marked
/// qc.kernel = "matmul_f32_w4" (with qc.group and qc.signed), it becomes a
/// call to the runtime's GEMM whose B packer unpacks and dequantizes the
/// nibbles straight into its panels (quantc-cpu-kernel-calls); unmarked or
/// elsewhere it is an ordinary linalg loop nest with the same meaning.
struct MatMulInt4Lowering : OpConversionPattern<MatMulOp> {
  MatMulInt4Lowering(MLIRContext *ctx) : OpConversionPattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(MatMulOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto dq = op.getB().getDefiningOp<DequantizeLinearOp>();
    auto rt = dyn_cast<RankedTensorType>(op.getY().getType());
    auto at = dyn_cast<RankedTensorType>(a.getA().getType());
    // A's leading dims may be symbolic (M read at run time); K is static.
    if (!dq || !rt || !at || at.getRank() < 2 || at.isDynamicDim(at.getRank() - 1) ||
        !at.getElementType().isF32() || !rt.getElementType().isF32())
      return failure();
    auto wt = dyn_cast<RankedTensorType>(dq.getX().getType());
    bool isUnsigned = false;
    IntegerType storage = wt ? storageOf(wt.getElementType(), &isUnsigned) : IntegerType();
    int64_t g = dq.getBlockSize();
    if (!storage || storage.getWidth() != 4 || wt.getRank() != 2 || !wt.hasStaticShape() ||
        g <= 0 || (dq.getAxis() != 0 && dq.getAxis() != -2))
      return failure();
    int64_t K = wt.getDimSize(0), N = wt.getDimSize(1), G = (K + g - 1) / g;
    auto sc = dq.getXScale().getDefiningOp<ConstantOp>();
    auto scales = sc ? dyn_cast<DenseFPElementsAttr>(sc.getValue()) : DenseFPElementsAttr();
    if (!scales || !scales.getElementType().isF32() ||
        cast<ShapedType>(scales.getType()).getShape() != ArrayRef<int64_t>{G, N})
      return failure();
    std::vector<int8_t> zps(G * N, 0);
    if (!isNoneValue(dq.getXZeroPoint())) {
      auto zc = dq.getXZeroPoint().getDefiningOp<ConstantOp>();
      auto z = zc ? dyn_cast<DenseIntElementsAttr>(zc.getValue()) : DenseIntElementsAttr();
      if (!z || z.getNumElements() != G * N)
        return failure();
      int64_t i = 0;
      for (const APInt &v : z.getValues<APInt>())
        zps[i++] = static_cast<int8_t>(isUnsigned ? v.getZExtValue() : v.getSExtValue());
    }
    Location l = op.getLoc();
    Value packed = packNibbles(rw, l, dq.getX());
    if (!packed)
      return failure();
    MLIRContext *ctx = rw.getContext();
    auto st = RankedTensorType::get({G, N}, rw.getF32Type());
    Value S = arith::ConstantOp::create(rw, l, DenseElementsAttr::get(st, scales.getRawData()));
    auto zt = RankedTensorType::get({G, N}, rw.getI8Type());
    Value Z = arith::ConstantOp::create(rw, l, DenseElementsAttr::get(zt, ArrayRef<int8_t>(zps)));
    // A as [M, K].
    int64_t M = at.hasStaticShape() ? at.getNumElements() / K : ShapedType::kDynamic;
    Value A = collapseLeading(rw, l, a.getA(), at.getRank() - 1);
    auto ct = RankedTensorType::get({M, N}, rw.getF32Type());
    SmallVector<OpFoldResult> sizes;
    if (!ct.hasStaticShape())
      sizes = {tensor::DimOp::create(rw, l, A, 0).getResult(), rw.getIndexAttr(N)};
    Value init = buildFilled(rw, l, ct, rw.getF32FloatAttr(0.0f), sizes);
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineMap> maps{AffineMap::get(3, 0, {d(0), d(2)}, ctx),
                                AffineMap::get(3, 0, {d(2), d(1).floorDiv(2)}, ctx),
                                AffineMap::get(3, 0, {d(2).floorDiv(g), d(1)}, ctx),
                                AffineMap::get(3, 0, {d(2).floorDiv(g), d(1)}, ctx),
                                AffineMap::get(3, 0, {d(0), d(1)}, ctx)};
    bool isSigned = !isUnsigned;
    auto gen = linalg::GenericOp::create(
        rw, l, TypeRange{ct}, ValueRange{A, packed, S, Z}, ValueRange{init}, maps,
        {utils::IteratorType::parallel, utils::IteratorType::parallel,
         utils::IteratorType::reduction},
        [&](OpBuilder &b, Location nl, ValueRange v) {
          Value q = nibbleAt(b, nl, v[1], linalg::IndexOp::create(b, nl, 1), isSigned);
          Value diff = arith::SubIOp::create(b, nl, q, v[3]);
          Value w = arith::MulFOp::create(
              b, nl, arith::SIToFPOp::create(b, nl, b.getF32Type(), diff), v[2]);
          Value acc = arith::AddFOp::create(b, nl, v[4], arith::MulFOp::create(b, nl, v[0], w));
          linalg::YieldOp::create(b, nl, acc);
        });
    gen->setAttr("qc.kernel", rw.getStringAttr("matmul_f32_w4"));
    gen->setAttr("qc.group", rw.getI64IntegerAttr(g));
    gen->setAttr("qc.signed", rw.getBoolAttr(isSigned));
    rw.replaceOp(op, expandLeading(rw, l, gen.getResult(0), rt, a.getA()));
    return success();
  }
};

/// One element-wise generic over `x` (identity map) and its per-tensor,
/// per-axis or blocked `scale`, computing `fn(x, scale)` into `resultType`;
/// null after an error.
Value withScale(Operation *op, ConversionPatternRewriter &rw, Value x, Value scale, int64_t axis,
                int64_t blockSize, RankedTensorType resultType,
                function_ref<Value(OpBuilder &, Location, Value, Value)> fn) {
  auto xt = cast<RankedTensorType>(x.getType());
  auto sm = paramMap(op, scale, xt, axis, "the scale", blockSize);
  if (failed(sm))
    return {};
  return buildElementwiseWithMaps(
      rw, op->getLoc(), resultType, {x, scale}, {rw.getMultiDimIdentityMap(xt.getRank()), *sm},
      [&](OpBuilder &b, Location l, ValueRange v, Type) { return fn(b, l, v[0], v[1]); });
}

struct QuantizeFp8Lowering : OpConversionPattern<QuantizeLinearOp> {
  QuantizeFp8Lowering(MLIRContext *ctx) : OpConversionPattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(QuantizeLinearOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = cast<TensorType>(op.getY().getType());
    auto fmt = fp8Format(rt.getElementType());
    if (!fmt)
      return failure();
    auto xt = requireStatic(op, a.getX(), "the input");
    if (!xt)
      return failure();
    if (!xt.getElementType().isF32())
      return op.emitError("cannot lower: fp8 QuantizeLinear of ") << xt.getElementType()
                                                                  << " (float32 only)";
    if (op.getBlockSize() != 0)
      return op.emitError("cannot lower: blocked fp8 QuantizeLinear is not lowered yet");
    if (failed(checkFp8ZeroPoint(op, op.getYZeroPoint())))
      return failure();
    bool saturate = op.getSaturate() != 0;
    Fp8Format f = *fmt;
    Value q = withScale(op, rw, a.getX(), a.getYScale(), op.getAxis(), 0,
                        xt.clone(rw.getI8Type()),
                        [&](OpBuilder &b, Location l, Value x, Value s) -> Value {
                          return encodeFp8(b, l, arith::DivFOp::create(b, l, x, s), f, saturate);
                        });
    if (!q)
      return failure();
    rw.replaceOp(op, q);
    return success();
  }
};

struct DequantizeFp8Lowering : OpConversionPattern<DequantizeLinearOp> {
  DequantizeFp8Lowering(MLIRContext *ctx) : OpConversionPattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(DequantizeLinearOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto fmt = fp8Format(cast<TensorType>(op.getX().getType()).getElementType());
    if (!fmt)
      return failure();
    auto rt = requireStatic(op, op.getY(), "the result");
    auto xt = requireStatic(op, a.getX(), "the input");
    if (!rt || !xt)
      return failure();
    if (!rt.getElementType().isF32())
      return op.emitError("cannot lower: fp8 DequantizeLinear to ") << rt.getElementType()
                                                                    << " (float32 only)";
    if (failed(checkFp8ZeroPoint(op, op.getXZeroPoint())))
      return failure();
    Fp8Format f = *fmt;
    Value y = withScale(op, rw, fp8Bits(rw, op.getLoc(), a.getX()), a.getXScale(), op.getAxis(),
                        op.getBlockSize(), rt,
                        [&](OpBuilder &b, Location l, Value x, Value s) -> Value {
                          return arith::MulFOp::create(b, l, decodeFp8(b, l, x, f), s);
                        });
    if (!y)
      return failure();
    rw.replaceOp(op, y);
    return success();
  }
};

struct QuantizeLinearLowering : OpConversionPattern<QuantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(QuantizeLinearOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto xt = requireStatic(op, a.getX(), "the input");
    if (!xt)
      return failure();
    auto rt = cast<RankedTensorType>(op.getY().getType());
    if (fp8Format(rt.getElementType()))
      return failure(); // QuantizeFp8Lowering's (and its errors)
    bool isUnsigned = false;
    IntegerType storage = storageOf(rt.getElementType(), &isUnsigned);
    if (!storage || !isa<FloatType>(xt.getElementType()))
      return op.emitError("cannot lower: QuantizeLinear to ")
             << rt.getElementType() << " (integer and fp8 results are lowered)";
    if (op.getBlockSize() != 0)
      return op.emitError("cannot lower: blocked QuantizeLinear is not lowered yet");
    // A plain unsigned result (not a !quant.uniform type) is lowered to its
    // signless bits, which only some ops know to read unsigned.
    if (failed(checkUnsignedUsers(op, op.getY())))
      return failure();
    int64_t axis = op.getAxis();
    SmallVector<Value> ins{a.getX()};
    SmallVector<AffineMap> maps{rw.getMultiDimIdentityMap(xt.getRank())};
    bool hasZp;
    if (failed(addParams(op, rw, a.getYScale(), a.getYZeroPoint(), xt, axis, ins, maps, hasZp)))
      return failure();
    unsigned bits = storage.getWidth();
    double qmin = isUnsigned ? 0 : -std::ldexp(1.0, bits - 1);
    double qmax = isUnsigned ? std::ldexp(1.0, bits) - 1 : std::ldexp(1.0, bits - 1) - 1;
    auto storageTensor = RankedTensorType::get(rt.getShape(), storage);
    Type f = xt.getElementType();
    Value q = buildElementwiseWithMaps(
        rw, op.getLoc(), storageTensor, ins, maps,
        [&](OpBuilder &b, Location l, ValueRange v, Type) -> Value {
          Value r = math::RoundEvenOp::create(b, l, arith::DivFOp::create(b, l, v[0], v[1]));
          Value zpf = !hasZp ? Value(arith::ConstantOp::create(b, l, b.getFloatAttr(f, 0.0)))
                      : isUnsigned ? Value(arith::UIToFPOp::create(b, l, f, v[2]))
                                   : Value(arith::SIToFPOp::create(b, l, f, v[2]));
          Value s = arith::AddFOp::create(b, l, r, zpf);
          s = arith::MaximumFOp::create(b, l, s, arith::ConstantOp::create(b, l, b.getFloatAttr(f, qmin)));
          s = arith::MinimumFOp::create(b, l, s, arith::ConstantOp::create(b, l, b.getFloatAttr(f, qmax)));
          // NaN (which fptosi would make poison) goes to the zero point.
          Value nan = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, s, s);
          s = arith::SelectOp::create(b, l, nan, zpf, s);
          if (isUnsigned)
            return arith::FPToUIOp::create(b, l, storage, s);
          return arith::FPToSIOp::create(b, l, storage, s);
        });
    // A quantized result type wraps the storage; an unsigned one (ui8)
    // stays signless here: its users read the bits as unsigned.
    if (isa<quant::QuantizedType>(rt.getElementType()))
      q = quant::StorageCastOp::create(rw, op.getLoc(), rt, q);
    rw.replaceOp(op, q);
    return success();
  }
};

struct DequantizeLinearLowering : OpConversionPattern<DequantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(DequantizeLinearOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto rt = requireStatic(op, op.getY(), "the result");
    auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
    if (!rt || !xt || !xt.hasStaticShape())
      return failure();
    if (fp8Format(xt.getElementType()))
      return failure(); // DequantizeFp8Lowering's (and its errors)
    bool isUnsigned = false;
    IntegerType storage =
        storageOf(cast<TensorType>(op.getX().getType()).getElementType(), &isUnsigned);
    if (!storage)
      return op.emitError("cannot lower: DequantizeLinear of ")
             << xt.getElementType() << " (integer and fp8 inputs are lowered)";
    int64_t rank = xt.getRank();
    SmallVector<Value> ins;
    SmallVector<AffineMap> maps;
    // 4-bit constants: packed along the last dim, two per byte.
    bool packed = false;
    if (storage.getWidth() == 4 && rank > 0)
      if (Value pc = packNibbles(rw, op.getLoc(), op.getX())) {
        ins.push_back(pc);
        SmallVector<AffineExpr> exprs;
        for (int64_t d = 0; d < rank; ++d)
          exprs.push_back(d == rank - 1 ? rw.getAffineDimExpr(d).floorDiv(2)
                                        : rw.getAffineDimExpr(d));
        maps.push_back(AffineMap::get(rank, 0, exprs, rw.getContext()));
        packed = true;
      }
    if (!packed) {
      Value x = asSignless(rw, op.getLoc(), a.getX());
      if (!x)
        return op.emitError("cannot lower: DequantizeLinear of an unsigned tensor that is not a "
                            "quantized type or a constant is not lowered yet");
      ins.push_back(x);
      maps.push_back(rw.getMultiDimIdentityMap(rank));
    }
    int64_t axis = op.getAxis();
    bool hasZp;
    if (failed(addParams(op, rw, a.getXScale(), a.getXZeroPoint(), xt, axis, ins, maps, hasZp,
                         op.getBlockSize(), op.getXZeroPoint())))
      return failure();
    Type f = rt.getElementType();
    Value y = buildElementwiseWithMaps(
        rw, op.getLoc(), rt, ins, maps, [&](OpBuilder &b, Location l, ValueRange v, Type) -> Value {
          auto toFloat = [&](Value i) -> Value {
            if (isUnsigned)
              return arith::UIToFPOp::create(b, l, f, i);
            return arith::SIToFPOp::create(b, l, f, i);
          };
          Value stored = v[0];
          if (packed)
            stored = nibbleAt(b, l, stored, linalg::IndexOp::create(b, l, rank - 1), !isUnsigned);
          Value q = toFloat(stored);
          if (hasZp)
            q = arith::SubFOp::create(b, l, q, toFloat(v[2]));
          Value s = v[1];
          if (s.getType() != f)
            s = arith::ExtFOp::create(b, l, f, s);
          return arith::MulFOp::create(b, l, q, s);
        });
    rw.replaceOp(op, y);
    return success();
  }
};

} // namespace

bool quantc::lowering::isUnsignedToSignlessCast(UnrealizedConversionCastOp op) {
  if (op->getNumOperands() != 1 || op->getNumResults() != 1)
    return false;
  auto from = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  auto to = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  return from && to && from.getElementType().isUnsignedInteger() &&
         to.getElementType().isSignlessInteger() && from.getShape() == to.getShape() &&
         from.getElementType().getIntOrFloatBitWidth() == to.getElementType().getIntOrFloatBitWidth();
}

namespace {
/// An unsigned value leaving @main: the lowered value is its signless bits.
struct UnsignedResultCastLowering : OpConversionPattern<UnrealizedConversionCastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(UnrealizedConversionCastOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    if (!isUnsignedToSignlessCast(op) || a.getOperands().size() != 1 ||
        a.getOperands()[0].getType() != op->getResult(0).getType())
      return failure();
    rw.replaceOp(op, a.getOperands()[0]);
    return success();
  }
};
} // namespace

void quantc::lowering::populateQuantizePatterns(RewritePatternSet &patterns) {
  patterns.add<UnsignedResultCastLowering>(patterns.getContext());
  patterns.add<QuantizeFp8Lowering, DequantizeFp8Lowering, MatMulInt4Lowering>(
      patterns.getContext());
  patterns.add<QuantizeLinearLowering, DequantizeLinearLowering, MatMulIntegerLowering,
               QLinearMatMulLowering, ConvIntegerLowering, QLinearConvLowering,
               DynamicQuantizeLinearLowering, DynamicQuantizeRowsLowering>(patterns.getContext());
}
