//===- ConstantCasts.cpp - float constants cast to float32, at import -----===//
//
// Models often ship their weights as float16 (or bfloat16, float64)
// initializers behind a Cast to float32. Left as a qc.cast of a constant,
// such a weight is an activation to every consumer: convolutions fall back
// to plain loops and quantize finds no constant weight to quantize. The
// importer computes the cast instead (exactly: float16 and bfloat16 widen
// without rounding; float64 rounds to nearest, as ONNX's Cast does) and
// binds the node's output to a float32 constant.
//
//===----------------------------------------------------------------------===//
#include "NodeImporter.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>
#include <vector>

using namespace mlir;

namespace quantc::onnx_import {
namespace {
float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF, bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000 | (mant << 13); // inf / NaN
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign; // +-0
  } else {
    // Subnormal: normalize the mantissa.
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while (!(mant & 0x400));
    bits = sign | uint32_t(112 - e) << 23 | ((mant & 0x3FF) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16ToFloat(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// The raw bytes of a constant (dense or a resource blob); empty for a
/// splat or anything else.
ArrayRef<char> rawBytes(ElementsAttr attr) {
  if (auto dense = dyn_cast<DenseElementsAttr>(attr))
    return dense.isSplat() ? ArrayRef<char>() : dense.getRawData();
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr))
    if (AsmResourceBlob *blob = res.getRawHandle().getBlob())
      return blob->getData();
  return {};
}
} // namespace

bool foldConstantFloatCast(NodeContext &c, Type to) {
  ElementsAttr cst = c.constantOf(c.input(0));
  if (!cst || !to.isF32())
    return false;
  auto type = dyn_cast<RankedTensorType>(cst.getType());
  if (!type || !type.hasStaticShape())
    return false;
  Type from = type.getElementType();
  if (!from.isF16() && !from.isBF16() && !from.isF64())
    return false;
  const int64_t n = type.getNumElements();
  std::vector<float> values(n);
  if (auto dense = dyn_cast<DenseElementsAttr>(cst); dense && dense.isSplat()) {
    APFloat v = dense.getSplatValue<APFloat>();
    bool lost;
    v.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &lost);
    std::fill(values.begin(), values.end(), v.convertToFloat());
  } else {
    ArrayRef<char> bytes = rawBytes(cst);
    const size_t width = from.isF64() ? 8 : 2;
    if (bytes.size() != size_t(n) * width)
      return false;
    for (int64_t i = 0; i < n; ++i) {
      const char *p = bytes.data() + i * width;
      if (from.isF64()) {
        double d;
        std::memcpy(&d, p, 8);
        values[i] = static_cast<float>(d);
      } else {
        uint16_t h;
        std::memcpy(&h, p, 2);
        values[i] = from.isF16() ? halfToFloat(h) : bf16ToFloat(h);
      }
    }
  }
  auto outType = RankedTensorType::get(type.getShape(), to);
  ArrayRef<char> raw(reinterpret_cast<const char *>(values.data()), values.size() * 4);
  ElementsAttr attr;
  if (n <= 16) {
    attr = DenseElementsAttr::get(outType, ArrayRef<float>(values));
  } else {
    std::string name = c.node.output(0).empty() ? "cast" : c.node.output(0);
    attr = DenseResourceElementsAttr::get(
        outType, name, HeapAsmResourceBlob::allocateAndCopyWithAlign(raw, alignof(float)));
  }
  c.bindOutput(0, qc::ConstantOp::create(c.builder, c.loc, outType, attr));
  return true;
}

} // namespace quantc::onnx_import
