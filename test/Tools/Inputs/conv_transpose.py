"""ConvTranspose with strides equal to the kernel (non-overlapping
windows: one GEMM and a permutation) against ONNX Runtime: one image with
a bias (the W^T X orientation), one with pads that crop and an
asymmetric 2 x 3 kernel, and a batch of two (the X^T W orientation).

  make DIR        writes DIR/convt.onnx and DIR/{a,b}.npy
  check DIR OUT   OUT/y*.npy (quantc run) against ONNX Runtime:
                  max |diff| / max |ref| <= 1e-5
"""
import os

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh


def model(rng):
    w1 = rng.standard_normal((5, 3, 2, 2)).astype(np.float32)
    w2 = rng.standard_normal((5, 4, 2, 3)).astype(np.float32)
    nodes = [
        h.make_node("ConvTranspose", ["a", "w1", "b1"], ["y1"], kernel_shape=[2, 2], strides=[2, 2]),
        h.make_node("ConvTranspose", ["a", "w2"], ["y2"], kernel_shape=[2, 3], strides=[2, 3],
                    pads=[1, 0, 0, 2]),
        h.make_node("ConvTranspose", ["b", "w1", "b1"], ["y3"], kernel_shape=[2, 2], strides=[2, 2]),
    ]
    g = h.make_graph(nodes, "conv_transpose",
                     [h.make_tensor_value_info("a", T.FLOAT, [1, 5, 7, 6]),
                      h.make_tensor_value_info("b", T.FLOAT, [2, 5, 4, 3])],
                     [h.make_tensor_value_info(n, T.FLOAT, None) for n in ("y1", "y2", "y3")],
                     [nh.from_array(w1, "w1"), nh.from_array(w2, "w2"),
                      nh.from_array(rng.standard_normal(3).astype(np.float32), "b1")])
    return h.make_model(g, opset_imports=[h.make_opsetid("", 17)])


def make(d):
    rng = np.random.default_rng(4)
    os.makedirs(d, exist_ok=True)
    onnx.save(model(rng), os.path.join(d, "convt.onnx"))
    np.save(os.path.join(d, "a.npy"), rng.standard_normal((1, 5, 7, 6)).astype(np.float32))
    np.save(os.path.join(d, "b.npy"), rng.standard_normal((2, 5, 4, 3)).astype(np.float32))


def check(d, out):
    from make_check import compare_with_ort
    feeds = {n: np.load(os.path.join(d, n + ".npy")) for n in "ab"}
    return compare_with_ort(os.path.join(d, "convt.onnx"), feeds, ("y1", "y2", "y3"), out, "CONVT")


if __name__ == "__main__":
    from make_check import main
    main(make, check)
