"""Two chained MatMul layers in two name prefixes (a/mm, b/mm), for GPTQ's
sequential order: writes DIR/model.onnx, DIR/calib (4 samples), DIR/x.npy;
`compare DIR OUT_SEQ OUT_PAR` prints whether the outputs differ (the second
layer's Hessian is taken on the quantized first layer's output)."""
import os
import sys

import numpy as np


def make(d):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(2)
    os.makedirs(os.path.join(d, "calib"), exist_ok=True)
    a = rng.normal(0, 0.3, (64, 64)).astype(np.float32)
    b = rng.normal(0, 0.3, (64, 16)).astype(np.float32)
    g = helper.make_graph([helper.make_node("MatMul", ["X", "A"], ["H"], name="a/mm"),
                           helper.make_node("Relu", ["H"], ["R"], name="a/relu"),
                           helper.make_node("MatMul", ["R", "B"], ["Y"], name="b/mm")], "g",
                          [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 32, 64])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 32, 16])],
                          [numpy_helper.from_array(a, "A"), numpy_helper.from_array(b, "B")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, os.path.join(d, "model.onnx"))
    for i in range(4):
        np.save(os.path.join(d, "calib", "s%d.npy" % i), rng.normal(0, 1, (1, 32, 64)).astype(np.float32))


def compare(seq, par):
    ys, yp = np.load(os.path.join(seq, "Y.npy")), np.load(os.path.join(par, "Y.npy"))
    diff = float(np.max(np.abs(ys - yp)))
    print("SEQ outputs %s (max difference %.3g)" % ("differ" if diff > 0 else "equal", diff))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        compare(sys.argv[3], sys.argv[4])
