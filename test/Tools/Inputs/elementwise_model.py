"""Writes ARGV[1]: y = Relu(x * 2 + 1) on x float[1, 64, 64, 64], one
elementwise loop large enough for the thread pool (an outlined qc_par
function)."""
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

nodes = [h.make_node("Mul", ["x", "two"], ["a"]), h.make_node("Add", ["a", "one"], ["b"]),
         h.make_node("Relu", ["b"], ["y"])]
g = h.make_graph(nodes, "elementwise", [h.make_tensor_value_info("x", T.FLOAT, [1, 64, 64, 64])],
                 [h.make_tensor_value_info("y", T.FLOAT, None)],
                 [nh.from_array(np.array(2.0, np.float32), "two"),
                  nh.from_array(np.array(1.0, np.float32), "one")])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]), sys.argv[1])
