"""f32 convolutions that write their output (the bias, or zero, plus the
product; the output never read) against ONNX Runtime, one for each path
of the runtime's convolution:

  y1  1x1, 24 -> 40 channels, bias    GEMM, A (the weights) read in place
  y2  3x3 pad 1, 24 -> 30, bias       the direct kernel (<= 48 channels)
  y3  3x3 stride 2, 24 -> 64, bias    im2col GEMM
  y4  3x3, 24 -> 20, no bias          the zero-filled form (_set)
  y5  3x3 pad 1, 40 -> 50, bias       K = 360: two K slices, bias once
  y6  1x1, 8 -> 1030, bias            more than 1024 rows: A packed per block
  y7  1x1 on a batch of two, bias     the bias for every image
  y8  depthwise 3x3 pad 1, bias       accumulators started at the bias
  y9  depthwise 5x5 stride 2, bias
  y10 depthwise 3x3, no bias          the zero-filled form (_set)
  y11 depthwise 3x3, pads 1 top, 2 left, 0 bottom, 1 right, bias

  make DIR        writes DIR/conv_bias.onnx and DIR/{x,z,b}.npy
  check DIR OUT   OUT/y*.npy (quantc run) against ONNX Runtime:
                  max |diff| / max |ref| <= 1e-5
"""
import os

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

NAMES = ["y%d" % i for i in range(1, 12)]


def model(rng):
    def w(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    inits = {"w1": w(40, 24, 1, 1), "b1": w(40), "w2": w(30, 24, 3, 3), "b2": w(30),
             "w3": w(64, 24, 3, 3), "b3": w(64), "w4": w(20, 24, 3, 3),
             "w5": w(50, 40, 3, 3), "b5": w(50), "w6": w(1030, 8, 1, 1), "b6": w(1030),
             "w7": w(16, 6, 1, 1), "b7": w(16), "w8": w(24, 1, 3, 3), "b8": w(24),
             "w9": w(24, 1, 5, 5), "b9": w(24), "w10": w(24, 1, 3, 3),
             "w11": w(24, 1, 3, 3), "b11": w(24)}
    nodes = [
        h.make_node("Conv", ["x", "w1", "b1"], ["y1"]),
        h.make_node("Conv", ["x", "w2", "b2"], ["y2"], pads=[1, 1, 1, 1]),
        h.make_node("Conv", ["x", "w3", "b3"], ["y3"], strides=[2, 2]),
        h.make_node("Conv", ["x", "w4"], ["y4"]),
        h.make_node("Conv", ["y1", "w5", "b5"], ["y5"], pads=[1, 1, 1, 1]),
        h.make_node("Conv", ["z", "w6", "b6"], ["y6"]),
        h.make_node("Conv", ["b", "w7", "b7"], ["y7"]),
        h.make_node("Conv", ["x", "w8", "b8"], ["y8"], group=24, pads=[1, 1, 1, 1]),
        h.make_node("Conv", ["x", "w9", "b9"], ["y9"], group=24, strides=[2, 2], pads=[2, 2, 2, 2]),
        h.make_node("Conv", ["x", "w10"], ["y10"], group=24),
        h.make_node("Conv", ["x", "w11", "b11"], ["y11"], group=24, pads=[1, 2, 0, 1]),
    ]
    g = h.make_graph(nodes, "conv_bias",
                     [h.make_tensor_value_info("x", T.FLOAT, [1, 24, 20, 36]),
                      h.make_tensor_value_info("z", T.FLOAT, [1, 8, 4, 5]),
                      h.make_tensor_value_info("b", T.FLOAT, [2, 6, 9, 7])],
                     [h.make_tensor_value_info(n, T.FLOAT, None) for n in NAMES],
                     [nh.from_array(v, k) for k, v in inits.items()])
    return h.make_model(g, opset_imports=[h.make_opsetid("", 17)])


def make(d):
    rng = np.random.default_rng(7)
    os.makedirs(d, exist_ok=True)
    onnx.save(model(rng), os.path.join(d, "conv_bias.onnx"))
    for name, shape in (("x", (1, 24, 20, 36)), ("z", (1, 8, 4, 5)), ("b", (2, 6, 9, 7))):
        np.save(os.path.join(d, name + ".npy"), rng.standard_normal(shape).astype(np.float32))


def check(d, out):
    from make_check import compare_with_ort
    feeds = {n: np.load(os.path.join(d, n + ".npy")) for n in "xzb"}
    return compare_with_ort(os.path.join(d, "conv_bias.onnx"), feeds, NAMES, out, "CONV BIAS")


if __name__ == "__main__":
    from make_check import main
    main(make, check)
