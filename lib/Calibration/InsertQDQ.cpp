//===- InsertQDQ.cpp - qc-quantize's rewrite --------------------------------===//
//
// insertQDQ: quantize/dequantize pairs (or packed weights) per target and
// recipe, with the per-layer report.
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Quantize.h"
#include "quantc/Calibration/ActivationClip.h"
#include "quantc/Calibration/PrefixRows.h"
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
namespace {
/// Expected squared error of quantizing |x| ~ histogram with `roundTrip`
/// (x -> its quantized value, back in float), over the signal power: SQNR
/// in dB.
template <typename RoundTrip>
double histogramSQNR(const Histogram &h, bool negative, RoundTrip roundTrip) {
  double signal = 0, noise = 0;
  const auto &c = h.binCounts();
  for (size_t i = 0; i < c.size(); ++i) {
    if (c[i] == 0)
      continue;
    double v = (static_cast<double>(i) + 0.5) * h.binWidth();
    for (double x : {v, -v}) {
      if (x < 0 && !negative)
        continue;
      double back = roundTrip(x);
      signal += c[i] * x * x;
      noise += c[i] * (x - back) * (x - back);
    }
  }
  return noise > 0 ? 10 * std::log10(signal / noise) : INFINITY;
}

/// Integer (scale, zp) onto [qmin, qmax].
double histogramSQNR(const Histogram &h, bool negative, double scale, double zp, double qmin,
                     double qmax) {
  return histogramSQNR(h, negative, [&](double x) {
    double q = std::clamp(std::nearbyint(x / scale) + zp, qmin, qmax);
    return (q - zp) * scale;
  });
}

/// float8e4m3fn with `scale` (zero point 0).
double fp8HistogramSQNR(const Histogram &h, bool negative, double scale) {
  const quant::Format f = quant::Format::F8E4M3FN;
  return histogramSQNR(h, negative, [&](double x) {
    return static_cast<double>(
               quant::fromFloat8(quant::toFloat8(static_cast<float>(x / scale), f, true), f)) *
           scale;
  });
}

/// The target's constant float weight; an error naming the node when it
/// holds NaN or Inf.
llvm::Expected<std::vector<float>> finiteWeights(const Target &t) {
  std::vector<float> wv = *floatValues(t.op->getOperand(t.weight));
  for (float v : wv)
    if (!std::isfinite(v))
      return llvm::createStringError("node '" + t.name +
                                     "': its weight holds NaN or Inf; it cannot be quantized");
  return wv;
}

/// float8e4m3fn weights, one scale per output channel: among r * absmax /
/// 448 (r = 1, 0.975, ..., 0.5) the one with the least squared error.
llvm::Error insertFp8Weights(OpBuilder &b, Location loc, const Target &t, LayerReport &r) {
  MLIRContext *ctx = b.getContext();
  auto wt = cast<RankedTensorType>(t.op->getOperand(t.weight).getType());
  auto weights = finiteWeights(t);
  if (!weights)
    return weights.takeError();
  std::vector<float> wv = std::move(*weights);
  ArrayRef<int64_t> dims = wt.getShape();
  int64_t rank = wt.getRank(), channels = dims[t.weightAxis];
  int64_t inner = 1;
  for (int64_t d = t.weightAxis + 1; d < rank; ++d)
    inner *= dims[d];
  auto channelOf = [&](size_t i) { return (static_cast<int64_t>(i) / inner) % channels; };
  const quant::Format f8 = quant::Format::F8E4M3FN;
  const double maxFinite = quant::info(f8).qmax;
  std::vector<std::vector<float>> members(channels);
  for (size_t i = 0; i < wv.size(); ++i)
    members[channelOf(i)].push_back(wv[i]);
  std::vector<float> scales(channels, 1.0f);
  double clipSum = 0;
  for (int64_t c = 0; c < channels; ++c) {
    double absmax = 0;
    for (float v : members[c])
      absmax = std::max(absmax, std::fabs(static_cast<double>(v)));
    if (absmax == 0) {
      clipSum += 1;
      continue;
    }
    double best = INFINITY, bestRatio = 1;
    for (int k = 0; k <= 20; ++k) {
      double ratio = 1.0 - 0.025 * k;
      float sc = static_cast<float>(ratio * absmax / maxFinite);
      double err = 0;
      for (float v : members[c]) {
        double back = quant::fromFloat8(quant::toFloat8(v / sc, f8, true), f8) * double(sc);
        err += (v - back) * (v - back);
      }
      if (err < best) {
        best = err;
        bestRatio = ratio;
        scales[c] = sc;
      }
    }
    clipSum += bestRatio;
  }
  std::vector<int8_t> bytes(wv.size());
  double signal = 0, noise = 0;
  for (size_t i = 0; i < wv.size(); ++i) {
    float sc = scales[channelOf(i)];
    uint8_t code = quant::toFloat8(wv[i] / sc, f8, true);
    bytes[i] = static_cast<int8_t>(code);
    double back = quant::fromFloat8(code, f8) * double(sc);
    signal += double(wv[i]) * wv[i];
    noise += (wv[i] - back) * (wv[i] - back);
  }
  r.weightSQNR = noise > 0 ? 10 * std::log10(signal / noise) : INFINITY;
  r.weightClip = clipSum / static_cast<double>(std::max<int64_t>(1, channels));
  r.weightFormat = "fp8e4m3 per channel";
  r.weightParams = static_cast<int64_t>(wv.size());
  r.weightBits = 8;
  r.weightBytes = static_cast<int64_t>(wv.size()) + 4 * channels;
  r.weightValues = bytes;
  r.weightShape.assign(dims.begin(), dims.end());
  r.scaleShape = {channels};
  r.weightScales = scales;
  r.weightZeroPoints.assign(channels, 0);
  r.weightQuantAxis = t.weightAxis;
  r.activationOperand = t.activation;
  r.weightOperand = t.weight;
  r.weightFp8 = true;
  auto i8Type = wt.clone(IntegerType::get(ctx, 8));
  auto f8Type = wt.clone(Float8E4M3FNType::get(ctx));
  Value wqc = qc::ConstantOp::create(
      b, loc, f8Type,
      DenseElementsAttr::get(i8Type, ArrayRef<int8_t>(bytes)).bitcast(f8Type.getElementType()));
  auto scaleType = RankedTensorType::get({channels}, Float32Type::get(ctx));
  Value ws = qc::ConstantOp::create(b, loc, scaleType,
                                    DenseElementsAttr::get(scaleType, ArrayRef<float>(scales)));
  Value none = qc::NoneOp::create(b, loc, b.getNoneType());
  Value wdq = qc::DequantizeLinearOp::create(b, loc, Type(wt), wqc, ws, none,
                                             b.getI64IntegerAttr(t.weightAxis),
                                             b.getI64IntegerAttr(0));
  t.op->setOperand(t.weight, wdq);
  return llvm::Error::success();
}

} // namespace

