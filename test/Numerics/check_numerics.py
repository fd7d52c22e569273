#!/usr/bin/env python3
"""The number formats (lib/Quant) and calibration statistics
(lib/Calibration) against independent references: numpy for integer
rounding, saturation and int4 packing, ml_dtypes for fp8 rounding, ONNX
Runtime's quantization utilities for scales and zero points, numpy for
min/max, percentiles, KL-divergence and MSE clip searches. Run through
test/Numerics/numerics-driver on .npy files."""
import argparse
import os
import subprocess
import sys
import tempfile

import ml_dtypes
import numpy as np
from onnx import TensorProto
from onnxruntime.quantization import quant_utils

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # ort_rows

rng = np.random.default_rng(11)
failures = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


class Driver:
    def __init__(self, exe, tmp):
        self.exe, self.tmp, self.n = exe, tmp, 0

    def path(self):
        self.n += 1
        return os.path.join(self.tmp, "a%d.npy" % self.n)

    def save(self, a):
        p = self.path()
        np.save(p, a)
        return p

    def run(self, *args, ok=True):
        p = subprocess.run([self.exe] + [str(a) for a in args], capture_output=True, text=True)
        if ok and p.returncode != 0:
            raise RuntimeError("numerics-driver %s: %s" % (args, p.stderr))
        return p

    def quantize(self, x, fmt, scale, zp, saturate=True):
        out = self.path()
        self.run("quantize", fmt, repr(float(scale)), zp, int(saturate), self.save(x.astype(np.float32)), out)
        return np.load(out)

    def dequantize(self, q, fmt, scale, zp, n):
        out = self.path()
        self.run("dequantize", fmt, repr(float(scale)), zp, n, self.save(q.astype(np.uint8)), out)
        return np.load(out)


INT_FORMATS = {"int8": (-128, 127), "uint8": (0, 255), "int4": (-8, 7), "uint4": (0, 15)}


def ref_int_quantize(x, scale, zp, lo, hi):
    q = np.round(x.astype(np.float32) / np.float32(scale)) + zp  # half to even
    return np.clip(q, lo, hi).astype(np.int64)


def pack4(q):
    nib = (q & 0xF).astype(np.uint8)
    if len(nib) % 2:
        nib = np.append(nib, 0)
    return (nib[0::2] | (nib[1::2] << 4)).astype(np.uint8)


