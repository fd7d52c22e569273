"""Greedy generation with a causal LM's decode graph in the Optimum / ONNX
Runtime GenAI layout (input_ids, attention_mask, position_ids,
past_key_values.{i}.key/.value -> logits, present.{i}.key/.value), run by
a library quantc compiled (float or quantized), or by ONNX Runtime.

    python -m quantc.generate MODEL_DIR --prompt "..." [--max-tokens N]
        [--recipe R] [--window P --chunk C] [--threads T] [--compare-ort]

(also `quantc generate ...`). MODEL_DIR holds decode.onnx and
tokenizer.json (quantc.transformers.smollm2 writes them).

By default the library is one body for any length (`?` for the prompt
and cache lengths, docs/design.md): the prompt runs in one call on an
empty cache and the cache grows by one slot per token, exactly as ONNX
Runtime decodes, with no length limit but the model's.

With --window P (and --chunk C) the library has two static shape variants
of the decode graph instead, both with a KV cache of P slots: C tokens at a time (the prompt, in chunks) and one
token (each new one). The cache is a window of the last P slots: every run
appends its tokens' keys and values (present has P + C or P + 1 slots) and
the oldest slots drop out. Slots that hold no token yet, and the left
padding of the first prompt chunk, have attention_mask 0, so attention
never reads them (their scores are float-min, their softmax weights exactly
0); RoPE positions come from position_ids, counting real tokens only. Up to
P tokens in all (prompt + generated) this is the same computation as
ONNX Runtime's growing cache. It was the only way before symbolic
dimensions; it is slower now (every step attends over P slots).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


class GenerateError(RuntimeError):
    pass


def _kv_inputs(model_path):
    """[(name, [kv_heads, head_dim])] of the decode graph's past inputs."""
    import onnx
    m = onnx.load(model_path, load_external_data=False)
    out = []
    for i in m.graph.input:
        if i.name.startswith("past_key_values."):
            dims = [d.dim_value for d in i.type.tensor_type.shape.dim]
            out.append((i.name, dims[1], dims[3]))
    if not out:
        raise GenerateError("%s: no past_key_values.* inputs (not a decode graph with a KV cache)" % model_path)
    return out


def _compile(quantc, model_dir, out_so, shapes, what, recipe=None, calib=None, log=print):
    """MODEL_DIR/decode.onnx (quantized with `recipe` first when given)
    compiled into out_so with `--shape` for each of `shapes`."""
    model = os.path.join(model_dir, "decode.onnx")
    src = model
    with tempfile.TemporaryDirectory() as tmp:
        if recipe:
            src = os.path.join(tmp, "quantized.mlirbc")
            cmd = [quantc, "quantize", model, "--recipe", recipe, "-o", src]
            if calib:
                cmd += ["--calib", calib]
            t = time.perf_counter()
            _check(subprocess.run(cmd, capture_output=True, text=True), cmd)
            log("quantized decode.onnx with %s in %.1f s" % (recipe, time.perf_counter() - t))
        cmd = [quantc, "compile", src, "-o", out_so]
        for s in shapes:
            cmd += ["--shape", s]
        t = time.perf_counter()
        _check(subprocess.run(cmd, capture_output=True, text=True), cmd)
        log("compiled %s (%s) in %.1f s" % (out_so, what, time.perf_counter() - t))


def compile_decode(quantc, model_dir, out_so, window, chunk, recipe=None, calib=None, log=print):
    """The prompt-chunk and one-token variants sharing a window of cache
    slots."""
    kv = _kv_inputs(os.path.join(model_dir, "decode.onnx"))
    shapes = ["input_ids=1x%d" % chunk, "input_ids=1x1", "attention_mask=1x%d" % (window + chunk),
              "attention_mask=1x%d" % (window + 1), "position_ids=1x%d" % chunk, "position_ids=1x1"]
    shapes += ["%s=1x%dx%dx%d" % (n, h, window, d) for n, h, d in kv]
    _compile(quantc, model_dir, out_so, shapes, "window %d, chunk %d" % (window, chunk), recipe, calib, log)


def compile_decode_symbolic(quantc, model_dir, out_so, recipe=None, calib=None, log=print):
    """One body for any prompt and cache length (`?` dims)."""
    kv = _kv_inputs(os.path.join(model_dir, "decode.onnx"))
    shapes = ["input_ids=1x?", "attention_mask=1x?", "position_ids=1x?"]
    shapes += ["%s=1x%dx?x%d" % (n, h, d) for n, h, d in kv]
    _compile(quantc, model_dir, out_so, shapes, "symbolic lengths", recipe, calib, log)


