#!/usr/bin/env python3
"""Turns the JSON of `quantc eval --json FILE` into the Markdown tables of
docs/accuracy.md: one table per model, one row per candidate, the metrics
as columns (failed candidates show their error).

    eval_table.py EVAL.json [MORE.json ...]      later files replace models
        [--rows-from FILE]   rows of FILE replace the rows of the same
                             candidate (or are added), model by model
        [--ort-from FILE]    ONNX Runtime's rows (kind ort_*) taken from FILE
                             (an earlier run on the same data and models)
        [--write OUT.json]   the merged JSON
"""
import argparse
import json


def merge_rows(rows, extra):
    names = [r["candidate"] for r in rows]
    out = list(rows)
    for r in extra:
        if r["candidate"] in names:
            out[names.index(r["candidate"])] = r
        else:
            out.append(r)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--rows-from", action="append", default=[])
    ap.add_argument("--ort-from")
    ap.add_argument("--write")
    args = ap.parse_args()
    results = {}
    for path in args.files:
        results.update(json.load(open(path)))
    for path in args.rows_from:
        for model, rows in json.load(open(path)).items():
            results[model] = merge_rows(results.get(model, []), [r for r in rows if r["kind"] != "float"])
    if args.ort_from:
        for model, rows in json.load(open(args.ort_from)).items():
            if model in results:
                results[model] = [r for r in results[model] if not r["kind"].startswith("ort")] + \
                                 [r for r in rows if r["kind"].startswith("ort")]
    if args.write:
        with open(args.write, "w") as f:
            json.dump(results, f, indent=1)
    for model, rows in results.items():
        keys = []
        for r in rows:
            for k in r.get("metrics", {}):
                if k not in keys:
                    keys.append(k)
        print("### %s\n" % model)
        print("| candidate | layers | " + " | ".join(keys) + " |")
        print("|---|---:|" + "---:|" * len(keys))
        for r in rows:
            if "metrics" in r:
                vals = ["inf" if v == float("inf") else ("%.4f" % v if abs(v) < 10 else "%.2f" % v)
                        for v in (r["metrics"].get(k) for k in keys)]
                layers = str(r.get("layers", "")) if r.get("layers") is not None else ""
                print("| %s | %s | %s |" % (r["candidate"], layers, " | ".join(vals)))
            else:
                print("| %s | | %s |" % (r["candidate"], "failed: " + r["error"].replace("|", "/")[:120]))
        print()


if __name__ == "__main__":
    main()
