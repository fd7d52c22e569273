"""The statistics `quantc calibrate` stored for conv_matmul's MatMul
against numpy on the MatMul's input (Relu's output, computed by ONNX
Runtime) for the four calibration samples: with --hessians, X^T X over
every row (and none on the Conv's observer); with --absmean (last
argument), the mean |x| per channel (channel_absmean)."""
import glob
import re
import sys

import numpy as np
import onnx
import onnx.parser
import onnxruntime as ort

model_path, observed, calib = sys.argv[1:4]
absmean = len(sys.argv) > 4 and sys.argv[4] == "--absmean"
m = onnx.parser.parse_model(open(model_path).read())
m.graph.output.append(onnx.helper.make_tensor_value_info("R", onnx.TensorProto.FLOAT, None))
sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
ref = np.zeros((4, 4))
rows = 0
allrows = []
for f in sorted(glob.glob(calib + "/*.npy")):
    r = sess.run(["R"], {"X": np.load(f)})[0].reshape(-1, 4).astype(np.float64)
    ref += r.T @ r
    rows += r.shape[0]
    allrows.append(r)
t = open(observed).read()
if absmean:
    d = re.search(r'layer = "MatMul_2", stats = \{([^}]*)\}', t).group(1)
    got = np.array([float(v) for v in re.search(r'channel_absmean = array<f64: ([^>]*)>', d).group(1).split(",")])
    want = np.mean(np.abs(np.concatenate(allrows)), axis=0)
    n = int(re.search(r'channel_rows = (\d+)', d).group(1))
    err = float(np.max(np.abs(got - want)) / np.max(want))
    print("ABSMEAN rows %d (numpy %d), max rel error %.2e" % (n, rows, err))
    print("ABSMEAN", "ok" if n == rows and err <= 1e-6 else "bad")
    sys.exit(0)
mm = re.search(r'layer = "MatMul_2", stats = \{[^}]*hessian = dense<(.*?)> : tensor<4x4xf64>, hessian_rows = (\d+)', t)
h = np.array(eval(mm.group(1)))
err = float(np.max(np.abs(h - ref)) / np.max(np.abs(ref)))
conv = t.split('layer = "Conv_0"')[1].split("}")[0]
print("HESSIAN rows %s (numpy %d), max rel error %.2e, conv observer without: %s" % (
    mm.group(2), rows, err, "hessian" not in conv))
ok = int(mm.group(2)) == rows and err <= 1e-6 and "hessian" not in conv
print("HESSIAN", "ok" if ok else "bad")
