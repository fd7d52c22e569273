#!/usr/bin/env python3
"""quantc-kernel-bench --peak on this machine: every peak loop the CPU has
reports a positive, finite rate, the paths the GEMMs ran have a peak row
(so their rows get a fraction), the triad a positive bandwidth, and the
GEMM row's fractions lie in (0, 200]% (the peak may be measured while
another process shares the core). Prints what ran. NaN-safe."""
import argparse
import math
import re
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bench", required=True)
    a = ap.parse_args()
    p = subprocess.run([a.bench, "--peak", "--threads", "1", "--runs", "3", "--shape", "192x256x512"],
                       capture_output=True, text=True, timeout=600)
    print(p.stdout, p.stderr, flush=True)
    fails = []
    if p.returncode != 0:
        fails.append("exit %d" % p.returncode)
    paths = dict(re.findall(r"(sgemm|igemm)=(\S+)", p.stdout))
    peaks = re.findall(r"^  (.+?)\s+([-+0-9.eEnaNinf]+) G(?:FLOP|OP)/s$", p.stdout, re.M)
    if not peaks:
        fails.append("no peak rows")
    for name, v in peaks:
        v = float(v)
        if not (v > 0 and math.isfinite(v)):
            fails.append("peak %r is %g" % (name, v))
    for kind, path in paths.items():
        if path != "generic" and not any("(%s %s" % (path, kind) in n for n, _ in peaks):
            fails.append("no peak row for the %s path %s" % (kind, path))
    m = re.search(r"triad.*?([-+0-9.eEnaNinf]+) GB/s", p.stdout)
    if not m or not (float(m.group(1)) > 0):
        fails.append("no positive triad bandwidth")
    # The GEMM row ends in one "% of peak" column per kernel: f32, int8,
    # and (where the header has it) int8 with B a weight packed once.
    header = re.search(r"^M x N x K .*$", p.stdout, re.M)
    cols = re.findall(r"(f32|int8 B once|int8) % of peak", header.group(0)) if header else []
    row = re.search(r"^192x256x512 .*$", p.stdout, re.M)
    fracs = re.findall(r"([-+0-9.eEnaNinf]+)%", row.group(0)) if row else []
    if not cols or len(fracs) < len(cols):
        fails.append("no GEMM row with fractions of peak")
    else:
        weight_path = re.search(r"igemm with B a weight \(packed once\): (\S+)", p.stdout)
        kernel_of = {"f32": paths.get("sgemm"), "int8": paths.get("igemm"),
                     "int8 B once": weight_path.group(1) if weight_path else None}
        for kind, frac in zip(cols, fracs[-len(cols):]):
            if kernel_of[kind] in (None, "generic"):
                continue
            # Up to 2x: the peak loop and the GEMM run at different moments,
            # and under ctest -j2 another process may share the core during
            # one of them (this check failed once at <= 100 while a
            # perplexity eval ran beside the suite); a units or FLOP-count
            # slip is off by 1000x.
            print("%s (%s): %s%% of its peak" % (kind, kernel_of[kind], frac))
            if not (0 < float(frac) <= 200):
                fails.append("%s at %s%% of its peak" % (kind, frac))
    for f in fails:
        print("FAIL:", f)
    print("PASS" if not fails else "%d failure(s)" % len(fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
