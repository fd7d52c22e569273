#!/usr/bin/env python3
"""qc-fold-rotations on the real transformers.

1. SmolLM2's prefill (RMSNorm, pre-norm): imported, rotated by
   `quant-opt --qc-fold-rotations=online=true` (a randomized Hadamard
   matrix of order 576 = 12 x 12 x 4 folded into the embedding, the 90
   reading and 60 writing layers and the head; the writers' inputs rotated
   at run time by qc.hadamard, 576 = 36 x 16 and 1536 = 12 x 128, their
   weights taking H^T) and run by quantc: its logits match ONNX
   Runtime's float original within 1e-4 (max abs error over max abs value)
   on a held-out window, while the rotated weights differ from the
   originals (the rotation took place).
2. MiniLM (post-norm BERT: three embedding tables summed, then
   LayerNorm): `quantc quantize --recipe w8a8-rot` refuses with an error
   from qc-fold-rotations and writes nothing.
   Also: the planted-outlier variants (quantc.transformers.outliers) give
   ONNX Runtime the same logits as the originals (1e-4): SmolLM2's
   (planted at the norms) and MiniLM's (on the attention's value path:
   a few of layer 0's output-projection rows divided by 100).
3. Quantized (`quantc quantize --recipe w8a8-rot --report`, four
   calibration windows): the layers reading a norm (q/k/v, gate/up, the
   head) and those behind an online Hadamard (down_proj) get a per-tensor
   uint8 activation SQNR at least 10 dB above plain w8a8's (measured:
   19.3 -> 40.4, 26.8 -> 40.5, 13.7 -> 40.7 dB; down_proj 16.0 with the
   offline rotation alone).

Comparisons are NaN-safe (`not (err <= tol)` fails).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

TOL = 1e-4


def run(cmd, ok=True):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if ok and p.returncode != 0:
        sys.exit("FAIL: %s\n%s" % (" ".join(cmd), p.stdout[-3000:]))
    return p


def logits(a, ir, ids_path, out_dir):
    run([a.quantc, "run", ir, "--input", "input_ids=%s" % ids_path, "--output-dir", out_dir,
         "--threads", "2"])
    return np.load(os.path.join(out_dir, "logits.npy"))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--quant-opt", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--data", required=True)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="quantc-rotate-")
    failures = []
    try:
        model = os.path.join(a.models, "smollm2", "prefill.onnx")
        ids = np.load(os.path.join(a.data, "lm_text", "eval", "0000", "input_ids.npy"))[:, :64]
        ids_path = os.path.join(tmp, "ids.npy")
        np.save(ids_path, np.ascontiguousarray(ids))
        ref = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(
            ["logits"], {"input_ids": ids})[0].astype(np.float64)
        # The planted-outlier variant (fetch-models writes it with
        # quantc.transformers.outliers) computes the same function.
        planted = ort.InferenceSession(os.path.join(a.models, "smollm2", "prefill_outlier.onnx"),
                                       providers=["CPUExecutionProvider"]).run(["logits"], {"input_ids": ids})[0]
        err = float(np.max(np.abs(planted - ref)) / np.max(np.abs(ref)))
        print("smollm2 with planted outliers vs float: max rel error %.2e" % err, flush=True)
        if not (err <= TOL):
            failures.append("the planted-outlier SmolLM2 differs from float by %.3g > %g" % (err, TOL))
        # MiniLM's variant (post-norm: planted on the attention's value
        # path) too, on a sentence pair with padding, both outputs; and
        # its output projections' input weights did change.
        mdir = os.path.join(a.models, "all-minilm-l6-v2")
        feeds = {k: np.load(os.path.join(a.data, "sentences", "eval", "0000", k + ".npy"))
                 for k in ("input_ids", "attention_mask", "token_type_ids")}
        outs = [ort.InferenceSession(os.path.join(mdir, f), providers=["CPUExecutionProvider"]).run(None, feeds)
                for f in ("model.onnx", "model_outlier.onnx")]
        for name, x, y in zip(("sentence_embedding", "last_hidden_state"), outs[0], outs[1]):
            err = float(np.max(np.abs(y.astype(np.float64) - x)) / np.max(np.abs(x)))
            print("minilm with planted outliers vs float, %s: max rel error %.2e" % (name, err), flush=True)
            if not (err <= TOL):
                failures.append("the planted-outlier MiniLM's %s differs from float by %.3g > %g" % (name, err, TOL))
        import onnx
        from onnx import numpy_helper
        wname = "encoder.layer.0.attention.output.dense.weight_t"
        w0, w1 = (numpy_helper.to_array(next(t for t in onnx.load(os.path.join(mdir, f)).graph.initializer
                                             if t.name == wname)) for f in ("model.onnx", "model_outlier.onnx"))
        changed = ~np.all(w1 == w0, axis=1)
        scaled = int(np.sum(changed))
        exact = bool(np.allclose(w1[changed] * 100, w0[changed], rtol=1e-6, atol=0))
        print("minilm planted: %d of %d input rows of layer 0's output projection changed, each / 100: %s" %
              (scaled, w0.shape[0], exact), flush=True)
        if not (1 <= scaled <= w0.shape[0] // 20 and exact):
            failures.append("the planted-outlier MiniLM's layer-0 output projection has %d scaled rows" % scaled)
        # Whole models pass between the tools as MLIR bytecode (half the
        # disk of text); the IR checks read an elided text copy.
        imported, rotated = os.path.join(tmp, "smollm2.mlirbc"), os.path.join(tmp, "rotated.mlirbc")
        run([a.quantc, "import", model, "-o", imported])
        run([a.quant_opt, imported, "--qc-fold-rotations=online=true", "--emit-bytecode", "-o", rotated])
        elided = os.path.join(tmp, "rotated_elided.mlir")
        run([a.quant_opt, rotated, "--mlir-elide-elementsattrs-if-larger=16",
             "--mlir-elide-resource-strings-if-larger=16", "-o", elided])
        hadamards = run(["grep", "-c", "qc.hadamard", elided], ok=False).stdout.strip()
        print("smollm2 rotated: %s qc.hadamard ops" % hadamards, flush=True)
        if hadamards != "60":
            failures.append("expected 60 online Hadamards (o_proj, down_proj x 30), found %s" % hadamards)
        os.remove(imported)
        got = logits(a, rotated, ids_path, os.path.join(tmp, "rot_out"))
        err = float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))
        # The rotation took place: no op reads the original embedding or
        # a norm's gamma any more (their resources may stay in the file).
        stale = run(["grep", "-c", "-E", "qc.constant dense_resource<(token_embd|blk.0.attn_norm)",
                     elided], ok=False).stdout.strip()
        print("smollm2 rotated (float) vs ONNX Runtime float: max rel error %.2e" % err, flush=True)
        if not (err <= TOL):
            failures.append("rotated SmolLM2 differs from float by %.3g > %g" % (err, TOL))
        if stale != "0":
            failures.append("%s ops still read the original embedding or gamma (not rotated)" % stale)
        os.remove(rotated)

        # MiniLM: not a pre-norm RMSNorm stream -> refused.
        minilm = os.path.join(a.models, "all-minilm-l6-v2", "model.onnx")
        out = os.path.join(tmp, "minilm_rot.so")
        calib = os.path.join(a.data, "sentences", "calib")
        p = run([a.quantc, "quantize", minilm, "--calib", calib, "--recipe", "w8a8-rot", "-o", out], ok=False)
        print("minilm w8a8-rot: exit %d: %s" % (p.returncode, p.stdout.strip().splitlines()[-1]), flush=True)
        if p.returncode == 0 or "qc-fold-rotations" not in p.stdout or os.path.exists(out):
            failures.append("MiniLM's LayerNorm was not refused cleanly by -rot (exit %d)" % p.returncode)

        # Quantized: the layers that read a norm see their activation
        # outliers spread (per-tensor uint8 activation SQNR from quantc's
        # report, on four calibration windows), and so do the down
        # projections behind their online Hadamard.
        calib4 = os.path.join(tmp, "calib4")
        os.makedirs(calib4)
        src = os.path.join(a.data, "lm_text", "calib")
        for name in sorted(os.listdir(src))[:4]:
            shutil.copytree(os.path.join(src, name), os.path.join(calib4, name))
        sqnr = {}
        for recipe in ("w8a8", "w8a8-rot"):
            rep = os.path.join(tmp, recipe + ".json")
            run([a.quantc, "quantize", model, "--calib", calib4, "--recipe", recipe,
                 "-o", os.path.join(tmp, recipe + ".mlirbc"), "--report", rep])
            groups = {}
            for layer in json.load(open(rep))["layers"]:
                kind = layer["name"].split("/")[-1]
                groups.setdefault(kind, []).append(layer["activation_sqnr_db"])
            sqnr[recipe] = {k: float(np.mean(v)) for k, v in groups.items()}
            print("  %-9s mean activation SQNR (dB): %s" % (
                recipe, ", ".join("%s %.1f" % (k, v) for k, v in sorted(sqnr[recipe].items()))), flush=True)
        for kind in ("q_proj", "gate_proj", "lm_head", "down_proj"):
            gain = sqnr["w8a8-rot"][kind] - sqnr["w8a8"][kind]
            if not (gain >= 10.0):
                failures.append("rotation raised %s's activation SQNR by %.1f dB, not 10" % (kind, gain))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("\n".join("FAIL: " + f for f in failures))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
