#!/usr/bin/env python3
"""Turns the JSON of `quantc eval --json FILE` into the Markdown of
docs/accuracy.md's tables: per model, the summary of the matched and
best-effort choices (chosen on validation, reported on test, with the 95%
paired-bootstrap interval of the difference), then every row with its
validation and test values, the test interval, the layers it quantized,
where it ran and its latency in ONNX Runtime's default session.

    eval_table.py EVAL.json [MORE.json ...]   (later files add models)
        [--into docs/accuracy.md]   replace what lies between the lines
                                    <!-- tables --> and <!-- /tables -->
"""
import argparse
import json
import math


def f(v):
    if v is None:
        return "-"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return "%.4f" % v if abs(v) < 10 else "%.2f" % v


def model_tables(name, m, out):
    key = m["metric_keys"][0]
    calib = m["calib_samples"]
    calib = "+".join(map(str, calib)) if isinstance(calib, list) else str(calib)
    out.append("### %s (`%s`): %s%s; calib %s, val %d, test %d samples\n" %
               (name, m["model"], key, " (lower is better)" if m.get("lower_is_better") else "", calib,
                m["val_samples"], m["test_samples"]))
    fl = next(r for r in m["rows"] if r["side"] == "float")
    out.append("float on test: %s\n" % ", ".join("%s %s" % (k, f(v)) for k, v in fl["test"].items()))
    for table, s in m["summary"].items():
        peer, side = s.get("peer", s.get("ORT")), s.get("peer_side", "ORT")
        if s.get("quantc") and peer:
            lo, hi = s["ci"]
            better, worse = (hi < 0, lo > 0) if m.get("lower_is_better") else (lo > 0, hi < 0)
            verdict = "quantc better" if better else "%s better" % side if worse else "no significant difference"
            out.append("* **%s**: %s %s vs %s %s on test; quantc − %s = %s [95%% CI %s, %s]: %s\n" %
                       (table, s["quantc"], f(s["quantc_test"]), peer, f(s.get("peer_test", s.get("ORT_test"))),
                        side, f(s["diff"]), f(lo), f(hi), verdict))
        elif s.get("quantc"):
            out.append("* **%s**: %s %s on test; no %s row was built\n" % (table, s["quantc"], f(s["quantc_test"]),
                                                                          side))
    out.append("")
    out.append("| candidate | table | runs in | val %s | test %s | test 95%% CI | other test metrics | layers | "
               "ORT default ms |" % (key, key))
    out.append("|---|---|---|---:|---:|---|---|---:|---:|")
    for r in m["rows"]:
        if "error" in r:
            out.append("| %s | %s | %s | failed: %s | | | | | |" % (r["candidate"], r["table"], r["runs_in"],
                                                                   r["error"].replace("|", "/")))
            continue
        others = ", ".join("%s %s" % (k, f(v)) for k, v in r["test"].items() if k != key)
        ci = r.get("test_ci") or [None, None]
        out.append("| %s | %s | %s | %s | %s | [%s, %s] | %s | %s | %s |" %
                   (r["candidate"] + (" " + r["note"] if r.get("note") else ""), r["table"], r["runs_in"],
                    f(r["val"][key]), f(r["test"][key]), f(ci[0]), f(ci[1]), others, r["layers"],
                    f(r["latency_ms"])))
    out.append("")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--into", help="a Markdown file whose <!-- tables --> section is replaced")
    args = ap.parse_args()
    models, head = {}, None
    for path in args.files:
        d = json.load(open(path))
        head = head or d
        models.update(d["models"])
    out = ["CPU: %s (%s); %s\n" % (head["cpu"], " ".join(head["cpu_features"]),
                                    ", ".join("%s %s" % kv for kv in head["versions"].items()))]
    for name, m in models.items():
        model_tables(name, m, out)
    text = "\n".join(out)
    if args.into:
        doc = open(args.into, encoding="utf-8").read()
        a, b = doc.find("<!-- tables -->"), doc.find("<!-- /tables -->")
        if a < 0 or b < a:
            raise SystemExit("%s: no <!-- tables --> ... <!-- /tables --> section" % args.into)
        doc = doc[:a] + "<!-- tables -->\n" + text + "\n" + doc[b:]
        open(args.into, "w", encoding="utf-8").write(doc)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
