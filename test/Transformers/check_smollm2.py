#!/usr/bin/env python3
"""SmolLM2-135M converted from its GGUF (quantc.transformers.smollm2)
against an independent numpy Llama written here, ONNX Runtime on the
prefill and decode graphs, quantc's JIT on prefill, and for meaning:

  * the numpy reference reads the GGUF itself and keeps llama.cpp's
    layout: Q/K rows permuted for *pairwise* RoPE, which it applies
    pairwise. The converter un-permutes the rows and the graph uses
    rotate-half RoPE; both must give the same logits (1e-4 relative);
  * decode with the KV cache: prefill of n tokens then one decode step
    gives the logits of prefill of n + 1 tokens (1e-4);
  * `quantc run` of the prefill graph vs ONNX Runtime (1e-4);
  * perplexity of the GPL-3 text (Debian's /usr/share/common-licenses,
    256 tokens) between 10 and 50 (English prose: roughly 20-40), and
    greedy decoding of "The capital of France is" says Paris.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from quantc.transformers import smollm2  # noqa: E402


def reference_logits(gguf_path, ids):
    """Llama forward in float64 with llama.cpp's pairwise RoPE on the GGUF's
    own (permuted) Q/K rows."""
    from gguf import GGUFReader
    from gguf.quants import dequantize
    r = GGUFReader(gguf_path)
    f = lambda k: r.fields["llama." + k].contents()  # noqa: E731
    L, H, nh, nkv = int(f("block_count")), int(f("embedding_length")), int(f("attention.head_count")), \
        int(f("attention.head_count_kv"))
    theta, eps, dh = float(f("rope.freq_base")), float(f("attention.layer_norm_rms_epsilon")), H // nh
    w = {}
    for t in r.tensors:
        a = np.asarray(dequantize(t.data, t.tensor_type), np.float64)
        w[t.name] = a.reshape([int(d) for d in reversed(t.shape)])
    S = len(ids)
    ang = np.arange(S)[:, None] * theta ** (-np.arange(0, dh, 2) / dh)[None, :]  # [S, dh/2]
    cos, sin = np.cos(ang), np.sin(ang)

    def rope_pairwise(x):  # x [heads, S, dh]: pairs (2j, 2j+1) rotate by angle j
        e, o = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2], out[..., 1::2] = e * cos - o * sin, e * sin + o * cos
        return out

    def rms(x, g):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g
    h = w["token_embd.weight"][ids]
    causal = np.triu(np.full((S, S), -np.inf), 1)
    for i in range(L):
        p = "blk.%d." % i
        x = rms(h, w[p + "attn_norm.weight"])
        q = (x @ w[p + "attn_q.weight"].T).reshape(S, nh, dh).transpose(1, 0, 2)
        k = (x @ w[p + "attn_k.weight"].T).reshape(S, nkv, dh).transpose(1, 0, 2)
        v = (x @ w[p + "attn_v.weight"].T).reshape(S, nkv, dh).transpose(1, 0, 2)
        q, k = rope_pairwise(q), rope_pairwise(k)
        k, v = np.repeat(k, nh // nkv, axis=0), np.repeat(v, nh // nkv, axis=0)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(dh) + causal
        a = np.exp(s - s.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        h = h + (a @ v).transpose(1, 0, 2).reshape(S, H) @ w[p + "attn_output.weight"].T
        x = rms(h, w[p + "ffn_norm.weight"])
        g = x @ w[p + "ffn_gate.weight"].T
        h = h + ((g / (1 + np.exp(-g))) * (x @ w[p + "ffn_up.weight"].T)) @ w[p + "ffn_down.weight"].T
    return rms(h, w["output_norm.weight"]) @ w.get("output.weight", w["token_embd.weight"]).T


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float64) - b)) / np.max(np.abs(b)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--model-dir", required=True, help="the converter's output (prefill.onnx, decode.onnx)")
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--text", default="/usr/share/common-licenses/GPL-3")
    args = ap.parse_args()
    import onnxruntime as ort
    failures = []

    def check(name, ok, detail):
        print("%-60s %s  %s" % (name, "ok" if ok else "FAIL", detail))
        if not ok:
            failures.append(name)
    tok = smollm2.tokenizer(args.model_dir)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    pre = ort.InferenceSession(os.path.join(args.model_dir, "prefill.onnx"), so)
    dec = ort.InferenceSession(os.path.join(args.model_dir, "decode.onnx"), so)
    names = [o.name for o in pre.get_outputs()]
    ids = tok.encode("The quick brown fox jumps over the lazy dog because").ids
    feeds = {"input_ids": np.array([ids], np.int64)}
    out = pre.run(None, feeds)
    e = rel(out[0][0], reference_logits(args.gguf, ids))
    check("ORT prefill vs numpy Llama (pairwise RoPE, GGUF rows)", e <= 1e-4, "rel %.2e, %d tokens" % (e, len(ids)))
    # Decode: prefill n - 1 tokens, then the last one through the KV cache.
    o1 = pre.run(None, {"input_ids": np.array([ids[:-1]], np.int64)})
    n = len(ids)
    dfeeds = {"input_ids": np.array([ids[-1:]], np.int64), "attention_mask": np.ones((1, n), np.int64),
              "position_ids": np.array([[n - 1]], np.int64)}
    dfeeds.update({n.replace("present", "past_key_values"): v for n, v in zip(names[1:], o1[1:])})
    o2 = dec.run(None, dfeeds)
    e = rel(o2[0][0, -1], out[0][0, -1])
    check("decode step with KV cache vs prefill of n + 1", e <= 1e-4, "rel %.2e" % e)
    e = max(rel(a, b) for a, b in zip(o2[1:], out[1:]))
    check("decode's present K/V vs prefill's", e <= 1e-4, "rel %.2e" % e)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, "ids.npy"), feeds["input_ids"])
        p = subprocess.run([args.quantc, "run", os.path.join(args.model_dir, "prefill.onnx"), "--input",
                            "input_ids=" + os.path.join(tmp, "ids.npy"), "--output-dir", tmp],
                           capture_output=True, text=True)
        if p.returncode != 0:
            check("quantc run prefill", False, p.stderr.strip()[-400:])
        else:
            e = rel(np.load(os.path.join(tmp, "logits.npy")), out[0])
            check("quantc JIT prefill vs ORT: logits", e <= 1e-4, "rel %.2e" % e)
    text = open(args.text, encoding="utf-8").read()[3000:6000]
    t = tok.encode(text).ids[:256]
    lg = pre.run(["logits"], {"input_ids": np.array([t], np.int64)})[0][0].astype(np.float64)
    lp = lg - lg.max(-1, keepdims=True)
    lp -= np.log(np.exp(lp).sum(-1, keepdims=True))
    ppl = float(np.exp(-np.mean(lp[np.arange(len(t) - 1), t[1:]])))
    check("perplexity of %s (256 tokens) in [10, 50]" % os.path.basename(args.text), 10 <= ppl <= 50,
          "%.2f" % ppl)
    # Dynamic int8 on an LLM: per-token activation scales (w8a8-dynamic-token)
    # keep the perplexity of the same text within 5% of float's (ONNX
    # Runtime's, above); per tensor (w8a8-dynamic) is shown for contrast.
    from quantc import CompiledModel
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "calib", "s0"))
        np.save(os.path.join(tmp, "calib", "s0", "input_ids.npy"), np.array([t], np.int64))
        for recipe in ("w8a8-dynamic-token", "w8a8-dynamic"):
            so_path = os.path.join(tmp, recipe + ".so")
            p = subprocess.run([args.quantc, "quantize", os.path.join(args.model_dir, "prefill.onnx"), "--recipe",
                                recipe, "--calib", os.path.join(tmp, "calib"), "-o", so_path],
                               capture_output=True, text=True)
            if p.returncode != 0:
                check("quantc quantize %s" % recipe, False, p.stderr.strip()[-400:])
                continue
            q = CompiledModel(so_path, threads=2)(input_ids=np.array([t], np.int64))["logits"][0]
            q = q.astype(np.float64) - q.max(-1, keepdims=True)
            q -= np.log(np.exp(q).sum(-1, keepdims=True))
            qppl = float(np.exp(-np.mean(q[np.arange(len(t) - 1), t[1:]])))
            if recipe == "w8a8-dynamic-token":
                check("%s perplexity within 5%% of float's" % recipe, qppl <= 1.05 * ppl,
                      "%.2f vs float %.2f" % (qppl, ppl))
            else:
                print("%-60s %s  %.2f vs float %.2f (shown, not gated)" % ("%s perplexity" % recipe, "--", qppl, ppl))
    prompt = tok.encode("The capital of France is").ids
    o = pre.run(None, {"input_ids": np.array([prompt], np.int64)})
    gen = [int(o[0][0, -1].argmax())]
    for _ in range(7):
        total = len(prompt) + len(gen)
        f = {"input_ids": np.array([gen[-1:]], np.int64), "attention_mask": np.ones((1, total), np.int64),
             "position_ids": np.array([[total - 1]], np.int64)}
        f.update({n.replace("present", "past_key_values"): v for n, v in zip(names[1:], o[1:])})
        o = dec.run(None, f)
        gen.append(int(o[0][0, -1].argmax()))
    cont = tok.decode(gen)
    check("greedy continuation names Paris", "Paris" in cont, repr("The capital of France is" + cont))
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
