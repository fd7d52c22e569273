"""ONNX Runtime's DynamicQuantizeLinear applied to each row of a 2-D array
on its own: the reference of quantc's per-token dynamic quantization
(qc.dynamic_quantize_rows). Shared by check_numerics.py and the lit
tests' case scripts (test/Tools/Inputs)."""
import numpy as np


def dynamic_quantize_rows(x):
    """(q uint8 [M, K], scale float32 [M], zero point uint8 [M]) of each row
    of x [M, K], as ONNX Runtime returns them."""
    import onnxruntime as ort
    from onnx import TensorProto, helper
    k = x.shape[1]
    g = helper.make_graph([helper.make_node("DynamicQuantizeLinear", ["x"], ["y", "s", "z"])], "dql",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [k])],
                          [helper.make_tensor_value_info("y", TensorProto.UINT8, [k]),
                           helper.make_tensor_value_info("s", TensorProto.FLOAT, []),
                           helper.make_tensor_value_info("z", TensorProto.UINT8, [])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    out = [sess.run(None, {"x": r}) for r in np.asarray(x, np.float32)]
    return (np.stack([o[0] for o in out]), np.array([o[1] for o in out], np.float32),
            np.array([o[2] for o in out], np.uint8))
