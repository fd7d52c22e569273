//===- Formats.cpp - quantized number formats -----------------------------===//
#include "quantc/Quant/Formats.h"

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <cstring>
#include <limits>

namespace quantc::quant {
namespace {

const FormatInfo kInfo[] = {
    {"int8", 8, false, -128, 127},
    {"uint8", 8, false, 0, 255},
    {"int4", 4, false, -8, 7},
    {"uint4", 4, false, 0, 15},
    {"float8e4m3fn", 8, true, -448, 448},
    {"float8e5m2", 8, true, -57344, 57344},
};

/// Layout of an fp8 format.
struct F8 {
  int mantissa, bias;
  bool hasInf; // e5m2: IEEE-like; e4m3fn: no Inf, one NaN per sign
  double maxFinite;
};

F8 layout(Format f) {
  return f == Format::F8E4M3FN ? F8{3, 7, false, 448.0} : F8{2, 15, true, 57344.0};
}

/// x rounded to the nearest integer, ties to even.
double roundHalfEven(double x) { return std::nearbyint(x); }

} // namespace

const FormatInfo &info(Format f) { return kInfo[static_cast<int>(f)]; }

std::optional<Format> parseFormat(const std::string &name) {
  for (int i = 0; i < 6; ++i)
    if (name == kInfo[i].name)
      return static_cast<Format>(i);
  return std::nullopt;
}

int64_t storageBytes(Format f, int64_t n) { return info(f).bits == 4 ? (n + 1) / 2 : n; }

std::optional<Params> chooseParams(double min, double max, Format f, bool symmetric) {
  if (!std::isfinite(min) || !std::isfinite(max) || min > max)
    return std::nullopt;
  min = std::min(min, 0.0);
  max = std::max(max, 0.0);
  const FormatInfo &fi = info(f);
  Params p;
  if (fi.isFloat) {
    double absmax = std::max(-min, max);
    p.scale = absmax > 0 ? static_cast<float>(absmax / fi.qmax) : 1.0f;
    return p;
  }
  // ONNX Runtime's convention (quant_utils.compute_scale_zp), so that
  // recipes compare like for like: symmetric int8 uses [-127, 127], every
  // other case the format's full range.
  double qmin = (f == Format::I8 && symmetric) ? -127 : fi.qmin, qmax = fi.qmax;
  if (symmetric) {
    double absmax = std::max(-min, max);
    min = -absmax;
    max = absmax;
  }
  double scale = (max - min) / (qmax - qmin);
  if (scale < std::numeric_limits<float>::min())
    return p; // an all-zero range: scale 1, zero point 0
  double zp = symmetric ? roundHalfEven((qmin + qmax) / 2) : roundHalfEven(qmin - min / scale);
  p.scale = static_cast<float>(scale);
  p.zeroPoint = static_cast<int32_t>(std::clamp(zp, fi.qmin, fi.qmax));
  return p;
}

uint8_t toFloat8(float x, Format f, bool saturate) {
  F8 l = layout(f);
  uint8_t sign = std::signbit(x) ? 0x80 : 0;
  const uint8_t nan = f == Format::F8E4M3FN ? 0x7F : 0x7F;
  if (std::isnan(x))
    return sign | nan;
  double a = std::fabs(static_cast<double>(x));
  auto overflow = [&]() -> uint8_t {
    if (saturate)
      return sign | (f == Format::F8E4M3FN ? 0x7E : 0x7B); // largest finite
    return sign | (l.hasInf ? 0x7C : nan);                  // Inf / NaN
  };
  if (std::isinf(a))
    return overflow();
  if (a == 0)
    return sign;
  int minExp = 1 - l.bias; // exponent of the smallest normal
  int e;
  std::frexp(a, &e); // a = m * 2^e, m in [0.5, 1): exponent e - 1
  int exp = std::max(e - 1, minExp);
  double quantum = std::ldexp(1.0, exp - l.mantissa);
  double v = roundHalfEven(a / quantum) * quantum; // exact: quantum is a power of two
  if (v > l.maxFinite)
    return overflow();
  if (v == 0)
    return sign;
  std::frexp(v, &e);
  int ve = e - 1;
  if (ve < minExp) { // subnormal
    auto m = static_cast<uint8_t>(v / std::ldexp(1.0, minExp - l.mantissa));
    return sign | m;
  }
  auto m = static_cast<uint8_t>(v / std::ldexp(1.0, ve - l.mantissa) - (1 << l.mantissa));
  return sign | static_cast<uint8_t>((ve + l.bias) << l.mantissa) | m;
}

float fromFloat8(uint8_t bits, Format f) {
  F8 l = layout(f);
  bool neg = bits & 0x80;
  int expBits = 7 - l.mantissa;
  int exp = (bits >> l.mantissa) & ((1 << expBits) - 1);
  int man = bits & ((1 << l.mantissa) - 1);
  double v;
  if (f == Format::F8E4M3FN && exp == 15 && man == 7)
    return std::numeric_limits<float>::quiet_NaN();
  if (l.hasInf && exp == (1 << expBits) - 1)
    return man ? std::numeric_limits<float>::quiet_NaN()
               : (neg ? -std::numeric_limits<float>::infinity()
                      : std::numeric_limits<float>::infinity());
  if (exp == 0)
    v = std::ldexp(static_cast<double>(man), 1 - l.bias - l.mantissa);
  else
    v = std::ldexp(1.0 + man / static_cast<double>(1 << l.mantissa), exp - l.bias);
  return static_cast<float>(neg ? -v : v);
}

void quantize(const float *x, int64_t n, Params p, Format f, uint8_t *out, bool saturate) {
  const FormatInfo &fi = info(f);
  if (fi.isFloat) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = toFloat8(x[i] / p.scale, f, saturate);
    return;
  }
  auto q = [&](float v) -> int32_t {
    // ONNX: the division is in float; NaN quantizes to the zero point.
    float r = v / p.scale;
    if (std::isnan(r))
      return p.zeroPoint;
    double s = roundHalfEven(static_cast<double>(r)) + p.zeroPoint;
    return static_cast<int32_t>(std::clamp(s, fi.qmin, fi.qmax));
  };
  if (fi.bits == 8) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<uint8_t>(q(x[i]) & 0xFF);
    return;
  }
  std::memset(out, 0, storageBytes(f, n));
  for (int64_t i = 0; i < n; ++i) {
    uint8_t nibble = static_cast<uint8_t>(q(x[i]) & 0x0F);
    out[i / 2] |= (i % 2 == 0) ? nibble : static_cast<uint8_t>(nibble << 4);
  }
}

