"""qc.hadamard against numpy: writes a function with three qc.hadamard ops
(1536 = 12 x 128 and 576 = 72 x 8 with Paley factors built here, 64 with
no factor, ranks 2, 3 and 2) and its inputs, or checks quantc's outputs
against the dense product x (F kron S) in float64.

    hadamard_case.py write DIR      -> DIR/case.mlir, DIR/{a,b,c}.npy
    hadamard_case.py check DIR OUT  -> compares OUT/*.npy
"""
import glob
import os
import sys

import numpy as np

# (input name, shape, factor order m)
CASES = [("a", (3, 1536), 12), ("b", (2, 3, 64), 1), ("c", (5, 576), 72)]


def paley(q):
    """Paley I Hadamard matrix of order q + 1 (q prime, q = 3 mod 4)."""
    squares = {(x * x) % q for x in range(1, q)}
    chi = lambda v: 0 if v % q == 0 else (1 if v % q in squares else -1)
    n = q + 1
    s = np.zeros((n, n))
    s[0, 1:] = 1
    s[1:, 0] = -1
    for i in range(1, n):
        for j in range(1, n):
            s[i, j] = chi(j - i)
    return s + np.eye(n)


def sylvester(p):
    h = np.ones((1, 1))
    while h.shape[0] < p:
        h = np.block([[h, h], [h, -h]])
    return h


def factor(m, n):
    f = np.ones((1, 1)) if m == 1 else paley(m - 1)
    assert np.allclose(f @ f.T, m * np.eye(m))
    return f / np.sqrt(n)


def mlir_dense(a):
    rows = ", ".join("[" + ", ".join(f"{v:.9e}" for v in row) + "]" for row in a)
    return f"dense<[{rows}]>"


def write(d):
    rng = np.random.default_rng(7)
    args, body, rets = [], [], []
    for name, shape, m in CASES:
        n = shape[-1]
        x = rng.standard_normal(shape).astype(np.float32)
        x.reshape(-1, n)[:, 3] *= 40.0  # an outlier channel
        np.save(os.path.join(d, f"{name}.npy"), x)
        t = "tensor<" + "x".join(map(str, shape)) + "xf32>"
        ft = f"tensor<{m}x{m}xf32>"
        args.append(f"%{name}: {t}")
        body.append(f"  %f{name} = qc.constant {mlir_dense(factor(m, n))} : {ft}")
        body.append(f'  %y{name} = "qc.hadamard"(%{name}, %f{name}) : ({t}, {ft}) -> {t}')
        rets.append((f"%y{name}", t))
    text = (f"func.func @main({', '.join(args)}) -> ({', '.join(t for _, t in rets)}) {{\n"
            + "\n".join(body) + "\n"
            + f"  return {', '.join(v for v, _ in rets)} : {', '.join(t for _, t in rets)}\n}}\n")
    with open(os.path.join(d, "case.mlir"), "w") as f:
        f.write(text)


def check(d, out):
    outs = sorted(glob.glob(os.path.join(out, "*.npy")))
    assert len(outs) == len(CASES), outs
    for (name, shape, m), path in zip(CASES, outs):
        x = np.load(os.path.join(d, f"{name}.npy")).astype(np.float64)
        y = np.load(path)
        n = shape[-1]
        h = np.kron(factor(m, n), sylvester(n // m))
        assert np.allclose(h @ h.T, np.eye(n))
        ref = (x.reshape(-1, n) @ h).reshape(shape)
        err = np.max(np.abs(y - ref)) / np.max(np.abs(ref))
        print(f"{name}: n={n} m={m} shape={shape} max rel error {err:.2e}")
        if not (y.shape == ref.shape and err <= 1e-6):
            sys.exit(f"{name}: qc.hadamard differs from x (F kron S): {err}")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
