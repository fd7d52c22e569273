//===- Targets.cpp - what quantization rewrites -----------------------------===//
//
// The quantization targets of a model: MatMul, Gemm and Conv with constant
// weights, named by their ONNX node.
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Quantize.h"
#include "quantc/Calibration/Salient.h"
#include "quantc/Calibration/MixedPrecision.h"
#include "RuntimeSmooth.h"
#include "GenericOps.h"
#include "Constants.h"
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Quant/Formats.h"
#include "quantc/Quant/GPTQ.h"
#include "quantc/Runtime/Kernels.h"
#include "quantc/Target/CPU/JIT.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"


#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

using namespace mlir;
using namespace quantc;

namespace quantc::calib {
namespace {

std::string nodeName(Operation *op) {
  if (auto nl = dyn_cast<NameLoc>(op->getLoc()))
    return nl.getName().str();
  return op->getName().getStringRef().str();
}
} // namespace

std::vector<Target> quantizationTargets(ModuleOp module) {
  std::vector<Target> targets;
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return targets;
  main.walk([&](Operation *op) {
    Target t{op, 0, 1, 0, nodeName(op)};
    if (auto conv = dyn_cast<qc::ConvOp>(op)) {
      t.weightAxis = 0; // W: [M, C/group, kH, kW]
      t.reductionAxis = 1;
    } else if (auto mm = dyn_cast<qc::MatMulOp>(op)) {
      auto bt = dyn_cast<RankedTensorType>(mm.getB().getType());
      if (!bt || bt.getRank() != 2)
        return;
      t.weightAxis = 1; // B: [K, N], one scale per output column
      t.reductionAxis = 0;
    } else if (auto gemm = dyn_cast<qc::GemmOp>(op)) {
      if (gemm.getTransA())
        return;
      t.weightAxis = gemm.getTransB() ? 0 : 1;
      t.reductionAxis = 1 - t.weightAxis;
    } else {
      return;
    }
    // The float side product of a salient-channel split stays float.
    if (op->hasAttr(kSalientSideAttr))
      return;
    // qc-keep-float left this layer float (mixed precision).
    if (op->hasAttr(kKeepFloatAttr))
      return;
    if (!floatValues(op->getOperand(t.weight)) ||
        !isa<FloatType>(cast<TensorType>(op->getOperand(t.activation).getType()).getElementType()))
      return;
    // A product over one element (K = 1: an outer product, e.g. positions
    // times RoPE's inverse frequencies) saves nothing quantized and would
    // round its input: positions beyond 255 lose their exact values.
    auto wt = cast<RankedTensorType>(op->getOperand(t.weight).getType());
    if (!isa<qc::ConvOp>(op) && wt.getShape()[t.reductionAxis] == 1)
      return;
    targets.push_back(t);
  });
  return targets;
}

} // namespace quantc::calib