void dequantize(const uint8_t *q, int64_t n, Params p, Format f, float *out) {
  const FormatInfo &fi = info(f);
  for (int64_t i = 0; i < n; ++i) {
    int32_t v;
    if (fi.isFloat) {
      out[i] = fromFloat8(q[i], f) * p.scale;
      continue;
    }
    if (fi.bits == 8) {
      v = fi.qmin < 0 ? static_cast<int8_t>(q[i]) : q[i];
    } else {
      uint8_t nibble = (i % 2 == 0) ? (q[i / 2] & 0x0F) : (q[i / 2] >> 4);
      v = (fi.qmin < 0 && (nibble & 0x8)) ? static_cast<int32_t>(nibble) - 16 : nibble;
    }
    out[i] = static_cast<float>(v - p.zeroPoint) * p.scale;
  }
}

WeightParams searchWeightParams(const float *x, int64_t n, int bits, bool asymmetric,
                                bool search) {
  double qmin = asymmetric ? 0 : -std::ldexp(1.0, bits - 1);
  double qmax = asymmetric ? std::ldexp(1.0, bits) - 1 : std::ldexp(1.0, bits - 1) - 1;
  double lo = 0, hi = 0;
  for (int64_t i = 0; i < n; ++i) {
    double v = x[i];
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!asymmetric) {
    hi = std::max(-lo, hi);
    lo = -hi;
  }
  WeightParams best;
  if (hi - lo == 0 || !std::isfinite(hi - lo))
    return best;
  double bestErr = INFINITY;
  for (int k = 0; k <= (search ? 20 : 0); ++k) {
    double r = 1.0 - 0.025 * k;
    WeightParams p;
    p.ratio = r;
    if (asymmetric) {
      p.scale = static_cast<float>((hi - lo) * r / qmax);
      p.zeroPoint = static_cast<int32_t>(std::clamp(std::nearbyint(-lo * r / p.scale), qmin, qmax));
    } else {
      p.scale = static_cast<float>(hi * r / qmax);
    }
    double err = 0;
    for (int64_t i = 0; i < n; ++i) {
      double v = x[i];
      double q = std::clamp(std::nearbyint(v / p.scale) + p.zeroPoint, qmin, qmax);
      double back = (q - p.zeroPoint) * p.scale;
      err += (v - back) * (v - back);
    }
    if (err < bestErr) {
      bestErr = err;
      best = p;
    }
  }
  return best;
}

} // namespace quantc::quant