def test_integer_formats(d):
    scale = np.float32(0.05)
    for fmt, (lo, hi) in INT_FORMATS.items():
        for zp in sorted({0, lo + (hi - lo) // 2 + 1, hi - 1} & set(range(lo, hi + 1))):
            ties = (np.arange(-20, 20) + 0.5) * scale            # exact halves
            wide = np.array([-1e6, 1e6, -3.3, 3.3, 0.0, -0.0], np.float32)  # saturation
            x = np.concatenate([ties, wide, rng.normal(0, 0.3, 101)]).astype(np.float32)
            want = ref_int_quantize(x, scale, zp, lo, hi)
            got = d.quantize(x, fmt, scale, zp)
            if fmt in ("int4", "uint4"):
                check(got.size == (x.size + 1) // 2, "%s: %d bytes for %d values" % (fmt, got.size, x.size))
                check(np.array_equal(got, pack4(want)), "%s zp %d: packed nibbles differ" % (fmt, zp))
            else:
                check(np.array_equal(got, (want & 0xFF).astype(np.uint8)),
                      "%s zp %d: %d of %d values differ" % (fmt, zp, int(np.sum(got != (want & 0xFF))), x.size))
            back = d.dequantize(got, fmt, scale, zp, x.size)
            check(np.array_equal(back, ((want - zp) * scale).astype(np.float32)),
                  "%s zp %d: dequantize differs from (q - zp) * scale" % (fmt, zp))
    # NaN quantizes to the zero point (a defined value, not UB).
    got = d.quantize(np.array([np.nan], np.float32), "uint8", 0.1, 7)
    check(got[0] == 7, "NaN -> %d, expected the zero point 7" % got[0])


def test_fp8(d):
    for fmt, dt in (("float8e4m3fn", ml_dtypes.float8_e4m3fn), ("float8e5m2", ml_dtypes.float8_e5m2)):
        info = ml_dtypes.finfo(dt)
        fmax, tiny = float(info.max), float(info.smallest_subnormal)
        specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, fmax, -fmax, fmax * 1.03, fmax * 1.2,
                             -fmax * 1.2, tiny, tiny / 2, tiny * 1.5, 1e-30], np.float32)
        # All representable values and the midpoints between neighbours (ties).
        codes = np.arange(256, dtype=np.uint8).view(dt).astype(np.float32)
        codes = np.sort(codes[np.isfinite(codes)])
        mids = ((codes[1:].astype(np.float64) + codes[:-1]) / 2).astype(np.float32)
        x = np.concatenate([specials, codes, mids, rng.normal(0, 50, 500).astype(np.float32)])
        for saturate in (False, True):
            src = np.clip(x, -fmax, fmax) if saturate else x  # NaN stays NaN
            want = src.astype(dt).view(np.uint8)
            got = d.quantize(x, fmt, 1.0, 0, saturate)
            nan_w = np.isnan(src.astype(dt).astype(np.float32))
            nan_g = np.isnan(got.view(dt).astype(np.float32))
            check(np.array_equal(nan_w, nan_g), "%s saturate=%s: NaN positions differ" % (fmt, saturate))
            same = np.array_equal(got[~nan_w], want[~nan_w])
            if not same:
                bad = np.nonzero(got[~nan_w] != want[~nan_w])[0][:5]
                print("  e.g.", x[~nan_w][bad], got[~nan_w][bad], want[~nan_w][bad])
            check(same, "%s saturate=%s: bit patterns differ from ml_dtypes" % (fmt, saturate))
        q = np.arange(256, dtype=np.uint8)
        back = d.dequantize(q, fmt, 0.5, 0, 256)
        ref = q.view(dt).astype(np.float32) * np.float32(0.5)
        check(np.array_equal(np.isnan(back), np.isnan(ref)) and
              np.array_equal(back[~np.isnan(ref)], ref[~np.isnan(ref)]),
              "%s: dequantize differs from ml_dtypes" % fmt)


def test_params(d):
    types = {"int8": TensorProto.INT8, "uint8": TensorProto.UINT8, "int4": TensorProto.INT4,
             "uint4": TensorProto.UINT4}
    ranges = [(-1.0, 3.0), (0.5, 2.0), (-7.25, -0.5), (-0.001, 1000.0), (-2.0, 2.0), (0.0, 0.0)]
    for fmt, qt in types.items():
        for sym in (False, True):
            qmin, qmax = quant_utils.get_qmin_qmax_for_qType(qt, symmetric=sym)
            for lo, hi in ranges:
                zp, scale = quant_utils.compute_scale_zp(np.array(lo, np.float32), np.array(hi, np.float32),
                                                         qmin, qmax, symmetric=sym)
                out = d.run("params", fmt, int(sym), repr(lo), repr(hi)).stdout.split()
                got_scale, got_zp = np.float32(float(out[0])), int(out[1])
                check(got_scale == np.float32(scale) and got_zp == int(zp),
                      "params %s sym=%s [%g, %g]: got scale %r zp %d, ONNX Runtime %r %d" %
                      (fmt, sym, lo, hi, got_scale, got_zp, np.float32(scale), int(zp)))
    check(d.run("params", "int8", 0, "nan", "1", ok=False).returncode != 0, "params accepted a NaN bound")
    out = d.run("params", "float8e4m3fn", 1, "-3", "896").stdout.split()
    check(float(out[0]) == 2.0 and out[1] == "0", "fp8 params: %s" % out)


def test_minmax(d):
    batches = [rng.normal(i, 1 + i, (2, 3, 4, 5)).astype(np.float32) for i in range(4)]
    batches[1][0, 1, 2, 3] = np.nan
    batches[2][1, 2, 0, 0] = np.inf
    batches[3][0, 0, 0, 0] = -np.inf
    files = [d.save(b) for b in batches]
    finite = [np.where(np.isfinite(b), b, np.nan) for b in batches]
    # per tensor, running
    out = d.run("minmax", 0, 0, 1.0, *files).stdout.split("\n")
    mins, maxs, nonfinite = float(out[0]), float(out[1]), int(out[2])
    check(np.isclose(mins, np.nanmin(finite)) and np.isclose(maxs, np.nanmax(finite)) and nonfinite == 3,
          "minmax per tensor: %s" % out[:3])
    # per channel along axis 1, and along axis 3
    for axis in (1, 3):
        out = d.run("minmax", batches[0].shape[axis], axis, 1.0, *files).stdout.split("\n")
        others = tuple(i for i in range(4) if i != axis)
        want_min = np.nanmin([np.nanmin(b, axis=others) for b in finite], axis=0)
        want_max = np.nanmax([np.nanmax(b, axis=others) for b in finite], axis=0)
        check(np.allclose(np.array(out[0].split(), float), want_min) and
              np.allclose(np.array(out[1].split(), float), want_max), "minmax axis %d" % axis)
    # moving average: m <- m + c (batch_m - m) from the first batch's value
    c = 0.25
    out = d.run("minmax", 0, 0, c, *files).stdout.split("\n")
    m, M = np.nanmin(finite[0]), np.nanmax(finite[0])
    for b in finite[1:]:
        m, M = m + c * (np.nanmin(b) - m), M + c * (np.nanmax(b) - M)
    check(np.isclose(float(out[0]), m) and np.isclose(float(out[1]), M), "minmax moving average")


def test_large_batches(d):
    """Batches of several chunks (the reducers split a batch into chunks of
    32768 elements, on the thread pool, merged in chunk order): min/max and
    the histogram's bins exactly as numpy's, with 1 and 2 threads, with
    non-finite values in several chunks and a batch that doubles the range."""
    batches = [rng.standard_t(4, (3, 70001)).astype(np.float32),
               (rng.standard_t(4, (5, 33, 1203)) * 7).astype(np.float32)]
    for pos in (5, 40000, 150000):
        batches[0].flat[pos] = np.nan
    batches[1].flat[70000] = np.inf
    batches[1].flat[-1] = -np.inf
    files = [d.save(b) for b in batches]
    finite = [np.where(np.isfinite(b), b, np.nan) for b in batches]
    for threads in (1, 2):
        env = dict(os.environ, QUANTC_THREADS=str(threads))
        out = subprocess.run([d.exe, "minmax", "0", "0", "1.0", *files],
                             capture_output=True, text=True, env=env).stdout.split("\n")
        want = (min(np.nanmin(b) for b in finite), max(np.nanmax(b) for b in finite))
        check(np.float32(float(out[0])) == want[0] and np.float32(float(out[1])) == want[1] and
              out[2] == "5",
              "minmax of large batches, %d thread(s): %s vs %s" % (threads, out[:3], want))
        # per channel along the last axis (rows of 1203 in blocks) and along
        # axis 1 (33 channels of contiguous blocks): only the second batch
        # has these shapes
        for axis in (2, 1):
            out = subprocess.run([d.exe, "minmax", str(batches[1].shape[axis]), str(axis), "1.0",
                                  files[1]], capture_output=True, text=True, env=env).stdout.split("\n")
            others = tuple(i for i in range(3) if i != axis)
            wmin, wmax = np.nanmin(finite[1], axis=others), np.nanmax(finite[1], axis=others)
            # %.9g round-trips a float32
            got_min = np.array(out[0].split(), np.float64).astype(np.float32)
            got_max = np.array(out[1].split(), np.float64).astype(np.float32)
            check(got_min.shape == wmin.shape and np.array_equal(got_min, wmin) and
                  np.array_equal(got_max, wmax) and out[2] == "2",
                  "per-channel minmax of a large batch along axis %d, %d thread(s)" % (axis, threads))
        bins = 2048
        out = d.run("histogram", threads, bins, *files).stdout.split("\n")
        width, total, nonfinite = out[0].split()
        width = float(width)
        counts = np.array(out[1].split(), np.float64)
        hist, a = ref_histogram(batches, bins, width)
        check(width > 0 and int(nonfinite) == 5 and float(total) == a.size and
              np.array_equal(counts, hist),
              "histogram of large batches, %d thread(s): %d bins differ, total %s vs %d" %
              (threads, int(np.sum(counts != hist)) if counts.shape == hist.shape else -1, total, a.size))


def ref_histogram(batches, bins, width):
    a = np.abs(np.concatenate([b.ravel() for b in batches]).astype(np.float64))
    a = a[np.isfinite(a)]
    idx = np.minimum((a / width).astype(np.int64), bins - 1)
    return np.bincount(idx, minlength=bins).astype(np.float64), a


def ref_entropy(hist, levels):
    hist = hist.copy()
    hist[0] = hist[1]  # the spike of exact zeros counts like its neighbour
    best, best_i = np.inf, len(hist)
    for i in range(levels, len(hist) + 1):
        p = hist[:i].copy()
        p[i - 1] += hist[i:].sum()
        q = np.zeros(i)
        for g in range(levels):
            s, e = g * i // levels, (g + 1) * i // levels
            seg = hist[s:e]
            nz = seg != 0
            if nz.any():
                q[s:e][nz] = seg.sum() / nz.sum()
        pn, qn = p / p.sum(), q / q.sum()
        mask = pn > 0
        if np.any(qn[mask] == 0):
            continue
        kl = np.sum(pn[mask] * np.log(pn[mask] / qn[mask]))
        if kl <= best:  # ties: the larger threshold
            best, best_i = kl, i
    return best_i


def fake_quant_mse(a, t, bits):
    qmax = 2 ** (bits - 1) - 1
    s = t / qmax
    q = np.minimum(np.round(a / s), qmax) * s
    return float(np.mean((a - q) ** 2))


def test_clip(d):
    bins = 512
    # heavy-tailed activations over batches of growing range (the histogram doubles)
    batches = [(rng.standard_t(3, 4000) * (1 + i)).astype(np.float32) for i in range(3)]
    batches[1][7] = np.nan
    files = [d.save(b) for b in batches]
    for pct in (99.0, 99.99):
        t, width, _, nonfinite = map(float, d.run("clip", "percentile:%g" % pct, bins, 8, *files).stdout.split())
        hist, a = ref_histogram(batches, bins, width)
        # The smallest sample with P(|x| <= s) >= p; the threshold is the
        # upper edge of the bin holding it.
        want = np.percentile(a, pct, method="inverted_cdf")
        check(want <= t * 1.000001 and t - want <= width * 1.0001 and nonfinite == 1,
              "percentile %g: %g vs numpy %g (bin %g)" % (pct, t, want, width))
    t, width, _, _ = map(float, d.run("clip", "entropy", bins, 8, *files).stdout.split())
    hist, a = ref_histogram(batches, bins, width)
    want = ref_entropy(hist, 128) * width
    check(abs(t - want) <= width * 1.0001, "entropy: %g vs numpy reference %g" % (t, want))
    # After a ReLU: half the values exactly zero. The spike must not pull
    # the threshold down into the bulk of the nonzero values.
    relu = [np.maximum(rng.laplace(0, 1, 20000), 0).astype(np.float32)]
    t, width, _, _ = map(float, d.run("clip", "entropy", bins, 9, *[d.save(b) for b in relu]).stdout.split())
    hist, a = ref_histogram(relu, bins, width)
    want = ref_entropy(hist, 256) * width
    nz = a[a > 0]
    check(abs(t - want) <= width * 1.0001 and t >= np.percentile(nz, 99),
          "entropy after ReLU: %g vs numpy reference %g, 99th percentile of the nonzero %g" %
          (t, want, np.percentile(nz, 99)))
    t, width, _, _ = map(float, d.run("clip", "mse", bins, 8, *files).stdout.split())
    hist, a = ref_histogram(batches, bins, width)
    grid = np.linspace(a.max() / 100, a.max(), 400)
    best = min(fake_quant_mse(a, g, 8) for g in grid)
    ours = fake_quant_mse(a, t, 8)
    check(ours <= best * 1.05, "mse clip %g: raw-data MSE %g vs best on a grid %g" % (t, ours, best))
    t4, width4, _, _ = map(float, d.run("clip", "mse", bins, 4, *files).stdout.split())
    best4 = min(fake_quant_mse(a, g, 4) for g in grid)
    check(fake_quant_mse(a, t4, 4) <= best4 * 1.05, "mse clip at 4 bits: %g vs %g" %
          (fake_quant_mse(a, t4, 4), best4))
    # With 15 levels the heavy tail is not worth covering.
    check(t4 < a.max() * 0.5, "4-bit mse clip %g does not clip the heavy tail (max %g)" % (t4, a.max()))
    # Edge cases: no data, all zeros, only non-finite values.
    p = d.run("clip", "mse", bins, 8, ok=False)
    check(p.returncode != 0 and "empty histogram" in p.stderr, "an empty calibration set must be an error")
    zeros = d.save(np.zeros(100, np.float32))
    out = d.run("clip", "percentile:99.9", bins, 8, zeros).stdout.split()
    check(float(out[0]) == 0.0, "all-zero data: clip %s" % out[0])
    out = d.run("params", "int8", 1, "0", out[0]).stdout.split()
    check(out == ["1", "0"], "all-zero range: params %s, expected scale 1 zero point 0" % out)
    bad = d.save(np.array([np.nan, np.inf, -np.inf], np.float32))
    p = d.run("clip", "entropy", bins, 8, bad, ok=False)
    check(p.returncode != 0, "only non-finite values must leave the histogram empty")


def ref_weight_params(x, bits, asym, search=True):
    """numpy transcription of the documented search (lib/Quant/Formats.h):
    the least squared error among r * range, r = 1, 0.975, ..., 0.5 (only
    r = 1 without search: quantize's default)."""
    x = x.astype(np.float64)
    qmin, qmax = (0, 2 ** bits - 1) if asym else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    lo, hi = min(0.0, x.min()), max(0.0, x.max())
    if not asym:
        hi = max(-lo, hi)
        lo = -hi
    if hi - lo == 0:
        return 1.0, 0, 1.0
    best, best_err = None, np.inf
    for k in range(21 if search else 1):
        r = 1.0 - 0.025 * k
        if asym:
            s = float(np.float32((hi - lo) * r / qmax))
            zp = int(np.clip(np.rint(-lo * r / s), qmin, qmax))
        else:
            s, zp = float(np.float32(hi * r / qmax)), 0
        q = np.clip(np.rint(x / s) + zp, qmin, qmax)
        err = float(np.sum((x - (q - zp) * s) ** 2))
        if err < best_err:
            best, best_err = (s, zp, r), err
    return best


def test_weight_params(d):
    rng = np.random.default_rng(11)
    cases = [("normal", rng.standard_normal(128)), ("laplace", rng.laplace(size=128)), ("outlier", np.append(rng.standard_normal(127) * 0.1, 5.0)),
             ("positive", rng.uniform(0.1, 1, 64)), ("negative", -rng.uniform(0.1, 1, 32)),
             ("zeros", np.zeros(16)), ("one value", np.array([0.7])), ("ties", np.arange(-8, 8) * 0.5)]
    for name, x in cases:
        x = x.astype(np.float32)
        for bits, asym in ((4, True), (4, False), (8, False)):
            out = d.run("weightparams", bits, int(asym), d.save(x)).stdout.split()
            got = (float(out[0]), int(out[1]), float(out[2]))
            want = ref_weight_params(x, bits, asym)
            check(np.float32(got[0]) == np.float32(want[0]) and got[1] == want[1] and abs(got[2] - want[2]) < 1e-12,
                  "weight params %s bits=%d asym=%d: got %s, numpy %s" % (name, bits, asym, got, want))
    # Heavy-tailed (Laplace) groups are clipped at 4 bits (r < 1).
    x = rng.laplace(size=128).astype(np.float32)
    got = d.run("weightparams", 4, 0, d.save(x)).stdout.split()
    check(float(got[2]) < 1.0, "a Laplace group is clipped (r = %s)" % got[2])


def test_compiled_qdq(d, quantc):
    """QuantizeLinear -> DequantizeLinear to int8 and uint8 (constant scales
    and zero points, as ONNX Runtime's QDQ models have them), per tensor
    and per channel, compiled by quantc and run by ONNX Runtime:
    bit-identical."""
    from onnx import helper
    import onnxruntime as ort
    x = np.concatenate([(np.arange(-30, 30) + 0.5) * 0.02, rng.normal(0, 1, 58), [40.0, -40.0]])
    x = x.astype(np.float32).reshape(2, 3, 4, 5)
    cases = [("per_tensor", np.array(0.02, np.float32), np.array(3, np.int8), 1),
             ("per_channel", np.array([0.02, 0.05, 0.1], np.float32), np.array([0, -4, 9], np.int8), 1),
             ("uint8_per_channel", np.array([0.02, 0.01, 0.05], np.float32),
              np.array([128, 3, 250], np.uint8), 1),
             ("uint8_per_tensor", np.array(0.03, np.float32), np.array(77, np.uint8), 1)]
    for name, scale, zp, axis in cases:
        qtype = TensorProto.UINT8 if zp.dtype == np.uint8 else TensorProto.INT8
        nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=axis),
                 helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=axis)]
        g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, x.shape),
                               helper.make_tensor_value_info("q", qtype, x.shape)],
                              [helper.make_tensor("s", TensorProto.FLOAT, scale.shape, scale.ravel()),
                               helper.make_tensor("z", qtype, zp.shape, zp.ravel())])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        path = os.path.join(d.tmp, name + ".onnx")
        with open(path, "wb") as f:
            f.write(m.SerializeToString())
        want_y, want_q = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})
        out = os.path.join(d.tmp, name + "_out")
        p = subprocess.run([quantc, "run", path, "--input", "x=" + d.save(x), "--output-dir", out],
                           capture_output=True, text=True)
        check(p.returncode == 0, "%s: quantc run failed: %s" % (name, p.stderr[:500]))
        if p.returncode == 0:
            got_q, got_y = np.load(os.path.join(out, "q.npy")), np.load(os.path.join(out, "y.npy"))
            check(got_q.dtype == want_q.dtype and np.array_equal(got_q, want_q),
                  "%s: %d quantized values differ from ONNX Runtime" %
                  (name, int(np.sum(got_q != want_q))))
            check(np.array_equal(got_y, want_y), "%s: dequantized values differ" % name)


