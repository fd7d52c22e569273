#!/usr/bin/env python3
"""Recipes with -kv8 / -qkv8 (qc-quantize-kv) against a numpy reference.

A decode step of grouped-query attention as exporters write it (the cache
as Concat(past, new) along the sequence axis, K/V heads repeated by
Unsqueeze/Expand/Reshape, Div by sqrt(d), Softmax, MatMul), with the
present key/value as outputs, is quantized by `quantc quantize --recipe
w8a16-kv8` (and -qkv8) into a library and run on inputs other than the
calibration sample. The reference rounds each new key/value row (one
token of one head; and with -qkv8 each query row) through uint8 the way
ONNX's DynamicQuantizeLinear defines it, in float32 numpy:

    lo = min(0, min r), hi = max(0, max r), s = (hi - lo) / 255,
    zp = clip(round(-lo / s), 0, 255), r' = (clip(round(r / s) + zp, 0, 255) - zp) * s

The present outputs must equal past ++ rounded rows (the past passed
through unrounded) and the attention output must match numpy's attention
on the rounded operands within 1e-5 (max abs error over max abs value),
while differing from float attention by more than 10x that (the rounding
took place). Also: QDQ export of a -kv8 recipe and a model without
attention are refused with an error naming the cause.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from quantc import CompiledModel  # noqa: E402

TOL = 1e-5
B, H, G, M, P, D = 1, 6, 2, 2, 9, 16
R = H // G


def build(path):
    inits = [numpy_helper.from_array(np.array([2], np.int64), "ax2"),
             numpy_helper.from_array(np.array([B, G, R, P + M, D], np.int64), "shape5"),
             numpy_helper.from_array(np.array([B, H, P + M, D], np.int64), "shape4"),
             numpy_helper.from_array(np.array(np.sqrt(D), np.float32), "c")]
    nodes = [h.make_node("Concat", ["past_key", "key"], ["present_key"], axis=2),
             h.make_node("Concat", ["past_value", "value"], ["present_value"], axis=2)]
    for x in ("present_key", "present_value"):
        nodes += [h.make_node("Unsqueeze", [x, "ax2"], [x + "_u"]),
                  h.make_node("Expand", [x + "_u", "shape5"], [x + "_e"]),
                  h.make_node("Reshape", [x + "_e", "shape4"], [x + "_r"])]
    nodes += [h.make_node("Transpose", ["present_key_r"], ["kt"], perm=[0, 1, 3, 2]),
              h.make_node("MatMul", ["query", "kt"], ["s"]),
              h.make_node("Div", ["s", "c"], ["sd"]),
              h.make_node("Softmax", ["sd"], ["p"], axis=-1),
              h.make_node("MatMul", ["p", "present_value_r"], ["out"])]
    ins = [h.make_tensor_value_info("query", T.FLOAT, [B, H, M, D]),
           h.make_tensor_value_info("past_key", T.FLOAT, [B, G, P, D]),
           h.make_tensor_value_info("key", T.FLOAT, [B, G, M, D]),
           h.make_tensor_value_info("past_value", T.FLOAT, [B, G, P, D]),
           h.make_tensor_value_info("value", T.FLOAT, [B, G, M, D])]
    outs = [h.make_tensor_value_info("out", T.FLOAT, [B, H, M, D]),
            h.make_tensor_value_info("present_key", T.FLOAT, [B, G, P + M, D]),
            h.make_tensor_value_info("present_value", T.FLOAT, [B, G, P + M, D])]
    model = h.make_model(h.make_graph(nodes, "kv", ins, outs, inits),
                         opset_imports=[h.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)


def feeds(seed):
    r = np.random.RandomState(seed)
    f = {n: r.randn(*s).astype(np.float32) for n, s in
         (("query", (B, H, M, D)), ("past_key", (B, G, P, D)), ("key", (B, G, M, D)),
          ("past_value", (B, G, P, D)), ("value", (B, G, M, D)))}
    f["key"][0, 1, 0] *= 8.0   # rows of very different ranges
    f["value"][0, 0, 1] = np.abs(f["value"][0, 0, 1])  # a row with no negative value
    f["key"][0, 0, 1] = 0.0  # an all-zero row
    return f


def round_rows(x):
    x = x.astype(np.float32)
    lo = np.minimum(x.min(axis=-1, keepdims=True), np.float32(0))
    hi = np.maximum(x.max(axis=-1, keepdims=True), np.float32(0))
    s = np.maximum((hi - lo) / np.float32(255), np.float32(1e-30))
    zp = np.clip(np.round(-lo / s), 0, 255)
    q = np.clip(np.round(x / s) + zp, 0, 255)
    return ((q - zp) * s).astype(np.float32)


def attention(q, k, v):
    k = np.repeat(k, R, axis=1)
    v = np.repeat(v, R, axis=1)
    s = (q.astype(np.float64) @ np.swapaxes(k, -1, -2)) / np.sqrt(D)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return p @ v


def rel(a, b):
    return float(np.max(np.abs(a - b)) / max(1e-30, np.max(np.abs(b))))


def quantize(quantc, model, calib, recipe, out):
    return subprocess.run([quantc, "quantize", model, "--recipe", recipe, "--calib", calib, "-o", out],
                          capture_output=True, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quantc", required=True)
    a = ap.parse_args()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "kv.onnx")
        build(model)
        calib = os.path.join(tmp, "calib", "0")
        os.makedirs(calib)
        for n, x in feeds(1).items():
            np.save(os.path.join(calib, n + ".npy"), x)
        f = feeds(2)
        fl = attention(f["query"], np.concatenate([f["past_key"], f["key"]], 2),
                       np.concatenate([f["past_value"], f["value"]], 2))
        for recipe, query in (("w8a16-kv8", False), ("w8a16-qkv8", True)):
            lib = os.path.join(tmp, recipe + ".so")
            p = quantize(a.quantc, model, os.path.dirname(calib), recipe, lib)
            if p.returncode != 0:
                failures.append("%s: quantize failed: %s" % (recipe, p.stderr.strip()))
                continue
            if "keys and values" not in p.stdout:
                failures.append("%s: quantize did not report the attention it rounded:\n%s" % (recipe, p.stdout))
            got = CompiledModel(lib, threads=2)(**f)
            pk = np.concatenate([f["past_key"], round_rows(f["key"])], 2)
            pv = np.concatenate([f["past_value"], round_rows(f["value"])], 2)
            q = round_rows(f["query"]) if query else f["query"]
            want = attention(q, pk, pv)
            checks = [("present_key", rel(got["present_key"], pk)),
                      ("present_value", rel(got["present_value"], pv)),
                      ("out", rel(got["out"], want))]
            moved = rel(got["out"], fl)
            for name, e in checks:
                ok = e <= TOL
                print("%-12s %-13s rel err %.2e vs rounded reference %s" % (recipe, name, e, "ok" if ok else "FAIL"))
                if not ok:  # NaN-safe: NaN fails
                    failures.append("%s: %s differs from the reference by %.3g" % (recipe, name, e))
            print("%-12s out differs from float attention by %.2e (must exceed %.0e)" % (recipe, moved, 10 * TOL))
            if not moved > 10 * TOL:
                failures.append("%s: the output equals float attention (%.3g): nothing was rounded" % (recipe, moved))
        # Refusals: QDQ export of a -kv8 recipe; a model with no attention.
        p = quantize(a.quantc, model, os.path.dirname(calib), "w8a16-kv8", os.path.join(tmp, "x.onnx"))
        if p.returncode == 0 or "QDQ export" not in p.stderr or os.path.exists(os.path.join(tmp, "x.onnx")):
            failures.append("-o .onnx with w8a16-kv8 was not refused cleanly: rc %d, %s" % (p.returncode, p.stderr))
        plain = os.path.join(tmp, "plain.onnx")
        g = h.make_graph([h.make_node("Relu", ["query"], ["out"])], "plain",
                         [h.make_tensor_value_info("query", T.FLOAT, [B, H, M, D])],
                         [h.make_tensor_value_info("out", T.FLOAT, [B, H, M, D])])
        pm = h.make_model(g, opset_imports=[h.make_opsetid("", 17)])
        pm.ir_version = 8
        onnx.save(pm, plain)
        pcal = os.path.join(tmp, "pcal", "0")
        os.makedirs(pcal)
        np.save(os.path.join(pcal, "query.npy"), f["query"])
        p = quantize(a.quantc, plain, os.path.dirname(pcal), "w8a16-kv8", os.path.join(tmp, "plain.so"))
        if p.returncode == 0 or "no attention" not in p.stderr or os.path.exists(os.path.join(tmp, "plain.so")):
            failures.append("a model without attention was not refused: rc %d, %s" % (p.returncode, p.stderr))
        else:
            print("refused as expected: %s" % p.stderr.strip().splitlines()[-1])
    for msg in failures:
        print("FAIL:", msg)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
