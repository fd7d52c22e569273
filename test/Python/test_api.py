"""The Python API end to end: import, quantize (the recipes), compile,
run, save/load, threads, errors, and byte-identical artifacts with the
`quantc` CLI (both go through the driver library)."""
import filecmp
import os
import subprocess
import threading

import numpy as np
import onnx
import pytest

import quantc
from conftest import make_mlp, ort_run


def rel_err(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def test_import_onnx(mlp):
    m = quantc.import_onnx(mlp)
    assert m.inputs == [("x", np.float32, (None, 256))]
    assert "qc.matmul" in m.mlir and "func.func @main" in m.mlir
    summary = m.summary()
    assert "x" in summary and "MatMul" in summary or "matmul" in summary
    # run_passes changes the module in place and returns it, written as
    # quant-opt's --pass-pipeline or without the module anchor.
    assert m.run_passes("builtin.module(canonicalize)") is m
    assert "qc.observe" not in m.mlir
    m.run_passes("builtin.module(qc-insert-observers)")
    assert m.mlir.count("qc.observe") == 2, m.mlir
    m = quantc.import_onnx(mlp)
    m.run_passes("qc-insert-observers")
    assert m.mlir.count("qc.observe") == 2, m.mlir
    with pytest.raises(quantc.OptionError):
        m.run_passes("builtin.module(no-such-pass)")


def test_float_compile_matches_onnxruntime(mlp, calib_samples):
    net = quantc.compile(mlp, shapes={"x": [32, 256]})
    assert [n for n, _, _ in net.inputs] == ["x"]
    x = calib_samples[0]["x"]
    got = net.run({"x": x})["y"]
    want = ort_run(mlp, {"x": x})[0]
    err = rel_err(got, want)
    assert err <= 1e-5, err
    # Symbolic batch: one library, any batch.
    dyn = quantc.compile(mlp, shapes={"x": [None, 256]})
    for b in (1, 7):
        xb = np.random.default_rng(b).standard_normal((b, 256)).astype(np.float32)
        e = rel_err(dyn(x=xb)["y"], ort_run(mlp, {"x": xb})[0])
        assert e <= 1e-5, (b, e)


# Each recipe's output against ONNX Runtime's float output: a bound the
# format allows on this 2-layer model (measured errors are printed).
RECIPES = {
    "w8a8": 0.05, "w8a8-dynamic": 0.05, "w8a8-dynamic-token": 0.05, "w8a16": 0.02,
    "w4a16-g32": 0.15, "w4a16-g128": 0.2, "w3a16-g64": 0.35, "w2a16-g32": 0.7, "w4a8": 0.2, "w4a4": 0.6,
    "fp8-e4m3": 0.1, "w4a16-g128-gptq": 0.2, "w4a16-g128-awq": 0.2, "w8a8-smooth": 0.05,
    "w8a8-outliers": 0.05, "w4a8-g128": 0.2, "w4a16-g128-salient": 0.2,
    "w4a16-g64-gptq": 0.25, "w8a8-dynamic-token-rs": 0.05, "w4a8-dynamic-token-g128": 0.25,
    "w8a8-outliers-smooth": 0.06, "fp8-e4m3-smooth": 0.1, "w8a8-smooth-gptq": 0.06,
}


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_recipe(recipe, mlp, calib_samples, tmp_path):
    q = quantc.quantize(mlp, recipe=recipe, calibration=calib_samples, progress=False)
    layers = q.report()
    assert [l.name for l in layers] == ["fc1", "fc2"], layers
    assert all(l.weight_params > 0 for l in layers)
    so = q.save(tmp_path / "q.so")
    net = quantc.load(so)
    x = np.random.default_rng(9).standard_normal((32, 256)).astype(np.float32)
    got = net.run({"x": x})["y"]
    want = ort_run(mlp, {"x": x})[0]
    err = rel_err(got, want)
    print("%s: relative error to float %.4f" % (recipe, err))
    assert np.all(np.isfinite(got))
    assert err <= RECIPES[recipe], (recipe, err)
    # Quantized is not float: the recipe did something.
    assert err > 1e-6, (recipe, err)



def test_low_bit_weights_match_onnx_runtime_and_shrink_the_library(tmp_path):
    """w3a16 and w2a16 keep ONNX's uint4 type in the IR and the exported
    QDQ model, and are stored in 3- and 2-bit planes in the compiled
    library: the library's output equals ONNX Runtime running the exported
    model (the same integers, dequantized), and each bit less per weight
    takes params / 8 bytes off the library (same groups, same scales)."""
    k, n, m = 1024, 1024, 64
    path = make_mlp(str(tmp_path / "wide.onnx"), seed=3, k=k, n=n, m=m)
    params = k * n + n * m
    x = np.random.default_rng(4).standard_normal((5, k)).astype(np.float32)
    sizes = {}
    for bits in (4, 3, 2):
        recipe = "w%da16-g64" % bits
        q = quantc.quantize(path, recipe=recipe, calibration=[{"x": x}], progress=False)
        assert {l.weight_format for l in q.report()} == {"uint%d g64" % bits}, q.report()
        q.save(tmp_path / (recipe + ".onnx"))
        so = tmp_path / (recipe + ".so")
        q.save(so)
        sizes[bits] = os.path.getsize(so)
        got = quantc.load(str(so)).run({"x": x})["y"]
        want = ort_run(str(tmp_path / (recipe + ".onnx")), {"x": x})[0]
        err = rel_err(got, want)
        print("%s: library %d bytes, relative error to ONNX Runtime on its QDQ model %.2e"
              % (recipe, sizes[bits], err))
        assert err <= 1e-5, (recipe, err)
    for hi, lo in ((4, 3), (3, 2)):
        saved = sizes[hi] - sizes[lo]
        assert 0.95 * params / 8 <= saved <= 1.05 * params / 8, (hi, lo, saved, params / 8)

def test_cli_and_python_write_the_same_bytes(mlp, calib_dir, calib_samples, quantc_bin, tmp_path):
    for recipe, ext in (("w8a8", ".mlir"), ("w8a8", ".onnx"), ("w4a16-g128", ".mlirbc"),
                        ("w8a8", ".so")):
        cli = str(tmp_path / ("cli-" + recipe + ext))
        subprocess.run([quantc_bin, "quantize", mlp, "--recipe", recipe, "--calib", calib_dir,
                        "-o", cli], check=True, capture_output=True)
        # From the same directory, and from the same samples as arrays.
        for k, calibration in enumerate((calib_dir, calib_samples)):
            py = str(tmp_path / ("py%d-%s%s" % (k, recipe, ext)))
            quantc.quantize(mlp, recipe=recipe, calibration=calibration, progress=False).save(py)
            assert filecmp.cmp(cli, py, shallow=False), (recipe, ext, k)


def test_report_matches_cli_report(mlp, calib_dir, quantc_bin, tmp_path):
    import json
    rep = str(tmp_path / "r.json")
    subprocess.run([quantc_bin, "quantize", mlp, "--recipe", "w8a8", "--calib", calib_dir,
                    "-o", str(tmp_path / "x.mlir"), "--report", rep], check=True,
                   capture_output=True)
    cli = json.load(open(rep))["layers"]
    py = quantc.quantize(mlp, recipe="w8a8", calibration=calib_dir, progress=False).report()
    assert [dict(l) for l in py] == cli


def test_data_reader_and_module_input(mlp, calib_samples, tmp_path):
    class Reader:  # ONNX Runtime's CalibrationDataReader protocol
        def __init__(self):
            self.it = iter(calib_samples)

        def get_next(self):
            return next(self.it, None)

    a = quantc.quantize(mlp, calibration=Reader(), progress=False)
    b = quantc.quantize(quantc.import_onnx(mlp), calibration=calib_samples, progress=False)
    a.save(tmp_path / "a.mlir")
    b.save(tmp_path / "b.mlir")
    assert filecmp.cmp(tmp_path / "a.mlir", tmp_path / "b.mlir", shallow=False)


def test_threads_share_one_compiled_model(mlp):
    net = quantc.compile(mlp, shapes={"x": [None, 256]})
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal((1 + i % 5, 256)).astype(np.float32) for i in range(16)]
    want = [ort_run(mlp, {"x": x})[0] for x in xs]
    got = [None] * len(xs)

    def work(i):
        for _ in range(5):
            got[i] = net(x=xs[i])["y"]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g, w in zip(got, want):
        assert g is not None and rel_err(g, w) <= 1e-5


