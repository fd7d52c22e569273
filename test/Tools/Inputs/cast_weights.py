"""Models whose weights are float16 / bfloat16 / float64 initializers behind
a Cast to float32 (a common export form), and their float32 twin.

  make DIR        writes DIR/{f16,bf16,f64,f32}.onnx and DIR/x.npy, DIR/calib/
  check DIR OUT   OUT/<kind>/z.npy (quantc run) against ONNX Runtime on the
                  same model: max |diff| / max |ref| <= 1e-5 per kind
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

KINDS = {"f16": T.FLOAT16, "bf16": T.BFLOAT16, "f64": T.DOUBLE, "f32": T.FLOAT}


def weights():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    w2 = (rng.standard_normal((128, 10)) / 8).astype(np.float32)
    # Values float16 holds exactly, and a subnormal and a zero: the cast is
    # exact for f16/bf16 only if the widening is right bit for bit.
    w = w.astype(np.float16).astype(np.float32)
    w2 = w2.astype(np.float16).astype(np.float32)
    w2[0, 0], w2[0, 1] = 3.0e-6, 0.0
    return w, w2


def initializer(arr, name, kind):
    if kind == "bf16":
        t = h.make_tensor(name, T.BFLOAT16, arr.shape,
                          (arr.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16).tobytes(), raw=True)
        return t
    dtype = {"f16": np.float16, "f64": np.float64, "f32": np.float32}[kind]
    return nh.from_array(arr.astype(dtype), name)


def model(kind):
    w, w2 = weights()
    nodes, inits = [], [initializer(w, "w_src", kind), initializer(w2, "w2_src", kind)]
    if kind == "f32":
        nodes += [h.make_node("Identity", ["w_src"], ["w"], name="id_w"),
                  h.make_node("Identity", ["w2_src"], ["w2"], name="id_w2")]
    else:
        nodes += [h.make_node("Cast", ["w_src"], ["w"], to=T.FLOAT, name="cast_w"),
                  h.make_node("Cast", ["w2_src"], ["w2"], to=T.FLOAT, name="cast_w2")]
    nodes += [h.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], name="conv"),
              h.make_node("Relu", ["y"], ["r"], name="relu"),
              h.make_node("Flatten", ["r"], ["f"], name="flat"),
              h.make_node("MatMul", ["f", "w2"], ["z"], name="fc")]
    g = h.make_graph(nodes, kind, [h.make_tensor_value_info("x", T.FLOAT, [1, 3, 4, 4])],
                     [h.make_tensor_value_info("z", T.FLOAT, [1, 10])], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def main():
    cmd, d = sys.argv[1], sys.argv[2]
    if cmd == "make":
        os.makedirs(os.path.join(d, "calib"), exist_ok=True)
        for k in KINDS:
            onnx.save(model(k), os.path.join(d, k + ".onnx"))
        rng = np.random.default_rng(1)
        np.save(os.path.join(d, "x.npy"), rng.standard_normal((1, 3, 4, 4)).astype(np.float32))
        for i in range(4):
            np.save(os.path.join(d, "calib", "s%d.npy" % i), rng.standard_normal((1, 3, 4, 4)).astype(np.float32))
        return 0
    import onnxruntime as ort
    out = sys.argv[3]
    x = np.load(os.path.join(d, "x.npy"))
    bad = 0
    for k in KINDS:
        got = np.load(os.path.join(out, k, "z.npy"))
        want = ort.InferenceSession(os.path.join(d, k + ".onnx"),
                                    providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
        err = float(np.abs(got - want).max() / np.abs(want).max())
        ok = err <= 1e-5
        bad += not ok
        print("%s: max rel err %.2e %s" % (k, err, "ok" if ok else "FAIL"))
    print("CASTS %s" % ("ok" if bad == 0 else "FAIL"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
