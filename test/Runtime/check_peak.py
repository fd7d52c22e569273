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
    row = re.search(r"^192x256x512 .*?(\S+)%\s+(\S+)%$", p.stdout, re.M)
    if not row:
        fails.append("no GEMM row with fractions of peak")
    else:
        for kind, frac in zip(("f32", "int8"), row.groups()):
            if paths.get("sgemm" if kind == "f32" else "igemm") == "generic":
                continue
            # Up to 2x: the peak loop and the GEMM run at different moments,
            # and under ctest -j2 another process may share the core during
            # one of them (this check failed once at <= 100 while a
            # perplexity eval ran beside the suite); a units or FLOP-count
            # slip is off by 1000x.
            if not (0 < float(frac) <= 200):
                fails.append("%s at %s%% of its peak" % (kind, frac))
    for f in fails:
        print("FAIL:", f)
    print("PASS" if not fails else "%d failure(s)" % len(fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
