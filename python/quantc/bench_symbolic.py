"""Latency of symbolic-dimension libraries beside static ones and ONNX
Runtime, all in one run: `python -m quantc.bench_symbolic --quantc Q
--models DIR`.

For each case (MiniLM 1x128, SmolLM2 prefill 1x256, SmolLM2 decode of one
token at past 256) it compiles the model twice with `quantc compile`: once
with '?' for the sequence/cache dims (one body for any length) and once
for the case's exact shapes, then times both libraries and ONNX Runtime
(same threads) on the same inputs: per runner, warm-up runs then timed
runs (ONNX Runtime last: its threads spin after a run and slow whatever
runs next), and reports medians and ratios to ONNX Runtime. Times are
of a call from Python (CompiledModel: inputs passed in place, outputs
copied out; ORT's run allocates its outputs).
"""
import argparse
import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

from quantc import CompiledModel


def compile_lib(quantc, onnx_path, shapes, out):
    cmd = [quantc, "compile", onnx_path, "-o", out]
    for name, dims in shapes:
        cmd += ["--shape", "%s=%s" % (name, dims)]
    t0 = time.time()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.time() - t0


def cases(models, rng):
    minilm = os.path.join(models, "all-minilm-l6-v2", "model.onnx")
    n = 128
    yield ("MiniLM 1x%d" % n, minilm,
           [(k, "1x?") for k in ("input_ids", "attention_mask", "token_type_ids")],
           [(k, "1x%d" % n) for k in ("input_ids", "attention_mask", "token_type_ids")],
           dict(input_ids=rng.integers(0, 30000, (1, n)).astype(np.int64),
                attention_mask=np.ones((1, n), np.int64), token_type_ids=np.zeros((1, n), np.int64)))
    prefill = os.path.join(models, "smollm2", "prefill.onnx")
    n = 256
    yield ("SmolLM2 prefill 1x%d" % n, prefill, [("input_ids", "1x?")], [("input_ids", "1x%d" % n)],
           dict(input_ids=rng.integers(0, 49152, (1, n)).astype(np.int64)))
    decode = os.path.join(models, "smollm2", "decode.onnx")
    past = 256
    sym = [("input_ids", "1x?"), ("attention_mask", "1x?"), ("position_ids", "1x?")]
    fixed = [("input_ids", "1x1"), ("attention_mask", "1x%d" % (past + 1)), ("position_ids", "1x1")]
    feeds = dict(input_ids=rng.integers(0, 49152, (1, 1)).astype(np.int64),
                 attention_mask=np.ones((1, past + 1), np.int64),
                 position_ids=np.array([[past]], np.int64))
    for i in range(30):
        for kv in ("key", "value"):
            name = "past_key_values.%d.%s" % (i, kv)
            sym.append((name, "1x3x?x64"))
            fixed.append((name, "1x3x%dx64" % past))
            feeds[name] = (rng.standard_normal((1, 3, past, 64)) * 0.5).astype(np.float32)
    yield ("SmolLM2 decode 1 token, past %d" % past, decode, sym, fixed, feeds)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    tmp = tempfile.mkdtemp(prefix="quantc-bench-sym-")
    # Removed at exit (each run wrote ~2-2.6 GB of libraries and IR that
    # stayed in /tmp and filled the disk after some sessions).
    atexit.register(shutil.rmtree, tmp, True)
    rows = []
    for k, (label, onnx_path, sym, fixed, feeds) in enumerate(cases(args.models, rng)):
        # Distinct file names: the dynamic loader hands out a library
        # already loaded from the same path.
        sym_so, fixed_so = (os.path.join(tmp, "%s%d.so" % (n, k)) for n in ("sym", "fixed"))
        ts = compile_lib(args.quantc, onnx_path, sym, sym_so)
        tf = compile_lib(args.quantc, onnx_path, fixed, fixed_so)
        msym = CompiledModel(sym_so, threads=args.threads)
        mfix = CompiledModel(fixed_so, threads=args.threads)
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        runners = {"symbolic": lambda: msym(**feeds), "static": lambda: mfix(**feeds),
                   "ort": lambda: sess.run(None, feeds)}
        # Each runner's runs in one block, ONNX Runtime's last: its pool
        # spins after a run, and on a 2-core machine a quantc run right
        # after one measured twice its time.
        times = {k: [] for k in runners}
        for k, r in runners.items():
            for _ in range(args.warmup):
                r()
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                r()
                times[k].append((time.perf_counter() - t0) * 1e3)
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append((label, med, ts, tf))
        print("%-34s symbolic %8.1f ms (%.2fx ORT)  static %8.1f ms (%.2fx ORT)  ORT %8.1f ms"
              "  [compile: symbolic %.1f s, static %.1f s]" % (
                  label, med["symbolic"], med["symbolic"] / med["ort"], med["static"],
                  med["static"] / med["ort"], med["ort"], ts, tf), flush=True)
        paths = msym.kernel_paths()
        msym.close()
        mfix.close()
        del sess
    print("kernel paths:", paths, "threads:", args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