FP8_MLIR = """
func.func @main(%x: tensor<{n}xf32>) -> (tensor<{n}xf32>, tensor<256xf32>) {{
  %s = qc.constant dense<{scale}> : tensor<f32>
  %n = qc.none
  %q = qc.quantize_linear %x, %s, %n {{saturate = {sat} : i64}} : (tensor<{n}xf32>, tensor<f32>, none) -> tensor<{n}x{t}>
  %y = qc.dequantize_linear %q, %s, %n : (tensor<{n}x{t}>, tensor<f32>, none) -> tensor<{n}xf32>
  %codes = qc.constant dense<"0x{codes}"> : tensor<256x{t}>
  %one = qc.constant dense<1.0> : tensor<f32>
  %all = qc.dequantize_linear %codes, %one, %n : (tensor<256x{t}>, tensor<f32>, none) -> tensor<256xf32>
  return %y, %all : tensor<{n}xf32>, tensor<256xf32>
}}
"""


def same_floats(a, b):
    """Equal as floats with the sign of zero, NaN equal to NaN."""
    return np.array_equal(np.isnan(a), np.isnan(b)) and bool(np.all(
        (a == b) & (np.signbit(a) == np.signbit(b)) | (np.isnan(a) & np.isnan(b))))


def test_compiled_fp8(d, quantc):
    """fp8 QuantizeLinear/DequantizeLinear as quantc compiles them (bit
    manipulation on the f32 patterns) against ml_dtypes: e4m3fn and e5m2,
    saturating and not, rounding ties, subnormals, the largest finite
    values and just above them, signed zeros, Inf and NaN; and the decoding
    of all 256 codes."""
    special = np.array([0.0, -0.0, 1.0, -1.0, 448, 449, 463.9, 464, 465, 480, 500, 1e6, -1e6,
                        57344, 61439, 61440, 65536, np.inf, -np.inf, np.nan, 2.0**-6, 2.0**-7,
                        2.0**-9, 2.0**-10, 1.5 * 2.0**-9, 2.5 * 2.0**-9, 2.0**-14, 2.0**-16,
                        2.0**-17, 3 * 2.0**-17, 1.0625, 1.1875, 1.125, 1.375, 1e-30], np.float32)
    x = np.concatenate([special, -special, rng.standard_normal(2000) * 100,
                        rng.standard_normal(2000) * 0.01]).astype(np.float32)
    codes = "".join("%02X" % i for i in range(256))
    for t, dt in (("f8E4M3FN", ml_dtypes.float8_e4m3fn), ("f8E5M2", ml_dtypes.float8_e5m2)):
        for sat in (1, 0):
            for scale in (1.0, 0.5):
                name = "fp8 %s saturate=%d scale=%g" % (t, sat, scale)
                path = os.path.join(d.tmp, "fp8.mlir")
                with open(path, "w") as f:
                    f.write(FP8_MLIR.format(n=len(x), t=t, sat=sat, scale=scale, codes=codes))
                out = os.path.join(d.tmp, "fp8out")
                p = subprocess.run([quantc, "run", path, d.save(x), "--output-dir", out],
                                   capture_output=True, text=True)
                check(p.returncode == 0, "%s: quantc run failed: %s" % (name, p.stderr[:500]))
                if p.returncode != 0:
                    continue
                v = x / np.float32(scale)
                if sat:
                    mx = float(ml_dtypes.finfo(dt).max)
                    v = np.where(np.isnan(v), v, np.clip(v, -mx, mx))
                want = v.astype(dt).astype(np.float32) * np.float32(scale)
                got = np.load(os.path.join(out, "output0.npy"))
                bad = ~((got == want) | (np.isnan(got) & np.isnan(want)))
                check(same_floats(got, want), "%s: %d of %d values differ from ml_dtypes (x = %s)" %
                      (name, int(bad.sum()), len(x), x[bad][:5]))
                all_codes = np.arange(256, dtype=np.uint8).view(dt).astype(np.float32)
                check(same_floats(np.load(os.path.join(out, "output1.npy")), all_codes),
                      "%s: decoding the 256 codes differs from ml_dtypes" % name)


