"""Fixtures of the Python API tests: the package from the source tree
(python/) with the extension from the build tree (QUANTC_BUILD_DIR), or
an installed quantc when QUANTC_INSTALLED=1; the quantc CLI from
QUANTC_BIN for the CLI == Python comparisons."""
import os
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if os.environ.get("QUANTC_INSTALLED") != "1":
    sys.path.insert(0, os.path.join(ROOT, "python"))


@pytest.fixture(scope="session")
def quantc_bin():
    return os.environ.get("QUANTC_BIN", os.path.join(ROOT, "build", "bin", "quantc"))


def make_mlp(path, seed=0, k=256, n=128, m=64):
    """x[?, k] -> MatMul(k x n) + b -> Relu -> MatMul(n x m): two layers
    with constant weights, a symbolic batch."""
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
    b1 = (rng.standard_normal(n) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((n, m)) / np.sqrt(n)).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
         helper.make_node("Add", ["h", "b1"], ["hb"], name="bias1"),
         helper.make_node("Relu", ["hb"], ["r"], name="relu1"),
         helper.make_node("MatMul", ["r", "w2"], ["y"], name="fc2")],
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", m])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
         numpy_helper.from_array(w2, "w2")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


@pytest.fixture(scope="session")
def mlp(tmp_path_factory):
    return make_mlp(str(tmp_path_factory.mktemp("models") / "mlp.onnx"))


@pytest.fixture(scope="session")
def calib_samples():
    rng = np.random.default_rng(1)
    return [{"x": rng.standard_normal((32, 256)).astype(np.float32)} for _ in range(8)]


@pytest.fixture(scope="session")
def calib_dir(tmp_path_factory, calib_samples):
    d = tmp_path_factory.mktemp("calib")
    for i, s in enumerate(calib_samples):
        np.save(str(d / ("%02d.npy" % i)), s["x"])
    return str(d)


def ort_run(path, feeds):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return s.run(None, feeds)
