//===- AttentionBufferization.cpp - qc.attention_kernel on buffers --------===//
//
// One-shot bufferization of qc.attention_kernel: the init tensor becomes
// the buffer the kernel writes (the result is that buffer); the other
// operands are read.
//
//===----------------------------------------------------------------------===//
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace quantc::qc {
namespace {
struct AttentionKernelModel
    : DstBufferizableOpInterfaceExternalModel<AttentionKernelModel, AttentionKernelOp> {
  // The kernel overwrites every element of init without reading it.
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand, const AnalysisState &) const {
    return !cast<DestinationStyleOpInterface>(op).isDpsInit(&operand);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options, BufferizationState &state) const {
    auto k = cast<AttentionKernelOp>(op);
    if (k->getNumResults() == 0)
      return success();
    SmallVector<Value> buffers;
    for (Value v : op->getOperands()) {
      FailureOr<Value> b = getBuffer(rewriter, v, options, state);
      if (failed(b))
        return failure();
      buffers.push_back(*b);
    }
    rewriter.setInsertionPoint(op);
    Value mask = k.getMask() ? buffers[3] : Value();
    Value init = buffers.back();
    AttentionKernelOp::create(rewriter, op->getLoc(), TypeRange{}, buffers[0], buffers[1],
                              buffers[2], mask, init, k.getScaleAttr());
    replaceOpWithBufferizedValues(rewriter, op, init);
    return success();
  }
};
} // namespace

void attachAttentionBufferization(MLIRContext &ctx) {
  AttentionKernelOp::attachInterface<AttentionKernelModel>(ctx);
}
} // namespace quantc::qc
