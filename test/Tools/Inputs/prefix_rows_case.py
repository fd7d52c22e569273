"""--prefix-rows on a MatMul whose first rows are massive (an attention
sink's), against numpy.

  make DIR     DIR/model.onnx: Y = X W, X [2, 12, 64] (two sequences),
               W [64, 24]; DIR/calib: 4 samples whose rows s < 2 are 300x
               the rest (Gaussian); DIR/x.npy a fifth such input;
               DIR/flat.onnx: the same MatMul on a [12, 64] input (no
               sequence axis: nothing to split).
  check DIR IR OUT P
               IR: quantc's quantized model, OUT its output Y on x.npy,
               P the prefix it was made with (0: none). W~ = the int8
               weights and channel scales read from IR. Checks that
                 * the static activation scale and zero point in IR are
                   numpy's from the calibration rows s >= P only
                   (uint8: lo = min(0, min), hi = max(0, max),
                   s = (hi - lo) / 255, z = round(-lo / s));
                 * rows s >= P of Y are Q(x) W~, Q numpy's uint8 rounding
                   with that scale;
                 * rows s < P are R(x) W~, R each row rounded to uint8 on
                   its own range (qc.dynamic_quantize_rows);
               to 1e-5 of the output's largest value.
Prints PREFIX ok and the worst errors, or fails."""
import os
import re
import sys

import numpy as np

from qc_ref import int8_weights, rows_q

B, S, K, N = 2, 12, 64, 24
MASSIVE = 2


def make(d):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(7)
    w = rng.normal(0, 0.1, (K, N)).astype(np.float32)
    os.makedirs(os.path.join(d, "calib"), exist_ok=True)
    for name, shape in (("model", [B, S, K]), ("flat", [S, K])):
        g = helper.make_graph([helper.make_node("MatMul", ["X", "W"], ["Y"], name="mm")], "g",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, shape[:-1] + [N])],
                              [numpy_helper.from_array(w, "W")])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        m.ir_version = 8
        onnx.save(m, os.path.join(d, name + ".onnx"))
    np.save(os.path.join(d, "w.npy"), w)

    def sample():
        x = rng.normal(0, 1, (B, S, K)).astype(np.float32)
        x[:, :MASSIVE] *= 300
        return x
    for i in range(4):
        np.save(os.path.join(d, "calib", "s%d.npy" % i), sample())
    np.save(os.path.join(d, "x.npy"), sample())


def weights_from(ir):
    """W~ [K, N] from IR: the int8 constant (hex) times the channel scales."""
    return int8_weights(open(ir).read(), K, N)


def check(d, ir, out, p):
    f32 = np.float32
    xs = [np.load(os.path.join(d, "calib", "s%d.npy" % i)) for i in range(4)]
    rest = np.concatenate([x[:, p:].reshape(-1, K) for x in xs])
    lo, hi = min(0.0, float(rest.min())), max(0.0, float(rest.max()))
    s = (hi - lo) / 255
    z = int(round(-lo / s))
    m = re.search(r"!quant\.uniform<u8:f32, ([0-9.e+-]+):([0-9]+)>", open(ir).read())
    if not m:
        sys.exit("no uint8 activation type in " + ir)
    got_s, got_z = float(m.group(1)), int(m.group(2))
    if not (abs(got_s - s) <= 1e-6 * s) or got_z != z:
        sys.exit("scale/zero point %g:%d, numpy %g:%d from rows s >= %d" % (got_s, got_z, s, z, p))
    w = weights_from(ir)
    x = np.load(os.path.join(d, "x.npy"))
    y = np.load(out)
    q = ((np.clip(np.rint(x[:, p:] / f32(s)) + z, 0, 255) - z) * f32(s)).astype(np.float32)
    ref = np.concatenate([rows_q(x[:, :p]) @ w, q @ w], axis=1)
    tol = 1e-5 * float(np.abs(ref).max())
    worst = []
    for name, rows in (("prefix rows", slice(0, p)), ("rounded rows", slice(p, S))):
        if rows.start == rows.stop:
            continue
        err = float(np.abs(y[:, rows] - ref[:, rows]).max())
        if not (err <= tol):
            sys.exit("%s: error %.3g, over %.3g" % (name, err, tol))
        worst.append("%s %.2g" % (name, err))
    print("PREFIX ok", ", ".join(worst))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
