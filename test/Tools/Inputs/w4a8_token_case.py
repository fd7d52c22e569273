"""w4a8-dynamic-token-gN (int4 symmetric weights in groups along K, uint8
activations per token at run time, one integer product per group) on one
MatMul, against ONNX Runtime.

  make DIR G   DIR/model.onnx: Y = X W, X [1, 16, 1152], W [1152, 48] on the
               exact symmetric int4 grid of groups of G rows (each group's
               column reaches level 7), so the weight rounding is lossless;
               DIR/calib (2 samples), DIR/x.npy.
  check DIR OUT  the reference: each row of X through ONNX Runtime's
               DynamicQuantizeLinear, dequantized, times W (float64);
               OUT/Y.npy must match it within 1e-5 relative.
Prints W4A8 ok / bad."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Numerics"))
from ort_rows import dynamic_quantize_rows  # noqa: E402

K, N, M = 1152, 48, 16


def weights(g):
    rng = np.random.default_rng(11)
    k = rng.integers(-7, 8, size=(K, N)).astype(np.float64)
    groups = (K + g - 1) // g
    scale = rng.uniform(0.002, 0.02, size=(groups, N))
    for j in range(groups):
        k[j * g + rng.integers(0, min(g, K - j * g), size=N), np.arange(N)] = 7.0
    return (k * np.repeat(scale, g, axis=0)[:K]).astype(np.float32)


def make(d, g):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    os.makedirs(os.path.join(d, "calib"), exist_ok=True)
    gr = helper.make_graph([helper.make_node("MatMul", ["X", "W"], ["Y"], name="mm")], "g",
                           [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, M, K])],
                           [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, M, N])],
                           [numpy_helper.from_array(weights(g), "W")])
    m = helper.make_model(gr, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, os.path.join(d, "model.onnx"))
    rng = np.random.default_rng(5)
    for i in range(2):
        np.save(os.path.join(d, "calib", "s%d.npy" % i), rng.normal(0, 1, (1, M, K)).astype(np.float32))
    x = rng.normal(0, 1, (1, M, K))
    x[..., 17] += 30.0
    np.save(os.path.join(d, "x.npy"), x.astype(np.float32))
    with open(os.path.join(d, "group"), "w") as f:
        f.write(str(g))


def check(d, out, ag=False):
    """ag (recipe suffix -ag): each row's groups of g channels through
    DynamicQuantizeLinear on their own instead of the whole row."""
    g = int(open(os.path.join(d, "group")).read())
    x = np.load(os.path.join(d, "x.npy")).reshape(M, K)
    xq = np.zeros((M, K))
    for k0 in range(0, K, g if ag else K):
        k1 = min(K, k0 + (g if ag else K))
        q, sc, z = (a.astype(np.float64) for a in dynamic_quantize_rows(x[:, k0:k1]))
        xq[:, k0:k1] = (q - z[:, None]) * sc[:, None]
    want = xq @ weights(g).astype(np.float64)
    got = np.load(os.path.join(out, "Y.npy")).reshape(M, N).astype(np.float64)
    rel = float(np.linalg.norm(got - want) / np.linalg.norm(want))
    print("W4A8 g%d%s: quantc vs ONNX Runtime reference %.2e" % (g, " ag" if ag else "", rel))
    print("W4A8", "ok" if rel <= 1e-5 else "bad")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    else:
        check(sys.argv[2], sys.argv[3], ag=len(sys.argv) > 4 and sys.argv[4] == "ag")
