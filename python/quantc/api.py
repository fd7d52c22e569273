"""The compiler from Python: import, quantize, compile, load.

    import quantc
    m = quantc.import_onnx("model.onnx")
    q = quantc.quantize(m, recipe="w8a8", calibration=[{"x": x0}, {"x": x1}])
    q.save("model_w8a8.onnx")              # QDQ ONNX; .so and .mlir too
    net = quantc.compile(q)                # a CompiledModel
    y = net.run({"x": x0})                 # dict of numpy arrays

Every call goes through the driver library the `quantc` CLI uses
(include/quantc/Driver), so the same model, recipe and samples give the
same bytes from either. Errors raise quantc.Error (OptionError for bad
options, ModelError for a model or data the compiler refuses) with the
compiler's message, and the node and location it names.
"""
import os
import re
import shutil
import tempfile
import weakref
from typing import Dict, Iterable, List, Optional, Union

import numpy as np

from . import _native

__all__ = ["Error", "OptionError", "ModelError", "Module", "QuantizedModel", "LayerReport",
           "import_onnx", "quantize", "compile", "load", "RECIPE_OPTIONS"]

_CODES = {np.dtype(np.float32): 1, np.dtype(np.float64): 2, np.dtype(np.float16): 3,
          np.dtype(np.int64): 4, np.dtype(np.int32): 5, np.dtype(np.int16): 6,
          np.dtype(np.int8): 7, np.dtype(np.uint8): 8, np.dtype(np.bool_): 9}
_DTYPES = {v: k for k, v in _CODES.items()}


