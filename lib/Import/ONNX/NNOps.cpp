//===- NNOps.cpp - import of matmul, conv, pooling, normalization, reduce -===//
#include "NodeImporter.h"

using namespace mlir;

namespace quantc::onnx_import {

namespace {
/// Reductions took `axes` as an attribute before opset 18 (ReduceSum: 13).
LogicalResult importReduce(NodeContext &c, StringRef qcOp) {
  if (auto axes = c.takeInts("axes")) {
    c.ensureInputs(2);
    if (c.hasInput(1))
      return c.error("axes given both as attribute and as input");
    c.inputs[1] = c.constI64(*axes);
  }
  return c.buildGeneric(qcOp, 2, {sameAs(0)});
}
} // namespace

void registerNNOps(OpRegistry &r) {
  r.generic("MatMul", "qc.matmul", 2, {sameAs(0)});
  r.add("Gemm", [](NodeContext &c) {
    // `broadcast` (opsets < 7) only allowed C to broadcast, which is what
    // later opsets always do.
    c.take("broadcast");
    return c.buildGeneric("qc.gemm", 3, {sameAs(0)});
  });
  r.generic("Conv", "qc.conv", 3, {sameAs(0)});
  r.generic("ConvTranspose", "qc.conv_transpose", 3, {sameAs(0)});

  r.add("BatchNormalization", [](NodeContext &c) {
    if (auto spatial = c.takeInt("spatial"); spatial && *spatial != 1)
      return c.error("spatial = 0 (per-activation statistics) is not supported");
    if (auto isTest = c.takeInt("is_test"); isTest && *isTest == 0)
      return c.error("is_test = 0 (training) is not supported");
    for (int i = 1; i < c.node.output_size(); ++i)
      if (!c.node.output(i).empty())
        return c.error("training outputs (running mean/variance) are not "
                       "supported; only Y");
    return c.buildGeneric("qc.batch_normalization", 5, {sameAs(0)});
  });
  r.generic("InstanceNormalization", "qc.instance_normalization", 3, {sameAs(0)});
  // Mean and InvStdDev are kept in the stash type (1 = float32).
  r.generic("LayerNormalization", "qc.layer_normalization", 3,
            {sameAs(0), f32Type(), f32Type()});
  r.generic("MeanVarianceNormalization", "qc.mean_variance_normalization", 1,
            {sameAs(0)});

  static const std::pair<const char *, const char *> reduces[] = {
      {"ReduceMean", "qc.reduce_mean"}, {"ReduceSum", "qc.reduce_sum"},
      {"ReduceMax", "qc.reduce_max"}, {"ReduceMin", "qc.reduce_min"},
      {"ReduceL1", "qc.reduce_l1"}, {"ReduceL2", "qc.reduce_l2"},
      {"ReduceProd", "qc.reduce_prod"}, {"ReduceLogSum", "qc.reduce_log_sum"},
      {"ReduceLogSumExp", "qc.reduce_log_sum_exp"},
      {"ReduceSumSquare", "qc.reduce_sum_square"}};
  for (auto [onnx, qc] : reduces) {
    std::string op = qc;
    r.add(onnx, [op](NodeContext &c) { return importReduce(c, op); });
  }
  r.generic("ArgMax", "qc.arg_max", 1, {i64Type()});
  r.generic("ArgMin", "qc.arg_min", 1, {i64Type()});

  r.add("TopK", [](NodeContext &c) {
    if (auto k = c.takeInt("k")) {
      c.ensureInputs(2);
      c.inputs[1] = c.constI64({*k});
    }
    return c.buildGeneric("qc.top_k", 2, {sameAs(0), i64Type()});
  });

  r.generic("MaxPool", "qc.max_pool", 1, {sameAs(0), i64Type()});
  r.generic("AveragePool", "qc.average_pool", 1, {sameAs(0)});
  r.generic("GlobalAveragePool", "qc.global_average_pool", 1, {sameAs(0)});
  r.generic("GlobalMaxPool", "qc.global_max_pool", 1, {sameAs(0)});

  r.add("Dropout", [](NodeContext &c) {
    c.take("is_test");
    if (auto ratio = c.takeFloat("ratio")) {
      c.ensureInputs(2);
      Type elem = c.elementType(c.input(0));
      c.inputs[1] = c.constFloat(isa<FloatType>(elem) ? elem : c.builder.getF32Type(),
                                 {*ratio});
    }
    return c.buildGeneric("qc.dropout", 3, {sameAs(0), boolType()});
  });
}

} // namespace quantc::onnx_import
