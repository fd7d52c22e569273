"""Writes the binary models used by binary_files.test into argv[1]."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
w = np.arange(128, dtype=np.float32).reshape(16, 8) / 7.0


def graph(init):
    return helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["Y"])], "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 16])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 8])], [init])


model = helper.make_model(graph(numpy_helper.from_array(w, "W")),
                          opset_imports=[helper.make_opsetid("", 13)])
data = model.SerializeToString()
open(os.path.join(out, "good.onnx"), "wb").write(data)
open(os.path.join(out, "truncated.onnx"), "wb").write(data[: len(data) // 2])

open(os.path.join(out, "weights.bin"), "wb").write(w.tobytes())
open(os.path.join(out, "sub", "weights.bin"), "wb").write(w.tobytes())
for name, location in [("escape.onnx", "../weights.bin"), ("external.onnx", "weights.bin")]:
    t = TensorProto()
    t.name = "W"
    t.data_type = TensorProto.FLOAT
    t.dims.extend([16, 8])
    t.data_location = TensorProto.EXTERNAL
    for k, v in [("location", location), ("offset", "0"), ("length", str(w.nbytes))]:
        e = t.external_data.add()
        e.key, e.value = k, v
    m = helper.make_model(graph(t), opset_imports=[helper.make_opsetid("", 13)])
    open(os.path.join(out, "sub", name), "wb").write(m.SerializeToString())