llvm::Expected<std::vector<LayerReport>>
insertQDQ(ModuleOp module, const std::vector<Target> &targets,
          const std::vector<ActivationStats> &stats, const Recipe &recipe, Calibrator calibrator,
          double percentile) {
  std::vector<LayerReport> reports;
  MLIRContext *ctx = module.getContext();
  Type f32 = Float32Type::get(ctx);
  Type ui8 = IntegerType::get(ctx, 8, IntegerType::Unsigned);
  for (size_t k = 0; k < targets.size(); ++k) {
    const Target &t = targets[k];
    LayerReport r;
    r.name = t.name;
    r.op = t.op->getName().getStringRef().str();
    OpBuilder b(t.op);
    Location loc = t.op->getLoc();
    // qc.prefix_rows: rows s < P of the activation are kept out of the
    // static scale and multiplied on their own (joined back after the
    // weight below).
    const int64_t prefix = prefixRowsOf(t.op);
    const Value floatX = t.op->getOperand(t.activation);
    if (prefix && !(recipe.activations && !recipe.dynamicActivations))
      return llvm::createStringError("node '" + t.name +
                                     "': prefix rows (qc.prefix_rows) need static "
                                     "activations; this recipe's are " +
                                     (recipe.dynamicActivations ? "dynamic" : "float"));
    if (recipe.activations) {
      if (k >= stats.size() || stats[k].minmax.empty()) {
        // Inside a qc.if branch that no sample took, or of a shape that is
        // only known at run time: the layer stays float.
        if (t.op->getParentOp() != module.lookupSymbol<func::FuncOp>("main").getOperation())
          continue;
        return llvm::createStringError("node '" + t.name + "': its input was never observed");
      }
      const ActivationStats &st = stats[k];
      if (st.smoothed && calibrator != Calibrator::MinMax)
        return llvm::createStringError(
            "node '" + t.name +
            "': qc-smooth rescaled its input after calibration, which leaves no histogram for "
            "this calibrator: calibrate the smoothed model again, or use calibrator=minmax");
      r.actMin = st.minmax.min()[0];
      r.actMax = st.minmax.max()[0];
      r.nonFinite = st.minmax.nonFinite();
      double lo = r.actMin, hi = r.actMax;
      std::optional<double> clip;
      // The histogram is of |x|: a non-negative activation (after ReLU)
      // gets all 256 uint8 levels for its magnitude, a signed one 128.
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
      auto params = recipe.fp8
                        ? quant::chooseParams(lo, hi, quant::Format::F8E4M3FN, /*symmetric=*/true)
                        : quant::chooseParams(lo, hi, quant::Format::U8, /*symmetric=*/false);
      if (!params)
        return llvm::createStringError("node '" + t.name + "': no finite activation range");
      r.actScale = params->scale;
      r.actZeroPoint = params->zeroPoint;
      r.activationSQNR =
          recipe.fp8 ? fp8HistogramSQNR(st.histogram, r.actMin < 0, params->scale)
                     : histogramSQNR(st.histogram, r.actMin < 0, params->scale,
                                     params->zeroPoint, 0, 255);
      r.activationFormat = recipe.fp8 ? "fp8e4m3" : "uint8";
      // Activation: QuantizeLinear -> DequantizeLinear per tensor, with
      // constant parameters: uint8 as the !quant.uniform<u8:f32, scale:zp>
      // type the importer gives such a QuantizeLinear, or float8e4m3fn
      // with a zero point of 0.
      Value x = prefix ? slicePrefixRest(b, loc, floatX, prefix) : floatX;
      auto xt = cast<TensorType>(x.getType()); // may be unranked before specialization
      auto scalarF = RankedTensorType::get({}, f32);
      Value s = qc::ConstantOp::create(b, loc, scalarF,
                                       DenseElementsAttr::get(scalarF, params->scale));
      Type qType, zpType;
      Attribute zpValue;
      if (recipe.fp8) {
        Type f8 = Float8E4M3FNType::get(ctx);
        qType = xt.clone(f8);
        zpType = RankedTensorType::get({}, f8);
        zpValue = DenseElementsAttr::get(cast<ShapedType>(zpType),
                                         APFloat::getZero(cast<FloatType>(f8).getFloatSemantics()));
      } else {
        qType = xt.clone(mlir::quant::UniformQuantizedType::get(
            /*flags=*/0, IntegerType::get(ctx, 8), f32, params->scale, params->zeroPoint, 0, 255));
        zpType = RankedTensorType::get({}, ui8);
        zpValue = DenseElementsAttr::get(cast<ShapedType>(zpType),
                                         APInt(8, static_cast<uint64_t>(params->zeroPoint)));
      }
      Value z = qc::ConstantOp::create(b, loc, zpType, cast<ElementsAttr>(zpValue));
      Value q = qc::QuantizeLinearOp::create(b, loc, qType, x, s, z, b.getI64IntegerAttr(1),
                                             b.getI64IntegerAttr(0), b.getI64IntegerAttr(1));
      Value dq = qc::DequantizeLinearOp::create(b, loc, Type(xt), q, s, z, b.getI64IntegerAttr(1),
                                                b.getI64IntegerAttr(0));
      t.op->setOperand(t.activation, dq);
    } else {
      r.activationFormat = "float";
    }
    if (recipe.fp8) {
      if (llvm::Error e = insertFp8Weights(b, loc, t, r))
        return std::move(e);
      if (prefix) {
        joinPrefixRows(b, loc, t.op, t.activation, floatX, prefix, nullptr);
        r.activationFormat += ", first " + std::to_string(prefix) + " rows float";
      }
      r.activationQuantized = true;
      reports.push_back(r);
      continue;
    }
    if (recipe.dynamicActivations && recipe.weightBits != 8 &&
        !(recipe.weightBits == 4 && (recipe.groupSize == 0 || recipe.perToken)))
      return llvm::createStringError("dynamic activations need 8-bit or per-channel 4-bit weights");

    // Weight: symmetric, one scale per output channel (a 1-D scale along
    // weightAxis) or per group of groupSize along reductionAxis (a scale of
    // the weight's rank with that dim divided), stored quantized.
    auto wt = cast<RankedTensorType>(t.op->getOperand(t.weight).getType());
    auto weights = finiteWeights(t);
    if (!weights)
      return weights.takeError();
    std::vector<float> wv = std::move(*weights);
    int64_t rank = wt.getRank();
    ArrayRef<int64_t> dims = wt.getShape();
    int64_t group = recipe.groupSize;
    int bits = recipe.weightBits;
    // Convolutions keep int8 per output channel unless recipe.int4Convs;
    // even then, those with few input channels per group (depthwise: one),
    // since a group runs along the input channels only (ONNX's blocked
    // layout) and would cover a handful of values.
    if (bits <= 4 && isa<qc::ConvOp>(t.op) && (!recipe.int4Convs || dims[t.reductionAxis] < 16)) {
      bits = 8;
      group = 0;
    }
    SmallVector<int64_t> scaleShape;
    if (group > 0) {
      scaleShape.assign(dims.begin(), dims.end());
      scaleShape[t.reductionAxis] = (dims[t.reductionAxis] + group - 1) / group;
    } else {
      scaleShape = {dims[t.weightAxis]};
    }
    // The scale index of every weight element.
    std::vector<int64_t> strides(rank, 1), sstrides(scaleShape.size(), 1);
    for (int64_t d = rank - 2; d >= 0; --d)
      strides[d] = strides[d + 1] * dims[d + 1];
    for (int64_t d = static_cast<int64_t>(scaleShape.size()) - 2; d >= 0; --d)
      sstrides[d] = sstrides[d + 1] * scaleShape[d + 1];
    int64_t nScales = 1;
    for (int64_t d : scaleShape)
      nScales *= d;
    std::vector<int64_t> scaleOf(wv.size());
    for (size_t i = 0; i < wv.size(); ++i) {
      int64_t idx = 0;
      for (int64_t d = 0; d < rank; ++d) {
        int64_t c = (static_cast<int64_t>(i) / strides[d]) % dims[d];
        if (group > 0)
          idx += (d == t.reductionAxis ? c / group : c) * sstrides[d];
        else if (d == t.weightAxis)
          idx = c;
      }
      scaleOf[i] = idx;
    }
    std::vector<std::vector<float>> members(nScales);
    for (size_t i = 0; i < wv.size(); ++i)
      members[scaleOf[i]].push_back(wv[i]);
    // 4-bit groups are asymmetric (uint4 with a zero point per group),
    // 8-bit channels symmetric, and so are w4a4's 4-bit channels (the
    // integer MatMulInteger path has no weight zero point).
    // 3- and 2-bit weights (w3a16, w2a16) take their grid (0..7 or 0..3
    // with a zero point) in the IR's uint4 type (ONNX has no narrower one);
    // the CPU code generator stores them in 3- or 2-bit planes.
    const int gridBits = bits;
    if (bits < 4)
      bits = 4;
    bool asym = bits == 4 && !recipe.dynamicActivations;
    std::vector<float> scales(nScales);
    std::vector<APInt> zps(nScales, APInt(bits, 0));
    std::vector<int32_t> zpv(nScales, 0);
    // -gptq on a 2-D weight whose input's Hessian was collected: GPTQ's
    // integers and its (min/max) group parameters.
    std::vector<int32_t> gptqQ;
    if (recipe.gptq && rank == 2 && k < stats.size() && stats[k].hessian) {
      const int64_t K = dims[t.reductionAxis], N = dims[t.weightAxis];
      const int64_t rs = strides[t.reductionAxis], cs = strides[t.weightAxis];
      if (static_cast<int64_t>(stats[k].hessian->size()) == K * K) {
        std::vector<float> W(K * N);
        for (int64_t i = 0; i < K; ++i)
          for (int64_t n = 0; n < N; ++n)
            W[i * N + n] = wv[i * rs + n * cs];
        quant::GPTQOptions o = recipe.gptqTuning;
        o.bits = gridBits;
        o.group = group;
        o.asymmetric = asym;
        quant::GPTQResult g = quant::gptq(W.data(), K, N, *stats[k].hessian, o);
        if (!g.error.empty())
          return llvm::createStringError("node '" + t.name + "': GPTQ: " + g.error);
        const int64_t gs = group > 0 ? group : K;
        gptqQ.resize(wv.size());
        for (int64_t i = 0; i < K; ++i)
          for (int64_t n = 0; n < N; ++n) {
            size_t e = static_cast<size_t>(i * rs + n * cs);
            scales[scaleOf[e]] = g.scale[(i / gs) * N + n];
            zpv[scaleOf[e]] = g.zero[(i / gs) * N + n];
            gptqQ[e] = g.q[i * N + n];
          }
        for (int64_t s = 0; s < nScales; ++s)
          zps[s] = APInt(bits, static_cast<uint64_t>(zpv[s]));
        r.weightMethod = "gptq";
      }
    }
    double clipSum = 0;
    for (int64_t g = 0; g < nScales && gptqQ.empty(); ++g) {
      // int8 keeps the clip search (it measured better there: MiniLM's
      // smoothed w8a8, test smooth-preserves-function); 4- and 3-bit
      // groups round on min/max unless asked (issue 14 measured the search
      // hurting SmolLM2 at 4 bits: w4a16-g128 64.61 against 44.15).
      quant::WeightParams p = quant::searchWeightParams(
          members[g].data(), static_cast<int64_t>(members[g].size()), gridBits, asym,
          recipe.weightClipSearch || gridBits == 8);
      scales[g] = p.scale;
      zpv[g] = p.zeroPoint;
      zps[g] = APInt(bits, static_cast<uint64_t>(p.zeroPoint));
      clipSum += p.ratio;
    }
    r.weightClip = gptqQ.empty() ? clipSum / static_cast<double>(std::max<int64_t>(1, nScales)) : 1.0;
    double qmin = asym ? 0 : -std::ldexp(1.0, gridBits - 1);
    double qmax = asym ? std::ldexp(1.0, gridBits) - 1 : std::ldexp(1.0, gridBits - 1) - 1;
    std::vector<APInt> wq(wv.size());
    double signal = 0, noise = 0;
    for (size_t i = 0; i < wv.size(); ++i) {
      float sc = scales[scaleOf[i]];
      int32_t zp = zpv[scaleOf[i]];
      double q = !gptqQ.empty() ? static_cast<double>(gptqQ[i])
                                : std::clamp(std::nearbyint(static_cast<double>(wv[i]) / sc) + zp, qmin, qmax);
      wq[i] = APInt(bits, static_cast<uint64_t>(static_cast<int64_t>(q)), /*isSigned=*/!asym);
      double back = (q - zp) * sc;
      signal += static_cast<double>(wv[i]) * wv[i];
      noise += (wv[i] - back) * (wv[i] - back);
    }
    r.weightSQNR = noise > 0 ? 10 * std::log10(signal / noise) : INFINITY;
    r.weightFormat = (gridBits < 4   ? "uint" + std::to_string(gridBits)
                      : bits == 4     ? std::string(asym ? "uint4" : "int4")
                                      : std::string("int8")) +
                     (group > 0 ? " g" + std::to_string(group) : std::string(" per channel")) +
                     (gptqQ.empty() ? "" : " gptq");
    r.weightParams = static_cast<int64_t>(wv.size());
    r.weightBits = gridBits;
    // Storage: the packed values, a float scale and (asymmetric) a zero
    // point of the same width per channel or group.
    r.weightBytes = (static_cast<int64_t>(wv.size()) * gridBits + 7) / 8 + 4 * nScales +
                    (asym ? (nScales * gridBits + 7) / 8 : 0);
    Type wElem = IntegerType::get(ctx, bits, asym ? IntegerType::Unsigned : IntegerType::Signless);
    auto wqType = wt.clone(wElem);
    auto scaleType = RankedTensorType::get(scaleShape, f32);
    auto zpType = RankedTensorType::get(scaleShape, wElem);
    r.weightValues.resize(wq.size());
    for (size_t i = 0; i < wq.size(); ++i)
      r.weightValues[i] = static_cast<int8_t>(asym ? wq[i].getZExtValue() : wq[i].getSExtValue());
    r.weightShape.assign(dims.begin(), dims.end());
    r.scaleShape.assign(scaleShape.begin(), scaleShape.end());
    r.weightScales = scales;
    r.weightZeroPoints = zpv;
    r.weightQuantAxis = group > 0 ? t.reductionAxis : t.weightAxis;
    r.blockSize = group;
    r.weightUnsigned = asym;
    r.activationQuantized = recipe.activations;
    r.activationOperand = t.activation;
    r.weightOperand = t.weight;
    if (recipe.dynamicActivations) {
      // w8a8-dynamic: DynamicQuantizeLinear on the activation (uint8, its
      // own range per run), the int8 weight, an integer MatMulInteger /
      // ConvInteger accumulating in i32, then one float rescale by
      // act_scale * weight_scale[channel] (and the bias).
      auto make = [&](StringRef name, ValueRange operands, TypeRange types,
                      ArrayRef<NamedAttribute> attrs = {}) -> Operation * {
        return createOp(b, loc, name, operands, types, attrs);
      };
      Value x = t.op->getOperand(t.activation);
      auto xt = cast<TensorType>(x.getType());
      Type ui8 = IntegerType::get(ctx, 8, IntegerType::Unsigned);
      Type resultType = t.op->getResult(0).getType();
      auto unranked = [&](Type e) { return UnrankedTensorType::get(e); };
      auto i64Const = [&](ArrayRef<int64_t> v) -> Value { return i64Vector(b, loc, v); };
      // w8a8-dynamic-token on a MatMul (or a Gemm without transA): the
      // activation as rows [M, K] (M = the product of its leading dims),
      // each row quantized on its own; the i32 accumulator [M, N] is
      // rescaled by row scale x channel scale and reshaped back to the
      // activation's leading dims + [N].
      bool rows = recipe.perToken && !isa<qc::ConvOp>(t.op);
      if (auto gemm = dyn_cast<qc::GemmOp>(t.op); gemm && gemm.getTransA())
        rows = false;
      Value leading; // x's leading dims (rows only)
      if (rows) {
        int64_t K = dims[t.reductionAxis];
        leading = make("qc.shape", {x}, {unranked(b.getI64Type())},
                       {b.getNamedAttr("end", b.getI64IntegerAttr(-1))})
                      ->getResult(0);
        x = make("qc.reshape", {x, i64Const({-1, K})}, {unranked(f32)})->getResult(0);
      }
      // -rs: x / s_g (per-group channel maxima at run time) is what gets
      // rounded; the groups' products are scaled back below.
      int64_t rsGroup = 0;
      Value rsScales;
      if (rows && recipe.runtimeSmooth && !isa<qc::ConvOp>(t.op)) {
        int64_t K = dims[t.reductionAxis];
        rsGroup = runtimeSmoothGroup(K);
        std::tie(x, rsScales) = runtimeSmoothRows(b, loc, x, K, rsGroup);
      }
      SmallVector<NamedAttribute> rowAttrs;
      if (recipe.activationBits == 4)
        rowAttrs.push_back(b.getNamedAttr("levels", b.getI64IntegerAttr(15)));
      // The layer's own clip (--activation-clip search) over the recipe's.
      double clip = recipe.activationClip;
      if (auto own = t.op->getAttrOfType<FloatAttr>(kActivationClipAttr))
        clip = own.getValueAsDouble();
      if (clip != 1.0)
        rowAttrs.push_back(b.getNamedAttr("clip", b.getF32FloatAttr(clip)));
      // -ag: each group of channels of a row rounded on its own, inside
      // the grouped product below (groupedRowsProduct); no whole-row op.
      const bool actGroups = rows && recipe.activationGroups && group > 0 &&
                             !isa<qc::ConvOp>(t.op);
      Operation *dq = actGroups ? nullptr
                      : rows    ? make("qc.dynamic_quantize_rows", {x},
                                       {unranked(ui8), unranked(f32), unranked(ui8)}, rowAttrs)
                                : make("qc.dynamic_quantize_linear", {x},
                                       {xt.clone(ui8), RankedTensorType::get({}, f32),
                                        RankedTensorType::get({}, ui8)});
      Value none = qc::NoneOp::create(b, loc, b.getNoneType());
      Value acc;
      double alpha = 1.0;
      Value addend;
      std::vector<int8_t> wq8(wq.size());
      for (size_t i = 0; i < wq.size(); ++i)
        wq8[i] = static_cast<int8_t>(wq[i].getSExtValue());
      SmallVector<int64_t> scaleShape2;
      if (auto conv = dyn_cast<qc::ConvOp>(t.op)) {
        auto wqType = wt.clone(b.getI8Type());
        Value wc = qc::ConstantOp::create(b, loc, wqType,
                                          DenseElementsAttr::get(wqType, ArrayRef<int8_t>(wq8)));
        SmallVector<NamedAttribute> attrs;
        for (NamedAttribute a : t.op->getAttrs())
          attrs.push_back(a);
        acc = make("qc.conv_integer", {dq->getResult(0), wc, dq->getResult(2), none},
                   {unranked(b.getI32Type())}, attrs)
                  ->getResult(0);
        scaleShape2.assign(wt.getRank() - 1, 1); // [M, 1, ..., 1] against NCHW
        scaleShape2[0] = dims[0];
        if (!isa<NoneType>(conv.getB().getType())) {
          Value shape = qc::ConstantOp::create(
              b, loc, RankedTensorType::get({static_cast<int64_t>(scaleShape2.size())}, b.getI64Type()),
              DenseElementsAttr::get(RankedTensorType::get({static_cast<int64_t>(scaleShape2.size())},
                                                           b.getI64Type()),
                                     ArrayRef<int64_t>(scaleShape2)));
          addend = make("qc.reshape", {conv.getB(), shape}, {unranked(f32)})->getResult(0);
        }
      } else {
        // MatMulInteger wants B as [K, N].
        int64_t K = dims[t.reductionAxis], N = dims[t.weightAxis];
        std::vector<int8_t> kn(wq8.size());
        for (int64_t k = 0; k < K; ++k)
          for (int64_t n = 0; n < N; ++n)
            kn[k * N + n] = t.weightAxis == 1 ? wq8[k * N + n] : wq8[n * K + k];
        if (group > 0) {
          // Grouped 4-bit weights: their scales [ceil(K / group), N] go
          // into the groups' sum; the per-channel factor below is 1.
          if (!rows)
            return llvm::createStringError("node '" + t.name +
                                           "': grouped 4-bit weights with dynamic activations "
                                           "need a per-token MatMul/Gemm (not transA)");
          const int64_t G = (K + group - 1) / group;
          std::vector<float> gs(G * N);
          for (int64_t g = 0; g < G; ++g)
            for (int64_t n = 0; n < N; ++n)
              gs[g * N + n] = t.weightAxis == 1 ? scales[g * N + n] : scales[n * G + g];
          acc = actGroups ? groupedRowsProduct(b, loc, x, kn, K, N, group, gs, rowAttrs)
                          : groupedIntegerProduct(b, loc, dq->getResult(0), dq->getResult(2), kn,
                                                  K, N, group, Value(), gs);
          scales.assign(N, 1.0f);
        } else if (rsGroup)
          acc = groupedIntegerProduct(b, loc, dq->getResult(0), dq->getResult(2), kn, K, N,
                                      rsGroup, rsScales);
        else {
          auto wqType = RankedTensorType::get({K, N}, b.getI8Type());
          Value wc = qc::ConstantOp::create(b, loc, wqType,
                                            DenseElementsAttr::get(wqType, ArrayRef<int8_t>(kn)));
          acc = make("qc.matmul_integer", {dq->getResult(0), wc, dq->getResult(2), none},
                     {unranked(b.getI32Type())})
                    ->getResult(0);
        }
        scaleShape2 = {N};
        if (auto gemm = dyn_cast<qc::GemmOp>(t.op)) {
          alpha = gemm.getAlpha().convertToDouble();
          if (!isa<NoneType>(gemm.getC().getType())) {
            addend = gemm.getC();
            double beta = gemm.getBeta().convertToDouble();
            if (beta != 1.0) {
              auto st = RankedTensorType::get({}, f32);
              Value bc = qc::ConstantOp::create(b, loc, st,
                                                DenseElementsAttr::get(st, static_cast<float>(beta)));
              addend = make("qc.mul", {addend, bc}, {unranked(f32)})->getResult(0);
            }
          }
        }
      }
      std::vector<float> wscale(scales);
      for (float &v : wscale)
        v = static_cast<float>(v * alpha);
      auto wsType = RankedTensorType::get(scaleShape2, f32);
      Value wsc = qc::ConstantOp::create(b, loc, wsType,
                                         DenseElementsAttr::get(wsType, ArrayRef<float>(wscale)));
      Value both = wsc; // -ag: the row scales are in the groups' sum
      if (dq) {
        Value actScale = dq->getResult(1);
        if (rows) // [M] -> [M, 1], against the accumulator's [M, N]
          actScale = make("qc.unsqueeze", {actScale, i64Const({1})}, {unranked(f32)})->getResult(0);
        both = make("qc.mul", {actScale, wsc}, {unranked(f32)})->getResult(0);
      }
      Value accF = rsGroup || group > 0 ? acc  // already float: the groups' sum
                           : make("qc.cast", {acc}, {unranked(f32)},
                                  {b.getNamedAttr("to", TypeAttr::get(f32))})
                                 ->getResult(0);
      Value out;
      if (rows) {
        out = make("qc.mul", {accF, both}, {unranked(f32)})->getResult(0);
        Value shape = make("qc.concat", {leading, i64Const({scaleShape2[0]})}, {unranked(b.getI64Type())},
                           {b.getNamedAttr("axis", b.getI64IntegerAttr(0))})
                          ->getResult(0);
        out = make("qc.reshape", {out, shape}, {addend ? unranked(f32) : resultType})->getResult(0);
      } else {
        out = make("qc.mul", {accF, both}, {addend ? unranked(f32) : resultType})->getResult(0);
      }
      if (addend)
        out = make("qc.add", {out, addend}, {resultType})->getResult(0);
      t.op->getResult(0).replaceAllUsesWith(out);
      t.op->erase();
      r.activationFormat = rows ? (recipe.activationBits == 4 ? "uint4 dynamic per token"
                                                              : "uint8 dynamic per token")
                                : "uint8 dynamic";
      if (actGroups)
        r.activationFormat += " g" + std::to_string(group);
      if (rsGroup)
        r.activationFormat += " smoothed g" + std::to_string(rsGroup);
      reports.push_back(r);
      continue;
    }
    Value wqc = qc::ConstantOp::create(b, loc, wqType, DenseElementsAttr::get(wqType, wq));
    Value ws = qc::ConstantOp::create(b, loc, scaleType,
                                      DenseElementsAttr::get(scaleType, ArrayRef<float>(scales)));
    Value wz = qc::ConstantOp::create(b, loc, zpType, DenseElementsAttr::get(zpType, zps));
    Value wdq = qc::DequantizeLinearOp::create(
        b, loc, Type(wt), wqc, ws, wz, b.getI64IntegerAttr(group > 0 ? t.reductionAxis : t.weightAxis),
        b.getI64IntegerAttr(group));
    t.op->setOperand(t.weight, wdq);
    if (prefix) {
      // int8 per-channel weights: the prefix rows rounded per row at run
      // time into the same integer product; other weights: float rows.
      PrefixWeights pw;
      const bool integer = bits == 8 && group == 0 && !asym && rank == 2;
      if (integer) {
        pw.K = dims[t.reductionAxis];
        pw.N = dims[t.weightAxis];
        pw.scales = scales;
        if (wqc.getType() == RankedTensorType::get({pw.K, pw.N}, b.getI8Type())) {
          pw.constant = wqc; // already [K, N] int8: shared
        } else {
          pw.kn.resize(wq.size());
          for (int64_t kk = 0; kk < pw.K; ++kk)
            for (int64_t n = 0; n < pw.N; ++n)
              pw.kn[kk * pw.N + n] = static_cast<int8_t>(
                  (t.weightAxis == 1 ? wq[kk * pw.N + n] : wq[n * pw.K + kk]).getSExtValue());
        }
      }
      joinPrefixRows(b, loc, t.op, t.activation, floatX, prefix, integer ? &pw : nullptr);
      r.activationFormat += ", first " + std::to_string(prefix) +
                            (integer ? " rows uint8 per token" : " rows float");
    }
    reports.push_back(r);
  }
  return reports;
}


} // namespace quantc::calib
