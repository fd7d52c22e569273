//===- Quantize.cpp - calibrate and quantize a qc model -------------------===//
#include "quantc/Calibration/Quantize.h"
#include "quantc/Dialect/QC/QCOps.h"
#include "quantc/Quant/Formats.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cmath>
#include <cstring>
#include <map>

using namespace mlir;
using namespace quantc;

namespace quantc::calib {
namespace {

/// The float values of a constant weight (dense or dense_resource).
std::optional<std::vector<float>> floatValues(Value v) {
  auto c = v.getDefiningOp<qc::ConstantOp>();
  if (!c)
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(c.getType());
  if (!type || !type.getElementType().isF32())
    return std::nullopt;
  Attribute attr = c.getValue();
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    auto values = dense.getValues<float>();
    return std::vector<float>(values.begin(), values.end());
  }
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<char> bytes = blob->getData();
    if (bytes.size() != static_cast<size_t>(type.getNumElements()) * sizeof(float))
      return std::nullopt;
    std::vector<float> out(type.getNumElements());
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  }
  return std::nullopt;
}

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
    // Only the ops of main's body: an activation inside a qc.if branch
    // cannot be returned from main for observation (yet); those stay float.
    if (op->getParentOp() != main.getOperation())
      return;
    Target t{op, 0, 1, 0, nodeName(op)};
    if (auto conv = dyn_cast<qc::ConvOp>(op)) {
      t.weightAxis = 0; // W: [M, C/group, kH, kW]
    } else if (auto mm = dyn_cast<qc::MatMulOp>(op)) {
      auto bt = dyn_cast<RankedTensorType>(mm.getB().getType());
      if (!bt || bt.getRank() != 2)
        return;
      t.weightAxis = 1; // B: [K, N], one scale per output column
    } else if (auto gemm = dyn_cast<qc::GemmOp>(op)) {
      if (gemm.getTransA())
        return;
      t.weightAxis = gemm.getTransB() ? 0 : 1;
    } else {
      return;
    }
    if (!floatValues(op->getOperand(t.weight)) ||
        !isa<FloatType>(cast<TensorType>(op->getOperand(t.activation).getType()).getElementType()))
      return;
    targets.push_back(t);
  });
  return targets;
}

llvm::Expected<std::vector<ActivationStats>>
calibrate(ModuleOp module, const std::vector<Target> &targets, const std::vector<Sample> &samples) {
  if (samples.empty())
    return llvm::createStringError("the calibration set is empty: no samples to observe");
  // The observed model: the targets' activations become extra outputs.
  OwningOpRef<ModuleOp> observed = module.clone();
  auto main = observed->lookupSymbol<func::FuncOp>("main");
  auto origMain = module.lookupSymbol<func::FuncOp>("main");
  // Map the targets' operations into the clone by walk order.
  std::vector<Operation *> origOps, cloneOps;
  origMain.walk([&](Operation *op) { origOps.push_back(op); });
  main.walk([&](Operation *op) { cloneOps.push_back(op); });
  std::map<Operation *, Operation *> toClone;
  for (size_t i = 0; i < origOps.size() && i < cloneOps.size(); ++i)
    toClone[origOps[i]] = cloneOps[i];
  auto ret = cast<func::ReturnOp>(main.getBody().front().getTerminator());
  unsigned firstObserved = ret.getNumOperands();
  SmallVector<Value> results(ret.getOperands());
  for (const Target &t : targets)
    results.push_back(toClone.at(t.op)->getOperand(t.activation));
  OpBuilder b(ret);
  func::ReturnOp::create(b, ret.getLoc(), results);
  ret.erase();
  SmallVector<Attribute> resultAttrs;
  for (unsigned i = 0; i < firstObserved; ++i)
    resultAttrs.push_back(main.getResultAttrDict(i) ? Attribute(main.getResultAttrDict(i))
                                                    : Attribute(b.getDictionaryAttr({})));
  for (size_t k = 0; k < targets.size(); ++k)
    resultAttrs.push_back(b.getDictionaryAttr(
        b.getNamedAttr("qc.name", b.getStringAttr("qc.observed." + std::to_string(k)))));
  main.setFunctionType(
      FunctionType::get(main.getContext(), main.getArgumentTypes(), ValueRange(results).getTypes()));
  main.setAllResultAttrs(resultAttrs);

  std::vector<ActivationStats> stats(targets.size());
  std::map<std::vector<std::vector<int64_t>>, std::unique_ptr<cpu::JITModel>> compiled;
  for (size_t s = 0; s < samples.size(); ++s) {
    std::vector<std::vector<int64_t>> shapes;
    for (const auto &t : samples[s])
      shapes.push_back(t.shape);
    auto &jit = compiled[shapes];
    if (!jit) {
      auto j = cpu::JITModel::compile(*observed, shapes);
      if (!j)
        return llvm::createStringError("calibration sample " + std::to_string(s) + ": " +
                                       llvm::toString(j.takeError()));
      jit = std::move(*j);
    }
    std::vector<cpu::HostTensor> outputs;
    if (auto err = jit->run(samples[s], outputs))
      return llvm::createStringError("calibration sample " + std::to_string(s) + ": " +
                                     llvm::toString(std::move(err)));
    for (size_t k = 0; k < targets.size(); ++k) {
      const cpu::HostTensor &o = outputs[firstObserved + k];
      const float *data = reinterpret_cast<const float *>(o.data.data());
      stats[k].minmax.add(data, o.shape);
      stats[k].histogram.add(data, o.numElements());
    }
  }
  return stats;
}

