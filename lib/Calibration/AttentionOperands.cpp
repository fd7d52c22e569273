//===- AttentionOperands.cpp - a recipe's -kv8 / -qkv8 step ---------------===//
//
// After the layers are quantized: attention fused (qc-fuse-attention) and
// its keys and values, and with -qkv8 its queries, rounded to int8 per
// token and head (qc-quantize-kv).
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Quantize.h"
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"

namespace quantc::calib {

llvm::Expected<size_t> quantizeAttentionOperands(mlir::ModuleOp module, bool query, int bits,
                                                 bool rotate) {
  mlir::PassManager pm(module.getContext());
  mlir::OpPassManager &fn = pm.nest<mlir::func::FuncOp>();
  fn.addPass(createQCFuseAttention());
  QCQuantizeKVOptions options;
  options.query = query;
  options.bits = bits;
  options.rotate = rotate;
  fn.addPass(createQCQuantizeKV(options));
  if (mlir::failed(pm.run(module)))
    return llvm::createStringError("qc-fuse-attention / qc-quantize-kv failed");
  size_t count = 0;
  module.walk([&](qc::AttentionOp) { ++count; });
  if (count == 0)
    return llvm::createStringError(
        "the recipe rounds attention's keys and values (-kv8 / -qkv8 / -kv4 / -qkv4), but the model has no "
        "attention that qc-fuse-attention recognizes (MatMul(Q, K^T) -> [scale] -> [mask] -> "
        "Softmax -> MatMul(., V))");
  return count;
}

} // namespace quantc::calib
