#!/usr/bin/env python3
"""Compile and run every libonnx-testdata model with `quantc run` and compare
its outputs with the expected ones that ship with the test data.

Tolerances are ONNX's backend-test defaults (rtol 1e-3, atol 1e-7); cases
that need more are listed in LOOSER with the reason. Prints passed / failed /
unsupported / crashed per op type and in total.

  --write-passing FILE   record the passing cases
  --check-passing FILE   exit non-zero if any case listed in FILE does not pass
"""
import argparse
import collections
import concurrent.futures
import glob
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

SUITES = ["node", "pytorch-converted", "pytorch-operator", "simple"]
RTOL, ATOL = 1e-3, 1e-7
# case -> (rtol, atol, reason)
LOOSER = {}


def case_name(data, d):
    return os.path.relpath(d, data)


def run_case(args, d):
    try:
        return run_case_unchecked(args, d)
    except Exception as e:  # test data the harness cannot read (sequences, ...)
        return ("unsupported", "error: test data not readable as tensors: %s" % e)


def run_case_unchecked(args, d):
    model_path = os.path.join(d, "model.onnx")
    model = onnx.load(model_path, load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in inits]
    outputs = [o.name for o in model.graph.output]
    sets = sorted(glob.glob(os.path.join(d, "test_data_set_*")))
    if not sets:
        return ("unsupported", "no test data")
    with tempfile.TemporaryDirectory() as tmp:
        # Every test data set of the case, not only the first.
        for k, s in enumerate(sets):
            out_dir = os.path.join(tmp, "out%d" % k)
            cmd = [args.quantc, "run", model_path, "--output-dir", out_dir]
            in_files = sorted(glob.glob(os.path.join(s, "input_*.pb")),
                              key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0]))
            if len(in_files) != len(inputs):
                return ("unsupported", "test data has %d inputs, the graph %d" % (len(in_files), len(inputs)))
            for name, f in zip(inputs, in_files):
                t = onnx.TensorProto()
                t.ParseFromString(open(f, "rb").read())
                arr = numpy_helper.to_array(t)
                path = os.path.join(tmp, "in%d.npy" % len(cmd))
                np.save(path, np.require(arr, requirements="C"))  # keeps 0-d arrays 0-d
                cmd += ["--input", "%s=%s" % (name, path)]
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                return ("crashed", "timeout")
            if p.returncode != 0:
                if p.returncode == 1 and "error:" in p.stderr:
                    return ("unsupported", p.stderr.strip())
                return ("crashed", "exit %d: %s" % (p.returncode, p.stderr.strip()[-400:]))
            out_files = sorted(glob.glob(os.path.join(s, "output_*.pb")),
                               key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0]))
            rtol, atol, _ = LOOSER.get(case_name(args.data, d), (RTOL, ATOL, ""))
            # Every output of the graph must have its expected file (zip()
            # alone would pass a case whose outputs are not all checked).
            if len(out_files) != len(outputs):
                return ("unsupported" if not out_files else "failed",
                        "%s: %d expected output files for %d graph outputs" %
                        (os.path.basename(s), len(out_files), len(outputs)))
            for name, f in zip(outputs, out_files):
                t = onnx.TensorProto()
                t.ParseFromString(open(f, "rb").read())
                want = numpy_helper.to_array(t)
                fname = re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "output"
                got_path = os.path.join(out_dir, fname + ".npy")
                if not os.path.exists(got_path):
                    return ("failed", "%s: output %s missing" % (os.path.basename(s), name))
                got = np.load(got_path)
                if got.shape != want.shape:
                    return ("failed", "output %s: shape %s, expected %s" % (name, got.shape, want.shape))
                if got.dtype != want.dtype:
                    return ("failed", "output %s: dtype %s, expected %s" % (name, got.dtype, want.dtype))
                if want.dtype.kind in "fc":
                    ok = np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
                else:
                    ok = np.array_equal(got, want)
                if not ok:
                    diff = np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))) if got.size else 0
                    return ("failed", "%s: output %s: max abs diff %g" % (os.path.basename(s), name, diff))
    return ("passed", "")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--data", default="/usr/share/libonnx-testdata/data")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--filter", default="")
    ap.add_argument("--write-passing")
    ap.add_argument("--check-passing")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    dirs = []
    for suite in SUITES:
        for d in sorted(glob.glob(os.path.join(args.data, suite, "*"))):
            if os.path.exists(os.path.join(d, "model.onnx")) and args.filter in d:
                dirs.append(d)
    if args.check_passing:
        listed = set(l.strip() for l in open(args.check_passing) if l.strip() and not l.startswith("#"))
        found = {case_name(args.data, d) for d in dirs}
        vanished = sorted(listed - found) if not args.filter else []
        dirs = [d for d in dirs if case_name(args.data, d) in listed]
    results = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futs = {pool.submit(run_case, args, d): d for d in dirs}
        for f in concurrent.futures.as_completed(futs):
            results[futs[f]] = f.result()

    per_op = collections.defaultdict(collections.Counter)
    totals = collections.Counter()
    reasons = collections.Counter()
    for d in dirs:
        status, msg = results[d]
        totals[status] += 1
        m = onnx.load(os.path.join(d, "model.onnx"), load_external_data=False)
        for op in sorted({n.op_type for n in m.graph.node}):
            per_op[op][status] += 1
        if status == "unsupported":
            first = msg.splitlines()[-1] if msg else msg
            reasons[re.sub(r"'[^']*'|\d+", "…", first)[:120]] += 1
        if args.verbose and status != "passed":
            print("%s %s: %s" % (status.upper(), case_name(args.data, d), msg[:300]))
    print("| op type | models | passed | failed | unsupported | crashed |")
    print("|---|---:|---:|---:|---:|---:|")
    for op in sorted(per_op):
        c = per_op[op]
        print("| %s | %d | %d | %d | %d | %d |" % (op, sum(c.values()), c["passed"], c["failed"],
                                                   c["unsupported"], c["crashed"]))
    print("\nMost common reasons for unsupported:")
    for r, n in reasons.most_common(20):
        print("  %4d  %s" % (n, r))
    for d in dirs:
        s, m = results[d]
        if s in ("crashed", "failed"):
            print("%s: %s %s" % (s.upper(), case_name(args.data, d), m[:300]))
    print("\ncases: %d  passed: %d  failed: %d  unsupported: %d  crashed: %d" %
          (len(dirs), totals["passed"], totals["failed"], totals["unsupported"], totals["crashed"]))
    if args.write_passing:
        with open(args.write_passing, "w") as f:
            f.write("# libonnx-testdata cases that pass numerically (scripts/conformance.py)\n")
            for d in dirs:
                if results[d][0] == "passed":
                    f.write(case_name(args.data, d) + "\n")
    if args.check_passing:
        bad = [d for d in dirs if results[d][0] != "passed"]
        for d in bad:
            print("REGRESSION: %s %s" % (case_name(args.data, d), results[d][1][:300]))
        for c in vanished:
            print("REGRESSION: %s is listed but not in %s" % (c, args.data))
        print("%d passed, %d failed" % (len(dirs) - len(bad), len(bad) + len(vanished)))
        return 1 if bad or vanished or not dirs else 0
    return 1 if totals["crashed"] else 0


if __name__ == "__main__":
    sys.exit(main())
