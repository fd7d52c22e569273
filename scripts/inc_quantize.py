#!/usr/bin/env python3
"""Intel Neural Compressor for ONNX (PyPI onnx-neural-compressor) as a peer
of `quantc eval`, configured as its documentation shows.

It runs in its own virtual environment (.venv-inc, python/requirements-inc.lock:
the package requires numpy < 2, quantc's environment has numpy 2), so
quantc.peers calls this script as a subprocess; it reads the calibration
split through quantc.datasets (its SHA256SUMS checked) and writes one ONNX
model.

  static       StaticQuantConfig, QDQ, per-channel weights (its quantizer,
               its MinMax calibration)
  sq           SmoothQuant then static (extra_options SmoothQuant,
               SmoothQuantAlpha; "auto" tunes alpha per operator with its
               documented AutoAlphaArgs 0.3..0.7 step 0.05)
  rtn gptq awq weight-only MatMulNBits, 4 bits (matmul_nbits_quantizer)

--matched restricts static/sq to the tensors quantc's w8a8 quantizes: the
Conv/MatMul/Gemm nodes named by --nodes, their outputs and biases float.
"""
import argparse
import os
import sys

import numpy as np


sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"))


def load_calib(split_dir, names):
    """The calibration split, read (and its SHA256SUMS checked) by
    quantc.datasets, as quantc eval reads it."""
    from quantc import datasets
    samples = datasets.load_split(split_dir, names)[0]
    if not samples:
        raise SystemExit("inc_quantize: no calibration samples in %s" % split_dir)
    return samples


def reader(samples):
    """quantc.peers' calibration reader (INC's CalibrationDataReader accepts
    any class with get_next)."""
    from quantc.peers import _reader
    return _reader(samples)


def smoothing_check(model, samples, alpha):
    """SmoothQuant must leave the float model's function unchanged (X
    diag(s)^-1 . diag(s) W); prints how far INC's smoothed float model is
    from the float one on the first calibration sample, for the report."""
    import onnxruntime as ort
    from onnx_neural_compressor.algorithms.smoother import core
    smoothed = core.Smoother(model, reader(samples), execution_provider="CPUExecutionProvider").transform(alpha=alpha)
    a = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(smoothed.SerializeToString(), providers=["CPUExecutionProvider"])
    ya, yb = a.run(None, samples[0])[0], b.run(None, samples[0])[0]
    print("smoothed float vs float: max abs diff %.3g (max |float| %.3g)" %
          (float(np.max(np.abs(ya - yb))), float(np.max(np.abs(ya)))), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--algo", required=True, choices=("static", "sq", "rtn", "gptq", "awq"))
    ap.add_argument("--calib", required=True, help="a calibration split directory")
    ap.add_argument("--alpha", default="0.5", help="SmoothQuant alpha, a number or auto (default 0.5)")
    ap.add_argument("--matched", action="store_true")
    ap.add_argument("--nodes", default="", help="comma-separated node names to quantize (with --matched)")
    ap.add_argument("--reduce-range", action="store_true")
    ap.add_argument("--block-size", type=int, default=128)
    args = ap.parse_args()

    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantFormat
    ort.set_default_logger_severity(3)
    names = [i.name for i in ort.InferenceSession(args.model, providers=["CPUExecutionProvider"]).get_inputs()]
    samples = load_calib(args.calib, names)

    if args.algo in ("rtn", "gptq", "awq"):
        from onnx_neural_compressor.quantization import matmul_nbits_quantizer as mnq
        cfg = {"rtn": lambda: mnq.RTNWeightOnlyQuantConfig(),
               "gptq": lambda: mnq.GPTQWeightOnlyQuantConfig(calibration_data_reader=reader(samples)),
               "awq": lambda: mnq.AWQWeightOnlyQuantConfig(calibration_data_reader=reader(samples))}[args.algo]()
        q = mnq.MatMulNBitsQuantizer(onnx.load(args.model), n_bits=4, block_size=args.block_size,
                                     is_symmetric=True, algo_config=cfg)
        q.process()
        q.model.save_model_to_file(args.out) if hasattr(q.model, "save_model_to_file") else onnx.save(q.model, args.out)
        return 0

    from onnx_neural_compressor.quantization import config, quantize
    extra = {}
    kwargs = {}
    if args.algo == "sq":
        alpha = args.alpha if args.alpha == "auto" else float(args.alpha)
        extra.update({"SmoothQuant": True, "SmoothQuantAlpha": alpha, "SmoothQuantFolding": True})
        if alpha == "auto":
            extra.update({"SmoothQuantCalibIter": 1, "AutoAlphaArgs": {"alpha_min": 0.3, "alpha_max": 0.7,
                                                                        "alpha_step": 0.05, "attn_method": "min"}})
    if args.matched:
        ops = ["Conv", "MatMul", "Gemm"]
        kwargs["op_types_to_quantize"] = ops
        kwargs["nodes_to_quantize"] = [n for n in args.nodes.split(",") if n]
        extra.update({"OpTypesToExcludeOutputQuantization": ops, "QuantizeBias": False})
    qc = config.StaticQuantConfig(calibration_data_reader=reader(samples), quant_format=QuantFormat.QDQ,
                                  per_channel=True, reduce_range=args.reduce_range, extra_options=extra,
                                  calibration_sampling_size=len(samples), **kwargs)
    if args.algo == "sq":
        smoothing_check(args.model, samples, extra["SmoothQuantAlpha"])
    quantize(args.model, args.out, qc)
    if not os.path.exists(args.out):
        raise SystemExit("inc_quantize: %s was not written" % args.out)
    repaired = repair_bias_axes(args.out)
    if repaired:
        print("repaired %d bias DequantizeLinear axes" % repaired)
    return 0


def repair_bias_axes(path):
    """INC writes the per-channel DequantizeLinear of a 1-D Gemm/MatMul bias
    with the weight's axis (1), which is out of range for a 1-D tensor, so
    ONNX Runtime refuses the model ("axis 1 is not in valid range [-1,0]").
    A 1-D per-channel tensor has one axis: those are set to 0, the only
    reading of the scales INC computed (one per output channel). Returns how
    many were repaired."""
    import onnx
    m = onnx.load(path)
    dims = {i.name: len(i.dims) for i in m.graph.initializer}
    n = 0
    for node in m.graph.node:
        if node.op_type != "DequantizeLinear" or dims.get(node.input[0]) != 1:
            continue
        for a in node.attribute:
            if a.name == "axis" and a.i not in (0, -1):
                a.i = 0
                n += 1
    if n:
        onnx.save(m, path)
    return n


if __name__ == "__main__":
    sys.exit(main())
