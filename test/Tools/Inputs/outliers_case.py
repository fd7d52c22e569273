"""Activation outlier channels kept float (-outliers) on one MatMul, against
a numpy reference of the decomposition and against the recipe without it.

  make DIR   writes DIR/model.onnx (Y = X W, X [1, 16, 192], W [192, 24] on
             the exact symmetric int8 grid of each column, its largest
             level outside the outlier rows, so weight rounding is lossless
             with or without them), DIR/calib/ (4 samples) and DIR/x.npy.
             Channels 7 and 130 carry "massive activations" (a few hundred
             on the first token, as SmolLM2's down projections do); channel
             50 is moderately large everywhere (10x the median channel: not
             an outlier at the default ratio 32).
  check DIR OUT_SPLIT OUT_PLAIN
             the reference of y = deq(q(x * mask)) W_R + x_S W_S: S = {7, 130},
             one uint8 scale and zero point (ONNX's asymmetric convention)
             from the min/max of x * mask over the calibration samples;
             OUT_SPLIT/Y.npy must match it within 1e-5 (max error over max
             |y|) and be at least 10x closer to the float product than
             OUT_PLAIN/Y.npy (plain w8a8, whose scale covers the outliers).
Prints OUTLIERS ok / bad."""
import os
import sys

import numpy as np

K, N, M = 192, 24, 16
S = [7, 130]


def weights():
    rng = np.random.default_rng(11)
    w = rng.integers(-120, 121, size=(K, N)).astype(np.float64)
    w[S, :] = np.clip(w[S, :], -100, 100)
    w[60, :] = 127  # every column's largest level, in a kept row
    return (w * (0.002 * (1 + np.arange(N)) / 127)).astype(np.float32)


def sample(rng):
    x = rng.normal(0, 1, (1, M, K))
    x[..., 50] *= 10
    x[0, 0, S] = [400.0, -250.0]
    return x.astype(np.float32)


def make(d):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    os.makedirs(os.path.join(d, "calib"), exist_ok=True)
    g = helper.make_graph([helper.make_node("MatMul", ["X", "W"], ["Y"], name="mm")], "g",
                          [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, M, K])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, M, N])],
                          [numpy_helper.from_array(weights(), "W")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, os.path.join(d, "model.onnx"))
    rng = np.random.default_rng(5)
    for i in range(4):
        np.save(os.path.join(d, "calib", "s%d.npy" % i), sample(rng))
    np.save(os.path.join(d, "x.npy"), sample(rng))


def check(d, out_split, out_plain):
    w = weights().astype(np.float64)
    calib = [np.load(os.path.join(d, "calib", "s%d.npy" % i)).astype(np.float64) for i in range(4)]
    x = np.load(os.path.join(d, "x.npy")).astype(np.float64)
    mask = np.ones(K)
    mask[S] = 0
    lo = min(0.0, min(float((c * mask).min()) for c in calib))
    hi = max(0.0, max(float((c * mask).max()) for c in calib))
    scale = np.float32((hi - lo) / 255)
    zp = np.clip(np.round(0 - lo / float(scale)), 0, 255)  # numpy rounds half to even
    q = np.clip(np.round((x * mask) / float(scale)) + zp, 0, 255)
    xq = (q - zp) * float(scale)
    w_r = w.copy()
    w_r[S, :] = 0
    ref = xq @ w_r + x[..., S] @ w[S, :]
    exact = x @ w
    got = np.load(os.path.join(out_split, "Y.npy")).astype(np.float64)
    plain = np.load(os.path.join(out_plain, "Y.npy")).astype(np.float64)
    top = float(np.abs(exact).max())
    err_ref = float(np.abs(got - ref).max()) / top
    err_split = float(np.abs(got - exact).max()) / top
    err_plain = float(np.abs(plain - exact).max()) / top
    print("max error / max |y|: split vs reference %.2e, split vs float %.2e, plain vs float %.2e"
          % (err_ref, err_split, err_plain))
    ok = got.shape == ref.shape and err_ref <= 1e-5 and err_split * 10 <= err_plain
    print("OUTLIERS", "ok" if ok else "bad")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        check(*sys.argv[2:5])
