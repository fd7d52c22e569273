"""quantc from Python.

The compiler (quantc.api, over the nanobind extension quantc._core):
`import_onnx`, `quantize`, `compile`, `load`; errors raise `quantc.Error`.
`CompiledModel` runs a shared library made by `compile`, `quantc compile`
or `quantc quantize -o x.so` on numpy arrays through the C API of
include/quantc/Runtime.h (ctypes, which releases the GIL during a run).
See docs/python.md.
"""
import ctypes
import os
import tempfile
import threading

import numpy as np

__all__ = ["CompiledModel", "QuantcError", "npy_file_name", "Error", "OptionError",
           "ModelError", "Module", "QuantizedModel", "LayerReport", "import_onnx", "quantize",
           "compile", "load"]

_DTYPES = {1: np.float32, 2: np.float64, 3: np.float16, 4: np.int64, 5: np.int32,
           6: np.int16, 7: np.int8, 8: np.uint8, 9: np.bool_}


def npy_file_name(tensor_name):
    """The .npy file quantc reads or writes for a tensor (characters other
    than letters, digits, '_', '-' and '.' become '_'; an empty name is
    'output')."""
    safe = "".join(c if c.isalnum() or c in "_-." else "_" for c in tensor_name)
    return (safe or "output") + ".npy"


from .api import (Error, OptionError, ModelError, Module, QuantizedModel, LayerReport,  # noqa: E402
                  import_onnx, quantize, compile, load)

# The name earlier releases raised; every error is a quantc.Error.
QuantcError = Error


