//===- Hessians.cpp - X^T X of every layer input, for GPTQ ----------------===//
//
// collectHessians (Quantize.h): observers on a clone, one calibration run
// with CalibrationOptions::hessians, each target's matrix by its index.
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Quantize.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/IR/BuiltinOps.h"

namespace quantc::calib {

llvm::Expected<std::vector<std::shared_ptr<const std::vector<double>>>>
collectHessians(mlir::ModuleOp module, const SampleSet &samples,
                const std::set<std::string> *only) {
  if (samples.empty())
    return llvm::createStringError("GPTQ needs calibration samples (--calib DIR) for the "
                                   "Hessians of the layer inputs");
  mlir::OwningOpRef<mlir::ModuleOp> clone = module.clone();
  size_t n = insertObservers(*clone);
  if (only) {
    // The other observers go: their users read the input again.
    std::vector<qc::ObserveOp> drop;
    clone->walk([&](qc::ObserveOp o) {
      if (!only->count(o.getLayer().str()))
        drop.push_back(o);
    });
    for (qc::ObserveOp o : drop) {
      o.getResult().replaceAllUsesWith(o.getInput());
      o.erase();
    }
  }
  CalibrationOptions options;
  options.hessians = true;
  std::map<int64_t, ActivationStats> kept;
  if (auto err = calibrate(*clone, samples, options, &kept))
    return std::move(err);
  std::vector<std::shared_ptr<const std::vector<double>>> out(n);
  for (auto &[k, st] : kept)
    if (k >= 0 && static_cast<size_t>(k) < n && st.hessianRows > 0)
      out[k] = st.hessian;
  return out;
}

} // namespace quantc::calib
