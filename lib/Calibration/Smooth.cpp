//===- Smooth.cpp - SmoothQuant sites, scales and folds -------------------===//
//
// See quantc/Calibration/Smooth.h for the math. This file finds the sites
// and rewrites them; SmoothSearch.cpp chooses alpha per site.
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Smooth.h"
#include "Constants.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace quantc;

namespace quantc::calib {
namespace {

Value lookThroughObserver(Value v) {
  if (auto o = v.getDefiningOp<qc::ObserveOp>())
    return o.getInput();
  return v;
}

/// A constant of K values along the last axis (leading dims 1), or one
/// value (broadcast): what a per-channel fold can rewrite.
bool isChannelConstant(Value v, int64_t k) {
  if (!floatValues(v))
    return false;
  auto t = cast<RankedTensorType>(v.getType());
  if (t.getNumElements() == 1)
    return true;
  if (t.getRank() == 0 || t.getShape().back() != k)
    return false;
  return t.getNumElements() == k;
}

/// How X's producer takes X / s (see Smooth.h).
struct FoldPlan {
  SmoothSite::Fold fold = SmoothSite::Fold::Explicit;
  Operation *op = nullptr; // the mul or layer norm
  unsigned operand = 0;    // Scale: the constant's operand; Gate: u's
  qc::MatMulOp gateMatMul; // Gate: u = y U (+ c)
  qc::AddOp gateBias;      // Gate: the bias add, or null
  unsigned biasOperand = 0;
};

FoldPlan planFold(Value x, int64_t k) {
  FoldPlan p;
  Operation *def = x.getDefiningOp();
  if (auto mul = dyn_cast_or_null<qc::MulOp>(def)) {
    for (unsigned i = 0; i < 2; ++i)
      if (isChannelConstant(mul->getOperand(i), k)) {
        p.fold = SmoothSite::Fold::Scale;
        p.op = mul;
        p.operand = i;
        return p;
      }
    for (unsigned i = 0; i < 2; ++i) {
      Value u = mul->getOperand(i);
      if (!u.hasOneUse() || u == mul->getOperand(1 - i))
        continue;
      Value mmOut = u;
      qc::AddOp bias;
      unsigned biasOperand = 0;
      if (auto add = u.getDefiningOp<qc::AddOp>()) {
        for (unsigned j = 0; j < 2 && !bias; ++j)
          if (add->getOperand(j).getDefiningOp<qc::MatMulOp>() &&
              add->getOperand(j).hasOneUse() && isChannelConstant(add->getOperand(1 - j), k)) {
            bias = add;
            biasOperand = 1 - j;
            mmOut = add->getOperand(j);
          }
        if (!bias)
          continue;
      }
      auto mm = mmOut.getDefiningOp<qc::MatMulOp>();
      if (!mm || !floatValues(mm.getB()))
        continue;
      auto bt = cast<RankedTensorType>(mm.getB().getType());
      if (bt.getRank() != 2 || bt.getShape()[1] != k)
        continue;
      p.fold = SmoothSite::Fold::Gate;
      p.op = mul;
      p.operand = i;
      p.gateMatMul = mm;
      p.gateBias = bias;
      p.biasOperand = biasOperand;
      return p;
    }
  }
  if (auto ln = dyn_cast_or_null<qc::LayerNormalizationOp>(def)) {
    auto xt = cast<RankedTensorType>(x.getType());
    int64_t axis = static_cast<int64_t>(ln.getAxis());
    if (axis < 0)
      axis += xt.getRank();
    Value beta = ln.getB();
    if (x == ln.getY() && axis == xt.getRank() - 1 && isChannelConstant(ln.getScale(), k) &&
        (isa<NoneType>(beta.getType()) || isChannelConstant(beta, k))) {
      p.fold = SmoothSite::Fold::LayerNorm;
      p.op = ln;
      return p;
    }
  }
  return p;
}

/// `values` (K of them, or one broadcast) times `f` per channel, as a new
/// constant of the old one's shape (or [K] for a broadcast one) before
/// `at`.
Value scaledChannels(OpBuilder &b, Operation *at, Value old, const std::vector<float> &f) {
  std::vector<float> v = *floatValues(old);
  int64_t k = static_cast<int64_t>(f.size());
  SmallVector<int64_t> shape(cast<RankedTensorType>(old.getType()).getShape());
  if (v.size() == 1) {
    v.assign(k, v[0]);
    shape = {k};
  }
  for (int64_t j = 0; j < k; ++j)
    v[j] *= f[j];
  b.setInsertionPoint(at);
  return floatConstant(b, at->getLoc(), shape, v);
}

/// Erases the constant behind `v` once nothing reads it (a rewritten
/// weight's old value would otherwise stay in the IR).
void eraseIfDead(Value v) {
  if (Operation *def = v.getDefiningOp(); def && isa<qc::ConstantOp>(def) && def->use_empty())
    def->erase();
}

/// The uses of X that belong to the consumers: the consumers' activation
/// operands and the observers that only feed consumers.
bool isConsumerSide(OpOperand &use, const llvm::SmallPtrSetImpl<Operation *> &consumers) {
  Operation *owner = use.getOwner();
  if (consumers.count(owner))
    return true;
  if (auto o = dyn_cast<qc::ObserveOp>(owner))
    return !o->use_empty() && llvm::all_of(o->getUsers(), [&](Operation *u) {
      return consumers.count(u) > 0;
    });
  return false;
}

} // namespace

llvm::Error smoothObserverStats(qc::ObserveOp o, const std::vector<float> &s) {
  auto attr = o.getStatsAttr();
  if (!attr)
    return llvm::Error::success(); // not calibrated: nothing to follow
  auto st = statsFromAttr(attr);
  if (!st)
    return st.takeError();
  if (st->minmax.empty())
    return llvm::Error::success();
  if (st->channels.channelCount() != static_cast<int64_t>(s.size()))
    return llvm::createStringError(
        "observer of layer '" + o.getLayer().str() +
        "' has no per-channel statistics of its input (calibrate with this version)");
  std::vector<double> lo = st->channels.min(), hi = st->channels.max();
  double tlo = 0, thi = 0;
  for (size_t j = 0; j < s.size(); ++j) {
    lo[j] /= s[j];
    hi[j] /= s[j];
    tlo = j == 0 ? lo[j] : std::min(tlo, lo[j]);
    thi = j == 0 ? hi[j] : std::max(thi, hi[j]);
  }
  ActivationStats out;
  int64_t batches = st->minmax.batchCount(), nonFinite = st->minmax.nonFinite();
  out.minmax = MinMax::restore(tlo, thi, batches, nonFinite);
  out.channels = MinMax::restore(std::move(lo), std::move(hi), batches, nonFinite);
  out.histogram = Histogram(1);
  out.smoothed = true;
  if (st->channelAbsMean.size() == s.size()) {
    out.channelAbsMean = st->channelAbsMean;
    for (size_t j = 0; j < s.size(); ++j)
      out.channelAbsMean[j] /= s[j];
    out.channelRows = st->channelRows;
  }
  // A Hessian (calibrate --hessians) follows exactly: (X S^-1)^T (X S^-1).
  if (st->hessian && st->hessian->size() == s.size() * s.size()) {
    auto h = std::make_shared<std::vector<double>>(*st->hessian);
    for (size_t i = 0; i < s.size(); ++i)
      for (size_t j = 0; j < s.size(); ++j)
        (*h)[i * s.size() + j] /= static_cast<double>(s[i]) * s[j];
    out.hessian = std::move(h);
    out.hessianRows = st->hessianRows;
  }
  o.setStatsAttr(statsToAttr(o.getContext(), out));
  return llvm::Error::success();
}

const char *smoothFoldName(SmoothSite::Fold f) {
  switch (f) {
  case SmoothSite::Fold::Scale:
    return "scale";
  case SmoothSite::Fold::LayerNorm:
    return "layernorm";
  case SmoothSite::Fold::Gate:
    return "gate";
  case SmoothSite::Fold::Explicit:
    return "explicit";
  }
  return "?";
}

std::vector<SmoothSite> smoothingSites(ModuleOp module, const std::vector<Target> &targets) {
  std::vector<SmoothSite> sites;
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return sites;
  llvm::DenseMap<Value, size_t> byX;
  for (size_t k = 0; k < targets.size(); ++k) {
    const Target &t = targets[k];
    if (!isa<qc::MatMulOp, qc::GemmOp>(t.op) || t.op->getParentOp() != main.getOperation())
      continue;
    Value x = lookThroughObserver(t.op->getOperand(t.activation));
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    if (!xt || xt.getRank() < 1 || xt.isDynamicDim(xt.getRank() - 1))
      continue;
    int64_t channels = xt.getShape().back();
    auto wt = cast<RankedTensorType>(t.op->getOperand(t.weight).getType());
    if (wt.getRank() != 2 || wt.getShape()[t.reductionAxis] != channels)
      continue;
    auto [it, fresh] = byX.try_emplace(x, sites.size());
    if (fresh) {
      sites.emplace_back();
      sites.back().x = x;
      sites.back().channels = channels;
    }
    SmoothSite &site = sites[it->second];
    site.consumers.push_back(k);
    site.name += (site.name.empty() ? "" : "+") + t.name;
  }
  for (SmoothSite &site : sites)
    site.fold = planFold(site.x, site.channels).fold;
  return sites;
}

std::vector<double> weightRowAbsMax(const std::vector<Target> &targets, const SmoothSite &site) {
  std::vector<double> m(site.channels, 0.0);
  for (size_t c : site.consumers) {
    const Target &t = targets[c];
    auto w = floatValues(t.op->getOperand(t.weight));
    auto dims = cast<RankedTensorType>(t.op->getOperand(t.weight).getType()).getShape();
    for (int64_t i = 0; i < dims[0]; ++i)
      for (int64_t n = 0; n < dims[1]; ++n) {
        int64_t j = t.reductionAxis == 0 ? i : n;
        double v = std::fabs((*w)[i * dims[1] + n]);
        if (std::isfinite(v))
          m[j] = std::max(m[j], v);
      }
  }
  return m;
}

std::vector<float> smoothingScales(const std::vector<double> &xAbsMax,
                                   const std::vector<double> &wAbsMax, double alpha) {
  std::vector<float> s(xAbsMax.size(), 1.0f);
  for (size_t j = 0; j < s.size(); ++j) {
    double x = xAbsMax[j], w = wAbsMax[j];
    if (!(x > 0) || !(w > 0) || !std::isfinite(x) || !std::isfinite(w))
      continue;
    double v = std::pow(x, alpha) / std::pow(w, 1.0 - alpha);
    s[j] = static_cast<float>(std::clamp(v, 1e-5, 1e5));
  }
  return s;
}

std::vector<float> awqScales(const std::vector<double> &xAbsMean, double alpha) {
  std::vector<double> v(xAbsMean.size(), 1.0);
  double lo = INFINITY, hi = 0;
  for (size_t j = 0; j < v.size(); ++j) {
    double x = xAbsMean[j];
    v[j] = std::max(std::isfinite(x) && x > 0 ? std::pow(x, alpha) : 1.0, 1e-4);
    lo = std::min(lo, v[j]);
    hi = std::max(hi, v[j]);
  }
  double norm = std::sqrt(lo * hi);
  std::vector<float> s(v.size(), 1.0f);
  for (size_t j = 0; j < v.size(); ++j)
    s[j] = static_cast<float>(std::clamp(v[j] / norm, 1e-5, 1e5));
  return s;
}

llvm::Error applySmoothing(const std::vector<Target> &targets, const SmoothSite &site,
                           const std::vector<float> &s) {
  int64_t k = site.channels;
  if (static_cast<int64_t>(s.size()) != k)
    return llvm::createStringError("smoothing site '" + site.name + "': " +
                                   std::to_string(s.size()) + " scales for " +
                                   std::to_string(k) + " channels");
  for (float v : s)
    if (!(v > 0) || !std::isfinite(v))
      return llvm::createStringError("smoothing site '" + site.name +
                                     "': scales must be finite and positive");
  FoldPlan plan = planFold(site.x, k);
  if (plan.fold != site.fold)
    return llvm::createStringError("smoothing site '" + site.name +
                                   "': its producer changed since the sites were found");
  OpBuilder b(site.x.getContext());
  std::vector<float> inv(k);
  for (int64_t j = 0; j < k; ++j)
    inv[j] = 1.0f / s[j];

  // Consumers: W <- diag(s) W (rows along the reduction axis).
  llvm::SmallPtrSet<Operation *, 8> consumers;
  for (size_t c : site.consumers) {
    const Target &t = targets[c];
    consumers.insert(t.op);
    Value w = t.op->getOperand(t.weight);
    std::vector<float> v = *floatValues(w);
    auto dims = cast<RankedTensorType>(w.getType()).getShape();
    for (int64_t i = 0; i < dims[0]; ++i)
      for (int64_t n = 0; n < dims[1]; ++n)
        v[i * dims[1] + n] *= s[t.reductionAxis == 0 ? i : n];
    b.setInsertionPoint(t.op);
    t.op->setOperand(t.weight, floatConstant(b, t.op->getLoc(), dims, v));
    eraseIfDead(w);
  }

  // The producer: X <- X / s.
  switch (plan.fold) {
  case SmoothSite::Fold::Scale: {
    Value old = plan.op->getOperand(plan.operand);
    plan.op->setOperand(plan.operand, scaledChannels(b, plan.op, old, inv));
    eraseIfDead(old);
    break;
  }
  case SmoothSite::Fold::LayerNorm: {
    auto ln = cast<qc::LayerNormalizationOp>(plan.op);
    Value oldScale = ln.getScale(), oldBias = ln.getB();
    ln->setOperand(1, scaledChannels(b, ln, oldScale, inv));
    eraseIfDead(oldScale);
    if (!isa<NoneType>(oldBias.getType())) {
      ln->setOperand(2, scaledChannels(b, ln, oldBias, inv));
      eraseIfDead(oldBias);
    }
    break;
  }
  case SmoothSite::Fold::Gate: {
    qc::MatMulOp mm = plan.gateMatMul;
    std::vector<float> u = *floatValues(mm.getB());
    auto dims = cast<RankedTensorType>(mm.getB().getType()).getShape();
    for (int64_t i = 0; i < dims[0]; ++i)
      for (int64_t j = 0; j < k; ++j)
        u[i * k + j] *= inv[j];
    b.setInsertionPoint(mm);
    Value oldU = mm.getB();
    mm->setOperand(1, floatConstant(b, mm.getLoc(), dims, u));
    eraseIfDead(oldU);
    if (plan.gateBias) {
      Value oldBias = plan.gateBias->getOperand(plan.biasOperand);
      plan.gateBias->setOperand(plan.biasOperand,
                                scaledChannels(b, plan.gateBias, oldBias, inv));
      eraseIfDead(oldBias);
    }
    break;
  }
  case SmoothSite::Fold::Explicit:
    break;
  }

  // The uses: consumer-side ones read X / s, the others X.
  SmallVector<OpOperand *> consumerSide, others;
  for (OpOperand &use : site.x.getUses())
    (isConsumerSide(use, consumers) ? consumerSide : others).push_back(&use);
  auto scaledX = [&](const std::vector<float> &f) {
    if (Operation *def = site.x.getDefiningOp())
      b.setInsertionPointAfter(def);
    else
      b.setInsertionPointToStart(cast<BlockArgument>(site.x).getOwner());
    Value c = floatConstant(b, site.x.getLoc(), {k}, f);
    return qc::MulOp::create(b, site.x.getLoc(), site.x.getType(), site.x, c).getResult();
  };
  if (plan.fold == SmoothSite::Fold::Explicit) {
    Value xs = scaledX(inv);
    for (OpOperand *use : consumerSide)
      use->set(xs);
  } else if (!others.empty()) {
    Value xs = scaledX(s);
    for (OpOperand *use : others)
      use->set(xs);
  }

  // Observers follow.
  for (size_t c : site.consumers) {
    const Target &t = targets[c];
    if (auto o = t.op->getOperand(t.activation).getDefiningOp<qc::ObserveOp>())
      if (llvm::Error e = smoothObserverStats(o, s))
        return e;
  }
  return llvm::Error::success();
}

} // namespace quantc::calib
