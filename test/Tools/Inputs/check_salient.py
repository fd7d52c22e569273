"""qc-split-salient on conv_matmul's MatMul, against numpy and ONNX Runtime.

Arguments: MODEL.onnxtxt SPLIT.mlir CALIB_DIR OUT_FLOAT OUT_SPLIT OUT_PLAIN OUT_SALIENT
  * the kept channel is the argmax of H_jj ||M_j||^2, with H = X^T X of the
    MatMul's input computed by ONNX Runtime (Relu's output) on the samples,
    and M the MatMul's weight from the model;
  * the split float model's output (OUT_SPLIT/Y.npy) equals ONNX Runtime's
    float output within 1e-5 relative (the function is unchanged);
  * quantized to 4 bits (w4a16-g32-gptq, OUT_PLAIN) and with the channel kept
    float (w4a16-g32-salient-gptq, OUT_SALIENT), the salient one is closer to
    ONNX Runtime's float output.
Prints SALIENT ok / bad and the numbers."""
import glob
import re
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import onnx.parser
import onnxruntime as ort

model_path, split, calib, out_float, out_split, out_plain, out_salient = sys.argv[1:8]
m = onnx.parser.parse_model(open(model_path).read())
M = [onnx.numpy_helper.to_array(t) for t in m.graph.initializer if t.name == "M"][0].astype(np.float64)
m.graph.output.append(onnx.helper.make_tensor_value_info("R", onnx.TensorProto.FLOAT, None))
sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
files = sorted(glob.glob(calib + "/*.npy"))
H = np.zeros((4, 4))
for f in files:
    r = sess.run(["R"], {"X": np.load(f)})[0].reshape(-1, 4).astype(np.float64)
    H += r.T @ r
score = np.diag(H) * np.sum(M * M, axis=1)
want = int(np.argmax(score))
t = open(split).read()
g = re.search(r"dense<(\[?[0-9, ]+\]?)> : tensor<1xi64>", t)
got = int(g.group(1).strip("[]")) if g else -1
ref = sess.run(["Y"], {"X": np.load(files[0])})[0].astype(np.float64)
rel = lambda y: float(np.linalg.norm(np.load(y).astype(np.float64) - ref) / np.linalg.norm(ref))
e_split, e_plain, e_sal = rel(out_split + "/Y.npy"), rel(out_plain + "/Y.npy"), rel(out_salient + "/Y.npy")
print("SALIENT kept channel %d (numpy argmax %d; scores %s)" % (got, want, np.array2string(score, precision=3)))
print("SALIENT split float vs ORT %.2e; 4-bit error %.4f plain, %.4f with the channel float" % (e_split, e_plain, e_sal))
ok = got == want and e_split <= 1e-5 and e_sal < e_plain
print("SALIENT", "ok" if ok else "bad")
