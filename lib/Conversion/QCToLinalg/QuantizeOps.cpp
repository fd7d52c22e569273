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
// weights take half a byte in the compiled artifact. fp8 is not lowered.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"

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
  // Unsigned tensors other than constants (graph inputs and outputs of
  // type uint8) have no signless form at this level yet.
  if (!t || t.getElementType().isUnsignedInteger())
    return {};
  if (auto q = dyn_cast<quant::QuantizedType>(t.getElementType()))
    return quant::StorageCastOp::create(
        rw, l, t.clone(IntegerType::get(t.getContext(), q.getStorageTypeIntegralWidth())), v);
  return v;
}

/// Maps of a scale or zero-point operand: scalar (or one element) for
/// every element, or 1-D along `axis`.
FailureOr<AffineMap> paramMap(Operation *op, Value param, RankedTensorType data, int64_t axis,
                              StringRef what, int64_t blockSize = 0) {
  auto t = dyn_cast<RankedTensorType>(param.getType());
  MLIRContext *ctx = op->getContext();
  int64_t rank = data.getRank();
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

struct QuantizeLinearLowering : OpConversionPattern<QuantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(QuantizeLinearOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto xt = requireStatic(op, a.getX(), "the input");
    if (!xt)
      return failure();
    auto rt = cast<RankedTensorType>(op.getY().getType());
    bool isUnsigned = false;
    IntegerType storage = storageOf(rt.getElementType(), &isUnsigned);
    if (!storage || !isa<FloatType>(xt.getElementType()))
      return op.emitError("cannot lower: QuantizeLinear to ")
             << rt.getElementType() << " (only integer storage is lowered yet)";
    if (op.getBlockSize() != 0)
      return op.emitError("cannot lower: blocked QuantizeLinear is not lowered yet");
    // A plain unsigned result (not a !quant.uniform type) is lowered to its
    // signless bits, which only DequantizeLinear knows to read unsigned.
    if (rt.getElementType().isUnsignedInteger())
      for (Operation *user : op->getUsers())
        if (!isa<DequantizeLinearOp>(user))
          return op.emitError("cannot lower: QuantizeLinear to ")
                 << rt.getElementType() << " used by '" << user->getName()
                 << "' (unsigned tensors are only lowered into DequantizeLinear yet)";
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
    bool isUnsigned = false;
    IntegerType storage =
        storageOf(cast<TensorType>(op.getX().getType()).getElementType(), &isUnsigned);
    if (!storage)
      return op.emitError("cannot lower: DequantizeLinear of ")
             << xt.getElementType() << " (only integer storage is lowered yet)";
    int64_t rank = xt.getRank();
    SmallVector<Value> ins;
    SmallVector<AffineMap> maps;
    // 4-bit constants: packed along the last dim, two per byte.
    bool packed = false;
    if (storage.getWidth() == 4 && rank > 0)
      if (auto c = op.getX().getDefiningOp<ConstantOp>())
        if (auto dense = dyn_cast<DenseIntElementsAttr>(c.getValue())) {
          int64_t last = xt.getDimSize(rank - 1), half = (last + 1) / 2;
          int64_t rows = xt.getNumElements() / std::max<int64_t>(1, last);
          std::vector<int8_t> bytes(rows * half, 0);
          int64_t i = 0;
          for (const APInt &v : dense.getValues<APInt>()) {
            int64_t row = i / last, col = i % last;
            uint8_t nib = static_cast<uint8_t>(v.getZExtValue() & 0xF);
            bytes[row * half + col / 2] |= static_cast<int8_t>(col % 2 ? nib << 4 : nib);
            ++i;
          }
          SmallVector<int64_t> shape(xt.getShape());
          shape.back() = half;
          auto pt = RankedTensorType::get(shape, rw.getI8Type());
          ins.push_back(arith::ConstantOp::create(
              rw, op.getLoc(), DenseElementsAttr::get(pt, ArrayRef<int8_t>(bytes))));
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
          if (packed) {
            // The nibble of this element: the low one at even positions.
            Type i8 = b.getI8Type();
            Value idx = linalg::IndexOp::create(b, l, rank - 1);
            Value odd = arith::IndexCastOp::create(
                b, l, i8,
                arith::AndIOp::create(b, l, idx, arith::ConstantIndexOp::create(b, l, 1)));
            Value four = arith::ConstantOp::create(b, l, b.getI8IntegerAttr(4));
            Value shift = arith::MulIOp::create(b, l, odd, four); // 0 or 4
            if (isUnsigned) {
              stored = arith::AndIOp::create(
                  b, l, arith::ShRUIOp::create(b, l, stored, shift),
                  arith::ConstantOp::create(b, l, b.getI8IntegerAttr(15)));
            } else {
              Value up = arith::ShLIOp::create(b, l, stored,
                                               arith::SubIOp::create(b, l, four, shift));
              stored = arith::ShRSIOp::create(b, l, up, four);
            }
          }
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

void quantc::lowering::populateQuantizePatterns(RewritePatternSet &patterns) {
  patterns.add<QuantizeLinearLowering, DequantizeLinearLowering>(patterns.getContext());
}
