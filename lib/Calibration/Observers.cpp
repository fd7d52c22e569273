//===- Observers.cpp - qc.observe ops and their statistics ------------------===//
//
// qc-insert-observers, the statistics as attributes and back, and
// takeObservations (the first step of qc-quantize).
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Quantize.h"
#include "Observers.h"
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
/// Makes `v` (defined anywhere under main) a value of main's body: each
/// qc.if around it gets one more result, `v` from its branch and, from the
/// other branch, a NaN-filled constant of the same type (which the
/// statistics skip). Null when a type on the way is not static.
Value routeToMain(Value v, func::FuncOp main) {
  while (true) {
    Operation *parent = v.getParentRegion()->getParentOp();
    if (parent == main.getOperation())
      return v;
    auto ifOp = dyn_cast<qc::IfOp>(parent);
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!ifOp || !type || !type.hasStaticShape() || !isa<FloatType>(type.getElementType()))
      return {};
    Region *mine = v.getParentRegion();
    Region *other =
        mine == &ifOp.getThenBranch() ? &ifOp.getElseBranch() : &ifOp.getThenBranch();
    auto mineYield = cast<qc::YieldOp>(mine->front().getTerminator());
    auto otherYield = cast<qc::YieldOp>(other->front().getTerminator());
    OpBuilder b(otherYield);
    Value nan = qc::ConstantOp::create(
        b, otherYield.getLoc(), type,
        DenseElementsAttr::get(type, APFloat::getNaN(
                                         cast<FloatType>(type.getElementType()).getFloatSemantics())));
    mineYield->insertOperands(mineYield->getNumOperands(), v);
    otherYield->insertOperands(otherYield->getNumOperands(), nan);
    SmallVector<Type> types(ifOp.getResultTypes());
    types.push_back(type);
    b.setInsertionPoint(ifOp);
    auto grown = qc::IfOp::create(b, ifOp.getLoc(), types, ifOp.getCond());
    grown.getThenBranch().takeBody(ifOp.getThenBranch());
    grown.getElseBranch().takeBody(ifOp.getElseBranch());
    grown->setAttrs(ifOp->getAttrs());
    for (unsigned i = 0; i < ifOp.getNumResults(); ++i)
      ifOp.getResult(i).replaceAllUsesWith(grown.getResult(i));
    ifOp.erase();
    v = grown.getResult(grown.getNumResults() - 1);
  }
}

size_t insertObservers(ModuleOp module) {
  std::vector<Target> targets = quantizationTargets(module);
  for (size_t k = 0; k < targets.size(); ++k) {
    const Target &t = targets[k];
    OpBuilder b(t.op);
    Value x = t.op->getOperand(t.activation);
    auto obs = qc::ObserveOp::create(b, t.op->getLoc(), x.getType(), x,
                                     b.getI64IntegerAttr(static_cast<int64_t>(k)),
                                     b.getStringAttr(t.name), DictionaryAttr());
    t.op->setOperand(t.activation, obs.getOutput());
  }
  return targets.size();
}

DictionaryAttr statsToAttr(MLIRContext *ctx, const ActivationStats &s) {
  Builder b(ctx);
  SmallVector<NamedAttribute> attrs{
      b.getNamedAttr("min", b.getF64FloatAttr(s.minmax.empty() ? 0.0 : s.minmax.min()[0])),
      b.getNamedAttr("max", b.getF64FloatAttr(s.minmax.empty() ? 0.0 : s.minmax.max()[0])),
      b.getNamedAttr("samples", b.getI64IntegerAttr(s.minmax.batchCount())),
      b.getNamedAttr("nonfinite", b.getI64IntegerAttr(s.minmax.nonFinite())),
      b.getNamedAttr("bin_width", b.getF64FloatAttr(s.histogram.binWidth())),
      b.getNamedAttr("total", b.getF64FloatAttr(s.histogram.count())),
      b.getNamedAttr("counts", b.getDenseF64ArrayAttr(s.histogram.binCounts())),
  };
  if (!s.channels.empty()) {
    attrs.push_back(b.getNamedAttr("channel_min", b.getDenseF64ArrayAttr(s.channels.min())));
    attrs.push_back(b.getNamedAttr("channel_max", b.getDenseF64ArrayAttr(s.channels.max())));
  }
  if (s.smoothed)
    attrs.push_back(b.getNamedAttr("smoothed", b.getUnitAttr()));
  if (!s.channelAbsMean.empty()) {
    attrs.push_back(b.getNamedAttr("channel_absmean", b.getDenseF64ArrayAttr(s.channelAbsMean)));
    attrs.push_back(b.getNamedAttr("channel_rows", b.getI64IntegerAttr(s.channelRows)));
  }
  if (s.hessian && !s.hessian->empty()) {
    auto k = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(s.hessian->size()))));
    auto t = RankedTensorType::get({k, k}, b.getF64Type());
    attrs.push_back(b.getNamedAttr("hessian", DenseElementsAttr::get(t, ArrayRef<double>(*s.hessian))));
    attrs.push_back(b.getNamedAttr("hessian_rows", b.getI64IntegerAttr(s.hessianRows)));
  }
  return b.getDictionaryAttr(attrs);
}

