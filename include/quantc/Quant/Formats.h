//===- Formats.h - quantized number formats ---------------------*- C++ -*-===//
//
// The arithmetic of the formats quantc quantizes to, shared by the passes
// that fold weights, the calibration code and the exporter:
//
//   int8, uint8, int4, uint4   q = saturate(round_half_even(x / scale) + zp)
//                              x' = (q - zp) * scale
//   fp8 e4m3fn, e5m2           q = fp8(x / scale), round to nearest even;
//                              x' = float(q) * scale
//
// as ONNX QuantizeLinear/DequantizeLinear define them (opset 21). int4 and
// uint4 are packed two per byte, element 2i in the low nibble of byte i.
//
//===----------------------------------------------------------------------===//
#ifndef QUANTC_QUANT_FORMATS_H
#define QUANTC_QUANT_FORMATS_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace quantc::quant {

enum class Format { I8, U8, I4, U4, F8E4M3FN, F8E5M2 };

struct FormatInfo {
  const char *name; // "int8", "uint8", "int4", "uint4", "float8e4m3fn", "float8e5m2"
  int bits;
  bool isFloat;
  double qmin, qmax; // integer range, or -max/+max finite for fp8
};

const FormatInfo &info(Format f);
std::optional<Format> parseFormat(const std::string &name);

/// Scale and zero point of one tensor, channel or group.
struct Params {
  float scale = 1.0f;
  int32_t zeroPoint = 0;
};

/// Parameters that represent [min, max] (widened to contain 0) in `f`,
/// computed as ONNX Runtime's quantizer does (compute_scale_zp):
///   symmetric:  [-a, a] with a = max(|min|, |max|) onto [qmin, qmax],
///               zero point round((qmin + qmax) / 2); int8 uses [-127, 127]
///   asymmetric: scale = (max - min) / (qmax - qmin),
///               zero point = round(qmin - min / scale)
/// fp8 is symmetric with zero point 0 and scale = a / largest finite. An
/// all-zero range gets scale 1 and zero point 0 (no division by zero);
/// non-finite bounds are an error (nullopt).
std::optional<Params> chooseParams(double min, double max, Format f, bool symmetric);

/// Storage bytes for n elements (int4/uint4: two per byte).
int64_t storageBytes(Format f, int64_t n);

/// Quantizes n values with one Params into `out` (storageBytes(f, n)
/// bytes; int8 as two's complement, fp8 as bit patterns). `saturate`
/// matters for fp8 only: clamp to the largest finite value (true) or
/// overflow to NaN (e4m3fn) / Inf (e5m2).
void quantize(const float *x, int64_t n, Params p, Format f, uint8_t *out, bool saturate = true);
void dequantize(const uint8_t *q, int64_t n, Params p, Format f, float *out);

/// One float to an fp8 bit pattern and back.
uint8_t toFloat8(float x, Format f, bool saturate);
float fromFloat8(uint8_t bits, Format f);

/// Scale and zero point of one channel or group of weights with the least
/// squared error among the ranges r * [min, max] (asymmetric: onto
/// [0, 2^bits - 1] with a zero point) or r * [-absmax, absmax] (symmetric:
/// onto [-2^(bits-1), 2^(bits-1) - 1], zero point 0), r = 1, 0.975, ...,
/// 0.5 (the first wins ties); with search = false only r = 1 (min/max,
/// quantc's default for 4-bit groups since the search minimizes each
/// group's own weight error, which measured worse for the layer's output
/// at 4 bits; int8 channels keep the search). The
/// range always contains 0; an all-zero group gets scale 1, zero point 0.
/// Rounding is half to even.
struct WeightParams {
  float scale = 1;
  int32_t zeroPoint = 0;
  double ratio = 1;
};
WeightParams searchWeightParams(const float *x, int64_t n, int bits, bool asymmetric,
                                bool search = true);

} // namespace quantc::quant

#endif