ROWS_MLIR = """
func.func @main(%x: tensor<{shape}xf32>) -> (tensor<{shape}xui8>, tensor<{rows}xf32>, tensor<{rows}xui8>) {{
  %y, %s, %z = "qc.dynamic_quantize_rows"(%x) {attrs} : (tensor<{shape}xf32>) -> (tensor<{shape}xui8>, tensor<{rows}xf32>, tensor<{rows}xui8>)
  return %y, %s, %z : tensor<{shape}xui8>, tensor<{rows}xf32>, tensor<{rows}xui8>
}}
"""


def run_rows(d, quantc, x, name, attrs=""):
    """qc.dynamic_quantize_rows (with `attrs`, e.g. levels) on x [a, b, k]
    through `quantc run`: (y, scale, zero point), or None after a failed
    check."""
    path = os.path.join(d.tmp, name + ".mlir")
    with open(path, "w") as f:
        f.write(ROWS_MLIR.format(shape="x".join(map(str, x.shape)), rows="x".join(map(str, x.shape[:-1])),
                                 attrs=attrs))
    out = os.path.join(d.tmp, name + "_out")
    p = subprocess.run([quantc, "run", path, d.save(x), "--output-dir", out], capture_output=True, text=True)
    check(p.returncode == 0, "%s: quantc run failed: %s" % (name, p.stderr[:500]))
    if p.returncode != 0:
        return None
    return tuple(np.load(os.path.join(out, "output%d.npy" % i)) for i in range(3))