class Error(RuntimeError):
    """A compiler error. `message`: the compiler's text (every error line);
    `node`: the ONNX node it names, if any; `location`: the file (and
    position) it names, if any; `status`: the CLI's exit status for it."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.message = message
        self.status = status
        node = re.search(r"node '([^']+)'", message)
        self.node = node.group(1) if node else None
        loc = re.search(r'loc\("([^"]+)"(?::(\d+):(\d+))?', message) or \
            re.search(r"quantc: error: ([^:\s']+\.(?:onnx|mlir|mlirbc|npy|npz|pb|json))", message)
        self.location = loc.group(1) if loc else None


class OptionError(Error, ValueError):
    """An option the compiler refuses (CLI exit status 2)."""


class ModelError(Error):
    """A model or calibration data the compiler refuses (exit status 1)."""


def _check(result, what):
    status, out, err = result[0], result[1], result[2]
    if status != 0:
        text = err.strip() or "%s failed (status %d)" % (what, status)
        raise (OptionError if status == 2 else ModelError)(text, status)
    return out


def _core():
    return _native.load()


class Module:
    """A model in the compiler: ONNX imported or qc IR parsed."""

    def __init__(self, native, path):
        self._m = native
        self.path = path

    @property
    def mlir(self):
        """The IR as text (large weights elided)."""
        return self._m.text(True)

    def text(self, elide_weights=False):
        return self._m.text(elide_weights)

    def summary(self):
        """Inputs, outputs, op counts and parameters (`quantc summary`)."""
        return self._m.summary()

    @property
    def inputs(self):
        """[(name, numpy dtype, shape)]; None for a symbolic dimension."""
        return [(n, _DTYPES[d], tuple(None if x < 0 else x for x in s))
                for n, d, _, s in self._m.inputs()]

    def run_passes(self, pipeline):
        """Runs a pass pipeline in place (quant-opt's syntax, e.g.
        "builtin.module(func.func(canonicalize))"); returns self."""
        _check(self._m.run_passes(pipeline), "run_passes")
        return self

    def save(self, path):
        """Writes .mlir text or .mlirbc bytecode."""
        _check(self._m.save(os.fspath(path)), "save")


def import_onnx(path: Union[str, "os.PathLike[str]"], shape_inference: bool = True) -> Module:
    """Imports an ONNX model (or parses qc IR: .mlir/.mlirbc)."""
    path = os.fspath(path)
    native, status, out, err = _core().Module.open(path, shape_inference)
    if native is None:
        _check((status or 1, out, err), "import of %s" % path)
    return Module(native, path)


class _Workdir:
    """A temporary directory removed with its owner."""

    def __init__(self, owner):
        self.path = tempfile.mkdtemp(prefix="quantc-")
        weakref.finalize(owner, shutil.rmtree, self.path, True)


def _model_path(model, work):
    if isinstance(model, Module):
        p = os.path.join(work.path, "model.mlirbc")
        model.save(p)
        return p
    if isinstance(model, QuantizedModel):
        return model._ir
    return os.fspath(model)


def _iterate(calibration):
    """Samples from a list/iterable of dicts, or an ONNX Runtime style
    data reader (get_next() until None)."""
    if hasattr(calibration, "get_next"):
        while True:
            s = calibration.get_next()
            if s is None:
                return
            yield s
    else:
        yield from calibration


def _samples(calibration, inputs, progress):
    """[(name, dtype code, shape, address)] per sample, and the arrays
    (kept alive by the caller)."""
    names = [n for n, _, _ in inputs]
    it = _iterate(calibration)
    if progress is True:
        try:
            from tqdm import tqdm
            it = tqdm(it, desc="calibration samples", unit="sample",
                      total=len(calibration) if hasattr(calibration, "__len__") else None)
        except ImportError:
            pass
    out, keep = [], []
    for k, sample in enumerate(it):
        if not isinstance(sample, dict):
            raise ModelError("calibration sample %d is a %s, not a dict of input name -> array"
                             % (k, type(sample).__name__))
        missing = [n for n in names if n not in sample]
        extra = sorted(set(sample) - set(names))
        if missing or extra:
            raise ModelError("calibration sample %d: %s" % (k, "; ".join(
                (["missing input(s) %s" % ", ".join(missing)] if missing else []) +
                (["unknown input(s) %s" % ", ".join(extra)] if extra else []))))
        tensors = []
        for name in names:
            a = np.ascontiguousarray(sample[name])
            if a.dtype not in _CODES:
                raise ModelError("calibration sample %d: input '%s' has dtype %s, which quantc "
                                 "does not read" % (k, name, a.dtype))
            keep.append(a)
            tensors.append((name, _CODES[a.dtype], list(a.shape), a.ctypes.data))
        out.append(tensors)
    return out, keep


class _ProgressBars:
    """tqdm bars for the calibration runs of a quantization (one per run:
    smoothing's search, Hessians and the calibration itself each go over
    the samples); nothing when tqdm is not installed."""

    def __init__(self):
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
        self._tqdm, self._bar, self._runs = tqdm, None, 0

    def __call__(self, stage, done, total):
        if self._tqdm is None:
            return
        if done == 0 or self._bar is None:
            self.close()
            self._runs += 1
            self._bar = self._tqdm(total=total, desc="%s run %d" % (stage, self._runs),
                                   unit="sample", leave=False)
        self._bar.n = done
        self._bar.refresh()
        if done >= total:
            self.close()

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class LayerReport(dict):
    """One quantized layer of QuantizedModel.report(): name, op, formats,
    ranges, SQNRs, parameters and bytes (the keys of `quantc quantize
    --report`), readable as attributes too."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


class QuantizedModel:
    """The result of quantize(): `save(path)` writes .so, .onnx (QDQ),
    .mlir or .mlirbc; `report()` is the per-layer table; `log` what the
    compiler printed."""

    def __init__(self, ir, report_json, log, source, options, samples_shapes, work):
        import json
        self._ir = ir
        self._report = json.loads(report_json) if report_json else {"layers": []}
        self.log = log
        self._source = source
        self._options = options
        self._shapes = samples_shapes
        self._work = work

    @property
    def recipe(self):
        return self._options.get("recipe", "w8a8")

    def report(self) -> List[LayerReport]:
        """[LayerReport] in the order the layers were quantized."""
        return [LayerReport(l) for l in self._report.get("layers", [])]

    def module(self):
        """The quantized IR as a Module."""
        return import_onnx(self._ir)

    def save(self, path):
        """.mlir/.mlirbc: the quantized IR; .so: compiled for the first
        calibration sample's shapes; .onnx: the source ONNX model with the
        layers as this quantization rounded them (QuantizeLinear /
        DequantizeLinear pairs, MatMulNBits); the source file is read again,
        so it must still exist unchanged."""
        path = os.fspath(path)
        if path.endswith((".mlir", ".mlirbc")):
            import_onnx(self._ir).save(path)
        elif path.endswith(".so"):
            if not self._shapes:
                raise OptionError("saving a .so needs the input shapes of a calibration sample "
                                  "(quantize() was given no calibration data)", 2)
            _check(_core().compile({"model": self._ir, "output": path,
                                    "shapes": self._shapes,
                                    "cpu": self._options.get("cpu", ""),
                                    "features": self._options.get("features", "")}),
                   "compile")
        elif path.endswith(".onnx"):
            _check(self._quantization.export_qdq(path), "QDQ export")
        else:
            raise OptionError("save() writes .so, .onnx, .mlir or .mlirbc, not '%s'" % path, 2)
        return path

    def __repr__(self):
        return "QuantizedModel(recipe=%r, %d layers)" % (self.recipe, len(self._report["layers"]))


