"""Running a model with `quantc run` from Python: the feeds are written as
.npy files and the outputs read back by name (sanitized as quantc names
its output files). Shared by the scripts that compare quantc with ONNX
Runtime."""
import os
import subprocess
import sys

import numpy as np


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from quantc import npy_file_name as output_file_name  # noqa: E402,F401


def run(quantc, model, feeds, tmp, names):
    """Returns (outputs in the order of `names`, None) or (None, error text)."""
    out_dir = os.path.join(tmp, "quantc_out")
    cmd = [quantc, "run", model, "--output-dir", out_dir]
    for i, (k, v) in enumerate(feeds.items()):
        f = os.path.join(tmp, "quantc_in%d.npy" % i)
        np.save(f, v)
        cmd += ["--input", "%s=%s" % (k, f)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None, "quantc run failed (exit %d): %s" % (p.returncode, p.stderr.strip()[:800])
    return [np.load(os.path.join(out_dir, output_file_name(n))) for n in names], None
