//===- QDQExport.h - quantized layers back into an ONNX QDQ model -*- C++ -*-===//
//
// Writes the layers `quantc quantize` quantized into a copy of the source
// ONNX model, in the QDQ form ONNX Runtime and other runtimes execute:
//
//   activation (w8a8, w4a8): x -> QuantizeLinear(uint8, scale, zp)
//                              -> DequantizeLinear -> the node's input
//   weight: an INT8 / UINT4 initializer (per channel: 1-D scale and zero
//           point along the output axis; per group: blocked, block_size
//           along the reduction axis) -> DequantizeLinear -> the node
//
// The source graph is otherwise unchanged (this exporter edits the model
// it was given rather than printing qc IR back to ONNX). Per-axis
// DequantizeLinear needs opset 13, blocked and 4-bit ones opset 21: an
// older model is converted with ONNX's version converter. Nodes are found
// by name with the importer's naming rule (op_type_index when unnamed),
// in the main graph and in If branches.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_EXPORT_ONNX_QDQEXPORT_H
#define QUANTC_EXPORT_ONNX_QDQEXPORT_H

#include "quantc/Calibration/Quantize.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace quantc {

/// Reads `sourcePath` (binary ONNX), inserts the layers' QDQ and writes a
/// binary ModelProto to `outputPath` (nothing is written on error). When
/// the opset conversion needs static shapes, symbolic input dims are fixed
/// to `inputShapes` and `*warning` says so.
llvm::Error exportQDQ(const std::string &sourcePath,
                      const std::vector<calib::LayerReport> &layers,
                      const std::string &outputPath,
                      const std::vector<std::vector<int64_t>> &inputShapes = {},
                      std::string *warning = nullptr);

} // namespace quantc

#endif
