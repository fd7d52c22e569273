//===- Runner.cpp - the calibration run -------------------------------------===//
//
// calibrate(): the observed values returned from main, the model
// JIT-compiled and run over the samples, each observer's statistics
// accumulated and attached to it.
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Quantize.h"
#include "quantc/Calibration/PrefixRows.h"
#include "Observers.h"
#include "quantc/Calibration/Progress.h"
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
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

using namespace mlir;
using namespace quantc;

namespace quantc::calib {
std::optional<Calibrator> parseCalibrator(const std::string &name) {
  if (name == "minmax")
    return Calibrator::MinMax;
  if (name == "percentile")
    return Calibrator::Percentile;
  if (name == "entropy")
    return Calibrator::Entropy;
  if (name == "mse")
    return Calibrator::MSE;
  return std::nullopt;
}

llvm::Error calibrate(ModuleOp module, const SampleSet &samples,
                      const CalibrationOptions &options,
                      std::map<int64_t, ActivationStats> *kept) {
  if (samples.empty())
    return llvm::createStringError("the calibration set is empty: no samples to observe");
  MLIRContext *ctx = module.getContext();
  std::map<int64_t, qc::ObserveOp> observers;
  module.walk([&](qc::ObserveOp o) { observers[o.getIndex()] = o; });
  // Observers of a MatMul/Gemm activation also reduce per channel of the
  // last axis (the reduction axis), for qc-smooth.
  std::set<int64_t> rowwise;
  for (auto &[k, o] : observers)
    for (Operation *user : o->getUsers())
      if (isa<qc::MatMulOp, qc::GemmOp>(user))
        rowwise.insert(k);
  // The first rows of each sequence, kept out of static scales (qc.prefix_rows).
  std::map<int64_t, int64_t> prefixOf;
  for (auto &[k, o] : observers)
    prefixOf[k] = prefixRowsOfObserved(o);
  int64_t rowsPerSample =
      options.keepRows > 0
          ? (options.keepRows + static_cast<int64_t>(samples.size()) - 1) /
                static_cast<int64_t>(samples.size())
          : 0;
  std::map<int64_t, ActivationStats> stats;
  // Hessians: one per observed value (the observers of q, k and v share
  // their input), accumulated in double from each sample's X^T X.
  std::map<int64_t, int64_t> hessianOwner; // observer -> first observer of its input
  if (options.hessians) {
    llvm::DenseMap<Value, int64_t> firstOf;
    for (auto &[k, o] : observers)
      if (rowwise.count(k))
        hessianOwner[k] = firstOf.try_emplace(o.getInput(), k).first->second;
  }
  std::map<int64_t, std::shared_ptr<std::vector<double>>> hessianOf;
  std::vector<float> xtx;
  struct Observed {
    std::unique_ptr<cpu::JITModel> jit;
    unsigned firstObserved = 0;
    std::vector<int64_t> observedIndex; // observer index of each extra output
    // Reused from sample to sample: the compiled code writes every element,
    // and fresh buffers cost page faults and a memset per sample.
    std::vector<cpu::HostTensor> outputs;
  };
  std::map<std::vector<std::vector<int64_t>>, Observed> compiled;
  CalibrationOptions::Timing timing;
  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  for (size_t s = 0; s < samples.size(); ++s) {
    reportProgress("calibration", s, samples.size());
    // One sample in memory at a time (read now when the set is on disk).
    Clock::time_point tRead = Clock::now();
    llvm::Expected<Sample> sample = samples.get(s);
    if (!sample)
      return sample.takeError();
    timing.readSeconds += seconds(tRead, Clock::now());
    std::vector<std::vector<int64_t>> shapes;
    for (const auto &t : *sample)
      shapes.push_back(t.shape);
    Observed &obs = compiled[shapes];
    Clock::time_point t0 = Clock::now();
    bool first = !obs.jit;
    if (!obs.jit) {
      // The observed model for these shapes: specialized, then the
      // observed tensors become extra outputs of main.
      OwningOpRef<ModuleOp> observed = module.clone();
      if (auto err = cpu::specializeShapes(*observed, shapes))
        return llvm::createStringError("calibration sample " + std::to_string(s) + ": " +
                                       llvm::toString(std::move(err)));
      auto main = observed->lookupSymbol<func::FuncOp>("main");
      std::vector<qc::ObserveOp> found;
      main.walk([&](qc::ObserveOp o) { found.push_back(o); });
      // Each routed value joins main's return at once: a later qc.if
      // rebuild replaces it there (a plain Value would dangle).
      auto ret = cast<func::ReturnOp>(main.getBody().front().getTerminator());
      obs.firstObserved = ret.getNumOperands();
      for (qc::ObserveOp o : found) {
        Value v = routeToMain(o.getOutput(), main);
        if (!v)
          continue; // not observable: the layer stays float
        ret->insertOperands(ret.getNumOperands(), v);
        obs.observedIndex.push_back(o.getIndex());
      }
      SmallVector<Value> results(ret.getOperands());
      size_t numExtra = results.size() - obs.firstObserved;
      OpBuilder b(ret);
      SmallVector<Attribute> resultAttrs;
      for (unsigned i = 0; i < obs.firstObserved; ++i)
        resultAttrs.push_back(main.getResultAttrDict(i) ? Attribute(main.getResultAttrDict(i))
                                                        : Attribute(b.getDictionaryAttr({})));
      for (size_t i = 0; i < numExtra; ++i)
        resultAttrs.push_back(b.getDictionaryAttr(
            b.getNamedAttr("qc.name", b.getStringAttr("qc.observed." + std::to_string(i)))));
      main.setFunctionType(
          FunctionType::get(ctx, main.getArgumentTypes(), ValueRange(results).getTypes()));
      main.setAllResultAttrs(resultAttrs);
      auto j = cpu::JITModel::compile(*observed, shapes);
      if (!j)
        return llvm::createStringError("calibration sample " + std::to_string(s) + ": " +
                                       llvm::toString(j.takeError()));
      obs.jit = std::move(*j);
    }
    Clock::time_point t1 = Clock::now();
    std::vector<cpu::HostTensor> &outputs = obs.outputs;
    if (auto err = obs.jit->run(*sample, outputs))
      return llvm::createStringError("calibration sample " + std::to_string(s) + ": " +
                                     llvm::toString(std::move(err)));
    Clock::time_point t2 = Clock::now();
    timing.compileSeconds += seconds(t0, t1);
    (first ? timing.firstRunSeconds : timing.laterRunSeconds) += seconds(t1, t2);
    timing.laterRuns += first ? 0 : 1;
    for (size_t i = 0; i < obs.observedIndex.size(); ++i) {
      const cpu::HostTensor &o = outputs[obs.firstObserved + i];
      const float *data = reinterpret_cast<const float *>(o.data.data());
      // The branch that did not run gave NaN everywhere: nothing observed.
      int64_t n = o.numElements();
      bool allNaN = n > 0;
      for (int64_t e = 0; allNaN && e < n; ++e)
        allNaN = std::isnan(data[e]);
      if (allNaN)
        continue;
      // qc.prefix_rows: the prefix rows are not observed.
      std::vector<int64_t> shape(o.shape.begin(), o.shape.end());
      std::vector<float> rest;
      if (int64_t p = prefixOf[obs.observedIndex[i]]) {
        std::vector<int64_t> restShape;
        if (dropPrefixRows(data, shape, p, rest, restShape)) {
          data = rest.data();
          shape = restShape;
          n = static_cast<int64_t>(rest.size());
        }
      }
      ActivationStats &st = stats[obs.observedIndex[i]];
      st.minmax.add(data, shape);
      st.histogram.add(data, n);
      int64_t width = shape.empty() ? 0 : shape.back();
      if (!rowwise.count(obs.observedIndex[i]) || width <= 0)
        continue;
      if (st.channels.channelCount() != width)
        st.channels = MinMax(width);
      st.channels.add(data, shape, static_cast<int64_t>(shape.size()) - 1);
      int64_t rows = n / width;
      // Running mean of |x| per channel (a NaN row poisons only its channels).
      if (static_cast<int64_t>(st.channelAbsMean.size()) != width) {
        st.channelAbsMean.assign(width, 0.0);
        st.channelRows = 0;
      }
      {
        std::vector<double> sum = channelAbsSum(data, rows, width);
        const double total = static_cast<double>(st.channelRows + rows);
        for (int64_t c = 0; c < width; ++c)
          st.channelAbsMean[c] = (st.channelAbsMean[c] * st.channelRows + sum[c]) / total;
        st.channelRows += rows;
      }
      if (auto own = hessianOwner.find(obs.observedIndex[i]);
          own != hessianOwner.end() && own->second == obs.observedIndex[i]) {
        auto &h = hessianOf[own->second];
        if (!h)
          h = std::make_shared<std::vector<double>>(width * width, 0.0);
        if (static_cast<int64_t>(h->size()) == width * width) {
          // X^T X of this sample with the runtime's GEMM (X read transposed).
          xtx.assign(width * width, 0.0f);
          rt::sgemm(width, width, rows, rt::Matrix{data, 1, width}, rt::Matrix{data, width, 1},
                    xtx.data(), width, /*overwrite=*/true);
          for (int64_t e = 0; e < width * width; ++e)
            (*h)[e] += xtx[e];
          st.hessianRows += rows;
        }
      }
      // Rows kept for the scale search: evenly spaced in each sample.
      int64_t have = st.rowWidth == width ? static_cast<int64_t>(st.rows.size()) / width : 0;
      int64_t take = std::min({rowsPerSample, rows, options.keepRows - have});
      st.rowWidth = width;
      for (int64_t r = 0; r < take; ++r) {
        int64_t row = (2 * r + 1) * rows / (2 * take);
        st.rows.insert(st.rows.end(), data + row * width, data + (row + 1) * width);
      }
    }
    timing.statsSeconds += seconds(t2, Clock::now());
    ++timing.samples;
    if (samples.readOnDemand()) {
      // The sample read for this run is dropped, its pages returned.
      sample->clear();
      releaseFreeMemory();
    }
  }
  reportProgress("calibration", samples.size(), samples.size());
  if (options.timing)
    *options.timing = timing;
  for (auto &[k, owner] : hessianOwner) {
    auto h = hessianOf.find(owner);
    if (h != hessianOf.end() && stats.count(k)) {
      stats[k].hessian = h->second;
      stats[k].hessianRows = stats[owner].hessianRows;
    }
  }
  for (auto &[k, o] : observers) {
    auto it = stats.find(k);
    ActivationStats st = it != stats.end() ? it->second : ActivationStats();
    if (!options.hessiansInIR)
      st.hessian.reset();
    o.setStatsAttr(statsToAttr(ctx, st));
  }
  if (kept)
    *kept = std::move(stats);
  return llvm::Error::success();
}

llvm::Expected<std::map<int64_t, ActivationStats>>
observeKeepingRows(ModuleOp module, const SampleSet &samples, int64_t rows) {
  insertObservers(module);
  std::map<int64_t, ActivationStats> kept;
  CalibrationOptions co;
  co.keepRows = std::max<int64_t>(rows, 1);
  if (llvm::Error e = calibrate(module, samples, co, &kept))
    return std::move(e);
  return kept;
}

} // namespace quantc::calib
