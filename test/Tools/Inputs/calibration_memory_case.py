"""Calibration memory does not grow with the number of samples on disk.

    calibration_memory_case.py QUANTC DIR

Builds a one-convolution model with an input of 1x4x512x512 floats (4 MiB
a sample), two calibration sets of 4 and of 48 samples (16 and 192 MiB),
and runs `quantc bench MODEL --calib SET` on each: the peak memory after
calibrating (max RSS, printed by bench) of the larger set must stay within
32 MiB of the smaller's (samples read one at a time), where holding every
sample would add the 176 MiB of the extra samples. Also checks that both
runs calibrated every sample."""
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    quantc, d = sys.argv[1], sys.argv[2]
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 4, 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], name="conv")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 512, 512])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 512, 512])],
        [numpy_helper.from_array(w, "w")])
    model = os.path.join(d, "conv.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), model)
    peaks = {}
    for n in (4, 48):
        cal = os.path.join(d, "calib%d" % n)
        os.makedirs(cal, exist_ok=True)
        for i in range(n):
            np.save(os.path.join(cal, "s%03d.npy" % i),
                    rng.uniform(-1, 1, (1, 4, 512, 512)).astype(np.float32))
        out = subprocess.run([quantc, "bench", model, "--calib", cal, "--runs", "2", "--warmup", "0",
                              "--threads", "1"], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit("quantc bench --calib failed: %s" % out.stderr)
        m = re.search(r"peak memory:\s+([0-9.]+) MiB after calibrating", out.stdout)
        s = re.search(r"calibration:\s+(\d+) samples", out.stdout)
        if not m or not s:
            sys.exit("no calibration lines in:\n%s" % out.stdout)
        if int(s.group(1)) != n:
            sys.exit("calibrated %s samples of %d" % (s.group(1), n))
        peaks[n] = float(m.group(1))
        print("%d samples: peak %.1f MiB" % (n, peaks[n]))
    grew = peaks[48] - peaks[4]
    if not (grew <= 32.0):
        sys.exit("FAIL: calibrating 48 samples took %.1f MiB more than 4 (bound 32; the 44 "
                 "extra samples are 176 MiB)" % grew)
    print("ok: %.1f MiB more for 44 more samples" % grew)


if __name__ == "__main__":
    main()
