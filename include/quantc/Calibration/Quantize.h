//===- Quantize.h - calibrate and quantize a qc model -----------*- C++ -*-===//
//
// The first end-to-end quantization path (recipe w8a8, QDQ form):
//
//  1. quantizationTargets: the inputs of every Conv, MatMul and Gemm whose
//     weight is a constant: the activation operand is observed and
//     quantized, the weight quantized per output channel.
//  2. calibrate: the model is JIT-compiled with the activations as extra
//     outputs and run sample by sample; each activation feeds a MinMax and
//     a Histogram reducer (memory does not grow with the samples).
//  3. insertQDQ: uint8 per-tensor QuantizeLinear/DequantizeLinear pairs on
//     the activations (range from the chosen calibrator), int8 symmetric
//     per-channel weights stored quantized and read through
//     DequantizeLinear. The result runs through the same compiler and
//     exports to the same QDQ form ONNX Runtime uses.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_CALIBRATION_QUANTIZE_H
#define QUANTC_CALIBRATION_QUANTIZE_H

#include "quantc/Calibration/Statistics.h"
#include "quantc/Target/CPU/JIT.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace quantc::calib {

struct Target {
  mlir::Operation *op;   // qc.conv, qc.matmul or qc.gemm
  unsigned activation;   // operand index of the activation
  unsigned weight;       // operand index of the constant weight
  int64_t weightAxis;    // its output-channel axis
  std::string name;      // the ONNX node name
};

std::vector<Target> quantizationTargets(mlir::ModuleOp module);

struct ActivationStats {
  MinMax minmax;
  Histogram histogram{2048};
};

/// One calibration sample: a tensor per model input, in input order.
using Sample = std::vector<cpu::HostTensor>;

/// Runs the model over `samples` and returns one ActivationStats per
/// target (in target order). Errors on an empty sample set or on samples
/// whose inputs do not match the model.
llvm::Expected<std::vector<ActivationStats>>
calibrate(mlir::ModuleOp module, const std::vector<Target> &targets,
          const std::vector<Sample> &samples);

enum class Calibrator { MinMax, Percentile, Entropy, MSE };

struct LayerReport {
  std::string name, op;
  double actMin = 0, actMax = 0, clipLo = 0, clipHi = 0;
  float actScale = 0;
  int32_t actZeroPoint = 0;
  double weightSQNR = 0; // dB
  int64_t nonFinite = 0;
};

/// Rewrites `module` in place (see the file comment). `percentile` is used
/// by Calibrator::Percentile.
llvm::Expected<std::vector<LayerReport>>
insertQDQ(mlir::ModuleOp module, const std::vector<Target> &targets,
          const std::vector<ActivationStats> &stats, Calibrator calibrator,
          double percentile = 99.99);

} // namespace quantc::calib

#endif
