"""The bit allocation's per-layer sensitivity, measured against a
reference: each layer's error at the reference format (w4a16-g128) as the
plan records it, against ONNX Runtime running the same model with only
that layer quantized (exported by quantc as QDQ/MatMulNBits) and numpy
computing the metric: the KL divergence of the softmax over an output
named "logits" (what --sensitivity-metric auto picks for a language
model; other outputs, like a key/value cache, do not count), or the
relative squared error of every float output (mse)."""
import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import quantc
from conftest import ort_run

D, V, T = 128, 1024, 16
LAYERS = ("fc1", "head", "cache")


def make_lm(path):
    """x[T, D] -> fc1 -> Relu -> head -> logits[T, V]; cache: x -> a
    MatMul whose result is only an output ("present", like a key/value
    cache)."""
    rng = np.random.default_rng(5)
    w1 = (rng.standard_normal((D, D)) / np.sqrt(D)).astype(np.float32)
    w2 = (3 * rng.standard_normal((D, V)) / np.sqrt(D)).astype(np.float32)
    w3 = (rng.standard_normal((D, D)) / np.sqrt(D)).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
         helper.make_node("Relu", ["h"], ["r"], name="relu"),
         helper.make_node("MatMul", ["r", "w2"], ["logits"], name="head"),
         helper.make_node("MatMul", ["x", "w3"], ["present"], name="cache")],
        "lm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [T, D])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [T, V]),
         helper.make_tensor_value_info("present", TensorProto.FLOAT, [T, D])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
         numpy_helper.from_array(w3, "w3")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def kl_rows(f, q):
    """Mean over rows of KL(softmax(f) || softmax(q)), in float64."""
    f = f.astype(np.float64)
    q = q.astype(np.float64)
    lf = f - f.max(-1, keepdims=True)
    lf -= np.log(np.exp(lf).sum(-1, keepdims=True))
    lq = q - q.max(-1, keepdims=True)
    lq -= np.log(np.exp(lq).sum(-1, keepdims=True))
    return float((np.exp(lf) * (lf - lq)).sum(-1).mean())


def plan_of(tmp_path, model, samples, metric):
    out = tmp_path / ("plan-%s.json" % metric)
    # A budget every layer's int8 fits: the plan's measurements are what
    # is checked, not its choice.
    quantc.quantize(model, recipe="w4a16-g128", calibration=samples, budget="9bpw",
                    sensitivity_samples=len(samples), sensitivity_metric=metric,
                    allocation_json=str(out), progress=False)
    plan = json.load(open(out))
    return plan, {l["name"]: l["ref_error"] for l in plan["layers"]}


def alone_outputs(tmp_path, model, samples, layer):
    """ONNX Runtime's outputs of the model with only `layer` at w4a16-g128
    (a plan naming one format per layer, exported as ONNX), per sample."""
    fixed = tmp_path / ("alone-%s.json" % layer)
    json.dump({"layers": [{"name": n, "format": "w4a16-g128" if n == layer else "float"}
                          for n in LAYERS]}, open(fixed, "w"))
    onnx_path = str(tmp_path / ("alone-%s.onnx" % layer))
    quantc.quantize(model, recipe=str(fixed), calibration=samples,
                    progress=False).save(onnx_path)
    return [ort_run(onnx_path, s) for s in samples]


def test_layer_sensitivity_matches_onnx_runtime_and_numpy(tmp_path):
    model = make_lm(str(tmp_path / "lm.onnx"))
    rng = np.random.default_rng(6)
    samples = [{"x": rng.standard_normal((T, D)).astype(np.float32)} for _ in range(3)]
    floats = [ort_run(model, s) for s in samples]

    auto, kl = plan_of(tmp_path, model, samples, "auto")
    assert auto["metric"] == "kl:logits", auto["metric"]
    mse_plan, mse = plan_of(tmp_path, model, samples, "mse")
    assert mse_plan["metric"] == "mse", mse_plan["metric"]

    for layer in LAYERS:
        outs = alone_outputs(tmp_path, model, samples, layer)
        want_kl = float(np.mean([kl_rows(f[0], q[0]) for f, q in zip(floats, outs)]))
        noise = sum(float(((q[i].astype(np.float64) - f[i]) ** 2).sum())
                    for f, q in zip(floats, outs) for i in range(2))
        signal = sum(float((f[i].astype(np.float64) ** 2).sum()) for f in floats
                     for i in range(2))
        want_mse = noise / signal
        print("%-5s KL plan %.4e numpy %.4e | MSE plan %.4e numpy %.4e"
              % (layer, kl[layer], want_kl, mse[layer], want_mse))
        assert want_mse > 0, layer
        assert abs(mse[layer] - want_mse) <= 0.005 * want_mse, (layer, mse[layer], want_mse)
        if layer == "cache":
            # Its result reaches no logit: no divergence.
            assert kl[layer] <= 1e-12 and want_kl <= 1e-12, (kl[layer], want_kl)
        else:
            assert want_kl > 1e-6, (layer, want_kl)
            assert abs(kl[layer] - want_kl) <= 0.005 * want_kl, (layer, kl[layer], want_kl)