def _check(p, cmd):
    if p.returncode != 0:
        raise GenerateError("%s failed (exit %d): %s" % (" ".join(cmd[:3]), p.returncode,
                                                           (p.stderr or p.stdout).strip()[-2000:]))


class WindowedDecoder:
    """Greedy decoding through a fixed window of P cache slots (see the
    module's docstring). `run(feeds) -> {name: array}` is a compiled model."""

    def __init__(self, run, kv, window, chunk):
        self.run, self.kv, self.P, self.C = run, kv, window, chunk

    def warm_up(self):
        """One run of each shape variant on an empty cache (first runs touch
        the weights' pages and fill the buffer pool); returns seconds."""
        t = time.perf_counter()
        for seq in (self.C, 1):
            feeds = {"input_ids": np.zeros((1, seq), np.int64),
                     "attention_mask": np.zeros((1, self.P + seq), np.int64),
                     "position_ids": np.zeros((1, seq), np.int64)}
            feeds.update({name: np.zeros((1, h, self.P, d), np.float32) for name, h, d in self.kv})
            self.run(feeds)
        return time.perf_counter() - t

    def generate(self, prompt, max_tokens, eos=None):
        P, C = self.P, self.C
        n = len(prompt)
        if n < 1:
            raise GenerateError("the prompt is empty")
        if n + max_tokens > P:
            raise GenerateError("prompt (%d tokens) + --max-tokens %d exceed the window of %d cache slots "
                                "(--window)" % (n, max_tokens, P))
        past = {name: np.zeros((1, h, P, d), np.float32) for name, h, d in self.kv}
        slots = np.zeros(P, np.int64)  # attention_mask of the cached slots
        pos = 0
        # The first chunk takes n mod C tokens (left-padded), so that padding
        # is older than every token and leaves the window first.
        first = n % C or C
        pieces = [prompt[:first]] + [prompt[i:i + C] for i in range(first, n, C)]
        t0 = time.perf_counter()
        for ids in pieces:
            k, pad = len(ids), C - len(ids)
            am = np.concatenate([slots, np.zeros(pad, np.int64), np.ones(k, np.int64)])
            feeds = {"input_ids": np.array([[0] * pad + list(ids)], np.int64),
                     "attention_mask": am[None, :],
                     "position_ids": np.array([[0] * pad + list(range(pos, pos + k))], np.int64)}
            out = self._step(feeds, past)
            slots, pos = am[-P:], pos + k
        tokens = [int(np.argmax(out["logits"][0, -1]))]
        t1 = time.perf_counter()
        while len(tokens) < max_tokens and (eos is None or tokens[-1] != eos):
            am = np.concatenate([slots, np.ones(1, np.int64)])
            feeds = {"input_ids": np.array([[tokens[-1]]], np.int64), "attention_mask": am[None, :],
                     "position_ids": np.array([[pos]], np.int64)}
            out = self._step(feeds, past)
            slots, pos = am[-P:], pos + 1
            tokens.append(int(np.argmax(out["logits"][0, -1])))
        t2 = time.perf_counter()
        return tokens, {"prompt_tokens": n, "prefill_s": t1 - t0, "decode_tokens": len(tokens) - 1,
                        "decode_s": t2 - t1}

    def _step(self, feeds, past):
        feeds.update(past)
        out = self.run(feeds)
        for name, _, _ in self.kv:
            past[name] = out[name.replace("past_key_values", "present")][:, :, -self.P:]
        return out


