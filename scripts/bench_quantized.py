#!/usr/bin/env python3
"""Latency of quantized models: quantc's recipes against quantc float and
ONNX Runtime (float, its quantize_static QDQ model, its quantize_dynamic
model) on the same input, the same thread count, in one run.

    scripts/bench_quantized.py --quantc build/bin/quantc [rec det ...]
        [--recipes w8a8,w4a16-g128,...] [--threads 2] [--runs 20] [--caps avx512]

Each model is compiled ahead of time (`quantc compile` / `quantc quantize
-o x.so`, calibrated on the model's calibration set in .cache/data) and
timed through the C API (python/quantc CompiledModel); ONNX Runtime runs
with intra-op threads = --threads and its default graph optimizations
(which fuse QDQ pairs into its int8 kernels). The candidates run in
turns (3 warm-up rounds, then --runs rounds), so that a change in the
machine's load hits all of them alike: in each round, after a 50 ms pause
(ONNX Runtime's spinning pool threads go idle, so that they do not take
the next candidate's cores), each candidate makes one untimed call and
then --block timed calls back to back: steady-state latency, caches warm
and pool threads awake for every candidate alike. (Until 2026-12-07 each
timed call came right after the pause: cold caches and sleeping pools,
which read 1.3-2x above `quantc bench` for quantc and for ONNX Runtime
alike.) Prints the median and the minimum per candidate over runs x block
calls, and the ratio of medians to ONNX Runtime's float and
quantize_static rows.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
from quantc import CompiledModel  # noqa: E402
from quantc import peers  # noqa: E402
from quantc.datasets import load_split  # noqa: E402
from quantc.eval import MODELS, quantc_quantize  # noqa: E402


def time_in_turns(fns, runs, block=5):
    """{label: (median ms, min ms)} over `runs` rounds; in each round every
    candidate in turn makes one untimed call, then `block` timed calls back
    to back (warm caches, its thread pool awake: steady-state latency, as a
    serving loop sees it). Before each candidate's turn a pause lets ONNX
    Runtime's spinning pool threads go idle, so that they do not take the
    next candidate's cores."""
    for _ in range(3):
        for fn in fns.values():
            fn()
    t = {k: [] for k in fns}
    for _ in range(runs):
        for k, fn in fns.items():
            time.sleep(0.05)
            fn()
            for _ in range(block):
                s = time.perf_counter()
                fn()
                t[k].append(1000 * (time.perf_counter() - s))
    return {k: (float(np.median(v)), float(np.min(v))) for k, v in t.items()}


def ort_session(path, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def bench_model(name, args, tmp):
    """Times the candidates of one model (printed); returns (feed, {label:
    (median ms, min ms)})."""
    import onnx
    path, data, _ = MODELS[name]
    src = os.path.join(args.models, path)
    inputs = [i.name for i in onnx.load(src, load_external_data=False).graph.input]
    calib_dir = os.path.join(args.data, data, "calib")
    calib, _, _ = load_split(calib_dir, inputs)
    feeds, _, _ = load_split(os.path.join(args.data, data, "eval"), inputs)
    feed = feeds[0]
    shapes = []
    for n, a in feed.items():
        shapes += ["--shape", "%s=%s" % (n, "x".join(str(d) for d in a.shape))]
    f32 = os.path.join(tmp, name + "_float.so")
    subprocess.run([args.quantc, "compile", src, "-o", f32] + shapes, check=True, capture_output=True)
    libs = [("quantc float", f32)]
    for recipe in args.recipes:
        so = os.path.join(tmp, "%s_%s.so" % (name, recipe))
        quantc_quantize(args.quantc, src, calib_dir, recipe, "minmax", so)
        libs.append(("quantc " + recipe, so))
    fns = {}
    models = {}
    for label, so in libs:
        models[label] = CompiledModel(so, threads=args.threads)
        if len(models) == 1:
            print("quantc kernel paths: %s" % models[label].kernel_paths())
        fns[label] = (lambda m: lambda: m(**feed))(models[label])
    # The quantized libraries again with their kernels capped (--caps): a
    # copy of the library (its own runtime state) loaded and run once with
    # QUANTC_CPU_KERNELS set, which each kernel reads on its first call.
    for cap in args.caps:
        for label, so in libs[1:]:
            copy = so[:-3] + "_" + cap + ".so"
            shutil.copyfile(so, copy)
            capped = "%s [QUANTC_CPU_KERNELS=%s]" % (label, cap)
            old = os.environ.get("QUANTC_CPU_KERNELS")
            os.environ["QUANTC_CPU_KERNELS"] = cap
            try:
                models[capped] = CompiledModel(copy, threads=args.threads)
                models[capped](**feed)
            finally:
                if old is None:
                    del os.environ["QUANTC_CPU_KERNELS"]
                else:
                    os.environ["QUANTC_CPU_KERNELS"] = old
            print("%s kernel paths: %s" % (capped, models[capped].kernel_paths()))
            fns[capped] = (lambda m: lambda: m(**feed))(models[capped])
    for label, _ in libs[1:]:
        print("%s kernel paths: %s" % (label, models[label].kernel_paths()))
    sessions = {"ORT float": ort_session(src, args.threads)}
    pre = peers.prepare(src, tmp, calib[0])
    qdq = peers.static(pre, os.path.join(tmp, "ort_static.onnx"), calib, "MinMax", True)
    sessions["ORT quantize_static (QDQ, per-channel)"] = ort_session(qdq, args.threads)
    dyn = peers.dynamic(pre, os.path.join(tmp, name + "_ort_dynamic.onnx"))
    sessions["ORT quantize_dynamic"] = ort_session(dyn, args.threads)
    for label, sess in sessions.items():
        fns[label] = (lambda s: lambda: s.run(None, feed))(sess)
    times = time_in_turns(fns, args.runs, args.block)
    ort_float = times["ORT float"][0]
    ort_q = times["ORT quantize_static (QDQ, per-channel)"][0]
    rows = [(label, med, mn) for label, (med, mn) in times.items()]
    print("== %s: input %s, %d threads, median of %d runs (%d rounds of %d)" %
          (name, ", ".join("%s %s" % (n, list(a.shape)) for n, a in feed.items()), args.threads,
           args.runs * args.block, args.runs, args.block))
    print("  %-40s %9s %9s %12s %18s" % ("", "median ms", "min ms", "/ ORT float", "/ ORT static QDQ"))
    for label, ms, mn in rows:
        print("  %-40s %9.2f %9.2f %12.2f %18.2f" % (label, ms, mn, ms / ort_float, ms / ort_q))
    sys.stdout.flush()
    return feed, times


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models_to_bench", nargs="*", default=["rec"])
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--recipes", default="w8a8,w8a8-dynamic,w8a16,w4a16-g128,fp8-e4m3")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20, help="rounds")
    ap.add_argument("--block", type=int, default=5, help="timed runs per candidate per round, "
                    "back to back after one untimed run")
    ap.add_argument("--caps", default="", help="comma-separated QUANTC_CPU_KERNELS values: each "
                    "quantized library also runs with its kernels capped so (e.g. avx512: no AMX)")
    ap.add_argument("--models", default=os.path.join(HERE, "..", ".cache", "models"))
    ap.add_argument("--data", default=os.path.join(HERE, "..", ".cache", "data"))
    args = ap.parse_args()
    args.recipes = [r for r in args.recipes.split(",") if r]
    args.caps = [c for c in args.caps.split(",") if c]
    for name in args.models_to_bench:
        with tempfile.TemporaryDirectory() as tmp:
            bench_model(name, args, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
