"""numpy references shared by the Tools tests' case scripts: what
qc.dynamic_quantize_rows does to a row, and the int8 weights a quantized
IR holds."""
import re
import sys

import numpy as np


def rows_q(x):
    """qc.dynamic_quantize_rows: each row on its own uint8 range, back in float."""
    f32 = np.float32
    lo = np.minimum(x.min(axis=-1, keepdims=True), f32(0))
    hi = np.maximum(x.max(axis=-1, keepdims=True), f32(0))
    s = ((hi - lo) / f32(255)).astype(np.float32)
    s = np.where(s == 0, f32(1), s)
    z = np.clip(np.rint(-lo / s), 0, 255)
    return ((np.clip(np.rint(x / s) + z, 0, 255) - z) * s).astype(np.float32)


def int8_weights(text, k, n):
    """W~ [k, n] from IR text: the int8 constant (hex) times the channel scales."""
    m = re.search(r'qc\.constant dense<"0x([0-9A-F]+)"> : tensor<%dx%dxi8>' % (k, n), text)
    sc = re.search(r"qc\.constant dense<\[([^\]]+)\]> : tensor<%dxf32>" % n, text)
    if not m or not sc:
        sys.exit("no int8 weights [%d, %d] / channel scales in the IR" % (k, n))
    q = np.frombuffer(bytes.fromhex(m.group(1)), np.int8).reshape(k, n).astype(np.float32)
    return q * np.array([float(v) for v in sc.group(1).split(",")], np.float32)
