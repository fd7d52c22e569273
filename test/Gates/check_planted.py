#!/usr/bin/env python3
"""The gates fail on planted regressions (docs/testing.md).

Each case runs a real gate with a planted bug between it and quantc — a
wrapper executable passed as --quantc that changes what quantc does or
writes — and asserts that the gate exits non-zero and names the problem:

  quantize-nothing  `quantc quantize` keeps every layer float
                    (--min-layer-sqnr 1000): eval --check must fail with
                    "quantized no layer"
  nan-output        the quantized model's output is multiplied by NaN:
                    eval --check must fail on the floor (NaN-safe)
  clip-activations  activations clipped at the 60th percentile (a
                    calibrator regression): eval --check must fail on the
                    floor and on the matched peer comparison
  stage-nothing     in the wake-word pipeline (mel -> embedding -> head),
                    `quantc quantize` keeps the embedding stage float
                    while the other two are quantized: eval --check must
                    fail with "quantized no layer in stage 1"
  drop-output       `quantc run` loses one output file: conformance
                    --check-passing must fail with "missing"
  bad-manifest      one data file changed on disk: eval must refuse the
                    data set, naming the file

and that the same gate passes without the planted bug (the wrapper
"none"), so each failure is the bug's doing. eval runs with
--quantize-with cli so that its quantizations go through the wrapper
(by default it quantizes in-process through the Python API, the same
driver library). Uses the alexa head (fast)
and, for stage-nothing, the alexa pipeline.
"""
import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile

WRAPPER = r'''#!{python}
import os, subprocess, sys
args = sys.argv[1:]
bug = {bug!r}
quantc = {quantc!r}
if (bug == "quantize-nothing" and args[:1] == ["quantize"]) or \
        (bug == "stage-nothing" and args[:1] == ["quantize"] and os.sep + "s1" + os.sep in args[1]):
    args += ["--min-layer-sqnr", "1000"]
if bug == "clip-activations" and args[:1] == ["quantize"]:
    i = args.index("--calibrator")
    args[i + 1] = "percentile"
    args += ["--percentile", "60"]
p = subprocess.run([quantc] + args)
if p.returncode == 0 and bug == "nan-output" and args[:1] == ["quantize"]:
    import onnx
    from onnx import helper, TensorProto
    out = args[args.index("-o") + 1]
    m = onnx.load(out)
    o = m.graph.output[0]
    m.graph.node.append(helper.make_node("Mul", [o.name + "_planted", "planted_nan"], [o.name]))
    for n in m.graph.node[:-1]:
        n.output[:] = [o.name + "_planted" if x == o.name else x for x in n.output]
    m.graph.initializer.append(helper.make_tensor("planted_nan", TensorProto.FLOAT, [], [float("nan")]))
    onnx.save(m, out)
if p.returncode == 0 and bug == "drop-output" and args[:1] == ["run"]:
    d = args[args.index("--output-dir") + 1]
    files = sorted(f for f in os.listdir(d) if f.endswith(".npy"))
    if files:
        os.remove(os.path.join(d, files[-1]))
sys.exit(p.returncode)
'''


def wrapper(tmp, bug, quantc):
    path = os.path.join(tmp, "quantc-" + bug)
    with open(path, "w") as f:
        f.write(WRAPPER.format(python=sys.executable, bug=bug, quantc=os.path.abspath(quantc)))
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
    return path


def run(cmd, env):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return p.returncode, p.stdout + p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--testdata", default="/usr/share/libonnx-testdata/data")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.path.join(root, "python"))
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        def eval_cmd(bug, data=args.data, model="alexa"):
            return [sys.executable, "-m", "quantc.eval", model, "--tables", "matched", "--calibrators", "minmax",
                    "--ort-methods", "MinMax", "--no-latency", "--check", "--quantize-with", "cli",
                    "--quantc", wrapper(tmp, bug, args.quantc),
                    "--models", args.models, "--data", data]

        def expect(name, cmd, want_fail, needles):
            rc, out = run(cmd, env)
            ok = (rc != 0) == want_fail and all(n in out for n in needles)
            print("%-18s exit %d, %s: %s" % (name, rc, "expected" if ok else "UNEXPECTED",
                                            "; ".join(l for l in out.splitlines() if l.startswith(("FAIL", "REGRESSION",
                                                                                                  "quantc eval:")))[:300]
                                            or out.strip().splitlines()[-1][:200] if out.strip() else ""))
            if not ok:
                failures.append("%s: exit %d, wanted %s with %s\n%s" % (name, rc, "failure" if want_fail else "success",
                                                                       needles, out[-1500:]))

        expect("eval clean", eval_cmd("none"), False, ["eval gates: 1 models, 0 failed"])
        expect("quantize-nothing", eval_cmd("quantize-nothing"), True, ["quantized no layer"])
        expect("nan-output", eval_cmd("nan-output"), True, ["nan on test is below the floor"])
        expect("clip-activations", eval_cmd("clip-activations"), True, ["below the floor", "beyond the margin"])
        expect("stage-nothing", eval_cmd("stage-nothing", model="alexa_pipeline") + ["--limit", "40"], True,
               ["quantized no layer in stage 1 (embedding_model.onnx)"])
        # A data set whose file changed after its manifest was written.
        data = os.path.join(tmp, "data")
        shutil.copytree(os.path.join(args.data, "wake"), os.path.join(data, "wake"))
        victim = os.path.join(data, "wake", "eval", "0003", os.listdir(os.path.join(data, "wake", "eval", "0003"))[0])
        with open(victim, "r+b") as f:
            f.seek(-4, 2)
            f.write(b"\0\0\0\0" if f.read(4) != b"\0\0\0\0" else b"\1\1\1\1")
        expect("bad-manifest", eval_cmd("none", data), True, ["sha256 differs", "0003"])
        # Conformance on two listed cases with one output file lost.
        listed = os.path.join(tmp, "listed.txt")
        with open(listed, "w") as f:
            f.write("node/test_add\nnode/test_split_equal_parts_1d\n")
        conf = [sys.executable, os.path.join(root, "scripts", "conformance.py"), "--data", args.testdata,
                "--check-passing", listed, "--quantc"]
        expect("conformance clean", conf + [wrapper(tmp, "none", args.quantc)], False, ["2 passed, 0 failed"])
        expect("drop-output", conf + [wrapper(tmp, "drop-output", args.quantc)], True, ["missing"])
    for f in failures:
        print("FAIL:", f)
    print("%d passed, %d failed" % (8 - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