def test_compiled_dynamic_rows(d, quantc):
    """qc.dynamic_quantize_rows (w8a8-dynamic-token's per-row quantization)
    as quantc compiles it, against ONNX Runtime's DynamicQuantizeLinear run
    on each row on its own: rows of mixed sign, all positive, all
    negative, all zero, one with an outlier, and halves that round to
    even; y, scale and zero point bit-identical."""
    from ort_rows import dynamic_quantize_rows
    k = 9
    rows = [rng.normal(0, 1, k), np.abs(rng.normal(0, 1, k)) + 0.1, -np.abs(rng.normal(0, 2, k)) - 0.1,
            np.zeros(k), np.concatenate([rng.normal(0, 0.1, k - 1), [300.0]]),
            np.arange(k) * (255.0 / (k - 1) / 2) * 0.01 + 0.005]
    rows += [rng.normal(0, s, k) for s in (1e-3, 10.0, 1e4)]
    x = np.stack(rows + [rng.normal(0, 1, k) for _ in range(3)]).astype(np.float32).reshape(3, 4, k)
    want_y, want_s, want_z = dynamic_quantize_rows(x.reshape(-1, k))
    want_y, want_s, want_z = want_y.reshape(x.shape), want_s.reshape(3, 4), want_z.reshape(3, 4)
    got = run_rows(d, quantc, x, "dynamic_quantize_rows")
    if got is None:
        return
    got_y, got_s, got_z = got
    check(got_y.dtype == np.uint8 and np.array_equal(got_y, want_y),
          "dynamic_quantize_rows: %d of %d values differ from ONNX Runtime's per row (rows %s)" %
          (int(np.sum(got_y != want_y)), want_y.size, sorted(set(np.argwhere(got_y != want_y)[:, 1].tolist()))))
    check(np.array_equal(got_s, want_s), "dynamic_quantize_rows: scales differ: %s vs %s" % (got_s, want_s))
    check(got_z.dtype == np.uint8 and np.array_equal(got_z, want_z),
          "dynamic_quantize_rows: zero points differ: %s vs %s" % (got_z, want_z))


