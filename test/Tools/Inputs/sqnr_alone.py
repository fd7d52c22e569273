"""The output SQNR of a model with one layer quantized, computed from
`quantc run` outputs, against the "out SQNR alone" that `quantc quantize
--min-layer-sqnr` printed for that layer (same samples).

  sqnr_alone.py LOG LAYER QUANTC FLOAT.mlir QUANT.mlir CALIB_DIR N
runs both models on CALIB_DIR/s<i>.npy for i < N (input X, output Y).
"""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

log, layer, quantc, fmodel, qmodel, calib, n = sys.argv[1:8]
printed = None
for line in open(log):
    f = line.split()
    if f and f[0] == layer and line.rstrip().endswith("dB"):
        printed = float(re.findall(r"(-?[0-9.]+) dB", line)[-1])
signal = noise = 0.0
with tempfile.TemporaryDirectory() as tmp:
    for i in range(int(n)):
        outs = []
        for tag, model in (("f", fmodel), ("q", qmodel)):
            d = os.path.join(tmp, "%s%d" % (tag, i))
            subprocess.run([quantc, "run", model, "--input", "X=%s/s%d.npy" % (calib, i), "--output-dir", d],
                           check=True, capture_output=True)
            outs.append(np.load(os.path.join(d, "Y.npy")).astype(np.float64))
        y, q = outs
        signal += float((y * y).sum())
        noise += float(((y - q) ** 2).sum())
measured = 10 * np.log10(signal / noise)
ok = printed is not None and abs(measured - printed) <= 0.06
print("%s: printed %s dB, measured %.2f dB %s" % (layer, printed, measured, "SQNR ok" if ok else "FAIL"))
sys.exit(0 if ok else 1)
