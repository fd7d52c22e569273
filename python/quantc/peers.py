"""ONNX Runtime's quantizers as `quantc eval` runs them, and the sessions
that execute every candidate.

Every peer gets the same input model as quantc: `prepare` fixes the input
dims to the data's (ORT's calibrator wants static shapes), converts to
opset >= 13 (per-channel DequantizeLinear), inlines model-local
functions and runs ORT's
`quant_pre_process` (its documented first step: shape inference and
graph optimisation). quantc then quantizes that same file.

`literal_session` runs a QDQ model with graph optimisations off: each
DequantizeLinear is executed and the float op after it is the plain
float kernel, so two quantizers' QDQ models are compared by their choices
(scales, zero points, which tensors) and not by the integer kernels of
the CPU at hand. `default_session` is how users run a model (fusions on,
integer kernels where ORT has them).
"""
import os
import shutil

import numpy as np

CONTRACTIONS = ["Conv", "MatMul", "Gemm"]


def session(path, literal, threads=2):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    if literal:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def literal_session(path, threads=2):
    return session(path, True, threads)


def default_session(path, threads=2):
    return session(path, False, threads)


def run_session(sess, samples):
    """The first output of each sample."""
    return [sess.run(None, feeds)[0] for feeds in samples]


def prepare(src, dst_dir, sample, constants=None):
    """The model both quantizers start from (see the module comment).
    `constants`: inputs whose value is the same in every sample, on which
    the model is specialised (quantc.specialize: an If on them is inlined,
    so that quantize_static sees the layers of the branch taken)."""
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization.shape_inference import quant_pre_process
    fixed, pre = os.path.join(dst_dir, "fixed.onnx"), os.path.join(dst_dir, "pre.onnx")
    m = onnx.load(src)
    for vi in m.graph.input:
        if vi.name in sample:
            for d, v in zip(vi.type.tensor_type.shape.dim, sample[vi.name].shape):
                d.ClearField("dim_param")
                d.dim_value = v
    opset = next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), 13)
    if opset < 13:
        m = version_converter.convert_version(m, 13)
    if constants:
        from quantc.specialize import specialize
        m, inlined = specialize(m, constants)
        if inlined:
            print("  prepare: specialised on %s: %d If inlined" %
                  (", ".join("%s=%s" % (k, v.tolist()) for k, v in constants.items()), inlined), flush=True)
    if m.functions:
        # Model-local functions (torch.export writes them) are inlined, as
        # quantc's importer does, so that ORT's quantizer sees their nodes.
        from onnx import inliner
        m = inliner.inline_local_functions(m)
    # Unnamed nodes get names, so that both quantizers report the same ones.
    for i, n in enumerate(m.graph.node):
        if not n.name:
            n.name = "%s_%d" % (n.op_type, i)
    onnx.save(m, fixed)
    quant_pre_process(fixed, pre, skip_symbolic_shape=True)
    m = onnx.load(pre)
    for i, n in enumerate(m.graph.node):
        if not n.name:
            n.name = "%s_pre_%d" % (n.op_type, i)
    onnx.save(m, pre)
    return pre


def _reader(samples):
    """ORT's CalibrationDataReader over a list of feed dicts (rewindable:
    GPTQ reads the samples more than once)."""
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(samples)

        def get_next(self):
            return next(self.it, None)

        def rewind(self):
            self.it = iter(samples)
    return Reader()


def static(pre, out, calib, method="MinMax", per_channel=True, activation="QUInt8", weight="QInt8",
           reduce_range=False, nodes_to_quantize=None, nodes_to_exclude=None, matched=False, tmp=None):
    """`quantize_static`, QDQ format. `matched`: only Conv/MatMul/Gemm
    inputs (activation and weight), outputs and biases left float: the
    tensors quantc's w8a8 quantizes. Entropy searches a 2048-bin histogram
    for a 128-level threshold (TensorRT's setting; quantize_static's
    default of 128 bins leaves one candidate, i.e. MinMax), through ORT's
    own calibrator and calibration cache."""
    if nodes_to_quantize is not None and not nodes_to_quantize:
        # quantize_static reads an empty list as "every node"; matching a
        # side that quantized no layer means quantizing none.
        shutil.copyfile(pre, out)
        return out
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    extra = {}
    op_types = None
    if matched:
        op_types = CONTRACTIONS
        extra.update({"OpTypesToExcludeOutputQuantization": CONTRACTIONS, "QuantizeBias": False})
    kwargs = {}
    cal_method = getattr(CalibrationMethod, method)
    if method == "Entropy":
        from onnxruntime.quantization.calibrate import create_calibrator, save_tensors_data
        cache = out + ".calib.json"
        c = create_calibrator(pre, op_types, augmented_model_path=out + ".aug.onnx", calibrate_method=cal_method,
                              extra_options={"num_bins": 2048, "num_quantized_bins": 128})
        c.collect_data(_reader(calib))
        save_tensors_data(c.compute_data(), cache)
        del c
        kwargs["calibration_cache_path"] = cache
    quantize_static(pre, out, _reader(calib), quant_format=QuantFormat.QDQ, op_types_to_quantize=op_types,
                    per_channel=per_channel, reduce_range=reduce_range,
                    activation_type=getattr(QuantType, activation), weight_type=getattr(QuantType, weight),
                    nodes_to_quantize=nodes_to_quantize, nodes_to_exclude=nodes_to_exclude,
                    calibrate_method=cal_method, extra_options=extra, **kwargs)
    return out