def test_compiled_dynamic_rows_4bit(d, quantc):
    """qc.dynamic_quantize_rows with levels = 15 (w4a4's 4-bit activations)
    against numpy's float32 arithmetic of the op's definition: lo = c
    min(0, min r), hi = c max(0, max r) (c = clip: 1, and 0.8 as
    --activation-clip sets it), scale = (hi - lo) / 15 (1 for an all-zero
    row), zero point = clip(rint(-lo / scale), 0, 15), y = clip(rint(r /
    scale) + zp, 0, 15), rint rounding half to even; bit-identical, and
    every code in [0, 15]."""
    k = 11
    rows = [rng.normal(0, 1, k), np.abs(rng.normal(0, 1, k)) + 0.1, -np.abs(rng.normal(0, 2, k)) - 0.1,
            np.zeros(k), np.concatenate([rng.normal(0, 0.1, k - 1), [300.0]]),
            (np.arange(k) - 3) * np.float32(1.0 / 15) + np.float32(1.0 / 30)]
    x = np.stack(rows + [rng.normal(0, s, k) for s in (1e-3, 10.0)]).astype(np.float32).reshape(2, 4, k)
    f32 = np.float32
    for clip, attrs in ((1.0, "{levels = 15 : i64}"), (0.8, "{levels = 15 : i64, clip = 0.8 : f32}")):
        name = "dynamic_quantize_rows levels=15 clip=%g" % clip
        lo = np.minimum(x.min(axis=-1), f32(0)) * f32(clip)
        hi = np.maximum(x.max(axis=-1), f32(0)) * f32(clip)
        scale = ((hi - lo) / f32(15)).astype(np.float32)
        scale = np.where(scale == 0, f32(1), scale).astype(np.float32)
        zp = np.clip(np.rint(-lo / scale), 0, 15).astype(np.float32)
        want_y = np.clip(np.rint(x / scale[..., None]) + zp[..., None], 0, 15).astype(np.uint8)
        got = run_rows(d, quantc, x, "dynamic_quantize_rows_levels15_clip%g" % clip, attrs=attrs)
        if got is None:
            continue
        got_y, got_s, got_z = got
        check(got_y.dtype == np.uint8 and np.array_equal(got_y, want_y) and int(got_y.max()) <= 15,
              "%s: %d of %d values differ from numpy" % (name, int(np.sum(got_y != want_y)), want_y.size))
        check(np.array_equal(got_s, scale), "%s: scales differ: %s vs %s" % (name, got_s, scale))
        check(np.array_equal(got_z, zp.astype(np.uint8)),
              "%s: zero points differ: %s vs %s" % (name, got_z, zp))


