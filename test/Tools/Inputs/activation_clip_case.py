"""--activation-clip search on two MatMuls that read one input, against a
numpy brute force.

  make DIR     DIR/model.onnx: Y1 = X W1, Y2 = X W2, X [1, 64, 96] with
               Gaussian rows (as a rotation leaves them; at 4 bits the
               best clip is then below 1: numpy finds 0.90 and 0.95);
               DIR/calib: 3 samples (192 rows, fewer than the 512 the
               search keeps, so it sees every row).
  check DIR IR the clips quantc wrote (qc.dynamic_quantize_rows clip in
               IR; none = 1) against numpy's: per layer, the c in {1,
               0.95, ..., 0.5} minimizing ||X W - Q_c(X) W||^2 / ||X W||^2
               over all calibration rows, Q_c the 4-bit row rounding
               (15 levels) on [c lo, c hi]. Equal, or within 1e-6 of the
               best error where two clips tie.
Prints CLIP ok / bad."""
import os
import re
import sys

import numpy as np

M, K = 64, 96
NS = (40, 24)


def make(d):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(3)
    w1 = rng.normal(0, 0.1, (K, NS[0])).astype(np.float32)
    w2 = rng.normal(0, 0.1, (K, NS[1])).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["X", "W1"], ["Y1"], name="mm1"),
             helper.make_node("MatMul", ["X", "W2"], ["Y2"], name="mm2")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, M, K])],
                          [helper.make_tensor_value_info("Y1", TensorProto.FLOAT, [1, M, NS[0]]),
                           helper.make_tensor_value_info("Y2", TensorProto.FLOAT, [1, M, NS[1]])],
                          [numpy_helper.from_array(w1, "W1"), numpy_helper.from_array(w2, "W2")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    os.makedirs(os.path.join(d, "calib"), exist_ok=True)
    onnx.save(m, os.path.join(d, "model.onnx"))
    for i in range(3):
        x = rng.normal(0, 1, (1, M, K)).astype(np.float32)
        np.save(os.path.join(d, "calib", "s%d.npy" % i), x)


def rows_q(x, c, levels=15, group=0):
    f32 = np.float32
    if group:  # -ag: each group of channels of a row on its own
        return np.concatenate([rows_q(x[:, j:j + group], c, levels) for j in range(0, x.shape[1], group)],
                              axis=1)
    lo = np.minimum(x.min(axis=1), f32(0)) * f32(c)
    hi = np.maximum(x.max(axis=1), f32(0)) * f32(c)
    s = ((hi - lo) / f32(levels)).astype(np.float32)
    s = np.where(s == 0, f32(1), s)
    z = np.clip(np.rint(-lo / s), 0, levels)
    q = np.clip(np.rint(x / s[:, None]) + z[:, None], 0, levels)
    return ((q - z[:, None]) * s[:, None]).astype(np.float32)


def check(d, ir, group=0):
    import onnx
    from onnx import numpy_helper
    m = onnx.load(os.path.join(d, "model.onnx"))
    ws = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in m.graph.initializer}
    x = np.concatenate([np.load(os.path.join(d, "calib", f)).reshape(-1, K)
                        for f in sorted(os.listdir(os.path.join(d, "calib")))])
    text = open(ir).read()
    got = []
    for line in text.splitlines():
        if "qc.dynamic_quantize_rows" in line:
            c = re.search(r"clip = ([0-9.e+-]+) : f32", line)
            got.append(float(c.group(1)) if c else 1.0)
    if group:  # one op per group of channels, all of a layer's with its clip
        per = (K + group - 1) // group
        ok = len(got) == 2 * per and all(len(set(got[i * per:(i + 1) * per])) == 1 for i in range(2))
        got = got[::per]
    else:
        ok = len(got) == 2
    grid = [1.0 - 0.05 * i for i in range(11)]
    for name, c_got in zip(("W1", "W2"), got):
        ref = x.astype(np.float64) @ ws[name]
        errs = [float(np.sum((rows_q(x, c, group=group).astype(np.float64) @ ws[name] - ref) ** 2) / np.sum(ref ** 2))
                for c in grid]
        best = int(np.argmin(errs))
        i_got = int(np.argmin([abs(c_got - c) for c in grid]))
        print("%s: quantc clip %.2f (error %.4g), numpy %.2f (error %.4g), clip 1: %.4g" %
              (name, c_got, errs[i_got], grid[best], errs[best], errs[0]))
        ok = ok and abs(c_got - grid[i_got]) < 1e-6 and errs[i_got] <= errs[best] + 1e-6 and (group or grid[best] < 1.0)
    print("CLIP", "ok" if ok else "bad (clips found: %s)" % got)


if __name__ == "__main__":
    {"make": lambda: make(sys.argv[2]),
     "check": lambda: check(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0)}[sys.argv[1]]()
