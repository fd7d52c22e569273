//===- Sensitivity.cpp - one layer quantized at a time ----------------------===//
//
// layerSensitivity: the model output's SQNR with only one layer
// quantized, per layer (what --min-layer-sqnr reads).
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Quantize.h"
#include "quantc/Calibration/MixedPrecision.h"
#include "quantc/Calibration/Salient.h"
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

llvm::Expected<std::vector<double>>
layerSensitivity(ModuleOp module, const std::vector<ActivationStats> &stats, const Recipe &recipe,
                 Calibrator calibrator, double percentile, const std::vector<Sample> &samples) {
  if (samples.empty())
    return llvm::createStringError("sensitivity analysis needs calibration samples");
  OwningOpRef<ModuleOp> probe = module.clone();
  std::vector<Target> targets = quantizationTargets(*probe);
  // The float operands, before insertQDQ replaces them.
  std::vector<std::pair<Value, Value>> originals;
  for (const Target &t : targets)
    originals.push_back({t.op->getOperand(t.activation), t.op->getOperand(t.weight)});
  // Dynamic recipes replace each layer by an integer product and erase
  // it: a float copy of the layer (left float: qc.keep_float) is kept
  // beside it, and an identity after it marks where the quantized result
  // arrives.
  const bool dynamic = recipe.dynamicActivations;
  std::vector<Operation *> floatCopies;
  std::vector<qc::IdentityOp> arrivals;
  if (dynamic) {
    for (const Target &t : targets) {
      OpBuilder b(t.op);
      Operation *copy = b.clone(*t.op);
      copy->setAttr(kKeepFloatAttr, b.getUnitAttr());
      b.setInsertionPointAfter(t.op);
      Value y = t.op->getResult(0);
      auto arrival = qc::IdentityOp::create(b, t.op->getLoc(), y.getType(), y);
      y.replaceAllUsesExcept(arrival.getResult(), arrival);
      floatCopies.push_back(copy);
      arrivals.push_back(arrival);
    }
  }
  auto reports = insertQDQ(*probe, targets, stats, recipe, calibrator, percentile);
  if (!reports)
    return reports.takeError();
  // One boolean input per layer picks its quantized or float operands.
  auto main = probe->lookupSymbol<func::FuncOp>("main");
  MLIRContext *ctx = probe->getContext();
  auto flagType = RankedTensorType::get({}, IntegerType::get(ctx, 1));
  for (size_t k = 0; k < targets.size(); ++k) {
    const Target &t = targets[k];
    Operation *at = dynamic ? arrivals[k].getOperation() : t.op; // t.op is gone if dynamic
    OpBuilder b(at);
    if (failed(main.insertArgument(
            main.getNumArguments(), flagType,
            b.getDictionaryAttr(b.getNamedAttr(
                "qc.name", b.getStringAttr("qc.quantize." + std::to_string(k)))),
            at->getLoc())))
      return llvm::createStringError("cannot add the sensitivity inputs");
    Value flag = main.getArgument(main.getNumArguments() - 1);
    if (dynamic) {
      qc::IdentityOp arrival = arrivals[k];
      Value q = arrival.getOperand(), f = floatCopies[k]->getResult(0);
      Value pick = qc::WhereOp::create(b, arrival.getLoc(), f.getType(), flag, q, f);
      arrival.getResult().replaceAllUsesWith(pick);
      arrival->erase();
      continue;
    }
    auto pick = [&](unsigned operand, Value original) {
      Value q = t.op->getOperand(operand);
      if (q == original)
        return;
      t.op->setOperand(operand, qc::WhereOp::create(b, t.op->getLoc(), original.getType(), flag,
                                                    q, original));
    };
    pick(t.activation, originals[k].first);
    pick(t.weight, originals[k].second);
  }
  std::vector<std::vector<int64_t>> shapes;
  for (const auto &x : samples.front())
    shapes.push_back(x.shape);
  for (size_t k = 0; k < targets.size(); ++k)
    shapes.push_back({});
  auto jit = cpu::JITModel::compile(*probe, shapes);
  if (!jit)
    return jit.takeError();
  auto run = [&](const Sample &s, int64_t enabled,
                 std::vector<cpu::HostTensor> &outs) -> llvm::Error {
    Sample in = s;
    for (size_t k = 0; k < targets.size(); ++k) {
      cpu::HostTensor f;
      f.name = "qc.quantize." + std::to_string(k);
      f.dtype = cpu::DType::Bool;
      f.data.assign(1, static_cast<char>(static_cast<int64_t>(k) == enabled));
      in.push_back(std::move(f));
    }
    return (*jit)->run(in, outs);
  };
  std::vector<double> signal(targets.size(), 0), noise(targets.size(), 0);
  for (const Sample &s : samples) {
    if (s.size() + targets.size() != shapes.size())
      return llvm::createStringError("sensitivity: samples have different inputs");
    for (size_t i = 0; i < s.size(); ++i)
      if (s[i].shape != shapes[i])
        return llvm::createStringError(
            "sensitivity analysis needs calibration samples of one shape");
    std::vector<cpu::HostTensor> ref;
    if (auto err = run(s, -1, ref))
      return std::move(err);
    for (size_t k = 0; k < targets.size(); ++k) {
      std::vector<cpu::HostTensor> outs;
      if (auto err = run(s, static_cast<int64_t>(k), outs))
        return std::move(err);
      for (size_t o = 0; o < outs.size(); ++o) {
        if (outs[o].dtype != cpu::DType::F32)
          continue;
        const float *a = reinterpret_cast<const float *>(ref[o].data.data());
        const float *q = reinterpret_cast<const float *>(outs[o].data.data());
        for (int64_t i = 0; i < outs[o].numElements(); ++i) {
          if (!std::isfinite(a[i]))
            continue;
          double d = std::isfinite(q[i]) ? static_cast<double>(q[i]) - a[i] : 1e30;
          signal[k] += static_cast<double>(a[i]) * a[i];
          noise[k] += d * d;
        }
      }
    }
  }
  std::vector<double> sqnr(targets.size());
  for (size_t k = 0; k < targets.size(); ++k)
    sqnr[k] = noise[k] > 0 ? 10 * std::log10(signal[k] / noise[k]) : INFINITY;
  return sqnr;
}

} // namespace quantc::calib
