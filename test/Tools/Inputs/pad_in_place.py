"""Convolutions whose padded input is written in place by the elementwise
loop that produces it (quantc-cpu-pad-in-place), against ONNX Runtime.

  make DIR        writes DIR/float.onnx (f32 producers into 2 MB+ padded
                  buffers: a depthwise conv with pads 1 and a conv with
                  pads top 1, left 0, bottom 2, right 1) and DIR/qdq.onnx
                  (uint8 quantize loops into padded int8 buffers, the pad
                  value the zero point 3: the same two paddings) and
                  DIR/x.npy, DIR/xs.npy
  check DIR OUT   OUT/{float,qdq}/z*.npy (quantc run) against ONNX Runtime
                  on the same models: max |diff| / max |ref| <= 1e-5
"""
import os

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

rng = np.random.default_rng(5)


def const(name, arr):
    return nh.from_array(arr, name)


def float_model():
    # 1x8x256x256: the padded buffers are 1x8x258x258 and 1x8x259x257
    # floats (2.1 MB), over the pass's 2 MiB floor for f32.
    wd = rng.standard_normal((8, 1, 3, 3)).astype(np.float32)
    wc = (rng.standard_normal((4, 8, 3, 3)) / 4).astype(np.float32)
    nodes = [
        h.make_node("Mul", ["x", "two"], ["x2"]),
        h.make_node("Sub", ["x2", "one"], ["x3"]),
        h.make_node("Relu", ["x3"], ["y1"]),
        h.make_node("Conv", ["y1", "wd"], ["z1"], group=8, kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        h.make_node("Abs", ["x"], ["a"]),
        h.make_node("Neg", ["a"], ["y2"]),
        h.make_node("Conv", ["y2", "wc"], ["z2"], kernel_shape=[3, 3], pads=[1, 0, 2, 1]),
    ]
    g = h.make_graph(nodes, "pad_in_place_f32",
                     [h.make_tensor_value_info("x", T.FLOAT, [1, 8, 256, 256])],
                     [h.make_tensor_value_info("z1", T.FLOAT, None),
                      h.make_tensor_value_info("z2", T.FLOAT, None)],
                     [const("two", np.array(2.0, np.float32)), const("one", np.array(1.0, np.float32)),
                      const("wd", wd), const("wc", wc)])
    return h.make_model(g, opset_imports=[h.make_opsetid("", 17)])


def qdq_model():
    wq = rng.integers(-127, 128, (16, 8, 3, 3)).astype(np.int8)
    ws = (rng.random(16) * 0.01 + 0.001).astype(np.float32)
    wq2 = rng.integers(-127, 128, (8, 8, 3, 3)).astype(np.int8)
    ws2 = (rng.random(8) * 0.01 + 0.001).astype(np.float32)
    bias = rng.standard_normal(16).astype(np.float32)
    nodes = [
        h.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
        h.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]),
        h.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["w"], axis=0),
        h.make_node("Conv", ["xd", "w", "b"], ["z1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        h.make_node("Relu", ["x"], ["r"]),
        h.make_node("QuantizeLinear", ["r", "sx", "zx"], ["rq"]),
        h.make_node("DequantizeLinear", ["rq", "sx", "zx"], ["rd"]),
        h.make_node("DequantizeLinear", ["wq2", "ws2", "wz2"], ["w2"], axis=0),
        h.make_node("Conv", ["rd", "w2"], ["z2"], kernel_shape=[3, 3], pads=[1, 0, 2, 1], strides=[2, 1]),
    ]
    g = h.make_graph(nodes, "pad_in_place_qdq",
                     [h.make_tensor_value_info("x", T.FLOAT, [1, 8, 40, 36])],
                     [h.make_tensor_value_info("z1", T.FLOAT, None),
                      h.make_tensor_value_info("z2", T.FLOAT, None)],
                     [const("sx", np.array(0.02, np.float32)), const("zx", np.array(3, np.uint8)),
                      const("wq", wq), const("ws", ws), const("wz", np.zeros(16, np.int8)),
                      const("b", bias),
                      const("wq2", wq2), const("ws2", ws2), const("wz2", np.zeros(8, np.int8))])
    return h.make_model(g, opset_imports=[h.make_opsetid("", 17)])


def make(d):
    os.makedirs(d, exist_ok=True)
    onnx.save(float_model(), os.path.join(d, "float.onnx"))
    onnx.save(qdq_model(), os.path.join(d, "qdq.onnx"))
    np.save(os.path.join(d, "x.npy"), rng.standard_normal((1, 8, 256, 256)).astype(np.float32))
    np.save(os.path.join(d, "xs.npy"), (rng.standard_normal((1, 8, 40, 36)) * 1.5).astype(np.float32))


def check(d, out):
    import onnxruntime as ort
    bad = 0
    for kind, xname in (("float", "x.npy"), ("qdq", "xs.npy")):
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        sess = ort.InferenceSession(os.path.join(d, kind + ".onnx"), so,
                                    providers=["CPUExecutionProvider"])
        x = np.load(os.path.join(d, xname))
        refs = sess.run(None, {"x": x})
        for name, ref in zip(("z1", "z2"), refs):
            got = np.load(os.path.join(out, kind, name + ".npy"))
            if got.shape != ref.shape:
                print("FAIL %s/%s: shape %s, ONNX Runtime %s" % (kind, name, got.shape, ref.shape))
                bad += 1
                continue
            rel = float(np.max(np.abs(got.astype(np.float64) - ref)) / np.max(np.abs(ref)))
            ok = rel <= 1e-5
            print("%s %s/%s: max |diff| / max |ref| = %.2e" % ("ok" if ok else "FAIL", kind, name, rel))
            bad += not ok
    print("PADS ok" if bad == 0 else "PADS FAILED (%d)" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    from make_check import main
    main(make, check)
