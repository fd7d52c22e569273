#!/usr/bin/env python3
"""The suite's CPU-dependent parts on an emulated AVX2-only CPU.

Machines differ (AMD Zen 3: AVX2, no AVX-512; Intel: AVX-512, VNNI, AMX),
and the tests must be right on both. This runs, under
`qemu-x86_64 -cpu CPU` (user-mode emulation: CPUID reports the emulated
CPU, so quantc's and ONNX Runtime's run-time dispatch and numpy all see
it), the parts whose result could depend on the CPU:

  * the runtime kernel unit tests against naive loops, with the kernel
    paths they ran, which must be the CPU's (Haswell: avx2-fma / avx2,
    no AVX-512 path);
  * `quantc eval --check` on alexa and vad (matched table, ORT peers, the
    quantized .so rows of fp8 and dynamic int8 too): the Python process,
    ONNX Runtime and the compiled libraries it loads run emulated; the
    `quantc quantize` it starts runs natively, generating code for the
    emulated CPU (QUANTC_TARGET_CPU; without it the libraries carry this
    machine's AVX-512 code and die of SIGILL on the emulated Haswell).

Exits non-zero when a step fails or a kernel path is not the expected one.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

LLVM_CPU = {"Haswell-v4": "haswell", "Nehalem": "nehalem"}  # the same CPU by LLVM name
EXPECT = {  # emulated CPU -> the kernel paths it must run
    "Haswell-v4": {"sgemm": "avx2-fma", "igemm": "avx2", "igemm-weight": "avx2-pairs", "depthwise": "avx2",
                   "conv-few-channels": "direct-avx2", "igemm-skinny": "avx2", "softmax": "avx2", "hadamard": "avx2", "low-bit-widen": "avx2"},
    "Nehalem": {"sgemm": "generic", "igemm": "generic", "igemm-weight": "generic", "depthwise": "generic",
                "conv-few-channels": "im2col-gemm", "igemm-skinny": "generic", "softmax": "generic", "hadamard": "generic",
                "low-bit-widen": "generic"},
}
# (AVX2, AVX-512F) of each emulated CPU.
EMULATED_FLAGS = {"Haswell-v4": (True, False), "Nehalem": (False, False)}


def host_flags():
    for line in open("/proc/cpuinfo"):
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


# The eval prints the compiled libraries' paths (qc_kernel_paths), the
# same keys.
EVAL_KEYS = ("sgemm", "igemm", "igemm-weight", "depthwise", "conv-few-channels", "igemm-skinny", "softmax",
             "hadamard")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="the build directory (bin/quantc, bin/quantc-unittests)")
    ap.add_argument("--cpu", default="Haswell-v4", choices=sorted(EXPECT))
    ap.add_argument("--models", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--eval", default="alexa,vad", help="models for quantc eval ('' for none; vad_stream "
                    "takes ~20 min emulated)")
    ap.add_argument("--limit", type=int, default=150, help="samples per split for quantc eval (0: all)")
    args = ap.parse_args()
    qemu = shutil.which("qemu-x86_64")
    if not qemu:
        print("error: qemu-x86_64 not found: run scripts/bootstrap (it installs qemu-user)")
        return 1
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    emu = [qemu, "-cpu", args.cpu]
    failures = []

    def run(name, cmd, env=None):
        p = subprocess.run(emu + cmd, capture_output=True, text=True, env=env)
        out = "\n".join(l for l in (p.stdout + p.stderr).splitlines() if "TCG doesn't support" not in l)
        if p.returncode != 0:
            failures.append("%s: exit %d\n%s" % (name, p.returncode, out[-3000:]))
        return out

    out = run("unit tests", [os.path.join(args.build, "bin", "quantc-unittests")])
    m = re.search(r"kernel paths: (.*)", out)
    got = dict(kv.split("=") for kv in m.group(1).split()) if m else {}
    print("emulated %s: unit tests: %s; kernel paths: %s" %
          (args.cpu, (re.findall(r"\[  PASSED  \] .*|\[  FAILED  \] .*", out) or ["?"])[0], m.group(1) if m else "?"))
    if got != EXPECT[args.cpu]:
        failures.append("kernel paths %s, want %s" % (got, EXPECT[args.cpu]))
    if args.eval:
        # Code for the emulated CPU (quantc quantize runs natively and would
        # otherwise target this machine).
        env = dict(os.environ, PYTHONPATH=os.path.join(root, "python"), QUANTC_PYTHON=sys.executable,
                   QUANTC_TARGET_CPU=LLVM_CPU[args.cpu])
        out = run("quantc eval", [sys.executable, "-m", "quantc.eval"] + args.eval.split(",") +
                  ["--tables", "all", "--calibrators", "minmax,percentile", "--ort-methods", "MinMax,Percentile",
                   "--best-ort-methods", "MinMax", "--ort-formats", "U8S8", "--ort-extra", "dynamic",
                   "--inc-sq", "", "--inc-extra", "", "--recipes", "fp8-e4m3,w8a8-dynamic", "--no-latency",
                   # vad's 416 test and val clips took 1483 s emulated (CI
                   # stop 27); 150 of each keep every path and gate.
                   "--limit", str(args.limit),
                   "--check", "--quantc", os.path.join(args.build, "bin", "quantc"),
                   "--models", args.models, "--data", args.data], env)
        for l in out.splitlines():
            if l.startswith(("CPU:", "  quantc .so kernel", "  matched ", "  floor", "FAIL", "eval gates")) or \
                    "evaluated in" in l:
                print("emulated %s: %s" % (args.cpu, l.strip()))
        k = re.search(r"quantc \.so kernel paths: (.*)", out)
        got = dict(kv.split("=") for kv in k.group(1).split()) if k else {}
        want = {k: EXPECT[args.cpu][k] for k in EVAL_KEYS}
        if got != want:
            failures.append("eval's .so kernel paths %s, want %s" % (got, want))
        # peers.cpu_features marks an emulated CPU where CPUID's AVX2 /
        # AVX-512F differ from the host's /proc/cpuinfo; on a host with the
        # same two (an AVX2-only host under Haswell-v4) they cannot differ.
        host = host_flags()
        observable = EMULATED_FLAGS[args.cpu] != (("avx2" in host), ("avx512f" in host))
        if not observable:
            print("emulated %s: the host has the same AVX2/AVX-512F as %s, so the eval cannot "
                  "tell it is emulated; its kernel paths above are what is checked" % (args.cpu, args.cpu))
        elif "emulated" not in out.splitlines()[0] if out else True:
            failures.append("eval did not see an emulated CPU: %s" % (out.splitlines()[:1]))
    for f in failures:
        print("FAIL:", f)
    print("%s: %d failed" % (args.cpu, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
