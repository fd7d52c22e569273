//===- Plain.h - the driver in standard C++ types, for bindings -*- C++ -*-===//
//
// The Python extension is compiled with RTTI and exceptions (nanobind
// needs both) while LLVM and MLIR are built without: it includes only
// this header, whose types are standard C++, and the driver library
// (built like LLVM) does the rest. Output and diagnostics come back as
// text instead of going to stdout/stderr.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_DRIVER_PLAIN_H
#define QUANTC_DRIVER_PLAIN_H

#include "quantc/Driver/Options.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace quantc::driver::plain {

/// What an entry point did: the CLI's exit status (0 success, 1 bad model
/// or data, 2 bad options), what it printed, its error lines.
struct Outcome {
  int status = 0;
  std::string out, err;
};

/// Element types, numbered as qc_dtype in include/quantc/Runtime.h
/// (1 float32 ... 9 bool).
struct Tensor {
  std::string name;
  int dtype = 1;
  std::vector<int64_t> shape;
  const void *data = nullptr; // row-major, shape's element count
};
using Sample = std::vector<Tensor>;

/// A model's input or output: name, dtype (qc_dtype) and shape (-1 for a
/// symbolic dimension; empty with rank -1 when unranked).
struct TensorInfo {
  std::string name;
  int dtype = 1;
  int64_t rank = -1;
  std::vector<int64_t> shape;
};

/// A model in memory: ONNX imported or qc IR parsed.
class Module {
public:
  /// Opens `path`; null with `outcome.err` set when it cannot.
  static std::unique_ptr<Module> open(const std::string &path, bool shapeInference,
                                      Outcome &outcome);
  ~Module();
  /// The IR as text; `elideWeights` shortens large constants.
  std::string text(bool elideWeights) const;
  /// Inputs, outputs, op counts and parameter totals (`quantc summary`).
  std::string summary() const;
  std::vector<TensorInfo> inputs() const;
  /// Runs a textual pass pipeline (quant-opt's passes), in place.
  Outcome runPasses(const std::string &pipeline);
  /// Writes .mlir text or .mlirbc bytecode.
  Outcome save(const std::string &path) const;

private:
  struct Impl;
  explicit Module(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

/// quantizeModel with samples given as tensors (or none: calibDir);
/// `result` receives the report and what a later QDQ export needs.
Outcome quantize(const QuantizeOptions &options, const std::vector<Sample> *samples,
                 QuantizeResult *result);
/// Writes a finished quantization as QDQ ONNX (what quantize -o OUT.onnx
/// writes), without quantizing again; status 2 with the reason when the
/// recipe cannot be exported.
Outcome exportQDQ(const QuantizeResult &result, const std::string &path);
Outcome compile(const CompileModelOptions &options);

} // namespace quantc::driver::plain

#endif
