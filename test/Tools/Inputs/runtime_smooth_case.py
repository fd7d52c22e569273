"""Runtime smoothing (-rs) on one MatMul, against ONNX Runtime and numpy.

  make DIR BITS  writes DIR/modelBITS.onnx (Y = X W, X [1, 16, 1152], W [1152, 32]
             on the exact int8 or int4 grid, so weight rounding is lossless),
             DIR/calib/ (4 samples) and DIR/x.npy, whose 3 outlier channels
             (about 40 on every token, as LLMs' channel outliers are) share
             the first of 9 groups of 128: the other groups' grids no longer
             depend on them (the first group's other channels, the
             "victims", get a coarser grid than without smoothing; channels
             are not reordered to group outliers, which is not built).
  check DIR BITS OUT_RS OUT_PLAIN
             the reference of y = d_m w_n sum_g s_g sum_{k in g} (q - z_m) W:
             s_g = max over rows and the group's channels of |x|, x' = x / s_g
             quantized per row by ONNX Runtime's DynamicQuantizeLinear (8
             bits) or its 15-level transcription (4 bits); OUT_RS/Y.npy must
             match it within 1e-5 relative, and be closer to the float
             product than OUT_PLAIN/Y.npy (the same recipe without -rs).
Prints RS ok / bad."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Numerics"))
from ort_rows import dynamic_quantize_rows  # noqa: E402

K, N, M, G = 1152, 32, 16, 128


def weights(bits):
    """On the symmetric per-column grid of `bits`, each column reaching its
    largest level, so that rounding them is lossless."""
    top = 127 if bits == 8 else 7
    rng = np.random.default_rng(7)
    w = rng.integers(-top, top + 1, size=(K, N)).astype(np.float64)
    w[rng.integers(0, K, size=N), np.arange(N)] = top
    return (w * (0.01 * (1 + np.arange(N)) / top)).astype(np.float32)  # per-column scales


def make(d, bits):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    os.makedirs(os.path.join(d, "calib"), exist_ok=True)
    w = weights(bits)
    g = helper.make_graph([helper.make_node("MatMul", ["X", "W"], ["Y"], name="mm")], "g",
                          [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, M, K])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, M, N])],
                          [numpy_helper.from_array(w, "W")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, os.path.join(d, "model%d.onnx" % bits))
    rng = np.random.default_rng(3)
    for i in range(4):
        np.save(os.path.join(d, "calib", "s%d.npy" % i), rng.normal(0, 1, (1, M, K)).astype(np.float32))
    x = rng.normal(0, 1, (1, M, K))
    x[..., [5, 20, 40]] = 40.0 + x[..., [5, 20, 40]]  # channel outliers, as in LLMs: on every token
    np.save(os.path.join(d, "x.npy"), x.astype(np.float32))


def rows_8bit(xs):
    return tuple(a.astype(np.float64) for a in dynamic_quantize_rows(xs))


def rows_4bit(xs):
    lo = np.minimum(0, xs.min(axis=1)).astype(np.float32)
    hi = np.maximum(0, xs.max(axis=1)).astype(np.float32)
    s = ((hi - lo) / np.float32(15)).astype(np.float32)
    s = np.where(s == 0, np.float32(1), s)  # an all-zero row: any scale
    z = np.clip(np.round(-lo / s), 0, 15)
    q = np.clip(np.round(xs / s[:, None]) + z[:, None], 0, 15)
    return q.astype(np.float64), s.astype(np.float64), z.astype(np.float64)


def check(d, bits, out_rs, out_plain):
    x = np.load(os.path.join(d, "x.npy")).reshape(M, K)
    w = weights(bits).astype(np.float64)
    sj = np.abs(x).max(axis=0)
    sg = np.maximum(sj.reshape(K // G, G).max(axis=1), np.float32(1e-12)).astype(np.float32)
    xs = (x / np.repeat(sg, G)[None, :]).astype(np.float32)
    q, s, z = (rows_8bit if bits == 8 else rows_4bit)(xs)
    y = np.zeros((M, N))
    for g in range(K // G):
        sl = slice(g * G, (g + 1) * G)
        y += float(sg[g]) * ((q[:, sl] - z[:, None]) @ w[sl])
    y *= s[:, None]
    exact = x.astype(np.float64) @ w
    got = np.load(os.path.join(out_rs, "Y.npy")).reshape(M, N).astype(np.float64)
    plain = np.load(os.path.join(out_plain, "Y.npy")).reshape(M, N).astype(np.float64)
    rel = float(np.linalg.norm(got - y) / np.linalg.norm(y))
    e_rs = float(np.linalg.norm(got - exact) / np.linalg.norm(exact))
    e_plain = float(np.linalg.norm(plain - exact) / np.linalg.norm(exact))
    print("RS %d-bit: quantc vs reference %.2e; error to float %.4f with -rs, %.4f without" % (bits, rel, e_rs, e_plain))
    ok = rel <= 1e-5 and e_rs < e_plain
    print("RS", "ok" if ok else "bad")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    else:
        check(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
