"""all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384, 12 heads) from its
safetensors weights to ONNX, written with onnx.helper the way torch's
exporter writes a BERT:

  inputs   input_ids, attention_mask, token_type_ids: int64 [batch, seq]
  outputs  sentence_embedding [batch, 384] (sentence-transformers' mean
           pooling over the attention mask, then L2 normalisation) and
           last_hidden_state [batch, seq, 384]

  * positions: Shape(input_ids)[1] -> Range(0, seq) -> Gather of the
    position table (any sequence length up to 512, from one graph);
  * the attention mask becomes an additive bias (1 - mask) * float32 min,
    broadcast over heads and query positions;
  * Linear layers are MatMul by the transposed weight plus Add of the
    bias; heads split by Reshape [0, 0, 12, 32] and Transpose; scores
    scaled by Div(sqrt(32)); GELU as erf: x * 0.5 * (1 + erf(x / sqrt 2));
    LayerNormalization (opset 17) with epsilon 1e-12.

    python -m quantc.transformers.minilm MODEL_DIR OUT.onnx
"""
import json
import math
import os
import sys

import numpy as np

from quantc.transformers import safetensors
from quantc.transformers.builder import Builder

OPSET = 17


def build(weights, config):
    """The ONNX model (onnx.ModelProto) of a BERT encoder with mean pooling."""
    from onnx import TensorProto, helper
    H, heads = config["hidden_size"], config["num_attention_heads"]
    dh, eps = H // heads, float(config.get("layer_norm_eps", 1e-12))
    if config.get("hidden_act", "gelu") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError("minilm: only gelu and absolute positions are supported, not %s/%s" %
                         (config.get("hidden_act"), config.get("position_embedding_type")))
    w = {k: np.asarray(v, np.float32) for k, v in weights.items() if k != "embeddings.position_ids"}
    b = Builder()
    c = b.const
    c("zero_i64", np.array(0, np.int64))
    c("one_i64", np.array(1, np.int64))
    c("one_f", np.array(1.0, np.float32))
    c("half_f", np.array(0.5, np.float32))
    c("sqrt2_f", np.array(math.sqrt(2.0), np.float32))
    c("scale_f", np.array(math.sqrt(dh), np.float32))
    c("fmin_f", np.array(np.finfo(np.float32).min, np.float32))
    c("heads_shape", np.array([0, 0, heads, dh], np.int64))
    c("merge_shape", np.array([0, 0, H], np.int64))
    c("axes_0", np.array([0], np.int64))
    c("axes_1", np.array([1], np.int64))
    c("axes_m1", np.array([-1], np.int64))
    c("axes_12", np.array([1, 2], np.int64))
    c("eps_pool", np.array(1e-9, np.float32))
    c("eps_norm", np.array(1e-12, np.float32))

    def linear(x, prefix, name):
        wt = c(prefix + ".weight_t", np.ascontiguousarray(w[prefix + ".weight"].T))
        y = b.op("MatMul", [x, wt], name + "/MatMul")
        return b.op("Add", [y, c(prefix + ".bias", w[prefix + ".bias"])], name + "/Add")

    def layer_norm(x, prefix, name):
        return b.op("LayerNormalization", [x, c(prefix + ".weight", w[prefix + ".weight"]),
                                           c(prefix + ".bias", w[prefix + ".bias"])], name, axis=-1, epsilon=eps)

    # Embeddings: word + position (Shape -> Range) + token type.
    word = b.op("Gather", [c("embeddings.word_embeddings.weight", w["embeddings.word_embeddings.weight"]),
                           "input_ids"], "embeddings/word")
    shape = b.op("Shape", ["input_ids"], "embeddings/Shape")
    seq = b.op("Gather", [shape, "one_i64"], "embeddings/seq", axis=0)
    pos = b.op("Range", ["zero_i64", seq, "one_i64"], "embeddings/Range")
    pos = b.op("Unsqueeze", [pos, "axes_0"], "embeddings/positions")
    pemb = b.op("Gather", [c("embeddings.position_embeddings.weight", w["embeddings.position_embeddings.weight"]),
                           pos], "embeddings/position")
    temb = b.op("Gather", [c("embeddings.token_type_embeddings.weight",
                             w["embeddings.token_type_embeddings.weight"]), "token_type_ids"], "embeddings/type")
    x = b.op("Add", [b.op("Add", [word, pemb], "embeddings/Add"), temb], "embeddings/Add_1")
    h = layer_norm(x, "embeddings.LayerNorm", "embeddings/LayerNorm")

    # Additive attention bias [batch, 1, 1, seq].
    maskf = b.op("Cast", ["attention_mask"], "mask/Cast", to=TensorProto.FLOAT)
    m4 = b.op("Unsqueeze", [maskf, "axes_12"], "mask/Unsqueeze")
    bias = b.op("Mul", [b.op("Sub", ["one_f", m4], "mask/Sub"), "fmin_f"], "mask/bias")

    for i in range(config["num_hidden_layers"]):
        p, n = "encoder.layer.%d." % i, "layer%d/" % i

        def split_heads(t, perm, tag):
            r = b.op("Reshape", [t, "heads_shape"], n + tag + "/Reshape")
            return b.op("Transpose", [r], n + tag + "/Transpose", perm=perm)
        q = split_heads(linear(h, p + "attention.self.query", n + "query"), [0, 2, 1, 3], "q")
        k = split_heads(linear(h, p + "attention.self.key", n + "key"), [0, 2, 3, 1], "k")
        v = split_heads(linear(h, p + "attention.self.value", n + "value"), [0, 2, 1, 3], "v")
        s = b.op("Div", [b.op("MatMul", [q, k], n + "scores/MatMul"), "scale_f"], n + "scores/Div")
        s = b.op("Add", [s, bias], n + "scores/mask")
        a = b.op("Softmax", [s], n + "Softmax", axis=-1)
        ctx = b.op("MatMul", [a, v], n + "context/MatMul")
        ctx = b.op("Reshape", [b.op("Transpose", [ctx], n + "context/Transpose", perm=[0, 2, 1, 3]), "merge_shape"],
                   n + "context/Reshape")
        o = linear(ctx, p + "attention.output.dense", n + "attn_out")
        h1 = layer_norm(b.op("Add", [o, h], n + "attn_residual"), p + "attention.output.LayerNorm",
                        n + "attn_LayerNorm")
        f = linear(h1, p + "intermediate.dense", n + "ffn_in")
        erf = b.op("Erf", [b.op("Div", [f, "sqrt2_f"], n + "gelu/Div")], n + "gelu/Erf")
        g = b.op("Mul", [b.op("Mul", [f, b.op("Add", [erf, "one_f"], n + "gelu/Add")], n + "gelu/Mul"), "half_f"],
                 n + "gelu/Mul_1")
        f2 = linear(g, p + "output.dense", n + "ffn_out")
        h = layer_norm(b.op("Add", [f2, h1], n + "ffn_residual"), p + "output.LayerNorm", n + "ffn_LayerNorm")
    b.nodes.append(helper.make_node("Identity", [h], ["last_hidden_state"], name="last_hidden_state"))

    # sentence-transformers: mean over unmasked tokens, then L2 normalisation.
    m3 = b.op("Unsqueeze", [maskf, "axes_m1"], "pool/mask")
    summed = b.op("ReduceSum", [b.op("Mul", [h, m3], "pool/Mul"), "axes_1"], "pool/sum", keepdims=0)
    count = b.op("Max", [b.op("ReduceSum", [m3, "axes_1"], "pool/count", keepdims=0), "eps_pool"], "pool/count_min")
    mean = b.op("Div", [summed, count], "pool/mean")
    norm = b.op("Sqrt", [b.op("ReduceSum", [b.op("Mul", [mean, mean], "norm/sq"), "axes_m1"], "norm/sum",
                              keepdims=1)], "norm/Sqrt")
    b.nodes.append(helper.make_node("Div", [mean, b.op("Max", [norm, "eps_norm"], "norm/Max")],
                                    ["sentence_embedding"], name="norm/Div"))

    ids = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
           for n in ("input_ids", "attention_mask", "token_type_ids")]
    # The embedding first: what a sentence encoder is for (quantc eval scores the first output).
    outs = [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", H]),
            helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", H])]
    g = helper.make_graph(b.nodes, "all-MiniLM-L6-v2", ids, outs, b.inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="quantc.transformers")
    m.ir_version = 8
    return m


def load(model_dir):
    """(weights, config) of a sentence-transformers BERT directory."""
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    return safetensors.load(os.path.join(model_dir, "model.safetensors")), config


def tokenizer(model_dir, max_length=256):
    """The model's WordPiece tokenizer (PyPI tokenizers, from its
    tokenizer.json), truncating at max_length (sentence-transformers' 256)."""
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.enable_truncation(max_length)
    tok.no_padding()
    return tok


def feeds(tok, texts, pad_to=None):
    """int64 feeds for a batch of texts, padded with [PAD] (id 0, mask 0) to
    the longest or to pad_to."""
    enc = tok.encode_batch(list(texts))
    n = max(pad_to or 0, max(len(e.ids) for e in enc))
    ids, mask, types = (np.zeros((len(enc), n), np.int64) for _ in range(3))
    for i, e in enumerate(enc):
        ids[i, :len(e.ids)], mask[i, :len(e.ids)], types[i, :len(e.ids)] = e.ids, e.attention_mask, e.type_ids
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m quantc.transformers.minilm MODEL_DIR OUT.onnx", file=sys.stderr)
        return 2
    import onnx
    weights, config = load(argv[0])
    m = build(weights, config)
    onnx.checker.check_model(m, full_check=False)
    tmp = argv[1] + ".part"
    onnx.save(m, tmp)
    os.replace(tmp, argv[1])
    print("wrote %s (%d nodes, %.1f MB of weights)" % (argv[1], len(m.graph.node),
                                                      sum(np.prod(i.dims) * 4 for i in m.graph.initializer) / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