llvm::Expected<ActivationStats> statsFromAttr(DictionaryAttr attr) {
  auto f = [&](StringRef name) -> std::optional<double> {
    if (auto v = attr.getAs<FloatAttr>(name))
      return v.getValueAsDouble();
    return std::nullopt;
  };
  auto i = [&](StringRef name) -> std::optional<int64_t> {
    if (auto v = attr.getAs<IntegerAttr>(name))
      return v.getInt();
    return std::nullopt;
  };
  auto counts = attr.getAs<DenseF64ArrayAttr>("counts");
  auto mn = f("min"), mx = f("max"), width = f("bin_width"), total = f("total");
  auto samples = i("samples"), nonFinite = i("nonfinite");
  if (!mn || !mx || !width || !total || !samples || !nonFinite || !counts ||
      counts.size() == 0 || *mn > *mx || *width < 0)
    return llvm::createStringError(
        "bad qc.observe stats: expected {min, max (f64, min <= max), samples, nonfinite (i64), "
        "bin_width, total (f64), counts = array<f64: ...>}");
  ActivationStats s;
  if (*samples > 0)
    s.minmax = MinMax::restore(*mn, *mx, *samples, *nonFinite);
  s.histogram = Histogram::restore(std::vector<double>(counts.asArrayRef().begin(),
                                                       counts.asArrayRef().end()),
                                   *width, *total, *nonFinite);
  auto cmin = attr.getAs<DenseF64ArrayAttr>("channel_min");
  auto cmax = attr.getAs<DenseF64ArrayAttr>("channel_max");
  if (cmin || cmax) {
    if (!cmin || !cmax || cmin.size() != cmax.size() || cmin.size() == 0)
      return llvm::createStringError(
          "bad qc.observe stats: channel_min and channel_max must both be non-empty "
          "array<f64: ...> of one length");
    for (int64_t c = 0; c < cmin.size(); ++c)
      if (!(cmin[c] <= cmax[c]))
        return llvm::createStringError("bad qc.observe stats: channel " + std::to_string(c) +
                                       " has channel_min > channel_max");
    if (*samples > 0)
      s.channels = MinMax::restore(std::vector<double>(cmin.asArrayRef()),
                                   std::vector<double>(cmax.asArrayRef()), *samples, *nonFinite);
  }
  s.smoothed = attr.contains("smoothed");
  if (auto m = attr.getAs<DenseF64ArrayAttr>("channel_absmean")) {
    auto rows = i("channel_rows");
    if (!rows || *rows < 0 || m.size() == 0 ||
        !llvm::all_of(m.asArrayRef(), [](double v) { return !(v < 0); }))
      return llvm::createStringError("bad qc.observe stats: channel_absmean must be a non-empty "
                                     "array<f64: ...> of values >= 0 with channel_rows");
    s.channelAbsMean.assign(m.asArrayRef().begin(), m.asArrayRef().end());
    s.channelRows = *rows;
  }
  if (auto h = attr.getAs<DenseFPElementsAttr>("hessian")) {
    auto t = cast<ShapedType>(h.getType());
    auto rows = i("hessian_rows");
    if (t.getRank() != 2 || t.getDimSize(0) != t.getDimSize(1) || !t.getElementType().isF64() ||
        !rows || *rows <= 0)
      return llvm::createStringError("bad qc.observe stats: hessian must be a square f64 tensor "
                                     "with hessian_rows > 0");
    auto v = std::make_shared<std::vector<double>>();
    v->reserve(h.getNumElements());
    for (const APFloat &x : h.getValues<APFloat>())
      v->push_back(x.convertToDouble());
    s.hessian = std::move(v);
    s.hessianRows = *rows;
  }
  return s;
}

llvm::Expected<Observations> takeObservations(ModuleOp module) {
  std::map<Operation *, ActivationStats> byTarget;
  std::map<Operation *, std::string> layerOf;
  SmallVector<qc::ObserveOp> observers;
  module.walk([&](qc::ObserveOp o) { observers.push_back(o); });
  for (qc::ObserveOp o : observers) {
    for (Operation *user : o->getUsers())
      layerOf[user] = o.getLayer().str();
    if (auto st = o.getStatsAttr()) {
      auto s = statsFromAttr(st);
      if (!s)
        return llvm::createStringError("observer of layer '" + o.getLayer().str() +
                                       "': " + llvm::toString(s.takeError()));
      for (Operation *user : o->getUsers())
        byTarget[user] = *s;
    }
    o.getOutput().replaceAllUsesWith(o.getInput());
    o->erase();
  }
  Observations out;
  out.targets = quantizationTargets(module);
  for (Target &t : out.targets) {
    // IR read back from text has lost the node names in its locations;
    // the observer kept the layer's.
    if (auto l = layerOf.find(t.op);
        l != layerOf.end() && !isa<NameLoc>(t.op->getLoc()) && !l->second.empty())
      t.name = l->second;
    auto it = byTarget.find(t.op);
    out.stats.push_back(it != byTarget.end() ? it->second : ActivationStats());
  }
  return out;
}

} // namespace quantc::calib
