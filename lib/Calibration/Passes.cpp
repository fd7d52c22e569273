//===- Passes.cpp - qc-insert-observers and qc-quantize -------------------===//
#include "quantc/Calibration/Passes.h"
#include "quantc/Calibration/Quantize.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace quantc::calib {
#define GEN_PASS_DEF_QCINSERTOBSERVERS
#define GEN_PASS_DEF_QCQUANTIZE
#include "quantc/Calibration/Passes.h.inc"
} // namespace quantc::calib

using namespace mlir;
using namespace quantc::calib;

namespace {

struct InsertObserversPass : quantc::calib::impl::QCInsertObserversBase<InsertObserversPass> {
  void runOnOperation() override { insertObservers(getOperation()); }
};

struct QuantizePass : quantc::calib::impl::QCQuantizeBase<QuantizePass> {
  using QCQuantizeBase::QCQuantizeBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto r = Recipe::parse(recipe);
    if (!r) {
      module.emitError("qc-quantize: unknown recipe '") << recipe << "'";
      return signalPassFailure();
    }
    if (r->kv8) {
      module.emitError("qc-quantize: recipe '")
          << recipe << "': its -kv8 / -qkv8 part is a pass of its own: run "
          << "func.func(qc-fuse-attention,qc-quantize-kv) after qc-quantize";
      return signalPassFailure();
    }
    auto cal = parseCalibrator(calibrator);
    if (!cal) {
      module.emitError("qc-quantize: unknown calibrator '")
          << calibrator << "' (minmax, percentile, entropy, mse)";
      return signalPassFailure();
    }
    // Statistics that do not parse: an error at their observer.
    bool bad = false;
    module.walk([&](quantc::qc::ObserveOp o) {
      if (auto st = o.getStatsAttr())
        if (auto s = statsFromAttr(st); !s) {
          o.emitError("qc-quantize: layer '")
              << o.getLayer() << "': " << llvm::toString(s.takeError());
          bad = true;
        }
    });
    if (bad)
      return signalPassFailure();
    auto obs = takeObservations(module);
    if (!obs) {
      module.emitError("qc-quantize: ") << llvm::toString(obs.takeError());
      return signalPassFailure();
    }
    // A layer of main whose input was never observed: an error at it.
    if (r->activations) {
      bool missing = false;
      for (size_t k = 0; k < obs->targets.size(); ++k) {
        Operation *op = obs->targets[k].op;
        if (obs->stats[k].minmax.empty() && isa<func::FuncOp>(op->getParentOp())) {
          op->emitError("qc-quantize: the input of this layer was never observed (run "
                        "qc-insert-observers and calibrate first, or use a weight-only "
                        "recipe)");
          missing = true;
        }
      }
      if (missing)
        return signalPassFailure();
    }
    auto reports = insertQDQ(module, obs->targets, obs->stats, *r, *cal, percentile);
    if (!reports) {
      module.emitError("qc-quantize: ") << llvm::toString(reports.takeError());
      return signalPassFailure();
    }
  }
};

} // namespace