def dynamic(pre, out, per_channel=False):
    """`quantize_dynamic` with its defaults (int8 weights, uint8 activations
    quantized at run time)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    quantize_dynamic(pre, out, per_channel=per_channel, weight_type=QuantType.QInt8)
    return out


def nbits(pre, out, algo="RTN", calib=None, block_size=128):
    """MatMulNBitsQuantizer, 4 bits, block 128: RTN (ORT's default
    asymmetric), HQQ, or GPTQ on the calibration samples."""
    import onnx
    from onnxruntime.quantization import matmul_nbits_quantizer as mnq
    if algo == "RTN":
        cfg = mnq.DefaultWeightOnlyQuantConfig(block_size=block_size, is_symmetric=False)
    elif algo == "HQQ":
        cfg = mnq.HQQWeightOnlyQuantConfig(block_size=block_size)
    elif algo == "GPTQ":
        cfg = mnq.GPTQWeightOnlyQuantConfig(calibration_data_reader=_reader(calib), block_size=block_size)
    else:
        raise ValueError("unknown MatMulNBits algorithm %s" % algo)
    q = mnq.MatMulNBitsQuantizer(onnx.load(pre), block_size=block_size, algo_config=cfg)
    q.process()
    q.model.save_model_to_file(out)
    return out


def inc_python():
    """The interpreter of Intel Neural Compressor's environment (.venv-inc,
    made by scripts/bootstrap; $QUANTC_INC_PYTHON overrides)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.environ.get("QUANTC_INC_PYTHON", os.path.join(root, ".venv-inc", "bin", "python"))


def inc(pre, out, calib_dir, algo, alpha="0.5", nodes_to_quantize=None, matched=False, reduce_range=False):
    """Intel Neural Compressor for ONNX (scripts/inc_quantize.py, in its own
    environment): algo static, sq (SmoothQuant, alpha a number or auto),
    rtn, gptq, awq (4-bit weight-only, block 128)."""
    import subprocess
    if matched and not nodes_to_quantize:
        shutil.copyfile(pre, out)  # as in static(): nothing to match
        return out
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    py = inc_python()
    if not os.path.exists(py):
        raise RuntimeError("no %s: run scripts/bootstrap (it makes .venv-inc)" % py)
    cmd = [py, os.path.join(root, "scripts", "inc_quantize.py"), pre, out, "--algo", algo, "--calib", calib_dir,
           "--alpha", str(alpha)]
    if matched:
        cmd += ["--matched", "--nodes", ",".join(nodes_to_quantize or [])]
    if reduce_range:
        cmd.append("--reduce-range")
    # INC's AWQ took 35 minutes on SmolLM2 (docs/accuracy.md); a peer that
    # runs past $QUANTC_PEER_TIMEOUT seconds (default 3600) is a failed row.
    limit = float(os.environ.get("QUANTC_PEER_TIMEOUT", "3600"))
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        if os.path.exists(out):
            os.remove(out)
        raise RuntimeError("INC %s: no model after %.0f s (QUANTC_PEER_TIMEOUT)" % (algo, limit))
    if p.returncode != 0 or not os.path.exists(out):
        lines = [l for l in (p.stderr + p.stdout).strip().splitlines() if l.strip()]
        errors = [l for l in lines if "Error" in l or "error:" in l]  # not its progress bars
        lines = errors or lines
        raise RuntimeError("INC %s: %s" % (algo, lines[-1] if lines else "exit %d" % p.returncode))
    import re
    notes = [m.group(0) for m in (re.search(r"smoothed float vs float: [^\n]*", p.stdout),
                                  re.search(r"repaired \d+ bias DequantizeLinear axes", p.stdout)) if m]
    if notes:
        with open(out + ".note", "w") as f:
            f.write("; ".join(notes))
    return out


def quantized_layers(path):
    """How many weights a quantized ONNX model quantized: DequantizeLinear of
    an initializer (QDQ), MatMulInteger/ConvInteger (dynamic), MatMulNBits."""
    import onnx
    m = onnx.load(path, load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    n = 0
    for node in m.graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0] in inits:
            # Biases (int32) are not layers.
            t = next(i for i in m.graph.initializer if i.name == node.input[0])
            n += t.data_type != onnx.TensorProto.INT32
        elif node.op_type in ("MatMulInteger", "ConvInteger", "MatMulNBits", "QLinearConv", "QLinearMatMul"):
            n += 1
    return n


def cpu_features():
    """The CPU's name and the features that decide which integer kernels ORT
    (and quantc) use. The AVX family comes from CPUID, as numpy reads it
    (what an emulated CPU, `qemu-x86_64 -cpu Haswell`, reports; its
    /proc/cpuinfo is the host's); AVX-VNNI and AMX, which numpy does not
    report, from /proc/cpuinfo when that describes the same CPU."""
    name, flags = "unknown", set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and name == "unknown":
                name = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as npf
    except ImportError:
        npf = None
    if npf:
        cpuid = {"avx2": npf.get("AVX2"), "fma": npf.get("FMA3"), "avx512f": npf.get("AVX512F"),
                 "avx512bw": npf.get("AVX512BW"), "avx512_vnni": npf.get("AVX512VNNI")}
        same = bool(cpuid["avx512f"]) == ("avx512f" in flags) and bool(cpuid["avx2"]) == ("avx2" in flags)
        if not same:
            name += " (emulated: CPUID differs from /proc/cpuinfo)"
        flags = {k for k, v in cpuid.items() if v} | ({"avx_vnni", "amx_int8", "amx_tile"} & flags if same else set())
    feats = [f for f in ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8", "amx_tile")
             if f in flags]
    return name, feats


def has_vnni():
    return any(f in cpu_features()[1] for f in ("avx512_vnni", "avx_vnni"))