def ort_session(path, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def growing_generate(run, kv, prompt, max_tokens, eos=None):
    """Greedy decoding with a growing cache, as exporters mean the decode
    graph to be used: the prompt in one run on an empty cache (past length
    0), then one token at a time, each run's present the next run's past
    (attention_mask all ones). `run(feeds) -> {name: array}`; `kv` as
    _kv_inputs gives it."""
    past = {name: np.zeros((1, h, 0, d), np.float32) for name, h, d in kv}
    n = len(prompt)
    if n < 1:
        raise GenerateError("the prompt is empty")
    t0 = time.perf_counter()
    f = {"input_ids": np.array([prompt], np.int64), "attention_mask": np.ones((1, n), np.int64),
         "position_ids": np.arange(n, dtype=np.int64)[None, :]}
    f.update(past)
    o = run(f)
    tokens = [int(np.argmax(o["logits"][0, -1]))]
    t1 = time.perf_counter()
    while len(tokens) < max_tokens and (eos is None or tokens[-1] != eos):
        total = n + len(tokens)
        f = {"input_ids": np.array([[tokens[-1]]], np.int64), "attention_mask": np.ones((1, total), np.int64),
             "position_ids": np.array([[total - 1]], np.int64)}
        f.update({name: o[name.replace("past_key_values", "present")] for name, _, _ in kv})
        o = run(f)
        tokens.append(int(np.argmax(o["logits"][0, -1])))
    t2 = time.perf_counter()
    return tokens, {"prompt_tokens": n, "prefill_s": t1 - t0, "decode_tokens": len(tokens) - 1,
                    "decode_s": t2 - t1}


def ort_generate(dec, prompt, max_tokens, eos=None):
    """ONNX Runtime's greedy decoding with the decode graph alone (session
    `dec`): the prompt with an empty cache (past length 0), then one token
    at a time with the growing cache (attention_mask all ones). Written
    apart from growing_generate on purpose: it is the reference quantc's
    tokens are checked against."""
    names = [o.name for o in dec.get_outputs()]
    past = {i.name: np.zeros([1, i.shape[1], 0, i.shape[3]], np.float32) for i in dec.get_inputs()
            if i.name.startswith("past_key_values.")}
    n = len(prompt)
    t0 = time.perf_counter()
    f = {"input_ids": np.array([prompt], np.int64), "attention_mask": np.ones((1, n), np.int64),
         "position_ids": np.arange(n, dtype=np.int64)[None, :]}
    f.update(past)
    o = dec.run(None, f)
    tokens = [int(np.argmax(o[0][0, -1]))]
    t1 = time.perf_counter()
    while len(tokens) < max_tokens and (eos is None or tokens[-1] != eos):
        total = n + len(tokens)
        f = {"input_ids": np.array([[tokens[-1]]], np.int64), "attention_mask": np.ones((1, total), np.int64),
             "position_ids": np.array([[total - 1]], np.int64)}
        f.update({nm.replace("present", "past_key_values"): v for nm, v in zip(names[1:], o[1:])})
        o = dec.run(None, f)
        tokens.append(int(np.argmax(o[0][0, -1])))
    t2 = time.perf_counter()
    return tokens, {"prompt_tokens": n, "prefill_s": t1 - t0, "decode_tokens": len(tokens) - 1,
                    "decode_s": t2 - t1}


def ort_peer(model_dir, peer, tmp):
    """The decode graph ONNX Runtime runs: float, or quantized by ONNX
    Runtime's own tools as their docs recommend (`quantize_dynamic`, int8
    weights; MatMulNBitsQuantizer RTN, 4 bits, block 128, asymmetric)."""
    src = os.path.join(model_dir, "decode.onnx")
    if peer == "float":
        return src
    import logging
    from quantc import peers
    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic's pre-processing advice
    out = os.path.join(tmp, "decode-%s.onnx" % peer)
    t = time.perf_counter()
    if peer == "dynamic":
        peers.dynamic(src, out)
    elif peer == "nbits-rtn":
        peers.nbits(src, out, "RTN", block_size=128)
    else:
        raise GenerateError("unknown --ort-peer %s (float, dynamic, nbits-rtn)" % peer)
    print("ONNX Runtime peer %s quantized in %.1f s" % (peer, time.perf_counter() - t))
    return out


def _rates(st):
    return (st["prompt_tokens"] / st["prefill_s"] if st["prefill_s"] > 0 else float("nan"),
            st["decode_tokens"] / st["decode_s"] if st["decode_s"] > 0 else float("nan"))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="quantc generate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", help="decode.onnx and tokenizer.json")
    ap.add_argument("--prompt", action="append", required=True, help="repeat for several prompts")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--recipe", help="quantize decode.onnx with this recipe first (default: float)")
    ap.add_argument("--calib", help="calibration samples of decode.onnx's inputs (static recipes)")
    ap.add_argument("--window", type=int,
                    help="instead of one body for any length (the default), compile two static variants "
                         "sharing a KV-cache window of this many slots (prompt + new tokens)")
    ap.add_argument("--chunk", type=int, help="with --window: prompt tokens per prefill run (64)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lib", help="use (or write, if missing) this compiled library")
    ap.add_argument("--compare-ort", action="store_true",
                    help="also decode with ONNX Runtime and compare tokens and speed")
    ap.add_argument("--ort-peer", default="float", choices=["float", "dynamic", "nbits-rtn"],
                    help="what ONNX Runtime runs with --compare-ort: the float graph (default; tokens must "
                         "match quantc's float ones), quantize_dynamic's, or MatMulNBits RTN block 128")
    ap.add_argument("--stop-at-eos", action="store_true", help="stop at the tokenizer's end-of-text token")
    ap.add_argument("--quantc", default=os.environ.get("QUANTC", "quantc"))
    a = ap.parse_args(argv)
    a.symbolic = a.window is None and a.chunk is None
    if not a.symbolic:
        a.window = 256 if a.window is None else a.window
        a.chunk = 64 if a.chunk is None else a.chunk
    for what, v, lo in (("--max-tokens", a.max_tokens, 1), ("--window", a.window, 2), ("--chunk", a.chunk, 1),
                        ("--threads", a.threads, 1)):
        if v is not None and v < lo:
            ap.error("%s must be at least %d (got %d)" % (what, lo, v))
    from tokenizers import Tokenizer
    from quantc import CompiledModel
    tok_path = os.path.join(a.model_dir, "tokenizer.json")
    for f in (tok_path, os.path.join(a.model_dir, "decode.onnx")):
        if not os.path.exists(f):
            ap.error("%s does not exist" % f)
    tok = Tokenizer.from_file(tok_path)
    eos = tok.token_to_id("<|endoftext|>") if a.stop_at_eos else None
    kv = _kv_inputs(os.path.join(a.model_dir, "decode.onnx"))
    prompts = [(p, tok.encode(p).ids) for p in a.prompt]
    for p, ids in prompts:  # before compiling
        if not ids:
            print("quantc generate: error: prompt %r has no tokens" % p, file=sys.stderr)
            return 2
        if not a.symbolic and len(ids) + a.max_tokens > a.window:
            print("quantc generate: error: prompt %r (%d tokens) + --max-tokens %d exceed the window of %d "
                  "cache slots (--window)" % (p[:40], len(ids), a.max_tokens, a.window), file=sys.stderr)
            return 2
    try:
        with tempfile.TemporaryDirectory() as tmp:
            lib = a.lib or os.path.join(tmp, "decode.so")
            if not os.path.exists(lib):
                if a.symbolic:
                    compile_decode_symbolic(a.quantc, a.model_dir, lib, a.recipe, a.calib)
                else:
                    compile_decode(a.quantc, a.model_dir, lib, a.window, a.chunk, a.recipe, a.calib)
            ort_dec = ort_session(ort_peer(a.model_dir, a.ort_peer, tmp), a.threads) if a.compare_ort else None
            model = CompiledModel(lib, threads=a.threads)
            print("kernels: %s" % model.kernel_paths())
            if a.symbolic:
                run = lambda f: model(**f)  # noqa: E731
                t = time.perf_counter()
                growing_generate(run, kv, prompts[0][1], 2)
                print("warm-up (the first prompt and one token): %.0f ms" % (1e3 * (time.perf_counter() - t)))
                gen = lambda ids: growing_generate(run, kv, ids, a.max_tokens, eos)  # noqa: E731
            else:
                dec = WindowedDecoder(lambda f: model(**f), kv, a.window, a.chunk)
                print("warm-up (one run of each variant): %.0f ms" % (1e3 * dec.warm_up()))
                gen = lambda ids: dec.generate(ids, a.max_tokens, eos)  # noqa: E731
            mismatches = 0
            for prompt, ids in prompts:
                tokens, st = gen(ids)
                pf, dc = _rates(st)
                print("\nprompt: %r (%d tokens)" % (prompt, len(ids)))
                print("quantc %s: %r" % (a.recipe or "float", tok.decode(tokens)))
                print("  prefill %.1f tokens/s (%.1f ms), decode %.1f tokens/s (%.1f ms/token)" % (
                    pf, 1e3 * st["prefill_s"], dc, 1e3 * st["decode_s"] / max(1, st["decode_tokens"])))
                if a.compare_ort:
                    rt, rst = ort_generate(ort_dec, ids, a.max_tokens, eos)
                    rpf, rdc = _rates(rst)
                    same = next((i for i, (x, y) in enumerate(zip(tokens, rt)) if x != y), None)
                    if same is None and len(tokens) == len(rt):
                        verdict = "same %d tokens" % len(rt)
                    else:
                        mismatches += 1
                        verdict = "DIFFERENT from token %d" % (same if same is not None else min(len(tokens),
                                                                                              len(rt)))
                    print("ORT %s: %r" % (a.ort_peer, tok.decode(rt)))
                    print("  prefill %.1f tokens/s, decode %.1f tokens/s; quantc/ORT decode speed %.2fx; %s" % (
                        rpf, rdc, dc / rdc, verdict))
                    print("  tokens quantc %s" % tokens)
                    print("  tokens ORT    %s" % rt)
    except GenerateError as e:
        print("quantc generate: error: %s" % e, file=sys.stderr)
        return 1
    return 1 if (a.compare_ort and mismatches and not a.recipe and a.ort_peer == "float") else 0


if __name__ == "__main__":
    sys.exit(main())
