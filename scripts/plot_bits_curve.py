#!/usr/bin/env python3
"""Perplexity against bits per weight: bit allocations against uniform formats.

Reads
  --plan P.json      one allocation plan (quantc quantize --allocation-json): its
                     candidates give the bits per weight of every uniform
                     format (every layer in that format, scales counted) and of
                     the allocations, whose plans are named by their rows;
  --evals E.json...  quantc eval --json files with the rows to plot;
and writes an SVG (inline, no external references) with two series:
uniform formats (rows named `quantc FORMAT`, FORMAT a candidate of the
plan) and allocations (rows `quantc allocation FILE.json`, FILE found
beside --plan or under --plans-dir), test perplexity against bits per
weight, and the float model's perplexity as a line. Prints the points.
"""
import argparse
import json
import os
import sys


def bits_per_weight(plan, fmt=None):
    """Bits per weight of the plan's choice, or of every layer in `fmt`
    (a layer without that candidate keeps its choice)."""
    bits = params = 0
    for layer in plan["layers"]:
        c = layer["candidates"]
        bits += c[fmt][0] if fmt in c else c[layer["format"]][0]
        params += layer["params"]
    return bits / params


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--plans-dir", help="where the allocation rows' plans are (default: --plan's directory)")
    ap.add_argument("--evals", nargs="+", required=True)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--split", default="test", choices=("val", "test"))
    ap.add_argument("--title", default="SmolLM2-135M: perplexity against weight bits (GPTQ)")
    ap.add_argument("--exclude", nargs="*", default=[], help="rows (candidate names) left out")
    ap.add_argument("--series", nargs="*", default=[], metavar="TEXT=LABEL",
                    help="allocation rows whose plan name contains TEXT drawn as their own series "
                         "LABEL (first match wins; rows matching none are left out); default: one "
                         "series of every allocation row")
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    plan = json.load(open(args.plan))
    plans_dir = args.plans_dir or os.path.dirname(os.path.abspath(args.plan))
    formats = {f for layer in plan["layers"] for f in layer["candidates"]}
    series_of = [s.split("=", 1) for s in args.series]
    if any(len(s) != 2 for s in series_of):
        sys.exit("error: --series expects TEXT=LABEL")
    labels = [l for _, l in series_of] or ["allocation (GPTQ)"]
    uniform, allocs, float_ppl = {}, {l: {} for l in labels}, None
    for path in args.evals:
        rows = json.load(open(path))["models"][args.model]["rows"]
        for r in rows:
            if args.split not in r or r["candidate"] in args.exclude:
                continue
            ppl, name = r[args.split]["ppl"], r["candidate"]
            if name == "float":
                float_ppl = ppl
            elif name.startswith("quantc allocation "):
                f = os.path.join(plans_dir, name[len("quantc allocation "):])
                if not os.path.exists(f):
                    sys.exit("error: %s: row %r: plan %s not found" % (path, name, f))
                label = next((l for t, l in series_of if t in name), None) if series_of \
                    else labels[0]
                if label is None:
                    print("left out (no --series matches): %s" % name)
                    continue
                allocs[label][name] = (bits_per_weight(json.load(open(f))), ppl)
            elif name.startswith("quantc ") and name[len("quantc "):].split("/")[0] in formats:
                # weight-only rows may carry a calibrator ("/minmax") in older JSON
                fmt = name[len("quantc "):].split("/")[0]
                uniform["quantc " + fmt] = (bits_per_weight(plan, fmt), ppl)
    if not uniform and not any(allocs.values()):
        sys.exit("error: no uniform-format or allocation rows in %s" % ", ".join(args.evals))
    for label, series in [("uniform", uniform)] + list(allocs.items()):
        for name, (b, p) in sorted(series.items(), key=lambda kv: kv[1][0]):
            print("%-10s %6.3f bpw  %s ppl %7.2f  %s" % (label, b, args.split, p, name))
    if float_ppl is not None:
        print("float      32 bpw  %s ppl %7.2f" % (args.split, float_ppl))

    W, H, L, R, T, B = 720, 420, 70, 170, 40, 50
    pts = list(uniform.values()) + [v for a in allocs.values() for v in a.values()]
    xmin = min(b for b, _ in pts) - 0.1
    xmax = max(b for b, _ in pts) + 0.1
    ys = [p for _, p in pts] + ([float_ppl] if float_ppl else [])
    ymin, ymax = min(ys) * 0.97, max(ys) * 1.03
    sx = lambda x: L + (x - xmin) / (xmax - xmin) * (W - L - R)
    sy = lambda y: T + (ymax - y) / (ymax - ymin) * (H - T - B)
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">' % (W, H, W, H),
         '<style>text{font:12px "DejaVu Sans",sans-serif;fill:#333}.g{stroke:#eee}.a{stroke:#333}</style>',
         '<rect width="100%" height="100%" fill="#fff"/>',
         '<text x="%d" y="22" font-weight="bold">%s</text>' % (L, args.title)]
    step = 0.5 if xmax - xmin <= 5 else 1.0
    x = round(xmin / step + 0.4999) * step
    while x <= xmax:
        o.append('<line class="g" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/>' % (sx(x), sx(x), T, H - B))
        o.append('<text x="%.1f" y="%d" text-anchor="middle">%g</text>' % (sx(x), H - B + 16, x))
        x += step
    ystep = 1 if ymax - ymin <= 8 else 2 if ymax - ymin <= 16 else 5
    y = int(ymin / ystep + 1) * ystep
    while y <= ymax:
        o.append('<line class="g" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>' % (L, W - R, sy(y), sy(y)))
        o.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>' % (L - 6, sy(y) + 4, y))
        y += ystep
    o.append('<line class="a" x1="%d" x2="%d" y1="%d" y2="%d"/>' % (L, W - R, H - B, H - B))
    o.append('<line class="a" x1="%d" x2="%d" y1="%d" y2="%d"/>' % (L, L, T, H - B))
    o.append('<text x="%d" y="%d" text-anchor="middle">bits per weight (scales and zero points counted)</text>'
             % ((L + W - R) // 2, H - 12))
    o.append('<text transform="translate(16,%d) rotate(-90)" text-anchor="middle">%s perplexity</text>'
             % ((T + H - B) // 2, args.split))
    if float_ppl:
        o.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#999" stroke-dasharray="4 3"/>'
                 % (L, W - R, sy(float_ppl), sy(float_ppl)))
        o.append('<text x="%d" y="%.1f">float %.2f</text>' % (W - R + 6, sy(float_ppl) + 4, float_ppl))
    colours = ["#0072B2", "#009E73", "#CC79A7", "#E69F00"]
    drawn = [("uniform format (GPTQ)", uniform, "#D55E00")] + \
        [(l, allocs[l], colours[i % len(colours)]) for i, l in enumerate(labels)]
    for (label, series, colour), ly in zip(drawn, range(T + 10, H, 20)):
        s = sorted(series.values())
        if len(s) > 1:
            o.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                     % (colour, " ".join("%.1f,%.1f" % (sx(b), sy(p)) for b, p in s)))
        for b, p in s:
            o.append('<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%.3f bpw, ppl %.2f</title></circle>'
                     % (sx(b), sy(p), colour, b, p))
        o.append('<circle cx="%d" cy="%d" r="4" fill="%s"/><text x="%d" y="%d">%s</text>'
                 % (W - R + 10, ly, colour, W - R + 18, ly + 4, label))
    o.append("</svg>")
    with open(args.out + ".tmp", "w") as f:
        f.write("\n".join(o) + "\n")
    os.replace(args.out + ".tmp", args.out)
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