def test_compiled_parallel(d, quantc):
    """Elementwise and row-wise loops split over threads
    (quantc-cpu-parallel-outline/-dispatch): a broadcast Add, SiLU,
    Softmax, ReduceMean and a Transpose on [5, 300, 77] against ONNX
    Runtime (1e-5 relative), and --threads 2 bit-identical to --threads 1
    (each element is computed the same way whichever thread runs its
    rows)."""
    from onnx import helper
    import onnxruntime as ort
    x = rng.normal(0, 2, (5, 300, 77)).astype(np.float32)
    bias = rng.normal(0, 1, (77,)).astype(np.float32)
    nodes = [helper.make_node("Add", ["x", "bias"], ["a"]),
             helper.make_node("Sigmoid", ["a"], ["sg"]),
             helper.make_node("Mul", ["a", "sg"], ["silu"]),
             helper.make_node("Softmax", ["silu"], ["sm"], axis=-1),
             helper.make_node("ReduceMean", ["silu"], ["mean"], axes=[-1], keepdims=1),
             helper.make_node("Transpose", ["sm"], ["t"], perm=[1, 0, 2])]
    g = helper.make_graph(nodes, "par", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
                          [helper.make_tensor_value_info("silu", TensorProto.FLOAT, list(x.shape)),
                           helper.make_tensor_value_info("sm", TensorProto.FLOAT, list(x.shape)),
                           helper.make_tensor_value_info("mean", TensorProto.FLOAT, [5, 300, 1]),
                           helper.make_tensor_value_info("t", TensorProto.FLOAT, [300, 5, 77])],
                          [helper.make_tensor("bias", TensorProto.FLOAT, [77], bias)])
    mdl = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    mdl.ir_version = 8
    path = os.path.join(d.tmp, "par.onnx")
    with open(path, "wb") as f:
        f.write(mdl.SerializeToString())
    want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})
    got = {}
    for threads in (1, 2):
        out = os.path.join(d.tmp, "par_out%d" % threads)
        p = subprocess.run([quantc, "run", path, "--input", "x=" + d.save(x), "--threads", str(threads),
                            "--output-dir", out], capture_output=True, text=True)
        check(p.returncode == 0, "parallel: quantc run --threads %d failed: %s" % (threads, p.stderr[:500]))
        if p.returncode != 0:
            return
        got[threads] = [np.load(os.path.join(out, n + ".npy")) for n in ("silu", "sm", "mean", "t")]
    for name, w, g1, g2 in zip(("silu", "sm", "mean", "t"), want, got[1], got[2]):
        err = float(np.max(np.abs(g2 - w)) / np.max(np.abs(w)))
        check(g2.shape == w.shape and err <= 1e-5, "parallel %s: relative error %.3g vs ONNX Runtime" % (name, err))
        check(np.array_equal(g1, g2), "parallel %s: --threads 2 differs from --threads 1 in %d values" %
              (name, int(np.sum(g1 != g2))))


def test_compiled_gqa(d, quantc):
    """Grouped-query attention written as exporters write it (K/V heads
    repeated by Unsqueeze -> Expand -> Reshape, scores through a Transpose)
    as quantc compiles it (qc-fold-kv-repeat multiplies by the K/V heads
    themselves) against ONNX Runtime: b=2, 6 query heads on 2 K/V heads,
    3 queries, 5 keys; 1e-5 relative. QUANTC_PASS_TIMING shows the pass
    ran."""
    from onnx import helper
    import onnxruntime as ort
    b, G, R, m, s, dh = 2, 2, 3, 3, 5, 4
    H = G * R
    q = rng.normal(0, 1, (b, H, m, dh)).astype(np.float32)
    k = rng.normal(0, 1, (b, G, s, dh)).astype(np.float32)
    v = rng.normal(0, 1, (b, G, s, dh)).astype(np.float32)
    c = lambda n, a: helper.make_tensor(n, TensorProto.INT64, [len(a)], a)  # noqa: E731
    inits = [c("ax2", [2]), c("rep5", [b, G, R, s, dh]), c("heads4", [b, H, s, dh])]
    nodes = []
    for t in ("k", "v"):
        nodes += [helper.make_node("Unsqueeze", [t, "ax2"], [t + "_u"]),
                  helper.make_node("Expand", [t + "_u", "rep5"], [t + "_e"]),
                  helper.make_node("Reshape", [t + "_e", "heads4"], [t + "_r"])]
    nodes += [helper.make_node("Transpose", ["k_r"], ["kT"], perm=[0, 1, 3, 2]),
              helper.make_node("MatMul", ["q", "kT"], ["scores"]),
              helper.make_node("Softmax", ["scores"], ["p"], axis=-1),
              helper.make_node("MatMul", ["p", "v_r"], ["ctx"])]
    g = helper.make_graph(nodes, "gqa", [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(a.shape))
                                         for n, a in (("q", q), ("k", k), ("v", v))],
                          [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [b, H, m, s]),
                           helper.make_tensor_value_info("ctx", TensorProto.FLOAT, [b, H, m, dh])], inits)
    mdl = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    mdl.ir_version = 8
    path = os.path.join(d.tmp, "gqa.onnx")
    with open(path, "wb") as f:
        f.write(mdl.SerializeToString())
    want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"q": q, "k": k, "v": v})
    out = os.path.join(d.tmp, "gqa_out")
    env = dict(os.environ, QUANTC_PASS_TIMING="1")
    p = subprocess.run([quantc, "run", path, "--input", "q=" + d.save(q), "--input", "k=" + d.save(k), "--input",
                        "v=" + d.save(v), "--output-dir", out], capture_output=True, text=True, env=env)
    check(p.returncode == 0, "gqa: quantc run failed: %s" % p.stderr[:500])
    if p.returncode != 0:
        return
    check("FoldKVRepeat" in p.stdout + p.stderr, "gqa: qc-fold-kv-repeat is not in the pipeline's pass timing")
    for name, w in zip(("scores", "ctx"), want):
        got = np.load(os.path.join(out, name + ".npy"))
        err = float(np.max(np.abs(got - w)) / np.max(np.abs(w)))
        check(got.shape == w.shape and err <= 1e-5, "gqa %s: relative error %.3g vs ONNX Runtime" % (name, err))