class CompiledModel:
    """A compiled model: `CompiledModel("m.so")(x=array, ...)` or
    `.run({"x": array})` returns a dict of output name -> array. Inputs
    are converted to the dtype the model declares (no copy when they are
    C-contiguous of that dtype); their shapes must be one the library was
    compiled for. Runs from several Python threads are serialized (one
    compiled model holds one set of buffers); the GIL is released while
    the model runs, so other Python threads go on."""

    _loaded = {}  # real path -> inode of the library loaded from it

    @classmethod
    def _load(cls, path):
        """ctypes.CDLL, except that a library rewritten at a path loaded
        before is loaded anew: the dynamic loader hands out the library it
        already holds for a path, so a recompiled model would silently run
        the old code. A new file (a new inode, as `quantc compile` writes
        it) is loaded through a symlink of its own name."""
        real = os.path.realpath(path)
        ino = os.stat(real).st_ino
        seen = cls._loaded.get(real)
        if seen is None or seen == ino:
            cls._loaded[real] = ino
            return ctypes.CDLL(real)
        link = os.path.join(tempfile.mkdtemp(prefix="quantc-lib-"), "%d-%s" % (ino, os.path.basename(real)))
        os.symlink(real, link)
        return ctypes.CDLL(link)

    def __init__(self, path, threads=None):
        lib = self._load(path)
        lib.qc_open.restype = ctypes.c_void_p
        for f in ("qc_input_name", "qc_output_name", "qc_last_error"):
            getattr(lib, f).restype = ctypes.c_char_p
        for f in ("qc_input_shape", "qc_output_shape"):
            getattr(lib, f).restype = ctypes.POINTER(ctypes.c_int64)
        for f in ("qc_input_name", "qc_output_name", "qc_input_dtype", "qc_output_dtype",
                  "qc_input_rank", "qc_output_rank", "qc_input_shape", "qc_output_shape"):
            getattr(lib, f).argtypes = [ctypes.c_void_p, ctypes.c_int]
        for f in ("qc_num_inputs", "qc_num_outputs", "qc_num_variants", "qc_close"):
            getattr(lib, f).argtypes = [ctypes.c_void_p]
        lib.qc_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        lib.qc_set_input_shapes.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.qc_output_data.restype = ctypes.c_void_p
        lib.qc_output_data.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self._lib = lib
        self._m = lib.qc_open()
        if not self._m:
            raise ModelError("%s: %s" % (path, lib.qc_last_error().decode()))
        if threads is not None:
            lib.qc_set_num_threads(int(threads))
        self.path = path
        self._lock = threading.Lock()
        # Symbolic dims (-1): shapes are set before every run.
        self._symbolic = any(d < 0 for _, _, shape in self.inputs for d in shape)

    def kernel_paths(self):
        """The micro-kernels this CPU runs in the library, e.g. "sgemm=avx512
        igemm=avx2 depthwise=avx512" (run-time dispatch; QUANTC_CPU_KERNELS
        caps it)."""
        f = self._lib.qc_kernel_paths
        f.restype = ctypes.c_char_p
        return f().decode()

    def _describe(self, kind):
        lib, m = self._lib, self._m
        out = []
        for i in range(getattr(lib, "qc_num_%ss" % kind)(m)):
            rank = getattr(lib, "qc_%s_rank" % kind)(m, i)
            shape = tuple(getattr(lib, "qc_%s_shape" % kind)(m, i)[d] for d in range(rank))
            out.append((getattr(lib, "qc_%s_name" % kind)(m, i).decode(),
                        _DTYPES[getattr(lib, "qc_%s_dtype" % kind)(m, i)], shape))
        return out

    @property
    def inputs(self):
        """[(name, numpy dtype, shape)] of the selected shape variant."""
        return self._describe("input")

    @property
    def outputs(self):
        return self._describe("output")

    def run(self, feeds):
        """Runs the model on a dict input name -> array."""
        return self(**feeds)

    def __call__(self, **feeds):
        with self._lock:
            return self._run(feeds)

    def _run(self, feeds):
        specs = self.inputs
        missing = [n for n, _, _ in specs if n not in feeds]
        if missing:
            raise ModelError("missing input(s): %s" % ", ".join(missing))
        extra = set(feeds) - {n for n, _, _ in specs}
        if extra:
            raise ModelError("unknown input(s): %s" % ", ".join(sorted(extra)))
        arrays = [np.ascontiguousarray(feeds[n], dtype=t) for n, t, _ in specs]
        shapes = [a.shape for a in arrays]
        if self._symbolic or shapes != [s for _, _, s in specs]:
            dims = [(ctypes.c_int64 * max(1, len(s)))(*s) for s in shapes]
            arr = (ctypes.POINTER(ctypes.c_int64) * len(dims))(*dims)
            if self._lib.qc_set_input_shapes(self._m, arr) != 0:
                raise ModelError(self._lib.qc_last_error().decode())
        ins = (ctypes.c_void_p * max(1, len(arrays)))(*[a.ctypes.data for a in arrays])
        if any(d < 0 for _, _, s in self.outputs for d in s):
            # Symbolic dims: the library allocates the outputs; copy them
            # out before the next run reuses them.
            if self._lib.qc_run(self._m, ins, None) != 0:
                raise ModelError(self._lib.qc_last_error().decode())
            result = {}
            for i, (n, t, s) in enumerate(self.outputs):
                ptr = self._lib.qc_output_data(self._m, i)
                count = int(np.prod(s, dtype=np.int64))
                nbytes = count * np.dtype(t).itemsize
                buf = (ctypes.c_char * max(1, nbytes)).from_address(ptr) if nbytes else b""
                result[n] = np.frombuffer(buf, dtype=t, count=count).reshape(s).copy()
            return result
        outs = [np.empty(s, t) for _, t, s in self.outputs]
        optrs = (ctypes.c_void_p * max(1, len(outs)))(*[o.ctypes.data for o in outs])
        if self._lib.qc_run(self._m, ins, optrs) != 0:
            raise ModelError(self._lib.qc_last_error().decode())
        return {n: o for (n, _, _), o in zip(self.outputs, outs)}

    def close(self):
        if self._m:
            self._lib.qc_close(self._m)
            self._m = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
