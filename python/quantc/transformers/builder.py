"""A small onnx.helper graph builder shared by the transformer converters:
named initializers and nodes, each node's output named after the node."""
import numpy as np


class Builder:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def const(self, name, value):
        from onnx import numpy_helper
        # np.ascontiguousarray would make a scalar 1-D (Range needs scalars).
        value = np.asarray(value)
        self.inits.append(numpy_helper.from_array(value if value.ndim == 0 else np.ascontiguousarray(value), name))
        return name

    def op(self, op_type, inputs, name=None, outputs=1, **attrs):
        from onnx import helper
        self.n += 1
        base = name or "%s_%d" % (op_type, self.n)
        outs = [base] if outputs == 1 else ["%s:%d" % (base, i) for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=base, **attrs))
        return outs[0] if outputs == 1 else outs
