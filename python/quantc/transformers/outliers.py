"""Planted-outlier variants of pre-norm transformers (issue 13's stress test).

    python -m quantc.transformers.outliers SRC.onnx DST.onnx [--fraction 0.01] [--factor 50] [--seed 0]

For every norm scale gamma (a Mul of the normalized stream by a constant
[D] initializer whose output only MatMuls with constant [D, N] weights
read, as in SmolLM2's RMSNorms), a seeded ~1% of the channels C get
gamma[C] *= factor and the readers' rows W[C, :] /= factor. The float
function is unchanged (x * g * W = x * (g * f) * (W / f)), but those
channels of the layers' inputs become `factor` times larger: the outlier
channels SmoothQuant and rotations are for, planted where the real model
has few.

Post-norm models (BERT: the LayerNorm's output is also the residual
stream) cannot be planted at the norm without changing the function.
There the outliers go on the attention's value path instead: for every
output projection O (a MatMul by a constant [D, N] weight) that reads,
through head merges (Reshape, Transpose), the probabilities x V product
whose V comes, through head splits, from a value projection X Wv (+ bv),
the channels C get Wv[:, C] *= factor, bv[C] *= factor and Wo[C, :] /=
factor. Attention is linear in V and the head split and merge keep the
channel order, so the function is unchanged, but the output projection's
input has those channels `factor` times larger.
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
        planted = _plant_value_paths(g, inits, readers, rng, fraction, factor)
    if planted == 0:
        raise SystemExit("%s: found neither a norm scale feeding only MatMuls nor an attention value "
                         "path (value projection -> probabilities x V -> output projection)" % src)
    from quantc.transformers.smollm2 import save_with_weights
    save_with_weights(m, dst)
    return planted


def _plant_value_paths(g, inits, readers, rng, fraction, factor):
    """The post-norm planting (see the module's docstring); the number of
    attention blocks planted."""
    from onnx import numpy_helper

    producer = {o: n for n in g.node for o in n.output}

    def through_heads(name):
        # Back through Reshape / Transpose (head split or merge) to the
        # first other producer; None when another reader shares the path.
        n = producer.get(name)
        while n is not None and n.op_type in ("Reshape", "Transpose"):
            if len(readers.get(n.output[0], [])) != 1:
                return None
            n = producer.get(n.input[0])
        return n

    def const2d(name):
        return name in inits and len(inits[name].dims) == 2

    planted = 0
    for o in g.node:
        if o.op_type != "MatMul" or not const2d(o.input[1]):
            continue
        pv = through_heads(o.input[0])
        if pv is None or pv.op_type != "MatMul" or pv.input[1] in inits:
            continue
        v = through_heads(pv.input[1])
        bias = None
        if v is not None and v.op_type == "Add":
            bias = next((i for i in v.input if i in inits and len(inits[i].dims) == 1), None)
            other = [i for i in v.input if i != bias]
            v = producer.get(other[0]) if bias is not None and len(other) == 1 else None
            if v is not None and len(readers.get(v.output[0], [])) != 1:
                v = None
        if v is None or v.op_type != "MatMul" or not const2d(v.input[1]):
            continue
        d = inits[o.input[1]].dims[0]
        if inits[v.input[1]].dims[1] != d or (bias is not None and inits[bias].dims[0] != d):
            continue
        chans = rng.choice(d, max(1, int(round(fraction * d))), replace=False)
        wv = numpy_helper.to_array(inits[v.input[1]]).astype(np.float32).copy()
        wv[:, chans] *= factor
        inits[v.input[1]].CopyFrom(numpy_helper.from_array(wv, v.input[1]))
        if bias is not None:
            b = numpy_helper.to_array(inits[bias]).astype(np.float32).copy()
            b[chans] *= factor
            inits[bias].CopyFrom(numpy_helper.from_array(b, bias))
        wo = numpy_helper.to_array(inits[o.input[1]]).astype(np.float32).copy()
        wo[chans, :] /= factor
        inits[o.input[1]].CopyFrom(numpy_helper.from_array(wo, o.input[1]))
        planted += 1
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
    print("wrote %s: outliers planted at %d norm scales or value paths (%.1f%% of channels x %g)" %
          (a.dst, n, 100 * a.fraction, a.factor))
    return 0


if __name__ == "__main__":
    sys.exit(main())
