"""ONNX Runtime's latency on given inputs, for `quantc bench --compare-ort`:

    python ort_bench.py MODEL THREADS RUNS WARMUP NAME=FILE.npy ...

prints "ort_median_ms=... ort_min_ms=... ort_load_s=... ort_version=...".
One intra-op pool of THREADS threads, sequential execution, the CPU
provider: the settings quantc's own timing uses."""
import sys
import time

import numpy as np


def main(argv):
    import onnxruntime as ort
    model, threads, runs, warmup = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    feeds = {}
    for a in argv[4:]:
        name, path = a.split("=", 1)
        feeds[name] = np.load(path)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    t0 = time.perf_counter()
    s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    load = time.perf_counter() - t0
    for _ in range(warmup):
        s.run(None, feeds)
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        s.run(None, feeds)
        ts.append(time.perf_counter() - t)
    print("ort_median_ms=%.4f ort_min_ms=%.4f ort_load_s=%.3f ort_version=%s" % (
        1e3 * float(np.median(ts)), 1e3 * min(ts), load, ort.__version__))


if __name__ == "__main__":
    main(sys.argv[1:])
