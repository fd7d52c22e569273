#!/usr/bin/env python3
"""Fused attention (qc-fuse-attention + the runtime's attention kernel)
against ONNX Runtime on attention subgraphs written the ways exporters
write them:

  * grouped-query heads repeated by Unsqueeze/Expand/Reshape (SmolLM2's
    form), Div by sqrt(d), a causal [m, s] mask; one query row (the
    decode step, where the R heads of a group share one block) and many;
  * MiniLM's form: K as Transpose(k, [0, 2, 3, 1]), a [b, 1, 1, s] padding
    mask, batch 2, also with the context merged back to [b, m, H * d];
  * Mul by a scale, no mask; a whole row masked with -inf except one key;
    one key only; long rows (s = 1500, several row blocks per head);
  * a symbolic batch (3), and K/V of batch 1 broadcast over a query batch
    of 2 (batches checked by the kernel at run time);
  * keys the kernel leaves out (every row of a block hides them): the
    causal triangle over several row blocks, left padding plus the
    triangle, and left-padded query rows that hide every key.

Each graph runs through `quantc run` (JIT) and must match ONNX Runtime
within 1e-5 (max abs error over max abs value), and the compiled IR must
contain the fused call (the test fails if the pattern stops matching).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

TOL = 1e-5


def build(case):
    b, H, G, m, s, d = case["b"], case["H"], case["G"], case["m"], case["s"], case["d"]
    R = H // G
    nodes, inits = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    qb = kb = b
    if "sym_batch" in case:
        # Batches left symbolic (a model exported for any batch); K and V
        # may have their own (broadcast from 1 at run time).
        qb, kb = case["sym_batch"]
    inputs = [h.make_tensor_value_info("Q", T.FLOAT, [qb, H, m, d])]
    if case.get("minilm"):
        # k arrives as [b, s, H, d]; scores use Transpose(k, [0, 2, 3, 1]).
        inputs += [h.make_tensor_value_info("K", T.FLOAT, [b, s, H, d]),
                   h.make_tensor_value_info("V", T.FLOAT, [b, H, s, d])]
        nodes.append(h.make_node("Transpose", ["K"], ["Kt"], perm=[0, 2, 3, 1]))
        vname = "V"
    else:
        inputs += [h.make_tensor_value_info("K", T.FLOAT, [kb, G, s, d]),
                   h.make_tensor_value_info("V", T.FLOAT, [kb, G, s, d])]
        if R > 1:
            const("ax2", np.array([2], np.int64))
            const("shape5", np.array([b, G, R, s, d], np.int64))
            const("shape4", np.array([b, H, s, d], np.int64))
            for x in ("K", "V"):
                nodes += [h.make_node("Unsqueeze", [x, "ax2"], [x + "u"]),
                          h.make_node("Expand", [x + "u", "shape5"], [x + "e"]),
                          h.make_node("Reshape", [x + "e", "shape4"], [x + "r"])]
            kname, vname = "Kr", "Vr"
        else:
            kname, vname = "K", "V"
        nodes.append(h.make_node("Transpose", [kname], ["Kt"], perm=[0, 1, 3, 2]))
    nodes.append(h.make_node("MatMul", ["Q", "Kt"], ["S"]))
    scores = "S"
    if case.get("scale") == "div":
        nodes.append(h.make_node("Div", ["S", const("c", np.array(np.sqrt(d), np.float32))], ["Ss"]))
        scores = "Ss"
    elif case.get("scale") == "mul":
        nodes.append(h.make_node("Mul", [const("c", np.array(0.125, np.float32)), "S"], ["Ss"]))
        scores = "Ss"
    if "mask_shape" in case:
        inputs.append(h.make_tensor_value_info("M", T.FLOAT, case["mask_shape"]))
        nodes.append(h.make_node("Add", [scores, "M"], ["Sm"]))
        scores = "Sm"
    nodes.append(h.make_node("Softmax", [scores], ["P"], axis=-1))
    if case.get("merge_heads"):
        # The context back to [b, m, H * d] as encoders do before the output
        # projection (the kernel then writes through the transpose's view).
        nodes.append(h.make_node("MatMul", ["P", vname], ["Oh"]))
        nodes.append(h.make_node("Transpose", ["Oh"], ["Ot"], perm=[0, 2, 1, 3]))
        nodes.append(h.make_node("Reshape", ["Ot", const("merged", np.array([b, m, H * d], np.int64))], ["O"]))
        out = h.make_tensor_value_info("O", T.FLOAT, [b, m, H * d])
    else:
        nodes.append(h.make_node("MatMul", ["P", vname], ["O"]))
        out = h.make_tensor_value_info("O", T.FLOAT, [qb, H, m, d])
    graph = h.make_graph(nodes, "attention", inputs, [out], inits)
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])


def feeds_for(case, model, rng):
    feeds = {}
    for i in model.graph.input:
        shape = [d.dim_value for d in i.type.tensor_type.shape.dim]
        if "feed_batch" in case and i.name in ("Q", "K", "V"):
            shape[0] = case["feed_batch"][0 if i.name == "Q" else 1]
        feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
    if "mask_shape" in case:
        shape = case["mask_shape"]
        if case.get("mask") == "causal":
            m, s = shape[-2], shape[-1]
            keep = np.tril(np.ones((m, s)), s - m) > 0
            feeds["M"] = np.where(keep, 0.0, -3.4e38).astype(np.float32).reshape(shape)
        elif case.get("mask") == "padding":
            mk = np.zeros(shape, np.float32)
            mk[..., shape[-1] // 2:] = -10000.0  # second half padded
            mk[0, ...] = 0.0
            feeds["M"] = mk
        elif case.get("mask") == "left-pad-causal":
            # A batch of two, the first left-padded by 5 slots: keys hidden
            # at both ends of a row (padding, then the causal triangle),
            # and the padded query rows hide every key (uniform rows).
            b, m, s = shape[0], shape[-2], shape[-1]
            keep = np.tril(np.ones((m, s)), s - m) > 0
            mk = np.where(keep, 0.0, np.finfo(np.float32).min).astype(np.float32)
            mk = np.broadcast_to(mk, shape).copy()
            mk[0, ..., :5] = np.finfo(np.float32).min
            mk[0, ..., :2, :] = np.finfo(np.float32).min
            feeds["M"] = mk
        elif case.get("mask") == "one-key":
            mk = np.full(shape, -np.inf, np.float32)
            mk[..., 0] = 0.0
            feeds["M"] = mk
    return feeds


CASES = [
    dict(name="gqa decode row", b=1, H=9, G=3, m=1, s=37, d=64, scale="div", mask_shape=[1, 37], mask="causal"),
    dict(name="gqa prefill", b=1, H=9, G=3, m=40, s=40, d=64, scale="div", mask_shape=[40, 40], mask="causal"),
    dict(name="gqa prefill, past 20", b=1, H=9, G=3, m=17, s=37, d=64, scale="div", mask_shape=[17, 37], mask="causal"),
    dict(name="minilm form, batch 2", b=2, H=12, G=12, m=24, s=24, d=32, scale="div", minilm=True,
         mask_shape=[2, 1, 1, 24], mask="padding"),
    # m == H: bufferization may hand the merge transpose the query's buffer.
    dict(name="minilm form, heads merged", b=2, H=12, G=12, m=12, s=12, d=32, scale="div", minilm=True,
         mask_shape=[2, 1, 1, 12], mask="padding", merge_heads=True),
    dict(name="mul scale, no mask", b=1, H=4, G=4, m=9, s=9, d=16, scale="mul"),
    dict(name="all but one key -inf", b=1, H=2, G=1, m=3, s=11, d=8, scale="div", mask_shape=[1, 1, 3, 11], mask="one-key"),
    dict(name="one key", b=1, H=6, G=2, m=1, s=1, d=64, scale="div"),
    dict(name="gqa prefill 256, causal", b=1, H=9, G=3, m=256, s=256, d=64, scale="div",
         mask_shape=[256, 256], mask="causal"),
    dict(name="left padding, causal", b=2, H=4, G=2, m=7, s=70, d=32, scale="div",
         mask_shape=[2, 1, 7, 70], mask="left-pad-causal"),
    dict(name="symbolic batch 3", b=3, H=4, G=4, m=8, s=8, d=16, scale="div", sym_batch=("b", "b"),
         feed_batch=(3, 3), mask_shape=[8, 8], mask="causal"),
    dict(name="symbolic batch, K/V of 1", b=2, H=4, G=4, m=5, s=9, d=16, scale="div",
         sym_batch=("b", "kb"), feed_batch=(2, 1)),
    dict(name="long rows", b=1, H=3, G=1, m=300, s=1500, d=64, scale="div", mask_shape=[300, 1500], mask="causal"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quantc", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            model = build(case)
            path = os.path.join(tmp, "a.onnx")
            onnx.save(model, path)
            feeds = feeds_for(case, model, rng)
            cmd = [args.quantc, "run", path, "--output-dir", os.path.join(tmp, "out"), "--threads", "2"]
            for k, v in feeds.items():
                np.save(os.path.join(tmp, k + ".npy"), v)
                cmd += ["--input", "%s=%s" % (k, os.path.join(tmp, k + ".npy"))]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                failures.append("%s: quantc run failed: %s" % (case["name"], r.stderr.strip()[-400:]))
                print("  %-24s FAIL (quantc run)" % case["name"])
                continue
            got = np.load(os.path.join(tmp, "out", "O.npy"))
            want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
            err = float(np.abs(got.astype(np.float64) - want).max() / max(float(np.abs(want).max()), 1e-30))
            # The fused kernel must be what ran: the pass on the imported IR.
            ir = subprocess.run([args.quantc, "import", path], capture_output=True, text=True).stdout
            opt = subprocess.run([os.path.join(os.path.dirname(args.quantc), "quant-opt"),
                                  "--pass-pipeline=builtin.module(func.func(qc-infer-shapes,qc-fuse-attention))"],
                                 input=ir, capture_output=True, text=True)
            fused = "qc.attention" in opt.stdout and "qc.softmax" not in opt.stdout
            ok = got.shape == want.shape and (err <= TOL) and fused
            print("  %-24s max rel err %.2e, fused %s %s" % (case["name"], err, fused, "ok" if ok else "FAIL"))
            if not ok:
                failures.append("%s: err %.3g (shape %s vs %s), fused %s" % (case["name"], err, got.shape,
                                                                          want.shape, fused))
    print("%d failed" % len(failures))
    for f in failures:
        print("  " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