llvm::Expected<std::vector<LayerReport>>
insertQDQ(ModuleOp module, const std::vector<Target> &targets,
          const std::vector<ActivationStats> &stats, Calibrator calibrator, double percentile) {
  std::vector<LayerReport> reports;
  MLIRContext *ctx = module.getContext();
  Type f32 = Float32Type::get(ctx);
  Type ui8 = IntegerType::get(ctx, 8, IntegerType::Unsigned);
  Type i8 = IntegerType::get(ctx, 8);
  for (size_t k = 0; k < targets.size(); ++k) {
    const Target &t = targets[k];
    const ActivationStats &st = stats[k];
    LayerReport r;
    r.name = t.name;
    r.op = t.op->getName().getStringRef().str();
    if (st.minmax.empty())
      return llvm::createStringError("node '" + t.name + "': its input was never observed");
    r.actMin = st.minmax.min()[0];
    r.actMax = st.minmax.max()[0];
    r.nonFinite = st.minmax.nonFinite();
    double lo = r.actMin, hi = r.actMax;
    std::optional<double> clip;
    // The histogram is of |x|: a non-negative activation (after ReLU) gets
    // all 256 uint8 levels for its magnitude, a signed one 128.
    int bits = r.actMin >= 0 ? 9 : 8;
    if (calibrator == Calibrator::Percentile)
      clip = percentileClip(st.histogram, percentile);
    else if (calibrator == Calibrator::Entropy)
      clip = entropyClip(st.histogram, bits);
    else if (calibrator == Calibrator::MSE)
      clip = mseClip(st.histogram, bits);
    if (clip) {
      lo = std::max(lo, -*clip);
      hi = std::min(hi, *clip);
    }
    r.clipLo = lo;
    r.clipHi = hi;
    auto params = quant::chooseParams(lo, hi, quant::Format::U8, /*symmetric=*/false);
    if (!params)
      return llvm::createStringError("node '" + t.name + "': no finite activation range");
    r.actScale = params->scale;
    r.actZeroPoint = params->zeroPoint;

    OpBuilder b(t.op);
    Location loc = t.op->getLoc();
    // Activation: QuantizeLinear -> DequantizeLinear, per tensor uint8.
    Value x = t.op->getOperand(t.activation);
    auto xt = cast<TensorType>(x.getType()); // may be unranked before specialization
    // The !quant.uniform<u8:f32, scale:zp> type, as the importer gives
    // QuantizeLinear with constant parameters.
    Type qType = xt.clone(mlir::quant::UniformQuantizedType::get(
        /*flags=*/0, IntegerType::get(ctx, 8), f32, params->scale, params->zeroPoint, 0, 255));
    auto scalarF = RankedTensorType::get({}, f32);
    auto scalarU = RankedTensorType::get({}, ui8);
    Value s = qc::ConstantOp::create(b, loc, scalarF,
                                     DenseElementsAttr::get(scalarF, params->scale));
    Value z = qc::ConstantOp::create(
        b, loc, scalarU,
        DenseElementsAttr::get(scalarU, APInt(8, static_cast<uint64_t>(params->zeroPoint))));
    Value q = qc::QuantizeLinearOp::create(b, loc, qType, x, s, z, b.getI64IntegerAttr(1),
                                           b.getI64IntegerAttr(0), b.getI64IntegerAttr(1));
    Value dq = qc::DequantizeLinearOp::create(b, loc, Type(xt), q, s, z, b.getI64IntegerAttr(1),
                                              b.getI64IntegerAttr(0));
    t.op->setOperand(t.activation, dq);

    // Weight: int8 symmetric per output channel, stored quantized.
    Value w = t.op->getOperand(t.weight);
    auto wt = cast<RankedTensorType>(w.getType());
    std::vector<float> wv = *floatValues(w);
    int64_t axis = t.weightAxis, channels = wt.getDimSize(axis), inner = 1;
    for (int64_t d = axis + 1; d < wt.getRank(); ++d)
      inner *= wt.getDimSize(d);
    std::vector<double> absmax(channels, 0.0);
    for (size_t i = 0; i < wv.size(); ++i) {
      int64_t c = (static_cast<int64_t>(i) / inner) % channels;
      absmax[c] = std::max(absmax[c], std::fabs(static_cast<double>(wv[i])));
    }
    std::vector<float> scales(channels);
    for (int64_t c = 0; c < channels; ++c)
      scales[c] = quant::chooseParams(-absmax[c], absmax[c], quant::Format::I8, true)->scale;
    std::vector<int8_t> wq(wv.size());
    double signal = 0, noise = 0;
    for (size_t i = 0; i < wv.size(); ++i) {
      int64_t c = (static_cast<int64_t>(i) / inner) % channels;
      uint8_t byte;
      quant::quantize(&wv[i], 1, quant::Params{scales[c], 0}, quant::Format::I8, &byte);
      wq[i] = static_cast<int8_t>(byte);
      double back = static_cast<double>(wq[i]) * scales[c];
      signal += static_cast<double>(wv[i]) * wv[i];
      noise += (wv[i] - back) * (wv[i] - back);
    }
    r.weightSQNR = noise > 0 ? 10 * std::log10(signal / noise) : INFINITY;
    auto wqType = wt.clone(i8);
    auto scaleType = RankedTensorType::get({channels}, f32);
    auto zpType = RankedTensorType::get({channels}, i8);
    Value wqc = qc::ConstantOp::create(
        b, loc, wqType, DenseElementsAttr::get(wqType, ArrayRef<int8_t>(wq)));
    Value ws = qc::ConstantOp::create(b, loc, scaleType,
                                      DenseElementsAttr::get(scaleType, ArrayRef<float>(scales)));
    std::vector<int8_t> zeros(channels, 0);
    Value wz = qc::ConstantOp::create(b, loc, zpType,
                                      DenseElementsAttr::get(zpType, ArrayRef<int8_t>(zeros)));
    Value wdq = qc::DequantizeLinearOp::create(b, loc, Type(wt), wqc, ws, wz, b.getI64IntegerAttr(axis),
                                               b.getI64IntegerAttr(0));
    t.op->setOperand(t.weight, wdq);
    reports.push_back(r);
  }
  return reports;
}

} // namespace quantc::calib
