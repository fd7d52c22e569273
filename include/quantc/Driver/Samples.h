//===- Samples.h - calibration samples from files ---------------*- C++ -*-===//
//
// The files `quantc quantize --calib DIR` and quantc.quantize(calibration=
// DIR) read: each `*.npy` one sample of a single-input model, each
// `*.npz` one sample (an array per input name), each subdirectory one
// sample of `<input>.npy` or ONNX test-data `input_<i>.pb` files.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_DRIVER_SAMPLES_H
#define QUANTC_DRIVER_SAMPLES_H

#include "quantc/Calibration/Quantize.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace quantc::driver {

/// The file name quantc reads or writes for a tensor: characters other
/// than letters, digits, '_', '-' and '.' become '_'; "" is "output".
std::string fileNameFor(const std::string &tensorName);

/// The samples in `dir`, sorted by file name, checked against `specs`
/// (one tensor per input, in input order, of the input's dtype).
/// TensorProto (.pb) files are read in `context`. Every sample is read
/// once to check it, then dropped: the set reads it again from its files
/// when asked (memory flat in the number of samples), so it must not
/// outlive `context`.
llvm::Expected<calib::SampleSet>
loadSamples(mlir::MLIRContext &context, const std::string &dir,
            const std::vector<cpu::TensorSpec> &specs);

/// Checks samples built elsewhere (e.g. from Python) against `specs`:
/// one tensor per input, in order, of its dtype and rank; names set.
llvm::Error checkSamples(std::vector<calib::Sample> &samples,
                         const std::vector<cpu::TensorSpec> &specs);

} // namespace quantc::driver

#endif