def test_missing_model_raises_with_location(tmp_path):
    with pytest.raises(quantc.ModelError) as e:
        quantc.import_onnx(tmp_path / "nope.onnx")
    assert "nope.onnx" in str(e.value)


def test_corrupt_model_raises(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage that is no ModelProto")
    with pytest.raises(quantc.Error) as e:
        quantc.import_onnx(bad)
    assert "bad.onnx" in e.value.message


def test_unsupported_op_names_the_node(tmp_path):
    from onnx import TensorProto, helper
    g = helper.make_graph([helper.make_node("Det", ["x"], ["y"], name="the_det")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])])
    p = str(tmp_path / "det.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), p)
    with pytest.raises(quantc.Error) as e:
        quantc.compile(p)
    assert e.value.node == "the_det", e.value.message


def test_bad_options_raise_option_error(mlp, calib_samples, tmp_path):
    out = tmp_path / "never.so"
    with pytest.raises(quantc.OptionError) as e:
        quantc.quantize(mlp, recipe="w9a9", calibration=calib_samples, progress=False)
    assert "w9a9" in str(e.value)
    with pytest.raises(quantc.OptionError) as e:
        quantc.quantize(mlp, recipe="w8a8-smooth", calibration=calib_samples,
                        smooth_alpha="x", progress=False)
    assert "--smooth-alpha" in str(e.value)
    with pytest.raises(quantc.OptionError):
        quantc.quantize(mlp, calibration=calib_samples, no_such_option=1, progress=False)
    with pytest.raises(quantc.OptionError):
        quantc.quantize(mlp, calibration=calib_samples, calibrator="magic", progress=False)
    with pytest.raises(quantc.OptionError):
        quantc.quantize(mlp, calibration=calib_samples, calibrator="percentile", percentile=150,
                        progress=False)
    # Recipes whose transform needs what the model lacks name it.
    with pytest.raises(quantc.ModelError) as e:
        quantc.quantize(mlp, recipe="w8a8-rot", calibration=calib_samples, progress=False)
    assert "qc-fold-rotations" in str(e.value)
    with pytest.raises(quantc.ModelError) as e:
        quantc.quantize(mlp, recipe="w8a8-kv8", calibration=calib_samples, progress=False)
    assert "attention" in str(e.value)
    q = quantc.quantize(mlp, calibration=calib_samples, progress=False)
    with pytest.raises(quantc.OptionError):
        q.save(tmp_path / "x.txt")
    assert not out.exists()


def test_bad_calibration_data(mlp, calib_samples):
    with pytest.raises(quantc.ModelError) as e:
        quantc.quantize(mlp, calibration=[{"x": calib_samples[0]["x"].astype(np.float64)}],
                        progress=False)
    assert "'x'" in str(e.value) and "float32" in str(e.value)
    with pytest.raises(quantc.ModelError) as e:
        quantc.quantize(mlp, calibration=[{"y": calib_samples[0]["x"]}], progress=False)
    assert "missing input(s) x" in str(e.value)
    with pytest.raises(quantc.ModelError) as e:
        quantc.quantize(mlp, calibration=[{"x": np.zeros((4, 100), np.float32)}],
                        progress=False)
    assert "dimension 1" in str(e.value)
    with pytest.raises(quantc.ModelError):
        quantc.quantize(mlp, calibration=[], progress=False)


def test_wrong_input_at_run(mlp):
    net = quantc.compile(mlp, shapes={"x": [32, 256]})
    with pytest.raises(quantc.ModelError):
        net.run({"x": np.zeros((32, 100), np.float32)})
    with pytest.raises(quantc.ModelError):
        net.run({"z": np.zeros((32, 256), np.float32)})


def test_progress_and_direct_output(mlp, calib_samples, tmp_path):
    calls = []
    out = tmp_path / "direct.so"
    rep = tmp_path / "report.json"
    q = quantc.quantize(mlp, recipe="w8a8-smooth", calibration=calib_samples, output=out,
                        report_path=rep, progress=lambda *a: calls.append(a))
    # Smoothing's search and the calibration: two runs over the 8 samples,
    # each reported from 0 to 8.
    runs = [c for c in calls if c[1] == 0]
    assert len(runs) == 2 and all(c == ("calibration", 0, 8) for c in runs), calls
    assert calls[-1] == ("calibration", 8, 8)
    assert all(b[1] in (a[1] + 1, 0) for a, b in zip(calls, calls[1:])), calls
    # output= wrote the library in the same pass, the report beside it,
    # and the library is what save() writes.
    import json
    assert [l["name"] for l in json.load(open(rep))["layers"]] == ["fc1", "fc2"]
    q.save(tmp_path / "saved.so")
    assert filecmp.cmp(out, tmp_path / "saved.so", shallow=False)
    # -smooth folds scales QDQ export cannot write: refused, nothing written.
    with pytest.raises(quantc.OptionError):
        quantc.quantize(mlp, recipe="w8a8-smooth", calibration=calib_samples,
                        output=tmp_path / "x.onnx", progress=False)
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_direct_output_equals_save(mlp, calib_samples, calib_dir, tmp_path):
    q = quantc.quantize(mlp, calibration=calib_samples, output=tmp_path / "a.onnx",
                        progress=False)
    q.save(tmp_path / "b.onnx")
    assert filecmp.cmp(tmp_path / "a.onnx", tmp_path / "b.onnx", shallow=False)
    # A callback that raises does not break the quantization.
    def bad(*a):
        raise RuntimeError("boom")
    q = quantc.quantize(mlp, calibration=calib_samples, progress=bad)
    q.save(tmp_path / "c.onnx")
    assert filecmp.cmp(tmp_path / "a.onnx", tmp_path / "c.onnx", shallow=False)
    # save(".onnx") writes the layers as they were rounded, without
    # calibrating again: the calibration directory may be gone by then.
    import shutil
    gone = tmp_path / "calib-gone"
    shutil.copytree(calib_dir, gone)
    q = quantc.quantize(mlp, calibration=gone, progress=False)
    shutil.rmtree(gone)
    q.save(tmp_path / "d.onnx")
    assert filecmp.cmp(tmp_path / "a.onnx", tmp_path / "d.onnx", shallow=False)
    # A recipe QDQ cannot express: the CLI's refusal, nothing written.
    q = quantc.quantize(mlp, recipe="w8a8-smooth", calibration=calib_samples, progress=False)
    with pytest.raises(quantc.OptionError) as e:
        q.save(tmp_path / "s.onnx")
    assert "folds smoothing scales" in e.value.message
    assert not (tmp_path / "s.onnx").exists()


def test_onnx_package_works_beside_the_extension(mlp, tmp_path):
    """The extension's ONNX symbols must not replace the onnx package's:
    with quantc._core imported RTLD_GLOBAL, onnx.reference's schema table
    died with std::bad_alloc after a quantization (the README's main job
    crashed there). A fresh process: import, quantize, then onnx.reference."""
    import sys
    code = (
        "import sys, numpy as np; sys.path[:0] = %r\n"
        "import quantc\n"
        "q = quantc.quantize(%r, calibration=[{'x': np.ones((4, 256), np.float32)}], progress=False)\n"
        "from onnx.reference import ReferenceEvaluator\n"
        "import onnx\n"
        "y = ReferenceEvaluator(onnx.load(%r)).run(None, {'x': np.ones((2, 256), np.float32)})[0]\n"
        "print('ok', y.shape, len(q.report()))\n" % (sys.path[:3], mlp, mlp))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert p.returncode == 0 and "ok (2, 64) 2" in p.stdout, p.stdout + p.stderr[-2000:]
