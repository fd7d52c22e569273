//===- quant-opt.cpp - mlir-opt style driver for quantc -------------------===//
//
// Registers the qc dialect and every upstream dialect, extension and pass, so
// pipelines that mix our passes with upstream ones run from textual IR.
//
//===----------------------------------------------------------------------===//
#include "quantc/Calibration/Passes.h"
#include "quantc/Dialect/QC/QCDialect.h"
#include "quantc/Conversion/Passes.h"
#include "quantc/Target/CPU/CPUPipeline.h"
#include "quantc/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  quantc::registerQuantCPasses();
  quantc::registerQuantCConversionPasses();
  quantc::calib::registerQuantCCalibrationPasses();
  quantc::cpu::registerCPUPipelines();
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<quantc::qc::QCDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "quantc optimizer driver\n", registry));
}