def test_compiled_math(d, quantc):
    """Exp, Tanh, Erf and Sigmoid (polynomial approximations,
    quantc-cpu-approximate-math) and Log (libm) as quantc compiles them
    against numpy/math in float64: at most 4 ULP of float32 on a sweep of
    each function's range (absolute 4 ULP of 1 for tanh, erf and sigmoid
    near 0; subnormal results may flush to zero), and the special values: exp(-inf) = 0, exp(inf) = exp(100) = inf, log(0) = -inf,
    log(-1) = NaN, log(inf) = inf, tanh and erf of +-inf = +-1, NaN in NaN out."""
    from onnx import helper
    import math
    sweep = np.concatenate([np.linspace(-87, 88, 20001), np.linspace(-1, 1, 2001), rng.normal(0, 3, 5000)])
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 100.0, -100.0, 1e-30, -1e-30, 1e30, -1e30])
    x = np.concatenate([sweep, special]).astype(np.float32)
    pos = np.concatenate([np.exp(np.linspace(-87, 88, 20001)), rng.uniform(0, 4, 5000),
                          [0.0, np.inf, -1.0, np.nan, 1e-38, 1.0]]).astype(np.float32)
    ops = [("Exp", "x", np.exp), ("Tanh", "x", np.tanh), ("Sigmoid", "x", lambda v: 1 / (1 + np.exp(-v))),
           ("Erf", "x", np.vectorize(lambda v: math.erf(v) if not np.isnan(v) else np.nan)), ("Log", "p", np.log)]
    nodes = [helper.make_node(op, [src], [op.lower()]) for op, src, _ in ops]
    g = helper.make_graph(nodes, "math", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [len(x)]),
                                          helper.make_tensor_value_info("p", TensorProto.FLOAT, [len(pos)])],
                          [helper.make_tensor_value_info(op.lower(), TensorProto.FLOAT,
                                                         [len(x) if src == "x" else len(pos)]) for op, src, _ in ops])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    path = os.path.join(d.tmp, "math.onnx")
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    out = os.path.join(d.tmp, "math_out")
    p = subprocess.run([quantc, "run", path, "--input", "x=" + d.save(x), "--input", "p=" + d.save(pos),
                        "--output-dir", out], capture_output=True, text=True)
    check(p.returncode == 0, "math: quantc run failed: %s" % p.stderr[:500])
    if p.returncode != 0:
        return
    with np.errstate(all="ignore"):
        for op, src, ref in ops:
            inp = x if src == "x" else pos
            got = np.load(os.path.join(out, op.lower() + ".npy")).astype(np.float64)
            want = ref(inp.astype(np.float64))
            want32 = want.astype(np.float32).astype(np.float64)
            finite = np.isfinite(want32)
            # ULP of the float32 result; near 0, of 1 for the bounded functions.
            floor = 1.0 if op in ("Tanh", "Erf", "Sigmoid") else np.finfo(np.float32).tiny
            ulp = np.spacing(np.maximum(np.abs(want32), floor).astype(np.float32)).astype(np.float64)
            err = np.where(finite, np.abs(got - want) / ulp, 0.0)
            # A result below the smallest normal float may flush to zero
            # (exp(-100) is 3.7e-44, a subnormal).
            tiny = float(np.finfo(np.float32).tiny)
            err = np.where(finite & (np.abs(want32) < tiny) & (np.abs(got) <= tiny), 0.0, err)
            same_special = np.array_equal(np.isnan(got[~finite]), np.isnan(want32[~finite])) and np.array_equal(
                got[~finite][~np.isnan(got[~finite])], want32[~finite][~np.isnan(want32[~finite])])
            worst = float(np.max(err))
            print("  %-8s max %.2f ULP over %d values" % (op, worst, len(inp)))
            check(worst <= 4.0 and np.all(np.isfinite(got[finite])),
                  "math: %s is %.1f ULP from float64 at x = %s" % (op, worst, inp[np.argmax(err)]))
            check(same_special, "math: %s special values differ: got %s want %s" %
                  (op, got[~finite][:8], want32[~finite][:8]))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--quantc", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Driver(args.driver, tmp)
        tests = [(t.__name__, t) for t in (test_integer_formats, test_fp8, test_params,
                                           test_minmax, test_large_batches, test_clip,
                                           test_weight_params)]
        tests += [("test_compiled_qdq", lambda d: test_compiled_qdq(d, args.quantc)),
                  ("test_compiled_fp8", lambda d: test_compiled_fp8(d, args.quantc)),
                  ("test_compiled_dynamic_rows", lambda d: test_compiled_dynamic_rows(d, args.quantc)),
                  ("test_compiled_dynamic_rows_4bit", lambda d: test_compiled_dynamic_rows_4bit(d, args.quantc)),
                  ("test_compiled_math", lambda d: test_compiled_math(d, args.quantc)),
                  ("test_compiled_gqa", lambda d: test_compiled_gqa(d, args.quantc)),
                  ("test_compiled_parallel", lambda d: test_compiled_parallel(d, args.quantc))]
        for name, t in tests:
            before = len(failures)
            t(d)
            print("%-22s %s" % (name, "ok" if len(failures) == before else "FAILED"))
    print("%d checks, %d failures" % (checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
