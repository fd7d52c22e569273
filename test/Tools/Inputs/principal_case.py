"""--principal-components R (qc-split-principal) on two MatMuls reading one
activation with a few massive directions, against numpy.

  make DIR     DIR/model.onnx: Y1 = X W1, Y2 = X W2, X [2, 12, 64], W1 [64, 24],
               W2 [64, 16]; DIR/calib: 4 samples of X = Gaussian rows plus,
               on every row, large multiples (30-60x) of two fixed unit
               directions that are no channel (what a massive channel
               looks like after a rotation); DIR/x.npy a fifth such input.
  subspace DIR IR R
               The R directions in IR (the [64, R] constant U^T and the
               [R, 64] constant U of the side products) against numpy:
               their span is the span of the R leading eigenvectors of
               numpy's sum x^T x over the calibration rows (projector
               distance <= 1e-4), U U^T = I, and each side constant is
               U W_c (W_c from the model) to 1e-5.
  float DIR OUT1 OUT2
               Outputs of the split float model on x.npy: X W_c to 1e-5 of
               their largest value (the split preserves the function).
  check DIR IR OUT1 OUT2 R
               Outputs of the quantized model (w8a8-dynamic-token) on
               x.npy against numpy: x_r = x - (x U^T) U with IR's U,
               Y_c = R(x_r) W~_c + (x U^T)(U W_c), R each row rounded to
               uint8 on its own range (qc.dynamic_quantize_rows), W~_c
               the int8 weights and channel scales in IR; to 2e-4 of the
               output's largest value (a row's float32 x_r may round one
               value the other way).
Each prints a line with "ok" and the worst error, or fails."""
import os
import re
import sys

import numpy as np

from qc_ref import int8_weights, rows_q

B, S, K, N1, N2 = 2, 12, 64, 24, 16


def directions():
    rng = np.random.default_rng(11)
    d = rng.normal(size=(2, K))
    d[1] -= d[1] @ d[0] / (d[0] @ d[0]) * d[0]
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def make(d):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(7)
    w1 = rng.normal(0, 0.1, (K, N1)).astype(np.float32)
    w2 = rng.normal(0, 0.1, (K, N2)).astype(np.float32)
    os.makedirs(os.path.join(d, "calib"), exist_ok=True)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W1"], ["Y1"], name="mm1"),
         helper.make_node("MatMul", ["X", "W2"], ["Y2"], name="mm2")], "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [B, S, K])],
        [helper.make_tensor_value_info("Y1", TensorProto.FLOAT, [B, S, N1]),
         helper.make_tensor_value_info("Y2", TensorProto.FLOAT, [B, S, N2])],
        [numpy_helper.from_array(w1, "W1"), numpy_helper.from_array(w2, "W2")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, os.path.join(d, "model.onnx"))
    np.save(os.path.join(d, "w1.npy"), w1)
    np.save(os.path.join(d, "w2.npy"), w2)
    dirs = directions()

    def sample():
        x = rng.normal(0, 1, (B, S, K))
        c = rng.uniform(30, 60, (B, S, 2)) * rng.choice([-1, 1], (B, S, 2))
        return (x + c @ dirs).astype(np.float32)
    for i in range(4):
        np.save(os.path.join(d, "calib", "s%d.npy" % i), sample())
    np.save(os.path.join(d, "x.npy"), sample())


def floats(text, shape):
    """The f32 constant of `shape` in IR text (dense hex or a literal list)."""
    t = "x".join(str(v) for v in shape)
    m = re.search(r'qc\.constant dense<"0x([0-9A-F]+)"> : tensor<%sxf32>' % t, text)
    if m:
        return np.frombuffer(bytes.fromhex(m.group(1)), np.float32).reshape(shape)
    m = re.search(r"qc\.constant dense<(\[[^>]+\])> : tensor<%sxf32>" % t, text)
    if not m:
        sys.exit("no f32 constant of shape %s in the IR" % t)
    return np.array(eval(m.group(1)), np.float32).reshape(shape)


def ir_u(text, r):
    ut, u = floats(text, (K, r)), floats(text, (r, K))
    if not (np.abs(ut.T - u).max() <= 0):
        sys.exit("U^T and U in the IR are not each other's transpose")
    return u


def subspace(d, ir, r):
    text = open(ir).read()
    u = ir_u(text, r).astype(np.float64)
    xs = np.concatenate([np.load(os.path.join(d, "calib", "s%d.npy" % i)).reshape(-1, K)
                         for i in range(4)]).astype(np.float64)
    vals, vecs = np.linalg.eigh(xs.T @ xs)
    ref = vecs[:, ::-1][:, :r]
    dist = float(np.linalg.norm(u.T @ u - ref @ ref.T, 2))
    orth = float(np.abs(u @ u.T - np.eye(r)).max())
    if not (dist <= 1e-4) or not (orth <= 1e-5):
        sys.exit("subspace: projector distance %.3g, max |U U^T - I| %.3g" % (dist, orth))
    worst = 0.0
    for name, n in (("w1", N1), ("w2", N2)):
        side = floats(text, (r, n)).astype(np.float64)
        want = u @ np.load(os.path.join(d, name + ".npy")).astype(np.float64)
        err = float(np.abs(side - want).max() / np.abs(want).max())
        if not (err <= 1e-5):
            sys.exit("side constant U %s off by %.3g" % (name, err))
        worst = max(worst, err)
    print("SUBSPACE ok distance %.2g, orthonormal %.2g, side %.2g" % (dist, orth, worst))


def float_check(d, o1, o2):
    x = np.load(os.path.join(d, "x.npy")).astype(np.float64)
    worst = 0.0
    for out, name in ((o1, "w1"), (o2, "w2")):
        want = x @ np.load(os.path.join(d, name + ".npy")).astype(np.float64)
        err = float(np.abs(np.load(out) - want).max() / np.abs(want).max())
        if not (err <= 1e-5):
            sys.exit("float: %s off by %.3g of its largest value" % (name, err))
        worst = max(worst, err)
    print("FLOAT ok %.2g" % worst)


def check(d, ir, o1, o2, r):
    text = open(ir).read()
    u = ir_u(text, r)
    x = np.load(os.path.join(d, "x.npy"))
    p = x @ u.T
    xr = (x - p @ u).astype(np.float32)
    worst = 0.0
    for out, name, n in ((o1, "w1", N1), (o2, "w2", N2)):
        side = floats(text, (r, n))
        ref = rows_q(xr) @ int8_weights(text, K, n) + p @ side
        err = float(np.abs(np.load(out) - ref).max() / np.abs(ref).max())
        if not (err <= 2e-4):
            sys.exit("quantized: %s off by %.3g of its largest value" % (name, err))
        worst = max(worst, err)
    print("QUANT ok %.2g" % worst)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2])
    elif cmd == "subspace":
        subspace(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "float":
        float_check(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        check(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
