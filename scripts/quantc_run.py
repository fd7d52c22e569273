"""Running a model with `quantc run` from Python: the feeds are written as
.npy files and the outputs read back by name (sanitized as quantc names
its output files). Shared by the scripts that compare quantc with ONNX
Runtime."""
import os
import subprocess

import numpy as np


def output_file_name(name):
    safe = "".join(c if c.isalnum() or c in "_-." else "_" for c in name)
    return (safe or "output") + ".npy"


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