# quantize()'s keyword options -> the driver's option names. Text options
# are passed as text: the driver checks them the way the CLI does.
RECIPE_OPTIONS = {
    "percentile": "percentile", "int4_convs": "int4_convs",
    "min_layer_sqnr": "min_layer_sqnr", "sensitivity_samples": "sensitivity_samples",
    "sensitivity_metric": "sensitivity_metric",
    "smooth_alpha": "smooth_alpha", "outlier_ratio": "outlier_ratio",
    "offline_rotation_only": "offline_rotation_only", "weight_clip_search": "weight_clip_search",
    "gptq_sequential": "gptq_sequential", "budget": "budget",
    "salient_percent": "salient_percent", "gptq_damp": "gptq_damp",
    "gptq_min_shrink": "gptq_min_shrink", "gptq_no_act_order": "gptq_no_act_order",
    "gptq_refit_scales": "gptq_refit_scales", "gptq_refit_rounds": "gptq_refit_rounds",
    "allocation_json": "allocation_json", "report_path": "report_path",
    "activation_clip": "activation_clip", "keep_float": "keep_float",
    "rotation_matrix": "rotation_matrix", "prefix_rows": "prefix_rows",
    "principal_components": "principal_components", "cpu": "cpu",
    "features": "features",
}
_TEXT = {"sensitivity_metric", "smooth_alpha", "outlier_ratio", "budget", "salient_percent", "gptq_damp",
         "gptq_min_shrink", "gptq_refit_rounds", "allocation_json", "report_path", "activation_clip",
         "keep_float", "rotation_matrix"}


def quantize(model: Union[str, "os.PathLike[str]", Module],
             recipe: str = "w8a8",
             calibration: Union[None, str, "os.PathLike[str]", Iterable[Dict[str, np.ndarray]]] = None,
             calibrator: str = "minmax",
             progress: bool = True,
             output: Optional[Union[str, "os.PathLike[str]"]] = None,
             **options) -> "QuantizedModel":
    """Calibrates and quantizes `model` (a path or a Module) with `recipe`
    (the CLI's recipes: w8a8, w8a8-dynamic, w4a16-g128-gptq, ...).

    calibration: a directory of samples (as `quantc quantize --calib`), an
    iterable of dicts input name -> numpy array, or a data reader with
    get_next(); None for weight-only recipes. progress: True for tqdm
    bars (when tqdm is installed), False, or a callable(stage, done,
    total) called as calibration runs go through the samples. calibrator: minmax,
    percentile, entropy or mse. output: also write the result there in
    the same pass (.so, .onnx, .mlir, .mlirbc; what save() writes, without
    quantizing again for .onnx). Further keyword options are the CLI's
    (percentile=99.9, smooth_alpha=0.5, budget="4.5bpw", report_path=...,
    keep_float=["lm_head"] or "lm_head,layer0/q_proj", ...)."""
    work = None
    q = QuantizedModel.__new__(QuantizedModel)
    work = _Workdir(q)
    src = _model_path(model, work)
    opts = {"model": src, "recipe": recipe, "calibrator": calibrator}
    for k, v in options.items():
        if k not in RECIPE_OPTIONS:
            raise OptionError("quantize() got an unknown option '%s' (known: %s)"
                              % (k, ", ".join(sorted(RECIPE_OPTIONS))), 2)
        if k == "keep_float" and not isinstance(v, str):
            v = ",".join(v)  # a list of layer names
        opts[RECIPE_OPTIONS[k]] = str(v) if k in _TEXT else v
    samples, keep, shapes = None, [], []
    if isinstance(calibration, (str, os.PathLike)):
        opts["calib_dir"] = os.fspath(calibration)
        if not os.path.isdir(opts["calib_dir"]):
            raise ModelError("quantc: error: calibration directory '%s' does not exist"
                             % opts["calib_dir"])
    elif calibration is not None:
        inputs = import_onnx(src).inputs
        samples, keep = _samples(calibration, inputs, progress)
        if not samples:
            raise ModelError("quantc: error: %s: no calibration samples" % src)
        shapes = [(n, s) for n, _, s, _ in samples[0]]
    ir = os.path.join(work.path, "quantized.mlirbc")
    if output is not None:
        opts["output"] = os.fspath(output)
        opts["ir_output"] = ir
    else:
        opts["output"] = ir
    bars = progress if callable(progress) else _ProgressBars() if progress else None
    try:
        status, out, err, report, quantization = _core().quantize(opts, samples, bars)
    finally:
        if isinstance(bars, _ProgressBars):
            bars.close()
    _check((status, out, err), "quantize")
    opts.pop("ir_output", None)
    opts.pop("report_path", None)
    if not shapes and "calib_dir" in opts:
        # The first sample's shapes, read back from the calibration files.
        shapes = _dir_shapes(opts["calib_dir"], import_onnx(src).inputs)
    del opts["output"]
    QuantizedModel.__init__(q, ir, report, out, src, opts, shapes, work)
    q._quantization = quantization
    return q


