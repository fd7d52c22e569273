#!/usr/bin/env python3
"""quant::leadingEigenpairs (lib/Quant/Eigen.cpp, via numerics-driver `eig`)
against numpy.linalg.eigh.

Cases: second moments X^T X of activation-like rows (a few massive
channels, correlated rest) for K = 48 (the Jacobi path) and K = 576 / 1536
(subspace iteration; SmolLM2's widths), ranks 1, 8 and 32; a matrix of
rank 3 (the iteration must not break down on directions H annihilates);
a matrix with a repeated leading eigenvalue (the vectors are not unique,
their span is). Checked against numpy's eigh in float64:

1. the k leading eigenvalues, relative error <= 1e-8 of the largest;
2. the subspace: ||P - P_ref||_2 <= 1e-6, P = V^T V the projector onto
   the k returned vectors (only where numpy's lambda_k > lambda_{k+1}
   by 1e-6 relative; otherwise the subspace is not determined);
3. the returned vectors orthonormal: max |V V^T - I| <= 1e-10;
4. each returned vector an eigenvector: ||H v - lambda v|| <= 1e-6 ||H||.

NaN-safe comparisons (`not (x <= tol)` fails).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

FAILURES = []


def check(ok, msg):
    if not ok:
        FAILURES.append(msg)
        print("FAIL:", msg, flush=True)


def activation_moment(rng, K, rows=4096, massive=3):
    base = rng.standard_normal((rows, 16)) @ rng.standard_normal((16, K)) * 0.3
    x = base + rng.standard_normal((rows, K))
    idx = rng.choice(K, massive, replace=False)
    x[:, idx] *= rng.uniform(20, 200, massive)
    return x.T @ x


def run(driver, H, k, tmp, name):
    path = os.path.join(tmp, name + "_H.npy")
    np.save(path, H)
    prefix = os.path.join(tmp, name + "_")
    out = subprocess.run([driver, "eig", str(k), path, prefix], capture_output=True, text=True)
    if out.returncode != 0:
        check(False, "%s: driver failed: %s" % (name, out.stderr.strip()))
        return None
    return np.load(prefix + "values.npy"), np.load(prefix + "vectors.npy"), int(out.stdout.split()[0])


def compare(driver, H, k, tmp, name, subspace=True):
    got = run(driver, H, k, tmp, name)
    if got is None:
        return
    vals, vecs, iters = got
    ref_vals, ref_vecs = np.linalg.eigh(H)
    ref_vals, ref_vecs = ref_vals[::-1], ref_vecs[:, ::-1]
    top = abs(ref_vals[0])
    err_vals = float(np.max(np.abs(vals - ref_vals[:k]))) / top
    check(err_vals <= 1e-8, "%s: eigenvalues off by %.3g of the largest" % (name, err_vals))
    orth = float(np.max(np.abs(vecs @ vecs.T - np.eye(k))))
    check(orth <= 1e-10, "%s: vectors not orthonormal (%.3g)" % (name, orth))
    resid = max(float(np.linalg.norm(H @ v - l * v)) for l, v in zip(vals, vecs)) / top
    check(resid <= 1e-6, "%s: ||H v - lambda v|| = %.3g of ||H||" % (name, resid))
    gap = (ref_vals[k - 1] - ref_vals[k]) / top if k < len(ref_vals) else 1.0
    proj = float("nan")
    if subspace and gap > 1e-6:
        P = vecs.T @ vecs
        R = ref_vecs[:, :k] @ ref_vecs[:, :k].T
        proj = float(np.linalg.norm(P - R, 2))
        check(proj <= 1e-6, "%s: subspace off by %.3g (gap %.3g)" % (name, proj, gap))
    print("%-26s K=%-5d k=%-3d iterations %-4d eigenvalues %.1e  orthonormal %.1e  residual %.1e"
          "  subspace %.1e" % (name, H.shape[0], k, iters, err_vals, orth, resid, proj), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    a = ap.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        for K in (48, 576, 1536):
            H = activation_moment(rng, K)
            for k in (1, 8, 32):
                compare(a.driver, H, k, tmp, "activations_%d_%d" % (K, k))
        # Rank 3: the block's other columns vanish under H.
        x = rng.standard_normal((200, 3)) @ rng.standard_normal((3, 300))
        compare(a.driver, x.T @ x, 3, tmp, "rank3_300")
        compare(a.driver, x.T @ x, 8, tmp, "rank3_300_k8", subspace=False)
        # A repeated leading eigenvalue: only the span of the pair is fixed.
        Q, _ = np.linalg.qr(rng.standard_normal((200, 200)))
        lam = np.concatenate([[50.0, 50.0], np.linspace(10, 1, 198)])
        compare(a.driver, (Q * lam) @ Q.T, 2, tmp, "repeated_200")
    if FAILURES:
        print("%d failure(s)" % len(FAILURES))
        sys.exit(1)
    print("eigen: all cases agree with numpy")


if __name__ == "__main__":
    main()
