//===- QuantizeCommon.cpp - shared by the quantization lowerings ------------===//
//
// Helpers the quantize/dequantize, fp8, 4-bit and integer-op lowerings
// share: storage types of quantized values, unsigned values as signless
// ones, 4-bit packing, the maps and operands of scales and zero points.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"
#include "QuantizeCommon.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace quantc::qc;
using namespace quantc::lowering;
using namespace quantc::lowering::qdq;

namespace quantc::lowering::qdq {

/// The signless storage type of a quantized or integer element type, and
/// whether its values are unsigned (null for anything else).
IntegerType storageOf(Type elem, bool *isUnsigned) {
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

int lowBitWidth(Value orig) {
  auto c = orig.getDefiningOp<ConstantOp>();
  auto dense = c ? dyn_cast<DenseIntElementsAttr>(c.getValue()) : DenseIntElementsAttr();
  auto t = dyn_cast<RankedTensorType>(orig.getType());
  bool isUnsigned = false;
  IntegerType st = t ? storageOf(t.getElementType(), &isUnsigned) : IntegerType();
  if (!dense || !t || t.getRank() != 2 || !st || st.getWidth() != 4 || !isUnsigned)
    return 0;
  uint64_t top = 0;
  for (const APInt &v : dense.getValues<APInt>())
    top = std::max<uint64_t>(top, v.getZExtValue() & 0xF);
  return top < 4 ? 2 : top < 8 ? 3 : 4;
}

void packLowBitPlanes(OpBuilder &b, Location l, Value orig, int bits, Value &low, Value &high) {
  auto dense = cast<DenseIntElementsAttr>(orig.getDefiningOp<ConstantOp>().getValue());
  auto t = cast<RankedTensorType>(orig.getType());
  const int64_t K = t.getDimSize(0), N = t.getDimSize(1);
  const int64_t lw = (N + 3) / 4, hw = (N + 7) / 8;
  std::vector<uint8_t> lo(K * lw, 0), hi(bits == 3 ? K * hw : 0, 0);
  int64_t i = 0;
  for (const APInt &v : dense.getValues<APInt>()) {
    int64_t k = i / N, n = i % N;
    unsigned q = static_cast<unsigned>(v.getZExtValue() & 0xF);
    lo[k * lw + n / 4] |= static_cast<uint8_t>((q & 3) << (2 * (n % 4)));
    if (bits == 3)
      hi[k * hw + n / 8] |= static_cast<uint8_t>(((q >> 2) & 1) << (n % 8));
    ++i;
  }
  auto plane = [&](const std::vector<uint8_t> &bytes, int64_t w) {
    auto pt = RankedTensorType::get({K, w}, b.getI8Type());
    ArrayRef<int8_t> raw(reinterpret_cast<const int8_t *>(bytes.data()), bytes.size());
    return arith::ConstantOp::create(b, l, DenseElementsAttr::get(pt, raw)).getResult();
  };
  low = plane(lo, lw);
  high = bits == 3 ? plane(hi, hw) : Value();
}

Value lowBitAt(OpBuilder &b, Location l, Value low, Value high, Value idx) {
  Type i8 = b.getI8Type();
  auto cst = [&](int64_t v) { return arith::ConstantOp::create(b, l, b.getI8IntegerAttr(v)); };
  auto idxConst = [&](int64_t v) { return arith::ConstantIndexOp::create(b, l, v); };
  Value lane = arith::IndexCastOp::create(
      b, l, i8, arith::AndIOp::create(b, l, idx, idxConst(3)));
  Value shift = arith::MulIOp::create(b, l, lane, cst(2));
  Value v = arith::AndIOp::create(b, l, arith::ShRUIOp::create(b, l, low, shift), cst(3));
  if (!high)
    return v;
  Value bit = arith::IndexCastOp::create(b, l, i8,
                                         arith::AndIOp::create(b, l, idx, idxConst(7)));
  Value h = arith::AndIOp::create(b, l, arith::ShRUIOp::create(b, l, high, bit), cst(1));
  return arith::OrIOp::create(b, l, v, arith::ShLIOp::create(b, l, h, cst(2)));
}

/// Maps of a scale or zero-point operand: scalar (or one element) for
/// every element, or 1-D along `axis`.
FailureOr<AffineMap> paramMap(Operation *op, Value param, RankedTensorType data, int64_t axis,
                              StringRef what, int64_t blockSize) {
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
                        SmallVectorImpl<AffineMap> &maps, bool &hasZp, int64_t blockSize,
                        Value originalZp) {
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


std::optional<Fp8Format> fp8Format(Type t) {
  if (isa<Float8E4M3FNType>(t))
    return Fp8Format{3, 7, 448.0, false};
  if (isa<Float8E5M2Type>(t))
    return Fp8Format{2, 15, 57344.0, true};
  return std::nullopt;
}


} // namespace quantc::lowering::qdq
