"""Finds and loads quantc._core, the nanobind extension over the driver
library: installed beside this file by `pip install .`, or built by
scripts/build into build/python/quantc of the source tree
(QUANTC_BUILD_DIR names another build directory)."""
import importlib
import importlib.machinery
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def _build_dirs():
    env = os.environ.get("QUANTC_BUILD_DIR")
    if env:
        yield os.path.abspath(env)
    yield os.path.join(os.path.dirname(os.path.dirname(_HERE)), "build")


def _runtime_dir(pkg_dir, build_dir):
    """Where the runtime archives that compiled models link against are:
    quantc/lib of an installed package, lib/ of a build tree."""
    for d in ([os.path.join(pkg_dir, "lib")] if pkg_dir else []) + \
             ([os.path.join(build_dir, "lib")] if build_dir else []):
        if os.path.exists(os.path.join(d, "libquantc_runtime.a")):
            return d
    return None


def _has_extension(directory):
    """Whether `directory` holds the built extension (_core.<abi>.so; the
    _core.pyi stub beside the sources does not count)."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return any(f.startswith("_core") and f.endswith(suffixes) for f in os.listdir(directory))


def load():
    """quantc._core, imported with RTLD_LOCAL even where the process sets
    RTLD_GLOBAL: its ONNX and protobuf symbols must not replace those of
    the onnx package (onnx.reference's schema table died with
    std::bad_alloc once they did). Models compiled in-process for
    calibration get the runtime's kernels from an explicit symbol map."""
    if "quantc._core" in sys.modules:
        return sys.modules["quantc._core"]
    pkg = sys.modules["quantc"]
    build = None
    if not _has_extension(_HERE):
        for d in _build_dirs():
            cand = os.path.join(d, "python", "quantc")
            if os.path.isdir(cand) and _has_extension(cand):
                if cand not in pkg.__path__:
                    pkg.__path__.append(cand)
                build = d
                break
        else:
            raise ImportError(
                "quantc's compiler extension (quantc._core) is not built: run `pip install .` "
                "or scripts/build (which builds it into build/python/quantc)")
    rt = _runtime_dir(_HERE, build)
    if rt and not os.environ.get("QUANTC_RUNTIME_DIR"):
        os.environ["QUANTC_RUNTIME_DIR"] = rt
    flags = sys.getdlopenflags()
    sys.setdlopenflags(flags & ~os.RTLD_GLOBAL)
    try:
        return importlib.import_module("quantc._core")
    finally:
        sys.setdlopenflags(flags)
