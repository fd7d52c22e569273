"""Planted-outlier variants of pre-norm transformers (issue 13's stress test).

    python -m quantc.transformers.outliers SRC.onnx DST.onnx [--fraction 0.01] [--factor 50] [--seed 0]

For every norm scale gamma (a Mul of the normalized stream by a constant
[D] initializer whose output only MatMuls with constant [D, N] weights
read, as in SmolLM2's RMSNorms), a seeded ~1% of the channels C get
gamma[C] *= factor and the readers' rows W[C, :] /= factor. The float
function is unchanged (x * g * W = x * (g * f) * (W / f)), but those
channels of the layers' inputs become `factor` times larger: the outlier
channels SmoothQuant and rotations are for, planted where the real model
has few. Post-norm models (BERT: the LayerNorm's output is also the
residual stream) cannot be planted this way without changing the function
and are refused.
"""
import argparse
import sys

import numpy as np


def plant(src, dst, fraction=0.01, factor=50.0, seed=0):
    import onnx
    from onnx import numpy_helper

    m = onnx.load(src)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    readers = {}
    for n in g.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    rng = np.random.RandomState(seed)
    planted = 0
    for n in g.node:
        if n.op_type != "Mul":
            continue
        gname = next((i for i in n.input if i in inits and len(inits[i].dims) == 1), None)
        if gname is None:
            continue
        users = readers.get(n.output[0], [])
        if not users or not all(u.op_type == "MatMul" and u.input[0] == n.output[0] and u.input[1] in inits
                                and len(inits[u.input[1]].dims) == 2 for u in users):
            continue
        gamma = numpy_helper.to_array(inits[gname]).astype(np.float32).copy()
        d = gamma.shape[0]
        if any(inits[u.input[1]].dims[0] != d for u in users):
            continue
        chans = rng.choice(d, max(1, int(round(fraction * d))), replace=False)
        gamma[chans] *= factor
        inits[gname].CopyFrom(numpy_helper.from_array(gamma, gname))
        for u in users:
            w = numpy_helper.to_array(inits[u.input[1]]).astype(np.float32).copy()
            w[chans, :] /= factor
            inits[u.input[1]].CopyFrom(numpy_helper.from_array(w, u.input[1]))
        planted += 1
    if planted == 0:
        raise SystemExit("%s: no norm scale feeding only MatMuls found (post-norm models cannot be planted "
                         "without changing the function)" % src)
    from quantc.transformers.smollm2 import save_with_weights
    save_with_weights(m, dst)
    return planted


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--fraction", type=float, default=0.01)
    ap.add_argument("--factor", type=float, default=50.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    n = plant(a.src, a.dst, a.fraction, a.factor, a.seed)
    print("wrote %s: outliers planted at %d norm scales (%.1f%% of channels x %g)" %
          (a.dst, n, 100 * a.fraction, a.factor))
    return 0


if __name__ == "__main__":
    sys.exit(main())
