//===- QuantOps.cpp - import of QDQ, QLinear* and *Integer ops ------------===//
//
// QuantizeLinear results get an upstream !quant.uniform element type when
// the scale and zero point are constants: per-tensor for a scalar scale,
// per-axis for a 1-D scale. Blocked scales keep the storage integer type
// (with block_size on the op) for now.
//
//===----------------------------------------------------------------------===//
#include "NodeImporter.h"
#include "quantc/Dialect/QC/QCOps.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;

namespace quantc::onnx_import {

namespace {
/// Reads a constant as doubles / int64s.
std::optional<SmallVector<double>> floatsOf(ElementsAttr a) {
  auto d = dyn_cast_or_null<DenseFPElementsAttr>(a);
  if (!d)
    return std::nullopt;
  SmallVector<double> out;
  for (const APFloat &v : d.getValues<APFloat>())
    out.push_back(v.convertToDouble());
  return out;
}
std::optional<SmallVector<int64_t>> intsOf(ElementsAttr a) {
  return qc::getIntValues(a);
}

/// The !quant.uniform type for constant scale/zero point, or null.
Type quantizedType(NodeContext &c, Type storage, Value x, Value scale,
                   Value zeroPoint, int64_t axis, int64_t blockSize) {
  auto it = dyn_cast<IntegerType>(storage);
  if (!it || blockSize != 0 || it.getWidth() > 32)
    return {};
  Type expressed = c.elementType(scale);
  if (!isa_and_nonnull<FloatType>(expressed))
    return {};
  auto scales = floatsOf(c.constantOf(scale));
  if (!scales || scales->empty())
    return {};
  SmallVector<int64_t> zps(scales->size(), 0);
  if (c.hasInput(2)) {
    auto z = intsOf(c.constantOf(zeroPoint));
    if (!z || z->size() != scales->size())
      return {};
    zps = *z;
  }
  for (double s : *scales)
    if (!(s > 0.0) || !std::isfinite(s))
      return {};
  bool isSigned = !it.isUnsigned();
  unsigned width = it.getWidth();
  auto signless = IntegerType::get(c.ctx(), width);
  int64_t lo = isSigned ? -(int64_t(1) << (width - 1)) : 0;
  int64_t hi = isSigned ? (int64_t(1) << (width - 1)) - 1 : (int64_t(1) << width) - 1;
  unsigned flags = isSigned ? quant::QuantizationFlags::Signed : 0;
  auto st = dyn_cast<RankedTensorType>(scale.getType());
  if (st && st.getRank() == 1 && st.getDimSize(0) != 1) {
    auto rank = c.rank(x);
    if (!rank)
      return {};
    int64_t a = axis < 0 ? axis + *rank : axis;
    if (a < 0 || a >= *rank)
      return {};
    return quant::UniformQuantizedPerAxisType::get(flags, signless, expressed,
                                                   *scales, zps, a, lo, hi);
  }
  return quant::UniformQuantizedType::get(flags, signless, expressed,
                                          (*scales)[0], zps[0], lo, hi);
}

/// The bytes of a constant of 8-bit integers (dense or dense_resource).
std::optional<std::vector<uint8_t>> bytesOf(ElementsAttr a) {
  if (!a)
    return std::nullopt;
  auto t = dyn_cast<ShapedType>(a.getType());
  if (!t || !t.getElementType().isInteger(8))
    return std::nullopt;
  if (auto d = dyn_cast<DenseIntElementsAttr>(a)) {
    std::vector<uint8_t> out;
    for (const APInt &v : d.getValues<APInt>())
      out.push_back(static_cast<uint8_t>(v.getZExtValue()));
    return out;
  }
  if (auto r = dyn_cast<DenseResourceElementsAttr>(a))
    if (AsmResourceBlob *blob = r.getRawHandle().getBlob()) {
      ArrayRef<char> data = blob->getData();
      return std::vector<uint8_t>(data.begin(), data.end());
    }
  return std::nullopt;
}

/// The values of a float constant (dense, or dense_resource of f32).
std::optional<SmallVector<double>> doublesOf(ElementsAttr a) {
  if (auto v = floatsOf(a))
    return v;
  auto r = dyn_cast_or_null<DenseResourceElementsAttr>(a);
  if (!r || !cast<ShapedType>(r.getType()).getElementType().isF32())
    return std::nullopt;
  AsmResourceBlob *blob = r.getRawHandle().getBlob();
  if (!blob)
    return std::nullopt;
  ArrayRef<char> data = blob->getData();
  SmallVector<double> out(data.size() / 4);
  for (size_t i = 0; i < out.size(); ++i) {
    float f;
    std::memcpy(&f, data.data() + 4 * i, 4);
    out[i] = f;
  }
  return out;
}

/// com.microsoft MatMulNBits: Y = A x dequantize(B)^T (+ bias), B holding
/// `bits`-bit unsigned values in blocks of `block_size` along K, packed low
/// bits first, one float scale and (optionally packed) zero point per
/// block (default 2^(bits-1)). Imported as the standard form: a blocked
/// DequantizeLinear of a [K, N] uint4/uint8 constant (transposed here) and
/// a MatMul; 4-bit constants stay packed in the compiled model.
LogicalResult importMatMulNBits(NodeContext &c) {
  auto K = c.takeInt("K"), N = c.takeInt("N");
  int64_t bits = c.takeInt("bits").value_or(4);
  auto bs = c.takeInt("block_size");
  c.takeInt("accuracy_level");
  if (!K || !N || !bs || *K <= 0 || *N <= 0 || *bs < 2)
    return c.error("needs positive attributes K, N and block_size");
  if (bits != 4 && bits != 8)
    return c.error("bits = " + std::to_string(bits) + " is not supported (4 or 8)");
  c.ensureInputs(6);
  if (c.hasInput(4))
    return c.error("g_idx (input 4) is not supported");
  int64_t kb = (*K + *bs - 1) / *bs, blob = *bs * bits / 8;
  auto b = bytesOf(c.constantOf(c.input(1)));
  if (!b || static_cast<int64_t>(b->size()) != *N * kb * blob)
    return c.error("B (input 1) must be a constant uint8 [N, ceil(K / block_size), "
                   "block_size * bits / 8] = [" + std::to_string(*N) + ", " +
                   std::to_string(kb) + ", " + std::to_string(blob) + "]");
  auto scales = doublesOf(c.constantOf(c.input(2)));
  if (!scales || static_cast<int64_t>(scales->size()) != *N * kb)
    return c.error("scales (input 2) must be a constant of N * ceil(K / block_size) = " +
                   std::to_string(*N * kb) + " floats");
  int64_t mask = (int64_t(1) << bits) - 1;
  std::vector<int64_t> zp(*N * kb, int64_t(1) << (bits - 1));
  if (c.hasInput(3)) {
    auto z = bytesOf(c.constantOf(c.input(3)));
    int64_t rowBytes = (kb * bits + 7) / 8;
    if (!z || static_cast<int64_t>(z->size()) != *N * rowBytes)
      return c.error("zero_points (input 3) must be a constant uint8 of N * ceil(ceil(K / "
                     "block_size) * bits / 8) bytes (float zero points are not supported)");
    for (int64_t n = 0; n < *N; ++n)
      for (int64_t k = 0; k < kb; ++k) {
        int64_t bit = k * bits;
        zp[n * kb + k] = ((*z)[n * rowBytes + bit / 8] >> (bit % 8)) & mask;
      }
  }
  MLIRContext *ctx = c.ctx();
  auto qType = IntegerType::get(ctx, bits, IntegerType::Unsigned);
  SmallVector<APInt> w(*K * *N, APInt(bits, 0)), zps(kb * *N, APInt(bits, 0));
  SmallVector<float> sc(kb * *N);
  for (int64_t n = 0; n < *N; ++n)
    for (int64_t k = 0; k < *K; ++k) {
      int64_t blk = k / *bs, j = k % *bs, bit = j * bits;
      uint8_t byte = (*b)[(n * kb + blk) * blob + bit / 8];
      w[k * *N + n] = APInt(bits, (byte >> (bit % 8)) & mask);
    }
  for (int64_t n = 0; n < *N; ++n)
    for (int64_t k = 0; k < kb; ++k) {
      sc[k * *N + n] = static_cast<float>((*scales)[n * kb + k]);
      zps[k * *N + n] = APInt(bits, zp[n * kb + k]);
    }
  Type f = c.elementType(c.input(0));
  if (!isa_and_nonnull<FloatType>(f))
    return c.error("A (input 0) must be a float tensor");
  auto wType = RankedTensorType::get({*K, *N}, qType);
  auto sType = RankedTensorType::get({kb, *N}, c.builder.getF32Type());
  auto zType = RankedTensorType::get({kb, *N}, qType);
  Value wq = qc::ConstantOp::create(c.builder, c.loc, wType, DenseElementsAttr::get(wType, w));
  Value s = qc::ConstantOp::create(c.builder, c.loc, sType,
                                   DenseElementsAttr::get(sType, ArrayRef<float>(sc)));
  Value z = qc::ConstantOp::create(c.builder, c.loc, zType, DenseElementsAttr::get(zType, zps));
  auto wf = c.buildInternal(
      "qc.dequantize_linear", {wq, s, z}, {RankedTensorType::get({*K, *N}, c.builder.getF32Type())},
      {c.builder.getNamedAttr("axis", c.builder.getI64IntegerAttr(0)),
       c.builder.getNamedAttr("block_size", c.builder.getI64IntegerAttr(*bs))});
  if (failed(wf))
    return failure();
  Value weight = (*wf)->getResult(0);
  if (!f.isF32()) {
    auto cast = c.buildInternal("qc.cast", {weight}, {RankedTensorType::get({*K, *N}, f)},
                                {c.builder.getNamedAttr("to", TypeAttr::get(f))});
    if (failed(cast))
      return failure();
    weight = (*cast)->getResult(0);
  }
  bool hasBias = c.hasInput(5);
  auto mm = c.buildInternal("qc.matmul", {c.input(0), weight},
                            {hasBias ? Type(UnrankedTensorType::get(f)) : c.outputType(0, f)});
  if (failed(mm))
    return failure();
  Value y = (*mm)->getResult(0);
  if (hasBias) {
    auto add = c.buildInternal("qc.add", {y, c.input(5)}, {c.outputType(0, f)});
    if (failed(add))
      return failure();
    y = (*add)->getResult(0);
  }
  c.bindOutput(0, y);
  return success();
}
} // namespace

void registerQuantOps(OpRegistry &r) {
  r.add("QuantizeLinear", [](NodeContext &c) {
    Type storage;
    if (const onnx::AttributeProto *dt = c.take("output_dtype")) {
      if (dt->i() != 0) {
        storage = elementTypeFromONNX(c.ctx(), static_cast<int32_t>(dt->i()));
        if (!storage)
          return c.error("output_dtype " + onnxDataTypeName(static_cast<int32_t>(dt->i())) +
                         " is not supported");
      }
    }
    c.ensureInputs(3);
    if (!storage)
      storage = c.hasInput(2) ? c.elementType(c.input(2))
                              : IntegerType::get(c.ctx(), 8, IntegerType::Unsigned);
    int64_t axis = 1, blockSize = 0;
    for (const auto &a : c.node.attribute()) {
      if (a.name() == "axis")
        axis = a.i();
      if (a.name() == "block_size")
        blockSize = a.i();
    }
    Type result = storage;
    if (Type q = quantizedType(c, storage, c.input(0), c.input(1), c.input(2),
                               axis, blockSize)) {
      result = q;
      c.preferRuleElementTypes = true;
    }
    return c.buildGeneric("qc.quantize_linear", 3,
                          {fixedType([result](MLIRContext *) { return result; })});
  });
  r.generic("DequantizeLinear", "qc.dequantize_linear", 3, {sameAs(1)});
  r.generic("DynamicQuantizeLinear", "qc.dynamic_quantize_linear", 1,
            {ui8Type(), f32Type(), ui8Type()});
  r.generic("QLinearMatMul", "qc.qlinear_matmul", 8, {sameAs(7)});
  r.generic("QLinearConv", "qc.qlinear_conv", 9, {sameAs(7)});
  r.generic("MatMulInteger", "qc.matmul_integer", 4, {i32Type()});
  r.generic("ConvInteger", "qc.conv_integer", 4, {i32Type()});
  // Contrib ops are registered as "<domain>.<op>".
  r.add("com.microsoft.MatMulNBits", importMatMulNBits);
}

} // namespace quantc::onnx_import
