"""The command line shared by the model-vs-ONNX-Runtime test scripts:

  SCRIPT make DIR        writes the models and inputs into DIR
  SCRIPT check DIR OUT   compares quantc's outputs in OUT with ONNX Runtime;
                         the exit status is check's return value

compare_with_ort runs an ONNX model in ONNX Runtime and compares quantc's
float outputs with its: max |diff| / max |ref| <= tol (a number, or a
dict of per-output tolerances with 1e-5 for the others), one line per
output; optimize=False turns ONNX Runtime's graph optimizations off.
"""
import os
import sys


def compare_with_ort(model, feeds, names, out, tag, tol=1e-5, optimize=True):
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    if not optimize:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    bad = 0
    for name, ref in zip(names, sess.run(None, feeds)):
        got = np.load(os.path.join(out, name + ".npy"))
        if got.shape != ref.shape:
            print("FAIL %s: shape %s, ONNX Runtime %s" % (name, got.shape, ref.shape))
            bad += 1
            continue
        rel = float(np.max(np.abs(got.astype(np.float64) - ref)) / np.max(np.abs(ref)))
        ok = rel <= (tol.get(name, 1e-5) if isinstance(tol, dict) else tol)
        print("%s %s %s: max |diff| / max |ref| = %.2e" % ("ok" if ok else "FAIL", name, got.shape, rel))
        bad += not ok
    print("%s ok" % tag if bad == 0 else "%s FAILED (%d)" % (tag, bad))
    return 1 if bad else 0


def main(make, check):
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        sys.exit(check(sys.argv[2], sys.argv[3]))
