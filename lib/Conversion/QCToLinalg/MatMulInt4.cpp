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

} // namespace

void quantc::lowering::qdq::populateInt4Patterns(RewritePatternSet &patterns) {
  patterns.add<MatMulInt4Lowering>(patterns.getContext());
}
