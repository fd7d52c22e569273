#!/usr/bin/env python3
"""The weight-only recipes on a model with one large MatMul (K = N = 1024,
about a million weights) and a bias:

  * `quantc quantize --recipe w4a16-g128 -o x.so` must store the 4-bit
    weights in at most 0.55 bytes per parameter in the compiled library.
    Measured as the size difference to the float library (which holds the
    weights as 4-byte floats) plus 4 bytes per parameter, so code and
    metadata cancel out.
  * Its output must match a numpy model of the recipe's documented scheme
    (uint4, groups of 128 along K with a zero point, each group's range
    r * [min, max] with r in 1, 0.975, ..., 0.5 of least squared error):
    the dequantized weights recomputed in numpy give the reference.
  * w8a16 likewise, with int8 symmetric per-column weights.
  * fp8-e4m3: float8e4m3fn weights per column (range r * absmax, the r of
    least squared error) and the input per tensor (absmax / 448 of the
    calibration sample), rounded with ml_dtypes.
  * w8a8: uint8 input per tensor (ONNX Runtime's scale and zero point of
    the calibration range) and int8 weights per column; quantc runs it on
    the int8 GEMM with int32 accumulation, the reference in float64.

Prints the bytes per parameter and the errors.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import ml_dtypes
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from quantc import CompiledModel  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "Numerics"))
from check_numerics import ref_weight_params  # noqa: E402  (the numpy transcription)


def search(x, bits, asym):
    """(scale, zero point) of quant::searchWeightParams as quantize uses it:
    the clip search for int8, the min/max range for 4 bits, in numpy."""
    s, zp, _ = ref_weight_params(x, bits, asym, search=bits == 8)
    return s, zp


def fp8(x):
    """Saturating float8e4m3fn rounding (ml_dtypes overflows to NaN)."""
    return np.clip(x.astype(np.float32), -448, 448).astype(ml_dtypes.float8_e4m3fn).astype(np.float64)


def reference_input(x, recipe):
    """The input as the recipe's activation quantization sees it (the
    calibration sample is x itself)."""
    lo, hi = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
    if recipe == "fp8-e4m3":
        s = np.float32(max(-lo, hi) / 448.0)
        return fp8(x / s) * np.float64(s)
    if recipe == "w8a8":
        s = np.float32((hi - lo) / 255.0)
        zp = np.clip(np.rint(-lo / np.float64(s)), 0, 255)
        q = np.clip(np.rint(x / s) + zp, 0, 255)
        return (q - zp) * np.float64(s)
    return x.astype(np.float64)


def reference_weights(w, recipe):
    K, N = w.shape
    out = np.empty_like(w)
    if recipe == "fp8-e4m3":
        for n in range(N):
            col = w[:, n]
            absmax = float(np.max(np.abs(col)))
            best, best_s = np.inf, np.float32(1)
            for k in range(21):
                s = np.float32((1.0 - 0.025 * k) * absmax / 448.0)
                err = np.sum((col - fp8(col / s) * np.float64(s)) ** 2)
                if err < best:
                    best, best_s = err, s
            out[:, n] = (fp8(col / best_s) * np.float64(best_s)).astype(np.float32)
        return out
    if recipe == "w4a16-g128":
        for n in range(N):
            for k0 in range(0, K, 128):
                g = w[k0:k0 + 128, n]
                s, zp = search(g, 4, True)
                q = np.clip(np.rint(g.astype(np.float64) / s) + zp, 0, 15)
                out[k0:k0 + 128, n] = ((q - zp) * np.float32(s)).astype(np.float32)
    else:
        for n in range(N):
            s, _ = search(w[:, n], 8, False)
            q = np.clip(np.rint(w[:, n].astype(np.float64) / s), -128, 127)
            out[:, n] = (q * np.float32(s)).astype(np.float32)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quantc", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(3)
    K = N = 1024
    w = (rng.standard_normal((K, N)) * 0.05).astype(np.float32)
    w[rng.integers(0, K, 50), rng.integers(0, N, 50)] *= 8  # a few outliers
    b = rng.standard_normal(N).astype(np.float32)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        g = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["y"])], "big",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, K])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, N])],
            [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
        model = os.path.join(tmp, "big.onnx")
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), model)
        calib = os.path.join(tmp, "calib")
        os.makedirs(calib)
        x = rng.standard_normal((4, K)).astype(np.float32)
        np.save(os.path.join(calib, "s0.npy"), x)
        float_so = os.path.join(tmp, "float.so")
        subprocess.run([args.quantc, "compile", model, "-o", float_so], check=True, capture_output=True)
        float_bytes = os.path.getsize(float_so)
        for recipe, limit in (("w4a16-g128", 0.55), ("w8a16", 1.05), ("fp8-e4m3", 1.05),
                              ("w8a8", 1.05)):
            so = os.path.join(tmp, recipe + ".so")
            p = subprocess.run([args.quantc, "quantize", model, "--recipe", recipe, "--calib", calib, "-o", so],
                               capture_output=True, text=True)
            if p.returncode != 0:
                failures.append("%s: %s" % (recipe, p.stderr.strip()))
                continue
            per_param = (os.path.getsize(so) - float_bytes + 4 * K * N) / (K * N)
            cm = CompiledModel(so)
            if recipe == "w4a16-g128":  # the first
                print("kernel paths: %s" % cm.kernel_paths())
            got = cm(x=x)["y"]
            want = reference_input(x, recipe) @ reference_weights(w, recipe).astype(np.float64) + b
            rel = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
            exact = x @ w + b
            sqnr = 10 * np.log10(np.sum(exact ** 2) / np.sum((got - exact) ** 2))
            print("%-11s %.3f bytes/parameter in the library (float: 4); max rel err vs the numpy model "
                  "of the recipe %.1e; SQNR vs float %.1f dB" % (recipe, per_param, rel, sqnr))
            if not per_param <= limit:
                failures.append("%s: %.3f bytes/parameter > %.2f" % (recipe, per_param, limit))
            if not rel <= 1e-4:
                failures.append("%s: max rel err %g against the numpy model" % (recipe, rel))
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
