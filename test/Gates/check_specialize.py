#!/usr/bin/env python3
"""quantc.specialize against ONNX Runtime on the unspecialised model.

  * a synthetic model with an If on a scalar input (a sample rate), each
    branch a MatMul with its own weight and a nested computation reading
    an outer-scope value: specialised on each value, the If is gone and
    ONNX Runtime's outputs equal the original's for that value;
  * Silero VAD specialised on sr=16000 (what quantc eval does before
    either quantizer runs): outputs and state equal the original's on the
    VAD calibration and evaluation samples, no If left, and ORT's
    quantize_static now quantizes the 8 layers of the 16 kHz branch;
  * bad input: a name that is not an input is refused, naming it.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from quantc import datasets, peers, specialize  # noqa: E402

failures = []


def check(name, ok, detail=""):
    print("%-62s %s %s" % (name, "ok" if ok else "FAIL", detail))
    if not ok:
        failures.append(name)


def synthetic():
    rng = np.random.default_rng(3)
    w16, w8 = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32)

    def branch(tag, w):
        return helper.make_graph(
            [helper.make_node("MatMul", ["x", "w" + tag], ["mm" + tag]),
             helper.make_node("Add", ["mm" + tag, "bias"], ["y" + tag])],  # bias: outer scope
            "b" + tag, [], [helper.make_tensor_value_info("y" + tag, TensorProto.FLOAT, [2, 3])],
            [numpy_helper.from_array(w, "w" + tag)])
    g = helper.make_graph(
        [helper.make_node("Reshape", ["sr", "minus1"], ["sr1"]),
         helper.make_node("Gather", ["sr1", "zero"], ["sr0"], axis=0),
         helper.make_node("Equal", ["sr0", "k16"], ["is16"]),
         helper.make_node("If", ["is16"], ["y"], then_branch=branch("16", w16), else_branch=branch("8", w8))],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4]),
              helper.make_tensor_value_info("sr", TensorProto.INT64, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        [numpy_helper.from_array(np.array([-1], np.int64), "minus1"),
         numpy_helper.from_array(np.array(0, np.int64), "zero"),
         numpy_helper.from_array(np.array(16000, np.int64), "k16"),
         numpy_helper.from_array(np.full((3,), 0.5, np.float32), "bias")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", required=True)
    ap.add_argument("--data", required=True)
    args = ap.parse_args()
    m = synthetic()
    x = np.random.default_rng(4).standard_normal((2, 4)).astype(np.float32)
    ref = ort.InferenceSession(m.SerializeToString())
    for sr in (16000, 8000):
        s, n = specialize.specialize(onnx.ModelProto.FromString(m.SerializeToString()), {"sr": np.array(sr)})
        onnx.checker.check_model(s)
        ops = [nd.op_type for nd in s.graph.node]
        feeds = {"x": x, "sr": np.array(sr, np.int64)}
        want, got = ref.run(None, feeds)[0], ort.InferenceSession(s.SerializeToString()).run(None, feeds)[0]
        err = float(np.abs(want - got).max())
        check("synthetic sr=%d: If inlined, no If left" % sr, n == 1 and "If" not in ops, "ops %s" % ops)
        check("synthetic sr=%d: output equals the original's" % sr, err == 0.0, "max |diff| %g" % err)
        other = "w8" if sr == 16000 else "w16"
        check("synthetic sr=%d: the other branch's weight dropped" % sr,
              other not in {i.name for i in s.graph.initializer})
    try:
        specialize.specialize(synthetic(), {"rate": np.array(1)})
        check("unknown input refused", False)
    except ValueError as e:
        check("unknown input refused, naming it", "'rate'" in str(e), str(e))

    src = os.path.join(args.models, "silero-vad/weights/silero_vad_op18_ifless.onnx")
    names = ["input", "sr", "state"]
    calib, _, _ = datasets.load_split(os.path.join(args.data, "vad", "calib"), names)
    evals, _, _ = datasets.load_split(os.path.join(args.data, "vad", "eval"), names)
    const = specialize.constant_inputs(names, calib + evals)
    check("silero: sr is the one constant input", list(const) == ["sr"] and int(const["sr"]) == 16000, str(const))
    with tempfile.TemporaryDirectory() as tmp:
        pre = peers.prepare(src, tmp, calib[0], const)
        pm = onnx.load(pre)
        check("silero: no If left", all(nd.op_type != "If" for nd in pm.graph.node))
        a, b = peers.default_session(src), ort.InferenceSession(pre)
        err = 0.0
        for f in calib + evals:
            err = max(err, max(float(np.abs(p - q).max()) for p, q in zip(a.run(None, f), b.run(None, f))))
        check("silero: outputs and state equal on %d samples" % len(calib + evals), err <= 1e-6 and err == err,
              "max |diff| %g" % err)
        q = peers.static(pre, os.path.join(tmp, "q.onnx"), calib[:16], "MinMax", True)
        n = peers.quantized_layers(q)
        check("silero: quantize_static quantizes the 16 kHz branch's 8 layers", n == 8, "%d layers" % n)
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
