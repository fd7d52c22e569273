//===- Principal.cpp - an activation's leading directions kept float -----===//
//
// See quantc/Calibration/Principal.h.
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Principal.h"
#include "Constants.h"
#include "quantc/Calibration/MixedPrecision.h"
#include "quantc/Calibration/Salient.h"
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Quant/Eigen.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace quantc::calib {

bool principalSplittable(const std::vector<Target> &targets, const SmoothSite &site,
                         int64_t rank) {
  if (rank < 1 || site.channels <= rank)
    return false;
  bool anyQuantized = false;
  for (size_t c : site.consumers) {
    const Target &t = targets[c];
    auto mm = dyn_cast<qc::MatMulOp>(t.op);
    auto wt = mm ? dyn_cast<RankedTensorType>(mm.getB().getType()) : RankedTensorType();
    auto xt = mm ? dyn_cast<RankedTensorType>(mm.getA().getType()) : RankedTensorType();
    if (!mm || t.reductionAxis != 0 || !wt || wt.getRank() != 2 || !xt || xt.getRank() < 2 ||
        !isFloatConstant(mm.getB()))
      return false;
    anyQuantized |= !t.op->hasAttr(kKeepFloatAttr);
  }
  return anyQuantized;
}

llvm::Error splitSitePrincipal(const std::vector<Target> &targets, const SmoothSite &site,
                               const std::vector<double> &U, int64_t rank) {
  const int64_t K = site.channels, R = rank;
  if (!principalSplittable(targets, site, rank))
    return llvm::createStringError("site '" + site.name +
                                   "': the principal split needs MatMuls with a constant 2-D "
                                   "weight, K > rank and a quantized consumer");
  if (static_cast<int64_t>(U.size()) != R * K)
    return llvm::createStringError("site '" + site.name + "': U has " + std::to_string(U.size()) +
                                   " values for rank " + std::to_string(R) + " and K = " +
                                   std::to_string(K));
  Value x = site.x;
  auto xt = cast<RankedTensorType>(x.getType());
  Location loc = x.getLoc();
  OpBuilder b(x.getContext());
  if (Operation *def = x.getDefiningOp())
    b.setInsertionPointAfter(def);
  else
    b.setInsertionPointToStart(cast<BlockArgument>(x).getOwner());
  std::vector<float> ut(K * R), u(R * K);
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < K; ++j) {
      u[i * K + j] = static_cast<float>(U[i * K + j]);
      ut[j * R + i] = static_cast<float>(U[i * K + j]);
    }
  llvm::SmallVector<int64_t> pShape(xt.getShape());
  pShape.back() = R;
  auto pType = RankedTensorType::get(pShape, xt.getElementType());
  auto named = [&](const std::string &suffix) {
    return NameLoc::get(b.getStringAttr(site.name + suffix), loc);
  };
  auto proj = qc::MatMulOp::create(b, named("/principal"), pType, x,
                                   floatConstant(b, loc, {K, R}, ut));
  proj->setAttr(kSalientSideAttr, b.getUnitAttr());
  auto back = qc::MatMulOp::create(b, named("/principal_back"), xt, proj.getY(),
                                   floatConstant(b, loc, {R, K}, u));
  back->setAttr(kSalientSideAttr, b.getUnitAttr());
  Value rest = qc::SubOp::create(b, loc, xt, x, back.getY()).getResult();
  for (size_t c : site.consumers) {
    auto mm = cast<qc::MatMulOp>(targets[c].op);
    auto wt = cast<RankedTensorType>(mm.getB().getType());
    const int64_t N = wt.getDimSize(1);
    std::vector<float> W = *floatValues(mm.getB());
    // U W_c in double: [R, N].
    std::vector<float> side(R * N);
    for (int64_t i = 0; i < R; ++i)
      for (int64_t n = 0; n < N; ++n) {
        double s = 0;
        for (int64_t j = 0; j < K; ++j)
          s += U[i * K + j] * static_cast<double>(W[j * N + n]);
        side[i * N + n] = static_cast<float>(s);
      }
    // The layer reads x_r (through its observer when it has one).
    if (auto o = mm.getA().getDefiningOp<qc::ObserveOp>(); o && o.getInput() == x)
      o->setOperand(0, rest);
    else
      mm.getAMutable().assign(rest);
    OpBuilder ab(mm.getContext());
    ab.setInsertionPointAfter(mm);
    auto sideMM = qc::MatMulOp::create(
        ab, NameLoc::get(ab.getStringAttr(targets[c].name + "/principal"), mm.getLoc()),
        mm.getY().getType(), proj.getY(), floatConstant(ab, mm.getLoc(), {R, N}, side));
    sideMM->setAttr(kSalientSideAttr, ab.getUnitAttr());
    auto sum = qc::AddOp::create(ab, mm.getLoc(), mm.getY().getType(), mm.getY(), sideMM.getY());
    mm.getY().replaceAllUsesExcept(sum.getResult(), sum);
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<PrincipalSplit>>
splitPrincipalWithHessians(ModuleOp module,
                           const std::vector<std::shared_ptr<const std::vector<double>>> &hessians,
                           int64_t rank) {
  if (rank < 1 || rank > 256)
    return llvm::createStringError("principal split: the rank must be in [1, 256], got " +
                                   std::to_string(rank));
  std::vector<Target> targets = quantizationTargets(module);
  std::vector<PrincipalSplit> out;
  for (const SmoothSite &site : smoothingSites(module, targets)) {
    if (!principalSplittable(targets, site, rank))
      continue;
    std::shared_ptr<const std::vector<double>> H;
    for (size_t c : site.consumers)
      if (c < hessians.size() && hessians[c] &&
          static_cast<int64_t>(hessians[c]->size()) == site.channels * site.channels) {
        H = hessians[c];
        break;
      }
    if (!H)
      continue;
    const int64_t K = site.channels;
    double trace = 0;
    for (int64_t j = 0; j < K; ++j)
      trace += (*H)[j * K + j];
    if (!(trace > 0) || !std::isfinite(trace))
      continue;
    quant::Eigenpairs e = quant::leadingEigenpairs(*H, K, rank);
    PrincipalSplit r;
    r.name = site.name;
    r.K = K;
    r.rank = rank;
    for (double v : e.values)
      r.energyShare += v / trace;
    r.sideBits = 2 * rank * K * 32;
    for (size_t c : site.consumers)
      r.sideBits +=
          rank * cast<RankedTensorType>(targets[c].op->getOperand(targets[c].weight).getType())
                     .getDimSize(1) * 32;
    if (llvm::Error err = splitSitePrincipal(targets, site, e.vectors, rank))
      return std::move(err);
    out.push_back(std::move(r));
  }
  return out;
}

llvm::Expected<std::vector<PrincipalSplit>>
splitPrincipalComponents(ModuleOp module, const SampleSet &samples, int64_t rank) {
  auto h = collectHessians(module, samples);
  if (!h)
    return h.takeError();
  return splitPrincipalWithHessians(module, *h, rank);
}

} // namespace quantc::calib
