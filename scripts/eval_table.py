#!/usr/bin/env python3
"""Turns the JSON of `quantc eval --json FILE` into the Markdown tables of
docs/accuracy.md: one table per model, one row per candidate, the metrics
as columns (failed candidates show their error)."""
import json
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: eval_table.py EVAL.json [MORE.json ...] (later files replace models)")
    results = {}
    for path in sys.argv[1:]:
        results.update(json.load(open(path)))
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
