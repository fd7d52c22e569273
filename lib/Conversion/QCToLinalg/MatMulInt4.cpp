//===- MatMulInt4.cpp - f32 x packed 4-bit weights --------------------------===//
//
// A MatMul whose B is the DequantizeLinear of a packed 4-bit constant.
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

namespace {

/// MatMul of f32 A and B = DequantizeLinear of a 4-bit constant [K, N] in
/// blocks of g along K: one contraction that reads the packed nibbles and
/// dequantizes them in its body, so no float weight tensor exists. Marked
/// qc.kernel = "matmul_f32_w4" (with qc.group and qc.signed), it becomes a
/// call to the runtime's GEMM whose B packer unpacks and dequantizes the
/// nibbles straight into its panels (quantc-cpu-kernel-calls); unmarked or
/// elsewhere it is an ordinary linalg loop nest with the same meaning.
/// Unsigned weights whose values all fit in 2 or 3 bits (w2a16, w3a16,
/// whose IR keeps ONNX's uint4 type) are stored in bit planes instead
/// (packLowBitPlanes: 2 or 3 bits per weight in the library) and marked
/// qc.kernel = "matmul_f32_wlow" with qc.bits.
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
    // Unsigned values that all fit in 2 or 3 bits (w2a16, w3a16) are
    // stored in bit planes of that width instead of nibbles.
    const int bits = isUnsigned ? lowBitWidth(dq.getX()) : 4;
    Value packed, high;
    if (bits == 2 || bits == 3)
      packLowBitPlanes(rw, l, dq.getX(), bits, packed, high);
    else
      packed = packNibbles(rw, l, dq.getX());
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
    // Values per byte of the packed operand: 2 nibbles, or 4 values of the
    // low plane (the high plane, 3 bits only, holds 8).
    const int64_t perByte = bits == 4 ? 2 : 4;
    SmallVector<Value> ins{A, packed};
    SmallVector<AffineMap> maps{AffineMap::get(3, 0, {d(0), d(2)}, ctx),
                                AffineMap::get(3, 0, {d(2), d(1).floorDiv(perByte)}, ctx)};
    if (high) {
      ins.push_back(high);
      maps.push_back(AffineMap::get(3, 0, {d(2), d(1).floorDiv(8)}, ctx));
    }
    const size_t sIdx = ins.size();
    ins.append({S, Z});
    maps.append({AffineMap::get(3, 0, {d(2).floorDiv(g), d(1)}, ctx),
                 AffineMap::get(3, 0, {d(2).floorDiv(g), d(1)}, ctx),
                 AffineMap::get(3, 0, {d(0), d(1)}, ctx)});
    bool isSigned = !isUnsigned;
    auto gen = linalg::GenericOp::create(
        rw, l, TypeRange{ct}, ins, ValueRange{init}, maps,
        {utils::IteratorType::parallel, utils::IteratorType::parallel,
         utils::IteratorType::reduction},
        [&](OpBuilder &b, Location nl, ValueRange v) {
          Value n = linalg::IndexOp::create(b, nl, 1);
          Value q = bits == 4 ? nibbleAt(b, nl, v[1], n, isSigned)
                              : lowBitAt(b, nl, v[1], high ? v[2] : Value(), n);
          Value diff = arith::SubIOp::create(b, nl, q, v[sIdx + 1]);
          Value w = arith::MulFOp::create(
              b, nl, arith::SIToFPOp::create(b, nl, b.getF32Type(), diff), v[sIdx]);
          Value acc =
              arith::AddFOp::create(b, nl, v[sIdx + 2], arith::MulFOp::create(b, nl, v[0], w));
          linalg::YieldOp::create(b, nl, acc);
        });
    gen->setAttr("qc.kernel", rw.getStringAttr(bits == 4 ? "matmul_f32_w4" : "matmul_f32_wlow"));
    gen->setAttr("qc.group", rw.getI64IntegerAttr(g));
    if (bits == 4)
      gen->setAttr("qc.signed", rw.getBoolAttr(isSigned));
    else
      gen->setAttr("qc.bits", rw.getI64IntegerAttr(bits));
    rw.replaceOp(op, expandLeading(rw, l, gen.getResult(0), rt, a.getA()));
    return success();
  }
};

} // namespace

void quantc::lowering::qdq::populateInt4Patterns(RewritePatternSet &patterns) {
  patterns.add<MatMulInt4Lowering>(patterns.getContext());
}
