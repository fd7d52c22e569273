"""Integer depthwise convolutions (group = channels) against ONNX Runtime
on the same model: ConvInteger into int32 (exact, so equal) and
QLinearConv (int8 requantized with the multiplier in f32, as ONNX Runtime
computes it, so equal up to rare ties: at most one step, on at most 1% of
the outputs). quantc runs both on its int8 depthwise kernel.

  c1  ConvInteger 3x3 pad 1, uint8 x (zero point 131), int8 w (zero point 0)
  c2  ConvInteger 5x5 stride 2 pad 2, the same x, w without zero point
  q1  QLinearConv 3x3 pad 1, uint8 in and out, per-channel int8 w, bias
  q2  QLinearConv 3x3 stride 2 pad 1 dilation 2, int8 in (zero point -5)
      and out, per-tensor w

  make DIR        writes DIR/dw.onnx and DIR/{xu,xs}.npy
  check DIR OUT   OUT/*.npy (quantc run) against ONNX Runtime
"""
import os

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

NAMES = ["c1", "c2", "q1", "q2"]
C, H, W = 24, 19, 37


def model(rng):
    def w(k):
        return rng.integers(-127, 128, (C, 1, k, k)).astype(np.int8)

    inits = [nh.from_array(np.array(131, np.uint8), "zu"), nh.from_array(np.array(-5, np.int8), "zs"),
             nh.from_array(np.zeros(C, np.int8), "wz"), nh.from_array(np.array(0, np.int8), "wz0"),
             nh.from_array(w(3), "w1"),
             nh.from_array(w(5), "w2"), nh.from_array(w(3), "w3"), nh.from_array(w(3), "w4"),
             nh.from_array(np.array(0.05, np.float32), "sx"),
             nh.from_array(rng.uniform(0.002, 0.02, C).astype(np.float32), "sw3"),
             nh.from_array(np.array(0.01, np.float32), "sw4"),
             nh.from_array(np.array(0.04, np.float32), "sy"),
             nh.from_array(np.array(120, np.uint8), "zyu"), nh.from_array(np.array(3, np.int8), "zys"),
             nh.from_array(rng.integers(-2000, 2000, C).astype(np.int32), "b3")]
    nodes = [
        h.make_node("ConvInteger", ["xu", "w1", "zu", "wz0"], ["c1"], group=C, pads=[1, 1, 1, 1]),
        h.make_node("ConvInteger", ["xu", "w2", "zu"], ["c2"], group=C, strides=[2, 2],
                    pads=[2, 2, 2, 2]),
        h.make_node("QLinearConv", ["xu", "sx", "zu", "w3", "sw3", "wz", "sy", "zyu", "b3"], ["q1"],
                    group=C, pads=[1, 1, 1, 1]),
        h.make_node("QLinearConv", ["xs", "sx", "zs", "w4", "sw4", "wz", "sy", "zys"], ["q2"],
                    group=C, strides=[2, 2], pads=[1, 1, 1, 1], dilations=[2, 2]),
    ]
    g = h.make_graph(nodes, "depthwise_int8",
                     [h.make_tensor_value_info("xu", T.UINT8, [1, C, H, W]),
                      h.make_tensor_value_info("xs", T.INT8, [1, C, H, W])],
                     [h.make_tensor_value_info(n, T.INT32 if n[0] == "c" else
                                               (T.UINT8 if n == "q1" else T.INT8), None)
                      for n in NAMES], inits)
    return h.make_model(g, opset_imports=[h.make_opsetid("", 17)])


def make(d):
    rng = np.random.default_rng(11)
    os.makedirs(d, exist_ok=True)
    onnx.save(model(rng), os.path.join(d, "dw.onnx"))
    np.save(os.path.join(d, "xu.npy"), rng.integers(0, 256, (1, C, H, W)).astype(np.uint8))
    np.save(os.path.join(d, "xs.npy"), rng.integers(-128, 128, (1, C, H, W)).astype(np.int8))


def check(d, out):
    import onnxruntime as ort
    sess = ort.InferenceSession(os.path.join(d, "dw.onnx"), providers=["CPUExecutionProvider"])
    feeds = {n: np.load(os.path.join(d, n + ".npy")) for n in ("xu", "xs")}
    bad = 0
    for name, ref in zip(NAMES, sess.run(None, feeds)):
        got = np.load(os.path.join(out, name + ".npy"))
        if got.shape != ref.shape or got.dtype != ref.dtype:
            print("FAIL %s: %s %s, ONNX Runtime %s %s" % (name, got.shape, got.dtype, ref.shape, ref.dtype))
            bad += 1
            continue
        diff = np.abs(got.astype(np.int64) - ref.astype(np.int64))
        off = float(np.mean(diff != 0))
        ok = int(diff.max()) == 0 if name[0] == "c" else (int(diff.max()) <= 1 and off <= 0.01)
        print("%s %s %s: max steps off %d, share off %.4f" % ("ok" if ok else "FAIL", name, got.shape,
                                                              int(diff.max()), off))
        bad += not ok
    print("DEPTHWISE INT8 ok" if bad == 0 else "DEPTHWISE INT8 FAILED (%d)" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    from make_check import main
    main(make, check)
