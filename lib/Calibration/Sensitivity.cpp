//===- Sensitivity.cpp - one layer quantized at a time ----------------------===//
//
// layerOutputErrors: the model output's error with only one layer
// quantized, per layer, as a relative squared error or a KL divergence of
// the softmax over the last axis; layerSensitivity: the first as an SQNR
// (what --min-layer-sqnr reads).
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
#include <optional>
#include <set>

using namespace mlir;
using namespace quantc;

namespace quantc::calib {

std::string SensitivityMetric::describe() const {
  if (kind == OutputMetric::MSE && outputs.empty())
    return "mse";
  std::string s = kind == OutputMetric::KL ? "kl" : "mse";
  for (size_t i = 0; i < outputs.size(); ++i)
    s += (i ? "," : ":") + outputs[i];
  return s;
}

bool isSensitivityMetricName(const std::string &choice) {
  return choice == "auto" || choice == "mse" || choice == "kl";
}

llvm::Expected<SensitivityMetric> sensitivityMetric(ModuleOp module, const std::string &choice) {
  if (!isSensitivityMetricName(choice))
    return llvm::createStringError("unknown sensitivity metric '" + choice +
                                   "' (expected auto, mse or kl)");
  auto main = module.lookupSymbol<func::FuncOp>("main");
  bool hasLogits = false;
  if (main)
    for (unsigned i = 0; i < main.getNumResults(); ++i)
      if (auto d = main.getResultAttrDict(i))
        if (auto n = d.getAs<StringAttr>("qc.name"); n && n.getValue() == "logits")
          hasLogits = true;
  SensitivityMetric m;
  if (choice == "mse" || (choice == "auto" && !hasLogits))
    return m;
  m.kind = OutputMetric::KL;
  if (hasLogits)
    m.outputs = {"logits"};
  return m;
}

namespace {
/// The float run's log-softmax over the last axis of one output, kept per
/// sample so that each layer's run costs one exp per logit.
struct LogSoftmax {
  int64_t rows = 0, n = 0;
  std::vector<double> logp; // -inf where the float logit is not finite
  std::vector<double> p;    // exp(logp)
  std::vector<char> live;  // rows with a distribution

  LogSoftmax(const float *f, int64_t rows, int64_t n) : rows(rows), n(n) {
    logp.assign(rows * n, -INFINITY);
    p.assign(rows * n, 0.0);
    live.assign(rows, 0);
    for (int64_t r = 0; r < rows; ++r) {
      const float *x = f + r * n;
      double m = -INFINITY;
      for (int64_t i = 0; i < n; ++i)
        if (std::isfinite(x[i]))
          m = std::max(m, static_cast<double>(x[i]));
      if (!std::isfinite(m))
        continue;
      double z = 0;
      for (int64_t i = 0; i < n; ++i)
        if (std::isfinite(x[i]))
          z += std::exp(x[i] - m);
      const double lz = m + std::log(z);
      for (int64_t i = 0; i < n; ++i)
        if (std::isfinite(x[i])) {
          logp[r * n + i] = x[i] - lz;
          p[r * n + i] = std::exp(x[i] - lz);
        }
      live[r] = 1;
    }
  }

