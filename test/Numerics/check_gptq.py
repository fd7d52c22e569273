#!/usr/bin/env python3
"""GPTQ (lib/Quant/GPTQ.cpp, via numerics-driver) against a numpy reference.

The reference is the textbook algorithm written here in float64, in the
paper's orientation (W^T: one column per input dimension) and without
the lazy batch updates, which change the order of the additions but not
the result: damping, dead inputs, act-order with static groups, U =
chol(H^-1)^T, then for each input dimension in order its rounding error
divided by U_ii pushed onto the later ones. Layers with correlated
inputs and a few outlier channels (as transformer activations have),
for 4-bit g32/g128 asymmetric, 3-bit g64, 4-bit symmetric per channel,
act-order on and off. Checked:

1. round-to-nearest (`rtn`, the same group parameters) is bit-identical
   to numpy's;
2. GPTQ's integers agree with the reference's on >= 99% of the weights
   (float32 weight updates against float64: a rounding tie may go the
   other way and then propagate), and its output error ||X W - X Q||^2
   is within 2% of the reference's;
3. GPTQ's output error is at most 0.85x round-to-nearest's on every case
   (the method's point; measured 0.52-0.79x here, lower with act-order);
4. a dead input (never active) and the group layout: scales [G, N], all
   integers within the format's range;
5. the knobs: damping 0.1 and the range search (each group's range
   shrunk by the ratio in {1, 0.99, ..., 0.8} with the least
   diag(H)-weighted rounding error) against the same reference with the
   same knobs, which also reports whether the search lowered the output
   error; the least-squares refit of the scales against numpy's solve,
   and never raising the output error of the integers it starts from;
   three rounds of GPTQ and refit against the same alternation in numpy.

NaN-safe comparisons (`not (x <= tol)` fails).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

FAILURES = []


def check(ok, msg):
    if not ok:
        FAILURES.append(msg)
        print("FAIL:", msg, flush=True)


def grid(bits, asym):
    return (0, 2 ** bits - 1) if asym else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def range_params(lo, hi, bits, asym):
    qmin, qmax = grid(bits, asym)
    if asym:
        sc = ((hi - lo) / qmax).astype(np.float32)
        zz = np.where(sc > 0, np.clip(np.rint(-lo / np.where(sc > 0, sc, 1).astype(np.float64)), qmin, qmax), 0)
    else:
        sc = (np.maximum(-lo, hi) / qmax).astype(np.float32)
        zz = np.zeros(lo.shape)
    return np.where(sc > 0, sc, np.float32(1)), zz.astype(np.int64)


def group_params(W, bits, group, asym, diag=None, min_shrink=1.0):
    """Min/max per group and column; with min_shrink < 1, the range shrunk
    by the ratio in {1, 0.99, ..., min_shrink} with the least
    diag-weighted rounding error."""
    K, N = W.shape
    g = group or K
    G = (K + g - 1) // g
    qmin, qmax = grid(bits, asym)
    s = np.ones((G, N), np.float32)
    z = np.zeros((G, N), np.int64)
    steps = int(round((1.0 - min_shrink) * 100)) if min_shrink < 1 else 0
    for gi in range(G):
        blk = W[gi * g:(gi + 1) * g].astype(np.float64)
        lo = np.minimum(blk.min(axis=0), 0.0)
        hi = np.maximum(blk.max(axis=0), 0.0)
        bs, bz = range_params(lo, hi, bits, asym)
        if steps:
            d = (np.ones(blk.shape[0]) if diag is None else diag[gi * g:(gi + 1) * g])[:, None]

            def err(sc, zz):
                sc = sc.astype(np.float64)
                q = np.clip(np.rint(blk / sc) + zz, qmin, qmax)
                return np.sum(d * (blk - (q - zz) * sc) ** 2, axis=0)
            be = err(bs, bz)
            for i in range(1, steps + 1):
                r = 1.0 - 0.01 * i
                cs, cz = range_params(lo * r, hi * r, bits, asym)
                e = err(cs, cz)
                better = e < be
                bs, bz, be = np.where(better, cs, bs), np.where(better, cz, bz), np.where(better, e, be)
        s[gi] = bs
        z[gi] = bz
    return s, z


def rtn_ref(W, bits, group, asym):
    s, z = group_params(W, bits, group, asym)
    g = group or W.shape[0]
    qmin, qmax = grid(bits, asym)
    rows = np.arange(W.shape[0]) // g
    q = np.clip(np.rint(W.astype(np.float32) / s[rows]) + z[rows], qmin, qmax)
    return q.astype(np.int64), s, z


def refit_ref(W0, H0, q, s, z, group):
    """Each column's group scales by least squares on (w - A s)^T H (w - A s),
    A [K, G] holding q_k - z_g(k) in column g(k); groups all at their zero
    point and non-positive solutions keep the old scales."""
    K, N = W0.shape
    g = group or K
    G = s.shape[0]
    rows = np.arange(K) // g
    s = s.copy()
    for n in range(N):
        a = (q[:, n] - z[rows, n]).astype(np.float64)
        A = np.zeros((K, G))
        A[np.arange(K), rows] = a
        M = A.T @ H0 @ A
        b = A.T @ H0 @ W0[:, n].astype(np.float64)
        live = np.diag(M) > 0
        if not live.any():
            continue
        sol = np.linalg.solve(M[np.ix_(live, live)], b[live])
        if np.all(sol > 0):
            s[live, n] = sol.astype(np.float32)
    return s


def gptq_ref(W0, H0, bits, group, asym, act_order, damp=0.01, min_shrink=1.0, refit=0):
    """refit: rounds of GPTQ followed by the least-squares refit of the
    scales (0: none, one GPTQ pass)."""
    K, N = W0.shape
    s, z = group_params(W0, bits, group, asym, np.diag(H0), min_shrink)
    g = group or K
    qmin, qmax = grid(bits, asym)
    H = H0.copy()
    dead = np.diag(H) == 0
    H[dead, dead] = 1
    perm = np.argsort(-np.diag(H), kind="stable") if act_order else np.arange(K)
    H = H[perm][:, perm]
    H = H + damp * np.mean(np.diag(H)) * np.eye(K)
    U = np.linalg.cholesky(np.linalg.inv(H)).T
    for _ in range(max(1, refit)):
        W = W0.T.astype(np.float64).copy()  # [N, K]: a column per input
        W[:, dead] = 0
        W = W[:, perm]
        Q = np.zeros((N, K), np.int64)
        for i in range(K):
            k = perm[i]
            gi = k // g
            w = W[:, i]
            q = np.clip(np.rint(w / s[gi].astype(np.float64)) + z[gi], qmin, qmax)
            Q[:, i] = q
            err = (w - (q - z[gi]) * s[gi]) / U[i, i]
            W[:, i + 1:] -= np.outer(err, U[i, i + 1:])
        out = np.zeros((K, N), np.int64)
        out[perm] = Q.T
        if refit:
            s = refit_ref(W0, H0, out, s, z, group)
    return out, s, z


def dequant(q, s, z, group):
    g = group or q.shape[0]
    rows = np.arange(q.shape[0]) // g
    return (q - z[rows]) * s[rows].astype(np.float64)


def run_driver(a, tmp, cmd, W, H, bits, group, asym, act, knobs=None):
    wp, hp = os.path.join(tmp, "w.npy"), os.path.join(tmp, "h.npy")
    np.save(wp, W.astype(np.float32))
    np.save(hp, H.astype(np.float64))
    prefix = os.path.join(tmp, cmd + "_")
    p = subprocess.run([a.driver, cmd, str(bits), str(group), str(int(asym)), str(int(act)), wp, hp, prefix]
                       + ([str(k) for k in knobs] if knobs else []), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("numerics-driver %s failed: %s" % (cmd, p.stderr))
    return tuple(np.load(prefix + n + ".npy") for n in ("q", "scale", "zero"))


def layer(rng, K, N, rows):
    # Correlated inputs with a few outlier channels; a dead channel.
    A = rng.normal(0, 1, (K, K)) * (rng.random(K) < 0.15) + np.eye(K)
    X = rng.normal(0, 1, (rows, K)) @ A
    X[:, rng.choice(K, 3, replace=False)] *= 20
    X[:, 5] = 0
    W = rng.normal(0, 0.05, (K, N)).astype(np.float32)
    return X, W


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--driver", required=True)
    a = ap.parse_args()
    rng = np.random.default_rng(3)
    tmp = tempfile.mkdtemp(prefix="quantc-gptq-")
    try:
        return run_cases(a, rng, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_cases(a, rng, tmp):
    cases = [(4, 128, True, True), (4, 128, True, False), (4, 32, True, True), (3, 64, True, True),
             (4, 0, False, True)]
    for K, N in ((256, 48), (384, 40)):
        X, W = layer(rng, K, N, 1024)
        H = X.T @ X
        ref_out = X @ W.astype(np.float64)
        for bits, group, asym, act in cases:
            name = "K=%d N=%d %d-bit %s %s act-order=%s" % (K, N, bits, "g%d" % group if group else "per channel",
                                                           "asym" if asym else "sym", act)
            q, s, z = run_driver(a, tmp, "rtn", W, H, bits, group, asym, act)
            rq, rs, rz = rtn_ref(W, bits, group, asym)
            check(np.array_equal(q, rq) and np.array_equal(s, rs) and np.array_equal(z, rz),
                  "%s: round-to-nearest differs from numpy (%d weights)" % (name, int(np.sum(q != rq))))
            q, s, z = run_driver(a, tmp, "gptq", W, H, bits, group, asym, act)
            gq, gs, gz = gptq_ref(W, H, bits, group, asym, act)
            qmin, qmax = grid(bits, asym)
            G = (K + (group or K) - 1) // (group or K)
            check(s.shape == (G, N) and q.shape == (K, N) and int(q.min()) >= qmin and int(q.max()) <= qmax,
                  "%s: shapes or range wrong: q %s in [%d, %d], scale %s" % (name, q.shape, q.min(), q.max(), s.shape))
            agree = float(np.mean(q == gq))
            e_ours = float(np.sum((ref_out - X @ dequant(q, s, z, group)) ** 2))
            e_ref = float(np.sum((ref_out - X @ dequant(gq, gs, gz, group)) ** 2))
            e_rtn = float(np.sum((ref_out - X @ dequant(rq, rs, rz, group)) ** 2))
            print("%-48s agree %.4f  output error: ours %.4g, numpy %.4g, RTN %.4g (GPTQ/RTN %.2f)" % (
                name, agree, e_ours, e_ref, e_rtn, e_ours / e_rtn), flush=True)
            check(agree >= 0.99, "%s: only %.4f of the integers agree with numpy's GPTQ" % (name, agree))
            check(abs(e_ours - e_ref) <= 0.02 * e_ref, "%s: output error %.4g vs numpy's %.4g" % (name, e_ours, e_ref))
            check(e_ours <= 0.85 * e_rtn, "%s: GPTQ's output error %.4g is not below 0.85x RTN's %.4g" % (
                name, e_ours, e_rtn))
            check(np.all(q[5] == np.clip(z[5 // (group or K)], qmin, qmax)),
                  "%s: the dead input's weights are not rounded to zero" % name)
            errors = {(0.01, 1.0, 0): e_ours}
            for damp, shrink, refit in ((0.1, 1.0, 0), (0.01, 0.8, 0), (0.01, 1.0, 1), (0.01, 0.8, 1), (0.01, 0.8, 3)):
                kq, ks, kz = run_driver(a, tmp, "gptq", W, H, bits, group, asym, act, (damp, shrink, refit))
                rq2, rs2, rz2 = gptq_ref(W, H, bits, group, asym, act, damp, shrink, refit)
                agree = float(np.mean(kq == rq2))
                # Refitted scales come from a solve: equal to 1e-5 relative.
                same_params = float(np.mean((np.abs(ks - rs2) <= 1e-5 * np.abs(rs2)) & (kz == rz2)))
                e_k = float(np.sum((ref_out - X @ dequant(kq, ks, kz, group)) ** 2))
                e_r = float(np.sum((ref_out - X @ dequant(rq2, rs2, rz2, group)) ** 2))
                print("  damp %.2f min-shrink %.2f refit %d: agree %.4f, group parameters %.4f; output error ours %.4g, "
                      "numpy %.4g (%.2fx the defaults')" % (damp, shrink, refit, agree, same_params, e_k, e_r,
                                                            e_r / e_ref), flush=True)
                check(same_params >= 0.999, "%s damp %g shrink %g: only %.4f of the group parameters agree with numpy"
                      % (name, damp, shrink, same_params))
                check(agree >= 0.99, "%s damp %g shrink %g: only %.4f of the integers agree with numpy"
                      % (name, damp, shrink, agree))
                check(abs(e_k - e_r) <= 0.02 * e_r, "%s damp %g shrink %g: output error %.4g vs numpy's %.4g"
                      % (name, damp, shrink, e_k, e_r))
                errors[(damp, shrink, refit)] = e_k
                if refit == 1:
                    # Least squares with the old scales feasible: never worse.
                    before = errors[(damp, shrink, 0)]
                    check(e_k <= before * (1 + 1e-9), "%s shrink %g: the refit raised the output error %.6g -> %.6g"
                          % (name, shrink, before, e_k))
    if FAILURES:
        print("%d failure(s)" % len(FAILURES))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
