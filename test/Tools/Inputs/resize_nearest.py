"""Nearest Resize (asymmetric, floor) against ONNX Runtime: whole factors
(2x4 on H, W; 8x8 fused into an Add, an FPN's form), a factor on the
channel axis, and fractional factors (1.5, 2.5) that keep the coordinate
arithmetic.

  make DIR        writes DIR/resize.onnx and DIR/{a,b,c}.npy
  check DIR OUT   OUT/y*.npy (quantc run) against ONNX Runtime: equal
"""
import os

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh


def model():
    def resize(x, scales, y):
        return h.make_node("Resize", [x, "", scales], [y], mode="nearest",
                           coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    nodes = [
        resize("a", "s1", "y1"),
        resize("b", "s2", "r2"),
        h.make_node("Add", ["r2", "c"], ["y2"]),
        resize("a", "s3", "y3"),
        resize("a", "s4", "y4"),
    ]
    inits = [nh.from_array(np.array(v, np.float32), n) for n, v in
             (("s1", [1, 1, 2, 4]), ("s2", [1, 1, 8, 8]), ("s3", [1, 2, 1, 3]), ("s4", [1, 1, 1.5, 2.5]))]
    g = h.make_graph(nodes, "resize_nearest",
                     [h.make_tensor_value_info("a", T.FLOAT, [1, 3, 5, 7]),
                      h.make_tensor_value_info("b", T.FLOAT, [1, 4, 6, 5]),
                      h.make_tensor_value_info("c", T.FLOAT, [1, 4, 48, 40])],
                     [h.make_tensor_value_info(n, T.FLOAT, None) for n in ("y1", "y2", "y3", "y4")],
                     inits)
    return h.make_model(g, opset_imports=[h.make_opsetid("", 13)])


def make(d):
    rng = np.random.default_rng(3)
    os.makedirs(d, exist_ok=True)
    onnx.save(model(), os.path.join(d, "resize.onnx"))
    for n, s in (("a", (1, 3, 5, 7)), ("b", (1, 4, 6, 5)), ("c", (1, 4, 48, 40))):
        np.save(os.path.join(d, n + ".npy"), rng.standard_normal(s).astype(np.float32))


def check(d, out):
    import onnxruntime as ort
    sess = ort.InferenceSession(os.path.join(d, "resize.onnx"), providers=["CPUExecutionProvider"])
    feeds = {n: np.load(os.path.join(d, n + ".npy")) for n in "abc"}
    bad = 0
    for name, ref in zip(("y1", "y2", "y3", "y4"), sess.run(None, feeds)):
        got = np.load(os.path.join(out, name + ".npy"))
        ok = got.shape == ref.shape and not (np.max(np.abs(got - ref)) > 0)
        print("%s %s %s" % ("ok" if ok else "FAIL", name, got.shape))
        bad += not ok
    print("RESIZE ok" if bad == 0 else "RESIZE FAILED (%d)" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    from make_check import main
    main(make, check)
