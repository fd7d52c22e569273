//===- Salient.cpp - salient input channels kept float --------------------===//
//
// See quantc/Calibration/Salient.h.
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Salient.h"
#include "Constants.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace mlir;

namespace quantc::calib {

void splitInputChannels(qc::MatMulOp mm, const std::string &name, llvm::ArrayRef<int64_t> S,
                        Value from) {
  auto wt = cast<RankedTensorType>(mm.getB().getType());
  auto xt = cast<RankedTensorType>(mm.getA().getType());
  auto yt = cast<RankedTensorType>(mm.getY().getType());
  std::vector<float> W = *floatValues(mm.getB());
  const int64_t K = wt.getDimSize(0), N = wt.getDimSize(1), s = static_cast<int64_t>(S.size());
  std::vector<float> side(s * N), rest = W;
  for (int64_t i = 0; i < s; ++i)
    for (int64_t n = 0; n < N; ++n) {
      side[i * N + n] = W[S[i] * N + n];
      rest[S[i] * N + n] = 0.0f;
    }
  // y = x W_R + gather(x, S) W_S, built right after the target.
  OpBuilder b(mm.getContext());
  b.setInsertionPoint(mm);
  Location loc = mm.getLoc();
  Value oldW = mm.getB();
  mm.getBMutable().assign(floatConstant(b, loc, {K, N}, rest));
  if (Operation *def = oldW.getDefiningOp(); def && def->use_empty())
    def->erase();
  b.setInsertionPointAfter(mm);
  auto idxType = RankedTensorType::get({s}, b.getI64Type());
  Value idx = qc::ConstantOp::create(b, loc, idxType, DenseElementsAttr::get(idxType, S));
  llvm::SmallVector<int64_t> xsShape(xt.getShape());
  xsShape.back() = s;
  Value xs = qc::GatherOp::create(b, loc, RankedTensorType::get(xsShape, xt.getElementType()),
                                  from ? from : mm.getA(), idx,
                                  b.getI64IntegerAttr(xt.getRank() - 1));
  Value ws = floatConstant(b, loc, {s, N}, side);
  auto sideMM = qc::MatMulOp::create(b, NameLoc::get(b.getStringAttr(name + "/salient"), loc), yt,
                                     xs, ws);
  sideMM->setAttr(kSalientSideAttr, b.getUnitAttr());
  auto sum = qc::AddOp::create(b, loc, yt, mm.getY(), sideMM.getY());
  mm.getY().replaceAllUsesExcept(sum.getResult(), sum);
}

llvm::Expected<std::vector<SalientSplit>>
splitSalientChannels(const std::vector<Target> &targets, const std::vector<ActivationStats> &stats,
                     double percent) {
  if (!(percent > 0 && percent <= 100))
    return llvm::createStringError("salient channels: the percentage must be in (0, 100], got " +
                                   std::to_string(percent));
  std::vector<SalientSplit> out;
  for (size_t k = 0; k < targets.size() && k < stats.size(); ++k) {
    const Target &t = targets[k];
    auto mm = dyn_cast<qc::MatMulOp>(t.op);
    const auto &H = stats[k].hessian;
    if (!mm || !H)
      continue;
    auto wt = dyn_cast<RankedTensorType>(mm.getB().getType());
    auto xt = dyn_cast<RankedTensorType>(mm.getA().getType());
    auto yt = dyn_cast<RankedTensorType>(mm.getY().getType());
    auto W = floatValues(mm.getB());
    if (!wt || !xt || !yt || wt.getRank() != 2 || xt.getRank() < 1 || !W)
      continue;
    const int64_t K = wt.getDimSize(0), N = wt.getDimSize(1);
    if (static_cast<int64_t>(H->size()) != K * K)
      return llvm::createStringError("salient channels: layer '" + t.name + "': a Hessian of " +
                                     std::to_string(H->size()) + " values for K = " +
                                     std::to_string(K));
    const int64_t s = std::min<int64_t>(K, static_cast<int64_t>(std::ceil(percent / 100.0 * K)));
    std::vector<double> score(K);
    for (int64_t j = 0; j < K; ++j) {
      double w2 = 0;
      for (int64_t n = 0; n < N; ++n)
        w2 += static_cast<double>((*W)[j * N + n]) * (*W)[j * N + n];
      // score^2 = H_jj ||W_j||^2: the channel's share of the output energy
      // when channels are uncorrelated.
      score[j] = std::max(0.0, (*H)[j * K + j]) * w2;
    }
    std::vector<int64_t> order(K);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return score[a] > score[b]; });
    std::vector<int64_t> S(order.begin(), order.begin() + s);
    std::sort(S.begin(), S.end());
    double total = std::accumulate(score.begin(), score.end(), 0.0), kept = 0;
    for (int64_t j : S)
      kept += score[j];
    splitInputChannels(mm, t.name, S);
    SalientSplit r;
    r.name = t.name;
    r.K = K;
    r.kept = s;
    r.scoreShare = total > 0 ? kept / total : 0.0;
    r.sideBits = s * N * 32;
    out.push_back(r);
  }
  return out;
}

} // namespace quantc::calib
