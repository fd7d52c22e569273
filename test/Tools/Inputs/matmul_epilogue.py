"""int8 matrix products whose elementwise consumer runs inside the kernel
(quantc-cpu-fuse-epilogues on qc_rt_matmul_i8_i32_constb_set), against
ONNX Runtime on the same QDQ model.

  make DIR        writes DIR/epi.onnx and its inputs DIR/{x,x2,x3}.npy:
                  a: x [2, 40, 96] (80 rows: two whole 32-row AMX blocks
                     and a partial one, read through [B, S, N]) times a
                     96 x 72 weight (per-column scales; 3 panels, the last
                     partial) + a bias, Relu;
                  b: a requantized (the first epilogue's output feeds the
                     next product) times 72 x 320 (10 panels: two tasks of
                     columns) + a bias, x * Sigmoid(x);
                  s: x2 [6, 96] (6 rows: below the AMX path's 16, the
                     whole product first) times the 96 x 72 weight, + a
                     bias;
                  k: x3 [48, 1600] (K = 1600: 25 tiles of 64, two K
                     slices on AMX) times 1600 x 40, + a bias.
  check DIR OUT   OUT/*.npy (quantc run) against ONNX Runtime:
                  max |diff| / max |ref| <= 1e-5 for a, s and k; b
                  within 2e-3 (its input is a requantized: a rounding
                  at .5 may fall the other way; measured 5.4e-4 here).
"""
import os

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

rng = np.random.default_rng(13)


def const(name, arr):
    return nh.from_array(np.asarray(arr), name)


def qweights(name, shape):
    q = rng.integers(-127, 128, shape).astype(np.int8)
    s = (rng.random(shape[1]) * 0.01 + 0.002).astype(np.float32)
    return [const(name + "q", q), const(name + "s", s),
            const(name + "z", np.zeros(shape[1], np.int8))]


def model():
    inits = [const("sx", np.float32(0.03)), const("zx", np.uint8(7)),
             const("sa", np.float32(0.05)), const("za", np.uint8(0)),
             const("b1", rng.standard_normal(72).astype(np.float32)),
             const("b2", rng.standard_normal(320).astype(np.float32)),
             const("b3", rng.standard_normal(40).astype(np.float32))]
    for name, shape in (("w1", (96, 72)), ("w2", (72, 320)), ("w3", (1600, 40))):
        inits += qweights(name, shape)
    nodes = [h.make_node("DequantizeLinear", [n + "q", n + "s", n + "z"], [n], axis=1)
             for n in ("w1", "w2", "w3")]
    for src in ("x", "x2", "x3"):
        nodes += [h.make_node("QuantizeLinear", [src, "sx", "zx"], [src + "q"]),
                  h.make_node("DequantizeLinear", [src + "q", "sx", "zx"], [src + "d"])]
    nodes += [
        # a
        h.make_node("MatMul", ["xd", "w1"], ["a0"]),
        h.make_node("Add", ["a0", "b1"], ["a1"]),
        h.make_node("Relu", ["a1"], ["a"]),
        # b
        h.make_node("QuantizeLinear", ["a", "sa", "za"], ["aq"]),
        h.make_node("DequantizeLinear", ["aq", "sa", "za"], ["ad"]),
        h.make_node("MatMul", ["ad", "w2"], ["b0"]),
        h.make_node("Add", ["b0", "b2"], ["b1o"]),
        h.make_node("Sigmoid", ["b1o"], ["b2o"]),
        h.make_node("Mul", ["b1o", "b2o"], ["b"]),
        # s
        h.make_node("MatMul", ["x2d", "w1"], ["s0"]),
        h.make_node("Add", ["s0", "b1"], ["s"]),
        # k
        h.make_node("MatMul", ["x3d", "w3"], ["k0"]),
        h.make_node("Add", ["k0", "b3"], ["k"]),
    ]
    g = h.make_graph(nodes, "matmul_epilogue",
                     [h.make_tensor_value_info("x", T.FLOAT, [2, 40, 96]),
                      h.make_tensor_value_info("x2", T.FLOAT, [6, 96]),
                      h.make_tensor_value_info("x3", T.FLOAT, [48, 1600])],
                     [h.make_tensor_value_info(n, T.FLOAT, None) for n in ("a", "b", "s", "k")],
                     inits)
    return h.make_model(g, opset_imports=[h.make_opsetid("", 17)])


INPUTS = {"x": (2, 40, 96), "x2": (6, 96), "x3": (48, 1600)}


def make(d):
    os.makedirs(d, exist_ok=True)
    onnx.save(model(), os.path.join(d, "epi.onnx"))
    for name, shape in INPUTS.items():
        np.save(os.path.join(d, name + ".npy"), (rng.standard_normal(shape) * 2).astype(np.float32))


def check(d, out):
    from make_check import compare_with_ort
    feeds = {n: np.load(os.path.join(d, n + ".npy")) for n in INPUTS}
    return compare_with_ort(os.path.join(d, "epi.onnx"), feeds, ("a", "b", "s", "k"), out,
                            "EPILOGUES", tol={"b": 2e-3}, optimize=False)


if __name__ == "__main__":
    from make_check import main
    main(make, check)
