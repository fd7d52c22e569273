"""Specialising an ONNX model on input values that never change.

Silero VAD selects its 16 kHz or 8 kHz network with a top-level `If` on
its `sr` input, so every layer sits inside a branch, which ONNX Runtime's
`quantize_static` does not enter (it quantizes no layer). The evaluation
feeds the same `sr` in every sample; with that value the condition is a
constant, and the taken branch can be inlined into the main graph. Both
quantizers then start from the same specialised file (quantc.peers.
prepare), which computes what the original computes for that value.

specialize(model, {"sr": np.array(16000)}):
  * nodes whose inputs are all known (initializers, the given inputs, or
    outputs of such nodes) and that depend on a given input are evaluated
    (onnx.reference) and replaced by initializers;
  * an `If` whose condition became known is replaced by the nodes and
    initializers of the branch it takes, its outputs by Identity nodes
    from the branch's outputs;
  * the given inputs stay graph inputs (callers keep feeding them) and
    no longer feed any node; initializers no node uses any more (the
    branch not taken) are dropped.
"""
import numpy as np


def _eval_node(node, values, opset):
    import onnx
    from onnx import helper
    from onnx.reference import ReferenceEvaluator
    inputs = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(values[n].dtype), values[n].shape)
              for n in node.input if n]
    outputs = [helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None) for o in node.output if o]
    g = helper.make_graph([node], "fold", inputs, outputs)
    m = helper.make_model(g, opset_imports=opset)
    res = ReferenceEvaluator(m).run(None, {n: values[n] for n in node.input if n})
    return dict(zip([o for o in node.output if o], res))


def specialize(model, constants):
    """Returns (model, number of If nodes inlined). `constants` maps input
    names to numpy values."""
    from onnx import helper, numpy_helper
    g = model.graph
    inputs = {i.name for i in g.input}
    for name in constants:
        if name not in inputs:
            raise ValueError("specialize: '%s' is not an input of the graph" % name)
    values = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    values.update({k: np.asarray(v) for k, v in constants.items()})
    derived = set(constants)  # values computed from a given input
    kept, inlined = [], 0
    for node in g.node:
        ins = [n for n in node.input if n]
        if not any(n in derived for n in ins) or not all(n in values for n in ins):
            kept.append(node)
            continue
        if node.op_type == "If":
            cond = bool(np.asarray(values[node.input[0]]).reshape(-1)[0])
            branch = next(a.g for a in node.attribute if a.name == ("then_branch" if cond else "else_branch"))
            prefix = (node.name or "if%d" % inlined) + ("/then/" if cond else "/else/")
            for n in branch.node:
                if n.name:
                    n.name = prefix + n.name
                kept.append(n)
            g.initializer.extend(branch.initializer)
            g.value_info.extend(branch.value_info)
            for src, dst in zip(branch.output, node.output):
                kept.append(helper.make_node("Identity", [src.name], [dst], name=prefix + "out_" + dst))
            inlined += 1
            continue
        if any(a.type in (a.GRAPH, a.GRAPHS) for a in node.attribute):
            kept.append(node)
            continue
        values.update(_eval_node(node, values, model.opset_import))
        derived.update(o for o in node.output if o)
    # Folded values still used by a kept node (or a graph output) become initializers.
    used = {n for node in kept for n in node.input} | {o.name for o in g.output}

    def sub_inputs(graph):
        for node in graph.node:
            used.update(node.input)
            for a in node.attribute:
                for sg in ([a.g] if a.type == a.GRAPH else list(a.graphs)):
                    sub_inputs(sg)
    for node in kept:
        for a in node.attribute:
            for sg in ([a.g] if a.type == a.GRAPH else list(a.graphs) if a.type == a.GRAPHS else []):
                sub_inputs(sg)
    have = {i.name for i in g.initializer}
    for name in sorted(derived - set(constants)):
        if name in used and name not in have:
            g.initializer.append(numpy_helper.from_array(np.asarray(values[name]), name))
    del g.node[:]
    g.node.extend(kept)
    if inlined:
        # The branch not taken leaves its weights (Silero: the 8 kHz network) unused.
        keep = [i for i in g.initializer if i.name in used]
        del g.initializer[:]
        g.initializer.extend(keep)
    return model, inlined


def constant_inputs(sess_inputs, samples):
    """The inputs that are scalars holding one value in every sample (e.g.
    a sample rate): {name: value}."""
    out = {}
    for i in sess_inputs:
        vals = [s[i] for s in samples if i in s]
        if vals and len(vals) == len(samples) and all(np.asarray(v).ndim == 0 for v in vals) and \
                all(np.array_equal(v, vals[0]) for v in vals):
            out[i] = np.asarray(vals[0])
    return out
