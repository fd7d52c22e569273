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
}

} // namespace quantc::onnx_import
