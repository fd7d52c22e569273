#!/usr/bin/env python3
"""A model's Conv/MatMul/Gemm weights stored as float16 behind Cast nodes
(the export form of models that ship half-precision weights), and its
float32 twin with the same (float16-rounded) weights and no Cast, for
comparing how quantc compiles and quantizes the two (docs/performance-log.md).

    scripts/make_cast_twin.py MODEL.onnx OUT_F16.onnx OUT_F32.onnx

Weights are initializers or Constant nodes of rank >= 2 read only by
Conv, ConvTranspose, MatMul or Gemm.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto
from onnx import helper, numpy_helper


def main():
    src, out16, out32 = sys.argv[1:4]
    m16, m32 = onnx.load(src), onnx.load(src)
    readers = {}
    for n in m16.graph.node:
        for i in n.input:
            readers.setdefault(i, []).append(n.op_type)

    def is_weight(name, a):
        return a.dtype == np.float32 and a.ndim >= 2 and \
            all(r in ("Conv", "ConvTranspose", "MatMul", "Gemm") for r in readers.get(name, ["-"]))

    casts, count = [], 0
    inits16 = []
    for t16, t32 in zip(m16.graph.initializer, m32.graph.initializer):
        a = numpy_helper.to_array(t16)
        if is_weight(t16.name, a):
            inits16.append(numpy_helper.from_array(a.astype(np.float16), t16.name + "_f16"))
            casts.append(helper.make_node("Cast", [t16.name + "_f16"], [t16.name], to=TensorProto.FLOAT,
                                          name="cast_" + t16.name))
            t32.CopyFrom(numpy_helper.from_array(a.astype(np.float16).astype(np.float32), t32.name))
            count += 1
        else:
            inits16.append(t16)
    nodes16 = []
    for n16, n32 in zip(m16.graph.node, m32.graph.node):
        if n16.op_type == "Constant" and n16.attribute and n16.attribute[0].name == "value":
            a = numpy_helper.to_array(n16.attribute[0].t)
            name = n16.output[0]
            if is_weight(name, a):
                nodes16.append(helper.make_node("Constant", [], [name + "_f16"],
                                                value=numpy_helper.from_array(a.astype(np.float16))))
                nodes16.append(helper.make_node("Cast", [name + "_f16"], [name], to=TensorProto.FLOAT,
                                                name="cast_" + name))
                n32.attribute[0].t.CopyFrom(numpy_helper.from_array(a.astype(np.float16).astype(np.float32)))
                count += 1
                continue
        nodes16.append(n16)
    del m16.graph.initializer[:]
    m16.graph.initializer.extend(inits16)
    del m16.graph.node[:]
    m16.graph.node.extend(casts + nodes16)
    onnx.save(m16, out16)
    onnx.save(m32, out32)
    print("%d weights stored as float16 behind a Cast" % count)


if __name__ == "__main__":
    main()
