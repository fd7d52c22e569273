"""The Hessian `quantc calibrate --hessians` stored for conv_matmul's
MatMul against numpy: X^T X over every row of the MatMul's input (Relu's
output, computed by ONNX Runtime) for the four calibration samples."""
import glob
import re
import sys

import numpy as np
import onnx
import onnx.parser
import onnxruntime as ort

model_path, observed, calib = sys.argv[1:4]
m = onnx.parser.parse_model(open(model_path).read())
m.graph.output.append(onnx.helper.make_tensor_value_info("R", onnx.TensorProto.FLOAT, None))
sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
ref = np.zeros((4, 4))
rows = 0
for f in sorted(glob.glob(calib + "/*.npy")):
    r = sess.run(["R"], {"X": np.load(f)})[0].reshape(-1, 4).astype(np.float64)
    ref += r.T @ r
    rows += r.shape[0]
t = open(observed).read()
mm = re.search(r'layer = "MatMul_2", stats = \{[^}]*hessian = dense<(.*?)> : tensor<4x4xf64>, hessian_rows = (\d+)', t)
h = np.array(eval(mm.group(1)))
err = float(np.max(np.abs(h - ref)) / np.max(np.abs(ref)))
conv = t.split('layer = "Conv_0"')[1].split("}")[0]
print("HESSIAN rows %s (numpy %d), max rel error %.2e, conv observer without: %s" % (
    mm.group(2), rows, err, "hessian" not in conv))
ok = int(mm.group(2)) == rows and err <= 1e-6 and "hessian" not in conv
print("HESSIAN", "ok" if ok else "bad")
