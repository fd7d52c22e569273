//===- QCToLinalgPass.cpp - the qc-to-linalg pass -------------------------===//
#include "LoweringUtils.h"
#include "quantc/Conversion/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Quant/IR/Quant.h"

namespace quantc {
#define GEN_PASS_DEF_QCTOLINALG
#include "quantc/Conversion/Passes.h.inc"
} // namespace quantc

using namespace mlir;

namespace {
struct QCToLinalgPass : quantc::impl::QCToLinalgBase<QCToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect, arith::ArithDialect,
                           math::MathDialect, affine::AffineDialect, func::FuncDialect,
                           scf::SCFDialect, quant::QuantDialect>();
    target.addIllegalDialect<quantc::qc::QCDialect>();
    target.addLegalOp<quantc::qc::NoneOp, quantc::qc::AttentionKernelOp>();
    // The cast of an unsigned result to @main's signless result type
    // (quantc-cpu-unsigned-boundary) goes once its operand is lowered.
    target.addDynamicallyLegalOp<UnrealizedConversionCastOp>([](UnrealizedConversionCastOp op) {
      return !quantc::lowering::isUnsignedToSignlessCast(op);
    });
    RewritePatternSet patterns(ctx);
    quantc::lowering::populateElementwisePatterns(patterns);
    quantc::lowering::populateContractionPatterns(patterns);
    quantc::lowering::populateReductionPatterns(patterns);
    quantc::lowering::populateDataMovementPatterns(patterns);
    quantc::lowering::populateResizePatterns(patterns);
    quantc::lowering::populateControlFlowPatterns(patterns);
    quantc::lowering::populateQuantizePatterns(patterns);
    quantc::lowering::populateAttentionPatterns(patterns);
    quantc::lowering::populateHadamardPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target, std::move(patterns))))
      return signalPassFailure();
    getOperation().walk([](quantc::qc::NoneOp op) {
      if (op->use_empty())
        op->erase();
    });
  }
};
} // namespace
