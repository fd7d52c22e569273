"""ONNX Runtime's latency on given inputs, for `quantc bench --compare-ort`:

    python ort_bench.py MODEL THREADS WARMUP NAME=FILE.npy ...

loads MODEL (one intra-op pool of THREADS threads, sequential execution,
the CPU provider: the settings quantc's own timing uses), runs WARMUP
untimed runs and prints "ready ort_load_s=... ort_version=...". Then it
serves its parent, one line at a time on stdin: "N" runs the model N
times and prints the N latencies in ms on one line; "quit" (or the end
of stdin) ends it. The parent alternates these blocks with its own runs,
so that both runtimes see the same load from whatever else shares the
machine."""
import sys
import time

import numpy as np


def main(argv):
    import onnxruntime as ort
    model, threads, warmup = argv[0], int(argv[1]), int(argv[2])
    feeds = {}
    for a in argv[3:]:
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
    print("ready ort_load_s=%.3f ort_version=%s" % (load, ort.__version__), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line or line == "quit":
            break
        ts = []
        for _ in range(int(line)):
            t = time.perf_counter()
            s.run(None, feeds)
            ts.append(1e3 * (time.perf_counter() - t))
        print(" ".join("%.4f" % t for t in ts), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
