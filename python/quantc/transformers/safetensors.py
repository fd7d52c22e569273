"""Reads a .safetensors file: an 8-byte little-endian header length, a JSON
header {name: {dtype, shape, data_offsets}}, then the raw tensors."""
import json

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32, "U8": np.uint8,
          "I8": np.int8, "F64": np.float64}


class SafetensorsError(ValueError):
    pass


def load(path):
    """{name: numpy array} (arrays are views of one buffer read once)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise SafetensorsError("%s: too short for a safetensors header" % path)
    n = int.from_bytes(raw[:8], "little")
    if n <= 0 or 8 + n > len(raw):
        raise SafetensorsError("%s: header length %d does not fit the file (%d bytes)" % (path, n, len(raw)))
    try:
        header = json.loads(raw[8:8 + n])
    except ValueError as e:
        raise SafetensorsError("%s: header is not JSON: %s" % (path, e))
    body = memoryview(raw)[8 + n:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t.get("dtype") not in DTYPES:
            raise SafetensorsError("%s: tensor '%s' has dtype %r, which is not supported" % (path, name, t.get("dtype")))
        dt = np.dtype(DTYPES[t["dtype"]])
        a, b = t["data_offsets"]
        count = int(np.prod(t["shape"], dtype=np.int64))
        if not (0 <= a <= b <= len(body)) or b - a != count * dt.itemsize:
            raise SafetensorsError("%s: tensor '%s' offsets %s do not match shape %s %s" %
                                   (path, name, (a, b), t["shape"], t["dtype"]))
        out[name] = np.frombuffer(body[a:b], dtype=dt).reshape(t["shape"])
    return out
