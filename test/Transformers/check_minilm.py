#!/usr/bin/env python3
"""all-MiniLM-L6-v2 converted to ONNX (quantc.transformers.minilm) against
an independent numpy forward of BERT written here from the safetensors
weights, ONNX Runtime against that, quantc's JIT against ONNX Runtime, and
the embeddings for meaning:

  * numpy reference vs ONNX Runtime on the converted model: last hidden
    state and pooled, normalised embedding within 1e-4 relative error, on
    a padded batch (the mask must hide the padding);
  * `quantc run` (JIT) vs ONNX Runtime within 1e-4 relative error;
  * paraphrase pairs score a cosine above every unrelated pair's.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from quantc.transformers import minilm  # noqa: E402

PARAPHRASES = [("A man is playing a guitar.", "Someone plays the guitar."),
               ("The cat sleeps on the sofa.", "A kitten is napping on the couch."),
               ("How do I install a package on Debian?", "What is the way to install software on Debian?")]
UNRELATED = [("A man is playing a guitar.", "The stock market fell sharply today."),
             ("The cat sleeps on the sofa.", "Quantum computers use qubits."),
             ("How do I install a package on Debian?", "She baked bread for the whole village.")]


def reference(w, cfg, ids, mask, types):
    """BERT in float64 numpy, straight from the paper's equations."""
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    dh, eps = H // nh, cfg["layer_norm_eps"]
    g = {k: v.astype(np.float64) for k, v in w.items() if v.dtype != np.int64}

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * g[p + ".weight"] + g[p + ".bias"]

    def lin(x, p):
        return x @ g[p + ".weight"].T + g[p + ".bias"]
    B, S = ids.shape
    x = g["embeddings.word_embeddings.weight"][ids] + g["embeddings.position_embeddings.weight"][np.arange(S)][None] \
        + g["embeddings.token_type_embeddings.weight"][types]
    h = ln(x, "embeddings.LayerNorm")
    neg = np.where(mask[:, None, None, :] > 0, 0.0, -np.inf)
    for i in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % i
        split = lambda t: t.reshape(B, S, nh, dh).transpose(0, 2, 1, 3)  # noqa: E731
        q, k, v = (split(lin(h, p + "attention.self." + n)) for n in ("query", "key", "value"))
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(dh) + neg
        a = np.exp(s - s.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        ctx = (a @ v).transpose(0, 2, 1, 3).reshape(B, S, H)
        h1 = ln(lin(ctx, p + "attention.output.dense") + h, p + "attention.output.LayerNorm")
        f = lin(h1, p + "intermediate.dense")
        f = 0.5 * f * (1 + np.vectorize(math.erf)(f / math.sqrt(2)))
        h = ln(lin(f, p + "output.dense") + h1, p + "output.LayerNorm")
    m = mask[:, :, None].astype(np.float64)
    mean = (h * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return h, mean / np.maximum(np.linalg.norm(mean, axis=-1, keepdims=True), 1e-12)


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float64) - b)) / np.max(np.abs(b)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", required=True, help="the extracted all-MiniLM-L6-v2 directory")
    ap.add_argument("--onnx", required=True, help="its converted model.onnx")
    ap.add_argument("--quantc", required=True)
    args = ap.parse_args()
    import onnxruntime as ort
    failures = []

    def check(name, ok, detail):
        print("%-58s %s  %s" % (name, "ok" if ok else "FAIL", detail))
        if not ok:
            failures.append(name)
    tok = minilm.tokenizer(args.model_dir)
    w, cfg = minilm.load(args.model_dir)  # the weights are read once
    feeds = minilm.feeds(tok, ["A man is playing a guitar.", "The stock market fell sharply today, analysts said."])
    sess = ort.InferenceSession(args.onnx)
    emb, hid = sess.run(["sentence_embedding", "last_hidden_state"], feeds)
    rh, re_ = reference(w, cfg, feeds["input_ids"], feeds["attention_mask"], feeds["token_type_ids"])
    m = feeds["attention_mask"][:, :, None] > 0  # padded positions' hidden states are not defined by the model
    e = rel(np.where(m, hid, 0), np.where(m, rh, 0))
    check("ORT vs numpy reference: last_hidden_state (unpadded)", e <= 1e-4, "rel %.2e, batch %s" %
          (e, "x".join(map(str, feeds["input_ids"].shape))))
    e = rel(emb, re_)
    check("ORT vs numpy reference: sentence_embedding", e <= 1e-4, "rel %.2e" % e)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [args.quantc, "run", args.onnx, "--output-dir", tmp]
        for k, v in feeds.items():
            np.save(os.path.join(tmp, k + ".in.npy"), v)
            cmd += ["--input", "%s=%s" % (k, os.path.join(tmp, k + ".in.npy"))]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            check("quantc run", False, p.stderr.strip()[-400:])
        else:
            for name, ref in (("last_hidden_state", hid), ("sentence_embedding", emb)):
                e = rel(np.load(os.path.join(tmp, name + ".npy")), ref)
                check("quantc JIT vs ORT: %s" % name, e <= 1e-4, "rel %.2e" % e)
    cos = lambda a, b: float(np.dot(*sess.run(["sentence_embedding"], minilm.feeds(tok, [a, b]))[0]))  # noqa: E731
    para, unrel = [cos(a, b) for a, b in PARAPHRASES], [cos(a, b) for a, b in UNRELATED]
    check("paraphrases score above every unrelated pair", min(para) > max(unrel) and min(para) == min(para),
          "paraphrase cos %s, unrelated %s" % (" ".join("%.2f" % c for c in para), " ".join("%.2f" % c for c in unrel)))
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
