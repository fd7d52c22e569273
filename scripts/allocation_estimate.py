#!/usr/bin/env python3
"""How well a bit allocation's summed estimate predicts the measured metric.

Reads allocation plans (quantc quantize --allocation-json) and quantc eval
--json files with rows `quantc allocation NAME` (NAME a plan's file name;
plans found under --plans-dir), and prints per plan: bits per weight, the
plan's estimated error (its metric: for "kl:logits" nats per position,
the unit of ln(perplexity)), and the measured ln(ppl / ppl_float) on the
validation and test splits, with their ratio; then the Pearson and rank
correlations of estimate and measurement over the plans.
"""
import argparse
import json
import math
import os
import sys


def rows_of(paths, model):
    rows = {}
    for p in paths:
        m = json.load(open(p))["models"][model]
        for r in m["rows"]:
            rows[r["candidate"]] = r
    return rows


def pearson(x, y):
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")


def ranks(v):
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0] * len(v)
    for k, i in enumerate(order):
        r[i] = k
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plans-dir", required=True)
    ap.add_argument("--evals", nargs="+", required=True)
    ap.add_argument("--model", default="smollm2")
    args = ap.parse_args()
    rows = rows_of(args.evals, args.model)
    if "float" not in rows:
        sys.exit("error: no float row in %s" % ", ".join(args.evals))
    fv, ft = rows["float"]["val"]["ppl"], rows["float"]["test"]["ppl"]
    pts = []
    for name, r in rows.items():
        if not name.startswith("quantc allocation "):
            continue
        plan_path = os.path.join(args.plans_dir, name[len("quantc allocation "):])
        if not os.path.exists(plan_path):
            sys.exit("error: %s: no plan %s" % (name, plan_path))
        plan = json.load(open(plan_path))
        mv = math.log(r["val"]["ppl"] / fv)
        mt = math.log(r["test"]["ppl"] / ft)
        pts.append((plan["bits_per_weight"], plan["estimated_error"], mv, mt,
                    plan.get("metric", "mse"), os.path.basename(plan_path)))
    if not pts:
        sys.exit("error: no allocation rows")
    pts.sort()
    print("%-36s %6s %10s %12s %12s %12s %10s" % ("plan", "bpw", "metric", "estimate",
                                                  "ln val/fl", "ln test/fl", "val/est"))
    for bpw, est, mv, mt, metric, name in pts:
        print("%-36s %6.3f %10s %12.4e %12.4e %12.4e %10.2f"
              % (name, bpw, metric, est, mv, mt, mv / est if est > 0 else float("nan")))
    if len(pts) > 2:
        est = [p[1] for p in pts]
        for k, split in ((2, "val"), (3, "test")):
            got = [p[k] for p in pts]
            print("%s: Pearson %.3f, Spearman %.3f over %d plans"
                  % (split, pearson(est, got), pearson(ranks(est), ranks(got)), len(pts)))


if __name__ == "__main__":
    main()
