"""Writes ARGV[1]: a QDQ model that quantizes its input x twice with the
same scale and zero point (a QuantizeLinear / DequantizeLinear pair per
consumer, as QDQ exports do), once for a convolution at the start and
once for one at the end, with a chain of 40 elementwise ops between them
(so that quantc-cpu-outline-ops puts the two in different functions)."""
import sys

import numpy as np, onnx
from onnx import TensorProto as T, helper as h, numpy_helper as nh
rng = np.random.default_rng(1)
inits = [nh.from_array(np.array(0.05, np.float32), "s"), nh.from_array(np.array(3, np.uint8), "z"),
         nh.from_array(rng.integers(-127, 128, (8, 8, 3, 3)).astype(np.int8), "wq"),
         nh.from_array(np.full(8, 0.01, np.float32), "ws"), nh.from_array(np.zeros(8, np.int8), "wz"),
         nh.from_array(np.array(0.5, np.float32), "c")]
nodes = [h.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["w"], axis=0),
         h.make_node("QuantizeLinear", ["x", "s", "z"], ["q1"]),
         h.make_node("DequantizeLinear", ["q1", "s", "z"], ["d1"]),
         h.make_node("Conv", ["d1", "w"], ["y1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
prev = "y1"
for i in range(40):  # a long chain between the two uses of x
    nodes.append(h.make_node(["Mul", "Add", "Relu", "Sub"][i % 4], [prev, "c"] if i % 4 != 2 else [prev], ["t%d" % i]))
    prev = "t%d" % i
nodes += [h.make_node("Add", [prev, "x"], ["u"]),
          h.make_node("QuantizeLinear", ["x", "s", "z"], ["q2"]),
          h.make_node("DequantizeLinear", ["q2", "s", "z"], ["d2"]),
          h.make_node("Conv", ["d2", "w"], ["y2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])]
g = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", T.FLOAT, [1, 8, 32, 32])],
                 [h.make_tensor_value_info("u", T.FLOAT, None), h.make_tensor_value_info("y2", T.FLOAT, None)], inits)
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]), sys.argv[1])
