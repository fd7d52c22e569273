#!/usr/bin/env python3
"""`quantc report` opened in headless Chromium (issue 14: the report people read).

Renders a real allocation plan (SmolLM2, docs/eval/smollm2-allocation-4.56bpw.json)
and loads it in Chromium twice:

  * `--dump-dom` of `report.html#sort=-share`: the DOM after the inline script
    ran. The layer table must hold one row per layer of the plan, sorted by
    each layer's share of the summed estimated error, largest first, as
    computed here from the JSON; the three plots must be there.
  * `--screenshot`: the page as drawn. The picture must show each chosen
    format's colour (table swatches, bars, dots) on a mostly white page.

Exits non-zero on any failure; prints what it checked.
"""
import argparse
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile

from PIL import Image


class Dom(html.parser.HTMLParser):
    """The layer table's rows (their cells' data-v), the svg ids, the table's
    data-sorted attribute."""

    def __init__(self):
        super().__init__()
        self.rows, self.svgs, self.sorted = [], [], None
        self._in_table, self._row = False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "layers":
            self._in_table, self.sorted = True, a.get("data-sorted")
        elif tag == "svg":
            self.svgs.append(a.get("id"))
        elif self._in_table and tag == "tr":
            self._row = []
        elif self._in_table and tag == "td" and self._row is not None:
            self._row.append(a.get("data-v"))

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.rows.append(self._row)
            self._row = None


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    sys.exit("error: no chromium found: scripts/bootstrap installs Debian's chromium")


def run_chromium(args, tmp):
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--user-data-dir=" + os.path.join(tmp, "profile")] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if p.returncode != 0:
        sys.exit("error: %s exited %d:\n%s" % (cmd[0], p.returncode, p.stderr[-2000:]))
    return p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--plan", required=True, help="an allocation plan JSON (quantc quantize --allocation-json)")
    args = ap.parse_args()
    plan = json.load(open(args.plan))
    layers = plan["layers"]
    chosen = [l["candidates"][l["format"]] for l in layers]  # [bits, error]
    total = sum(c[1] for c in chosen)
    share = [100.0 * c[1] / total for c in chosen]
    want_order = sorted(range(len(layers)), key=lambda i: -share[i])
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "report.html")
        p = subprocess.run([args.quantc, "report", args.plan, "-o", out], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("error: quantc report failed:\n" + p.stderr)
        dom_text = run_chromium(["--dump-dom", "file://%s#sort=-share" % out], tmp)
        dom = Dom()
        dom.feed(dom_text)
        print("DOM after the script: %d table rows, data-sorted=%r, svgs %s" % (len(dom.rows), dom.sorted, dom.svgs))
        if len(dom.rows) != len(layers):
            failures.append("%d table rows for %d layers" % (len(dom.rows), len(layers)))
        if dom.sorted != "-share":
            failures.append("the table was not sorted on load (data-sorted=%r)" % dom.sorted)
        got_order = [int(float(r[0])) for r in dom.rows]
        # Ties in share may come in either order: compare the shares.
        got_share = [share[i] for i in got_order]
        if [round(s, 9) for s in got_share] != [round(share[i], 9) for i in want_order]:
            failures.append("rows not in descending share order: first %s, want %s" % (got_order[:5], want_order[:5]))
        else:
            print("rows in descending share: first %s (%s, %.2f%%)" % (got_order[:3], layers[got_order[0]]["name"],
                                                                        got_share[0]))
        for r, i in zip(dom.rows, got_order):
            if r[1] != layers[i]["name"] or r[3] != layers[i]["format"]:
                failures.append("row %d shows %s/%s, the plan %s/%s" % (i, r[1], r[3], layers[i]["name"],
                                                                        layers[i]["format"]))
                break
        for svg in ("sensitivity", "bytes", "share"):
            if svg not in dom.svgs:
                failures.append("plot %r missing" % svg)

        png = os.path.join(tmp, "report.png")
        run_chromium(["--window-size=1280,2400", "--screenshot=" + png, "file://" + out], tmp)
        img = Image.open(png).convert("RGB")
        px = img.load()
        w, h = img.size
        counts = {}
        white = 0
        for y in range(0, h, 2):
            for x in range(0, w, 2):
                c = px[x, y]
                counts[c] = counts.get(c, 0) + 1
                white += c == (255, 255, 255)
        n = sum(counts.values())
        print("screenshot %dx%d: %.1f%% white, %d colours" % (w, h, 100.0 * white / n, len(counts)))
        if not (0.5 <= white / n <= 0.99):
            failures.append("screenshot is %.1f%% white: blank or unstyled" % (100.0 * white / n))
        formats = sorted({l["format"] for l in layers})
        for f in formats:
            # The format's swatch colour, from the table in the DOM.
            colour = swatch_colour(dom_text, f)
            if colour is None:
                failures.append("format %s has no swatch in the DOM" % f)
                continue
            rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
            seen = sum(v for c, v in counts.items() if max(abs(c[k] - rgb[k]) for k in range(3)) <= 8)
            print("  %-18s %s: %d sampled pixels" % (f, colour, seen))
            if seen < 20:
                failures.append("format %s's colour %s is (almost) not on the screenshot (%d pixels)" % (f, colour, seen))
    for f in failures:
        print("FAIL: " + f)
    print("%d failed" % len(failures))
    return 1 if failures else 0


def swatch_colour(dom_text, fmt):
    """The background of the swatch in the format-totals row of `fmt`."""
    marker = '</i>%s</td>' % fmt
    i = dom_text.find(marker)
    if i < 0:
        return None
    j = dom_text.rfind("background:", 0, i)
    return dom_text[j + len("background:"):j + len("background:") + 7].lower()


if __name__ == "__main__":
    sys.exit(main())