  /// Adds sum over live rows of KL(p || softmax(q)) to kl and the rows to
  /// count. A non-finite quantized logit where p lives costs 1000 nats.
  void addKL(const float *q, double &kl, double &count) const {
    for (int64_t r = 0; r < rows; ++r) {
      if (!live[r])
        continue;
      count += 1;
      const float *x = q + r * n;
      const double *lp = logp.data() + r * n, *pr = p.data() + r * n;
      double m = -INFINITY;
      bool bad = false;
      for (int64_t i = 0; i < n; ++i)
        if (std::isfinite(lp[i])) {
          bad |= !std::isfinite(x[i]);
          m = std::max(m, static_cast<double>(x[i]));
        }
      if (bad) {
        kl += 1e3;
        continue;
      }
      double z = 0, d = 0, sp = 0;
      for (int64_t i = 0; i < n; ++i)
        if (std::isfinite(lp[i])) {
          z += std::exp(x[i] - m);
          d += pr[i] * (lp[i] - x[i]);
          sp += pr[i];
        }
      // sum p (log p - log q) with log q_i = x_i - m - log z.
      kl += std::max(0.0, d + (m + std::log(z)) * sp);
    }
  }
};
} // namespace

llvm::Expected<std::vector<double>>
layerSensitivity(ModuleOp module, const std::vector<ActivationStats> &stats, const Recipe &recipe,
                 Calibrator calibrator, double percentile, const SampleSet &samples) {
  auto rel = layerOutputErrors(module, stats, recipe, calibrator, percentile, samples,
                               SensitivityMetric());
  if (!rel)
    return rel.takeError();
  std::vector<double> sqnr(rel->size());
  for (size_t k = 0; k < rel->size(); ++k)
    sqnr[k] = (*rel)[k] > 0 ? -10 * std::log10((*rel)[k]) : INFINITY;
  return sqnr;
}

llvm::Expected<std::vector<double>>
layerOutputErrors(ModuleOp module, const std::vector<ActivationStats> &stats, const Recipe &recipe,
                  Calibrator calibrator, double percentile, const SampleSet &samples,
                  const SensitivityMetric &metric) {
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
  {
    llvm::Expected<Sample> first = samples.get(0);
    if (!first)
      return first.takeError();
    for (const auto &x : *first)
      shapes.push_back(x.shape);
  }
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
  // The outputs compared: named ones must exist.
  auto counted = [&](const cpu::HostTensor &t) {
    if (t.dtype != cpu::DType::F32)
      return false;
    return metric.outputs.empty() ||
           std::find(metric.outputs.begin(), metric.outputs.end(), t.name) !=
               metric.outputs.end();
  };
  std::vector<double> signal(targets.size(), 0), noise(targets.size(), 0);
  for (size_t si = 0; si < samples.size(); ++si) {
    llvm::Expected<Sample> read = samples.get(si);
    if (!read)
      return read.takeError();
    const Sample &s = *read;
    if (s.size() + targets.size() != shapes.size())
      return llvm::createStringError("sensitivity: samples have different inputs");
    for (size_t i = 0; i < s.size(); ++i)
      if (s[i].shape != shapes[i])
        return llvm::createStringError(
            "sensitivity analysis needs calibration samples of one shape");
    std::vector<cpu::HostTensor> ref;
    if (auto err = run(s, -1, ref))
      return std::move(err);
    std::vector<std::optional<LogSoftmax>> refLogP(ref.size());
    if (metric.kind == OutputMetric::KL)
      for (size_t o = 0; o < ref.size(); ++o)
        if (counted(ref[o]) && !ref[o].shape.empty() && ref[o].shape.back() > 0) {
          const int64_t n = ref[o].shape.back();
          refLogP[o].emplace(reinterpret_cast<const float *>(ref[o].data.data()),
                             ref[o].numElements() / n, n);
        }
    for (const std::string &name : metric.outputs)
      if (std::none_of(ref.begin(), ref.end(), [&](const cpu::HostTensor &t) {
            return t.name == name && t.dtype == cpu::DType::F32;
          }))
        return llvm::createStringError("sensitivity: the model has no float output '" + name +
                                       "'");
    for (size_t k = 0; k < targets.size(); ++k) {
      std::vector<cpu::HostTensor> outs;
      if (auto err = run(s, static_cast<int64_t>(k), outs))
        return std::move(err);
      for (size_t o = 0; o < outs.size(); ++o) {
        if (!counted(outs[o]))
          continue;
        const float *a = reinterpret_cast<const float *>(ref[o].data.data());
        const float *q = reinterpret_cast<const float *>(outs[o].data.data());
        const int64_t count = outs[o].numElements();
        if (metric.kind == OutputMetric::KL) {
          if (refLogP[o])
            refLogP[o]->addKL(q, noise[k], signal[k]);
          continue;
        }
        for (int64_t i = 0; i < count; ++i) {
          if (!std::isfinite(a[i]))
            continue;
          double d = std::isfinite(q[i]) ? static_cast<double>(q[i]) - a[i] : 1e30;
          signal[k] += static_cast<double>(a[i]) * a[i];
          noise[k] += d * d;
        }
      }
    }
  }
  // MSE: noise / signal; KL: the summed divergence / rows.
  std::vector<double> error(targets.size());
  for (size_t k = 0; k < targets.size(); ++k)
    error[k] = noise[k] > 0 ? noise[k] / signal[k] : 0.0;
  return error;
}

} // namespace quantc::calib