def _dir_shapes(directory, inputs):
    """Shapes of the first sample in a calibration directory (.npy, .npz
    or a directory of <input>.npy), for save(".so")."""
    from . import npy_file_name
    entries = sorted(os.listdir(directory))
    for e in entries:
        p = os.path.join(directory, e)
        if e.endswith(".npy") and len(inputs) == 1:
            return [(inputs[0][0], list(np.load(p, mmap_mode="r").shape))]
        if e.endswith(".npz"):
            z = np.load(p)
            return [(n, list(z[n].shape)) for n, _, _ in inputs]
        if os.path.isdir(p):
            files = [os.path.join(p, npy_file_name(n)) for n, _, _ in inputs]
            if all(os.path.exists(f) for f in files):
                return [(n, list(np.load(f, mmap_mode="r").shape))
                        for (n, _, _), f in zip(inputs, files)]
    return []


def compile(model, target: str = "cpu", threads: Optional[int] = None,
            shapes: Optional[Dict[str, List[Optional[int]]]] = None,
            output: Optional[Union[str, "os.PathLike[str]"]] = None,
            cpu: str = "", features: str = ""):
    """Compiles `model` (a path, Module or QuantizedModel) ahead of time
    into a shared library and loads it. shapes: {input: dims} (None or -1
    keeps a dimension symbolic); a QuantizedModel defaults to its first
    calibration sample's shapes. output: where the .so goes (a temporary
    file otherwise)."""
    from . import CompiledModel
    if target != "cpu":
        raise OptionError("compile(): target '%s' is not supported (cpu)" % target, 2)
    holder = type("_Holder", (), {})()
    work = _Workdir(holder)
    src = _model_path(model, work)
    if shapes is None and isinstance(model, QuantizedModel):
        shape_list = model._shapes
    else:
        shape_list = [(n, [-1 if d is None else int(d) for d in s])
                      for n, s in (shapes or {}).items()]
    out = os.fspath(output) if output else os.path.join(work.path, "model.so")
    _check(_core().compile({"model": src, "output": out, "shapes": shape_list,
                            "cpu": cpu, "features": features}), "compile")
    cm = CompiledModel(out, threads=threads)
    cm._work = work  # the temporary .so lives as long as the model
    cm._holder = holder
    return cm


def load(path: Union[str, "os.PathLike[str]"], threads: Optional[int] = None):
    """A shared library made by compile(), QuantizedModel.save(".so") or
    `quantc compile`/`quantc quantize -o x.so`, ready to run."""
    from . import CompiledModel
    return CompiledModel(os.fspath(path), threads=threads)
