#!/usr/bin/env python3
"""Symbolic dimensions: each transformer compiled ONCE with `quantc compile
--shape NAME=1x?` (one body for any sequence or cache length) and run from
that one library at several lengths, against ONNX Runtime on the same
inputs (max relative error <= 1e-4 per output, shapes equal):

  * MiniLM (all-MiniLM-L6-v2) at 1, 17, 128 and 512 tokens (512 is its
    position table's length), with padding masked at the end;
  * SmolLM2's prefill graph at 1, 17, 128 and 1000 tokens;
  * SmolLM2's decode graph (past and new lengths symbolic) on a real cache
    (ONNX Runtime's present after `past` tokens): past 0/17/1000 with one
    new token, past 16 with 17 new tokens.

The library is opened once per model; only the input shapes change. MiniLM
quantized with w8a8-dynamic-token and w4a16-g128 is compiled the same way and
checked against the static compile of the same quantized IR (1e-4).
"""
import argparse
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from quantc import CompiledModel  # noqa: E402
from quantc.bench_symbolic import compile_lib  # noqa: E402

TOL = 1e-4
failures = []


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def compile_once(quantc, onnx_path, shapes, out):
    seconds = compile_lib(quantc, onnx_path, shapes, out)
    print("  compiled %s once (%s) in %.1f s" % (os.path.basename(onnx_path),
                                                ", ".join("%s=%s" % s for s in shapes[:3]), seconds))
    return CompiledModel(out, threads=2)


def compare(label, model, sess, feeds):
    got = model(**feeds)
    names = [o.name for o in sess.get_outputs()]
    want = dict(zip(names, sess.run(None, feeds)))
    worst, where = 0.0, ""
    for n in names:
        a, b = got[n], want[n]
        if a.shape != b.shape:
            failures.append("%s: output %s has shape %s, ONNX Runtime %s" % (label, n, a.shape, b.shape))
            return
        err = float(np.abs(a.astype(np.float64) - b).max() / max(float(np.abs(b).max()), 1e-30))
        if not (err <= worst):
            worst, where = err, n
    ok = worst <= TOL
    print("  %-34s %d outputs, max rel err %.2e (%s) %s" % (label, len(names), worst, where, "ok" if ok else "FAIL"))
    if not ok:
        failures.append("%s: max rel err %.3e > %g at %s" % (label, worst, TOL, where))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--models", required=True, help=".cache/models")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    tmp = tempfile.mkdtemp(prefix="quantc-dyn-")
    # Removed at exit (each run wrote ~2-2.6 GB of libraries and IR that
    # stayed in /tmp and filled the disk after some sessions).
    atexit.register(shutil.rmtree, tmp, True)

    print("MiniLM")
    onnx_path = os.path.join(args.models, "all-minilm-l6-v2", "model.onnx")
    m = compile_once(args.quantc, onnx_path, [(n, "1x?") for n in ("input_ids", "attention_mask", "token_type_ids")],
                     os.path.join(tmp, "minilm.so"))
    print("  kernel paths:", m.kernel_paths())
    print("  inputs:", m.inputs)
    sess = session(onnx_path)
    for n in (1, 17, 128, 512):
        mask = np.ones((1, n), np.int64)
        if n > 4:
            mask[0, -3:] = 0
        compare("seq %d" % n, m, sess, dict(input_ids=rng.integers(0, 30000, (1, n)).astype(np.int64),
                                            attention_mask=mask, token_type_ids=np.zeros((1, n), np.int64)))
    m.close()

    # Quantized: the LLM recipes' lowerings (per-row dynamic int8, 4-bit
    # weights) with symbolic rows give what the static compile of the same
    # quantized IR gives at that length.
    for recipe in ("w8a8-dynamic-token", "w4a16-g128"):
        print("MiniLM %s" % recipe)
        qir = os.path.join(tmp, "minilm-%s.mlir" % recipe)
        subprocess.run([args.quantc, "quantize", onnx_path, "--recipe", recipe, "-o", qir],
                       check=True, stdout=subprocess.DEVNULL)
        m = compile_once(args.quantc, qir, [(n, "1x?") for n in ("input_ids", "attention_mask", "token_type_ids")],
                         os.path.join(tmp, "minilm-%s.so" % recipe))
        for n in (1, 33):
            fixed = os.path.join(tmp, "minilm-%s-%d.so" % (recipe, n))
            subprocess.run([args.quantc, "compile", qir, "-o", fixed] +
                           sum([["--shape", "%s=1x%d" % (k, n)] for k in ("input_ids", "attention_mask", "token_type_ids")], []),
                           check=True, stdout=subprocess.DEVNULL)
            ref = CompiledModel(fixed, threads=2)
            feeds = dict(input_ids=rng.integers(0, 30000, (1, n)).astype(np.int64),
                         attention_mask=np.ones((1, n), np.int64), token_type_ids=np.zeros((1, n), np.int64))
            got, want = m(**feeds), ref(**feeds)
            err = max(float(np.abs(got[k] - want[k]).max() / max(float(np.abs(want[k]).max()), 1e-30)) for k in want)
            ok = err <= TOL and all(got[k].shape == want[k].shape for k in want)
            print("  seq %-3d vs the static compile        max rel err %.2e %s" % (n, err, "ok" if ok else "FAIL"))
            if not ok:
                failures.append("MiniLM %s seq %d: symbolic vs static max rel err %.3e" % (recipe, n, err))
            ref.close()
        m.close()

    print("SmolLM2 prefill")
    onnx_path = os.path.join(args.models, "smollm2", "prefill.onnx")
    m = compile_once(args.quantc, onnx_path, [("input_ids", "1x?")], os.path.join(tmp, "prefill.so"))
    sess = session(onnx_path)
    for n in (1, 17, 128, 1000):
        compare("seq %d" % n, m, sess, dict(input_ids=rng.integers(0, 49152, (1, n)).astype(np.int64)))
    m.close()
    del sess

    print("SmolLM2 decode")
    onnx_path = os.path.join(args.models, "smollm2", "decode.onnx")
    shapes = [("input_ids", "1x?"), ("attention_mask", "1x?"), ("position_ids", "1x?")]
    for i in range(30):
        for kv in ("key", "value"):
            shapes.append(("past_key_values.%d.%s" % (i, kv), "1x3x?x64"))
    m = compile_once(args.quantc, onnx_path, shapes, os.path.join(tmp, "decode.so"))
    sess = session(onnx_path)
    out_names = [o.name for o in sess.get_outputs()]
    for past, seq in ((0, 1), (17, 1), (1000, 1), (16, 17)):
        empty = {"past_key_values.%d.%s" % (i, kv): np.zeros((1, 3, 0, 64), np.float32)
                 for i in range(30) for kv in ("key", "value")}
        cache = empty
        if past:
            pre = dict(input_ids=rng.integers(0, 49152, (1, past)).astype(np.int64),
                       attention_mask=np.ones((1, past), np.int64),
                       position_ids=np.arange(past, dtype=np.int64)[None], **empty)
            present = dict(zip(out_names, sess.run(None, pre)))
            cache = {k: present[k.replace("past_key_values", "present")] for k in empty}
        feeds = dict(input_ids=rng.integers(0, 49152, (1, seq)).astype(np.int64),
                     attention_mask=np.ones((1, past + seq), np.int64),
                     position_ids=np.arange(past, past + seq, dtype=np.int64)[None], **cache)
        compare("past %d, %d new" % (past, seq), m, sess, feeds)
    m.close()

    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("all lengths match ONNX Runtime from one library per model")
    return 0


if __name__ == "__main__":
    sys.exit(main())
