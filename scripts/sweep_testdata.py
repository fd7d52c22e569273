#!/usr/bin/env python3
"""Import every model of Debian's libonnx-testdata with `quantc import`.

Prints a table per op type of imported / rejected-with-diagnostic / crashed,
and the most common rejection reasons. An imported model is also parsed and
verified again by `quant-opt`, which re-infers every result shape with
qc-infer-shapes and fails where that contradicts ONNX's shape inference. With --check, exits non-zero when any model
crashed, when a rejection does not name what was wrong, or when fewer than
--min-imported models import.
"""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

SUITES = ["node", "pytorch-converted", "pytorch-operator", "simple"]


def op_types(model_path):
    import onnx
    m = onnx.load(model_path, load_external_data=False)
    return sorted({(n.domain + "::" if n.domain not in ("", "ai.onnx") else "") + n.op_type
                   for n in m.graph.node})


def run_one(args, model_dir, tmpdir):
    model = os.path.join(model_dir, "model.onnx")
    out = os.path.join(tmpdir, os.path.basename(model_dir) + "-" +
                       os.path.basename(os.path.dirname(model_dir)) + ".mlir")
    try:
        p = subprocess.run([args.quantc, "import", model, "-o", out],
                           capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return ("crashed", "timeout")
    err = p.stderr.strip()
    if p.returncode == 0:
        # qc-infer-shapes recomputes every result shape with our rules and
        # fails on a contradiction with what ONNX's shape inference said.
        q = subprocess.run([args.quant_opt, out, "--qc-infer-shapes", "-o", os.devnull],
                           capture_output=True, text=True, timeout=120)
        os.unlink(out)
        if q.returncode != 0:
            return ("crashed", "quant-opt --qc-infer-shapes failed: " + q.stderr.strip()[:400])
        return ("imported", "")
    if p.returncode == 1 and "error:" in err:
        if os.path.exists(out):
            return ("crashed", "an output file was left behind after an error")
        return ("rejected", err)
    return ("crashed", "exit code %d: %s" % (p.returncode, err[-300:]))


def reason_key(msg):
    m = re.search(r"error: .*?: (node .*?\)|initializer|graph input|the graph)?:? ?(.*)", msg)
    text = m.group(2) if m else msg
    text = re.sub(r"'[^']*'", "'…'", text.splitlines()[0] if text else text)
    return text[:110]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--quant-opt", required=True)
    ap.add_argument("--data", default="/usr/share/libonnx-testdata/data")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--min-imported", type=int, default=0)
    ap.add_argument("--imported-list",
                    help="with --check: every model listed in this file must import (a ratchet: "
                         "a model that imported once may not stop); with --write-imported: write it")
    ap.add_argument("--write-imported", action="store_true",
                    help="write the models that import to --imported-list")
    ap.add_argument("--json", help="write per-model results here")
    args = ap.parse_args()

    dirs = []
    for suite in SUITES:
        root = os.path.join(args.data, suite)
        for d in sorted(os.listdir(root)):
            if os.path.exists(os.path.join(root, d, "model.onnx")):
                dirs.append(os.path.join(root, d))
    results = {}
    with tempfile.TemporaryDirectory() as tmp, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futs = {pool.submit(run_one, args, d, tmp): d for d in dirs}
        for f in concurrent.futures.as_completed(futs):
            results[futs[f]] = f.result()

    per_op = collections.defaultdict(collections.Counter)
    totals = collections.Counter()
    reasons = collections.Counter()
    bad_messages = []
    for d in dirs:
        status, msg = results[d]
        totals[status] += 1
        for op in op_types(os.path.join(d, "model.onnx")):
            per_op[op][status] += 1
        if status == "rejected":
            reasons[reason_key(msg)] += 1
            if not re.search(r"node ('[^']*'|#\d+) \(|initializer '|graph (input|output) '|the graph|opset \d+ is not supported|tensor '", msg):
                bad_messages.append((d, msg))

    print("| op type | models | imported | rejected | crashed |")
    print("|---|---:|---:|---:|---:|")
    for op in sorted(per_op):
        c = per_op[op]
        print("| %s | %d | %d | %d | %d |" % (op, sum(c.values()), c["imported"],
                                            c["rejected"], c["crashed"]))
    print()
    print("Most common rejection reasons:")
    for r, n in reasons.most_common(25):
        print("  %4d  %s" % (n, r))
    crashed = [(d, m) for d, (s, m) in results.items() if s == "crashed"]
    for d, m in crashed:
        print("CRASHED:", d, m)
    for d, m in bad_messages:
        print("UNCLEAR REJECTION:", d, m)
    print()
    print("models: %d  imported: %d  rejected-with-diagnostic: %d  crashed: %d" %
          (len(dirs), totals["imported"], totals["rejected"], totals["crashed"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({os.path.relpath(d, args.data): s for d, (s, _) in results.items()},
                      f, indent=1, sort_keys=True)
    imported = sorted(os.path.relpath(d, args.data) for d, (s, _) in results.items() if s == "imported")
    if args.write_imported and args.imported_list:
        with open(args.imported_list, "w") as f:
            f.write("# libonnx-testdata models that import (scripts/sweep_testdata.py --write-imported)\n")
            f.writelines(m + "\n" for m in imported)
    if args.check:
        ok = not crashed and not bad_messages and totals["imported"] >= args.min_imported
        if not totals["imported"] >= args.min_imported:
            print("FAIL: only %d models imported; at least %d expected" %
                  (totals["imported"], args.min_imported))
        if args.imported_list:
            listed = [l.strip() for l in open(args.imported_list) if l.strip() and not l.startswith("#")]
            lost = sorted(set(listed) - set(imported))
            for m in lost:
                print("FAIL: %s imported before (listed in %s) and no longer does: %s" %
                      (m, args.imported_list, results.get(os.path.join(args.data, m), ("missing", ""))[1][:200]))
            new = sorted(set(imported) - set(listed))
            if new:
                print("%d model(s) import that %s does not list yet (ratchet it with --write-imported): %s" %
                      (len(new), args.imported_list, ", ".join(new[:10]) + (" ..." if len(new) > 10 else "")))
            ok = ok and not lost and bool(listed)
        print("import sweep: %s" % ("ok" if ok else "FAILED"))
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
