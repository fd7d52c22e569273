//===- ShapeOps.cpp - import of shape, data movement and constant ops -----===//
#include "GraphImporter.h"
#include "NodeImporter.h"
#include "quantc/Dialect/QC/QCOps.h"

using namespace mlir;

namespace quantc::onnx_import {

namespace {
/// Moves an INTS attribute that later opsets take as an input.
LogicalResult intsAttrToInput(NodeContext &c, StringRef attr, unsigned input) {
  if (auto values = c.takeInts(attr)) {
    c.ensureInputs(input + 1);
    if (c.hasInput(input))
      return c.error(attr + " given both as attribute and as input");
    c.inputs[input] = c.constI64(*values);
  }
  return success();
}

/// ONNX TensorProto.DataType code (or, before opset 6, its name) -> type.
FailureOr<Type> typeFromCode(NodeContext &c, const onnx::AttributeProto &a) {
  int32_t code = 0;
  if (a.type() == onnx::AttributeProto::STRING) {
    onnx::TensorProto::DataType dt;
    if (!onnx::TensorProto::DataType_Parse(a.s(), &dt)) {
      (void)c.error("unknown data type '" + a.s() + "' in attribute '" + a.name() + "'");
      return failure();
    }
    code = dt;
  } else {
    code = static_cast<int32_t>(a.i());
  }
  Type t = elementTypeFromONNX(c.ctx(), code);
  if (!t) {
    (void)c.error("attribute '" + a.name() + "': element type " +
            onnxDataTypeName(code) + " is not supported");
    return failure();
  }
  return t;
}

LogicalResult importConstant(NodeContext &c) {
  ElementsAttr value;
  std::string why;
  MLIRContext *ctx = c.ctx();
  if (auto *a = c.take("value")) {
    onnx::TensorProto t = a->t();
    if (t.name().empty())
      t.set_name(c.node.output(0));
    value = c.graph.tensors.import(t, why);
    if (!value)
      return c.error("attribute 'value': " + why);
  } else if (auto f = c.takeFloat("value_float")) {
    auto type = RankedTensorType::get({}, Float32Type::get(ctx));
    value = DenseElementsAttr::get(type, *f);
  } else if (auto fs = c.takeFloats("value_floats")) {
    auto type = RankedTensorType::get({static_cast<int64_t>(fs->size())},
                                      Float32Type::get(ctx));
    value = DenseElementsAttr::get(type, ArrayRef<float>(*fs));
  } else if (auto i = c.takeInt("value_int")) {
    auto type = RankedTensorType::get({}, IntegerType::get(ctx, 64));
    value = DenseElementsAttr::get(type, *i);
  } else if (auto is = c.takeInts("value_ints")) {
    auto type = RankedTensorType::get({static_cast<int64_t>(is->size())},
                                      IntegerType::get(ctx, 64));
    value = DenseElementsAttr::get(type, ArrayRef<int64_t>(*is));
  } else if (c.has("sparse_value")) {
    return c.error("attribute 'sparse_value' (sparse constants) is not supported");
  } else if (c.has("value_string") || c.has("value_strings")) {
    return c.error("string constants are not supported");
  } else {
    return c.error("has no value attribute");
  }
  auto op = c.buildInternal("qc.constant", {}, {value.getType()},
                            {c.builder.getNamedAttr("value", value)});
  if (failed(op))
    return failure();
  c.bindOutput(0, (*op)->getResult(0));
  return success();
}

LogicalResult importResizeLike(NodeContext &c, bool upsample) {
  // Resize-10 and Upsample: (X, scales) with asymmetric coordinates.
  bool legacy = upsample || c.opset < 11;
  if (legacy) {
    Value x = c.input(0);
    Value scales = c.hasInput(1) ? c.input(1) : Value();
    if (auto attr = c.takeFloats("scales")) {
      SmallVector<double> s(attr->begin(), attr->end());
      scales = c.constFloat(c.builder.getF32Type(), s, /*scalar=*/false);
    }
    if (!scales)
      return c.error("needs scales");
    std::string mode = c.takeString("mode").value_or("nearest");
    if (mode == "bilinear")
      mode = "linear";
    c.inputs = {x, c.none(), scales, c.none()};
    c.setAttr("mode", c.builder.getStringAttr(mode));
    c.setAttr("coordinate_transformation_mode", c.builder.getStringAttr("asymmetric"));
    c.setAttr("nearest_mode", c.builder.getStringAttr("floor"));
  }
  return c.buildGeneric("qc.resize", 4, {sameAs(0)});
}
} // namespace

void registerShapeOps(OpRegistry &r) {
  r.add("Constant", importConstant);
  r.add("ConstantOfShape", [](NodeContext &c) {
    Type elem = Float32Type::get(c.ctx());
    if (auto *a = c.take("value")) {
      onnx::TensorProto t = a->t();
      std::string why;
      ElementsAttr value = c.graph.tensors.import(t, why, /*forceDense=*/true);
      if (!value)
        return c.error("attribute 'value': " + why);
      elem = cast<ShapedType>(value.getType()).getElementType();
      c.setAttr("value", value);
    }
    return c.buildGeneric("qc.constant_of_shape", 1,
                          {fixedType([elem](MLIRContext *) { return elem; })});
  });

  r.add("Reshape", [](NodeContext &c) {
    if (failed(intsAttrToInput(c, "shape", 1)))
      return failure();
    return c.buildGeneric("qc.reshape", 2, {sameAs(0)});
  });
  r.generic("Transpose", "qc.transpose", 1, {sameAs(0)});
  r.add("Concat", [](NodeContext &c) {
    if (c.opset < 4 && !c.has("axis"))
      c.setAttr("axis", c.builder.getI64IntegerAttr(1));
    return c.buildGeneric("qc.concat", -1, {sameAs(0)});
  });
  r.add("Slice", [](NodeContext &c) {
    if (failed(intsAttrToInput(c, "starts", 1)) ||
        failed(intsAttrToInput(c, "ends", 2)) ||
        failed(intsAttrToInput(c, "axes", 3)))
      return failure();
    return c.buildGeneric("qc.slice", 5, {sameAs(0)});
  });
  r.add("Split", [](NodeContext &c) {
    if (failed(intsAttrToInput(c, "split", 1)))
      return failure();
    return c.buildGeneric("qc.split", 2, {sameAs(0)}, /*variadicResults=*/true);
  });
  r.add("Squeeze", [](NodeContext &c) {
    if (failed(intsAttrToInput(c, "axes", 1)))
      return failure();
    return c.buildGeneric("qc.squeeze", 2, {sameAs(0)});
  });
  r.add("Unsqueeze", [](NodeContext &c) {
    if (failed(intsAttrToInput(c, "axes", 1)))
      return failure();
    return c.buildGeneric("qc.unsqueeze", 2, {sameAs(0)});
  });
  r.generic("Flatten", "qc.flatten", 1, {sameAs(0)});
  r.generic("Expand", "qc.expand", 2, {sameAs(0)});
  r.generic("Shape", "qc.shape", 1, {i64Type()});
  r.generic("Size", "qc.size", 1, {i64Type()});
  r.generic("Gather", "qc.gather", 2, {sameAs(0)});
  r.generic("GatherElements", "qc.gather_elements", 2, {sameAs(0)});
  r.generic("GatherND", "qc.gather_nd", 2, {sameAs(0)});
  r.generic("ScatterElements", "qc.scatter_elements", 3, {sameAs(0)});
  r.generic("Scatter", "qc.scatter_elements", 3, {sameAs(0)});
  r.generic("ScatterND", "qc.scatter_nd", 3, {sameAs(0)});
  r.generic("Tile", "qc.tile", 2, {sameAs(0)});
  r.generic("Range", "qc.range", 3, {sameAs(0)});
  r.generic("Einsum", "qc.einsum", -1, {sameAs(0)});
  r.generic("DepthToSpace", "qc.depth_to_space", 1, {sameAs(0)});
  r.generic("SpaceToDepth", "qc.space_to_depth", 1, {sameAs(0)});
  r.generic("Trilu", "qc.trilu", 2, {sameAs(0)});
  r.generic("OneHot", "qc.one_hot", 3, {sameAs(2)});
  r.generic("NonZero", "qc.non_zero", 1, {i64Type()});
  r.generic("Compress", "qc.compress", 2, {sameAs(0)});
  r.generic("CastLike", "qc.cast_like", 2, {sameAs(1)});

  r.add("Cast", [](NodeContext &c) {
    const onnx::AttributeProto *to = c.take("to");
    if (!to)
      return c.error("attribute 'to' is missing");
    auto type = typeFromCode(c, *to);
    if (failed(type))
      return failure();
    Type t = *type;
    if (foldConstantFloatCast(c, t))
      return success();
    c.setAttr("to", TypeAttr::get(t));
    return c.buildGeneric("qc.cast", 1, {fixedType([t](MLIRContext *) { return t; })});
  });
  r.add("EyeLike", [](NodeContext &c) {
    ElemRule rule = sameAs(0);
    if (const onnx::AttributeProto *dtype = c.take("dtype")) {
      auto type = typeFromCode(c, *dtype);
      if (failed(type))
        return failure();
      Type t = *type;
      c.setAttr("dtype", TypeAttr::get(t));
      rule = fixedType([t](MLIRContext *) { return t; });
    }
    return c.buildGeneric("qc.eye_like", 1, {rule});
  });

  r.add("Pad", [](NodeContext &c) {
    auto pads = c.takeInts("pads");
    if (!pads)
      pads = c.takeInts("paddings");
    auto value = c.takeFloat("value");
    if (pads) {
      c.ensureInputs(3);
      c.inputs[1] = c.constI64(*pads);
      if (value && *value != 0.0f) {
        Type elem = c.elementType(c.input(0));
        if (!isa<FloatType>(elem))
          return c.error("legacy 'value' attribute needs a float input");
        c.inputs[2] = c.constFloat(elem, {*value});
      }
    }
    return c.buildGeneric("qc.pad", 4, {sameAs(0)});
  });

  r.add("Resize", [](NodeContext &c) { return importResizeLike(c, false); });
  r.add("Upsample", [](NodeContext &c) { return importResizeLike(c, true); });
}

} // namespace quantc::onnx_import
