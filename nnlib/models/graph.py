"""Graph models: layers wired into any directed acyclic graph.

    x = nl.Input((784,))
    h = nl.Dense(784, 64)(x)            # calling a layer on a node builds the graph
    h = nl.ReLU()(h)
    y = nl.Dense(64, 10)(h)
    model = nl.Model(inputs=[x], outputs=[y])

Forward visits the nodes in topological order; backward visits them in reverse and
*adds up* the gradients arriving at a node from every consumer -- the chain rule where a
value fans out. A layer used at two nodes shares its weights: each call keeps its own
forward cache, and both backward passes accumulate into the same ``.grad``. The same
holds for a container (a ``Sequential`` block) used at two nodes, and for a layer used
both at a node and inside a container: every call that runs a layer another call also
runs saves its cache, children's caches included (``calls_sharing_layers``). Derived in
chapters/06_backpropagation.ipynb, "The chain rule on a computational graph" (fan-out);
examples/block_letter_ocr.ipynb builds a graph model.
"""

from __future__ import annotations

from .._validation import ShapeError, check_array, check_finite, shape_str
from ..nodes import Input, Node, connect
from ..serialization import Saveable
from ..training import Trainable
from ..utils import table
from .containers import LayerGroup, calls_sharing_layers

__all__ = ["Model"]


def _toposort(outputs):
    """Nodes in an order where every node comes after its parents; cycles rejected."""
    order, state = [], {}  # state: 1 = on the current path, 2 = done

    def visit(node, path):
        if state.get(id(node)) == 2:
            return
        if state.get(id(node)) == 1:
            cycle = " -> ".join(repr(n.layer) for n in [*path, node])
            raise ValueError(f"the graph has a cycle: {cycle}. Graphs must be acyclic.")
        state[id(node)] = 1
        for parent in node.parents:
            visit(parent, [*path, node])
        state[id(node)] = 2
        order.append(node)

    for out in outputs:
        visit(out, [])
    return order


def _items(spec, key, kind):
    """``spec[key]``, which must be a list of ``kind`` (Model.from_config's checks)."""
    value = spec.get(key) if isinstance(spec, dict) else None
    if not isinstance(value, list) or not all(
            isinstance(v, kind) and not isinstance(v, bool) for v in value):
        raise ValueError(f"Model config needs {key!r} as a list of {kind.__name__}s, got "
                         f"{value!r:.80}.")
    return value


def _index(i, n, what):
    if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < n:
        raise ValueError(f"Model config: {what} index {i!r} is not in [0, {n}).")
    return i


class Model(Trainable, Saveable, LayerGroup):
    """A network of layers wired as a graph: ``Model(inputs=[...], outputs=[...])``.

    ``forward``/``predict``/``fit`` take a list of arrays in ``inputs`` order (a bare
    array when there is one input) and return a list in ``outputs`` order (a bare array
    for one output). ``parameters()`` lists each layer's parameters once, named
    ``"<layer index>.<name>"`` in topological order.
    """

    def __init__(self, inputs, outputs):
        super().__init__()
        self.inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        self.outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        for kind, nodes in (("inputs", self.inputs), ("outputs", self.outputs)):
            if not nodes or not all(isinstance(n, Node) for n in nodes):
                raise TypeError(f"Model {kind} must be graph nodes (nl.Input(...) or a "
                                f"layer called on a node), got {nodes!r}.")
        self.nodes = _toposort(self.outputs)
        reached = {id(n) for n in self.nodes}
        for i, node in enumerate(self.inputs):
            if not isinstance(node, Input):
                raise TypeError(f"Model input {i} is not an nl.Input node.")
            if id(node) not in reached:
                raise ValueError(f"Model input {i} ({shape_str(node.shape)}) is not connected to "
                                 f"any output. Remove it or use it.")
        inputs = {id(n) for n in self.inputs}
        for node in self.nodes:
            if isinstance(node, Input) and id(node) not in inputs:
                users = [repr(n.layer) for n in self.nodes if node in n.parents]
                raise ValueError(f"the outputs depend on an Input {shape_str(node.shape)} that "
                                 f"is not in Model(inputs=...): it feeds {', '.join(users)}. "
                                 f"Add it to the inputs.")
        self.layers = list(dict.fromkeys(n.layer for n in self.nodes if n.layer is not None))
        self._uses = {id(layer): sum(n.layer is layer for n in self.nodes)
                      for layer in self.layers}
        calls = [n for n in self.nodes if n.layer is not None]
        self._shared_nodes = {id(n) for n, shared in zip(
            calls, calls_sharing_layers([n.layer for n in calls]), strict=True) if shared}
        dtypes = {layer.dtype for layer in self.layers if layer.dtype is not None}
        if len(dtypes) > 1:
            raise TypeError(f"Model layers must share one dtype, got "
                            f"{sorted(d.name for d in dtypes)}.")
        self.dtype = dtypes.pop() if dtypes else None
        self.n_inputs, self.n_outputs = len(self.inputs), len(self.outputs)
        self._caches = {}

    def _index_inputs(self):
        """An input whose every consumer takes indices (an Embedding) keeps its ints."""
        return [all(n.layer.takes_indices
                    for n in self.nodes if node in n.parents) for node in self.inputs]

    # --- the graph at work -----------------------------------------------------------------
    def _forward_many(self, xs):
        values = {id(n): x for n, x in zip(self.inputs, xs, strict=True)}
        self._caches = {}
        for node in self.nodes:
            if node.layer is None:
                continue
            args = [values[id(p)] for p in node.parents]
            values[id(node)] = node.layer.forward(args if node.layer.multi_input else args[0])
            if id(node) in self._shared_nodes:  # shared: remember this call's cache
                self._caches[id(node)] = node.layer.save_cache()
        return [values[id(n)] for n in self.outputs]

    def _backward_many(self, douts, input_grad=False):
        grads = {}
        for node, g in zip(self.outputs, douts, strict=True):
            grads[id(node)] = grads[id(node)] + g if id(node) in grads else g
        for node in reversed(self.nodes):
            if node.layer is None or id(node) not in grads:
                continue
            if id(node) in self._caches:
                node.layer.load_cache(self._caches[id(node)])
            dx = node.layer.backward(grads.pop(id(node)))
            parent_grads = dx if node.layer.multi_input else [dx]
            for parent, g in zip(node.parents, parent_grads, strict=True):
                # fan-out: a value used twice receives the sum of both gradients
                grads[id(parent)] = grads[id(parent)] + g if id(parent) in grads else g
        if input_grad:
            return [grads[id(n)] for n in self.inputs]  # every input reaches an output
        return None

    def forward(self, x):
        """Outputs for inputs ``x`` (a list in ``inputs`` order, or one array)."""
        xs = list(x) if isinstance(x, (list, tuple)) else [x]
        if len(xs) != self.n_inputs:
            raise ValueError(f"Model has {self.n_inputs} inputs, got {len(xs)} arrays.")
        for v in xs:
            check_array("Model", v)
            check_finite("Model", v)
        self._check_input_shapes(xs, "inputs")
        outs = self._forward_many(xs)
        return outs[0] if self.n_outputs == 1 else outs

    def _check_dout(self, dout):
        """As every layer's, and a one-output model also takes ``[dout]``."""
        if (isinstance(dout, (list, tuple)) and len(dout) == 1
                and not isinstance(self.__dict__.get("_out_shape"), list)):
            dout = dout[0]
        super()._check_dout(dout)

    def _check_input_shapes(self, xs, what):
        """Each array's per-sample shape must be its Input's: nothing is broadcast."""
        for i, (node, v) in enumerate(zip(self.inputs, xs, strict=True)):
            if v.shape[1:] != node.shape:
                which = f"Model input {i}" if self.n_inputs > 1 else "Model"
                if v.ndim == len(node.shape) and v.shape == node.shape:
                    fix = "A single sample? Add the batch axis: x[None]."
                else:
                    fix = (f"Reshape the data to (N, {', '.join(map(str, node.shape))}), or "
                           f"build the model on nl.Input({tuple(v.shape[1:])}).")
                raise ShapeError(f"{which} expected per-sample shape {shape_str(node.shape)}, "
                                 f"got {shape_str(v.shape[1:])} in the {what} (array "
                                 f"{shape_str(v.shape)}; the nl.Input is "
                                 f"{shape_str(node.shape)}). {fix}")

    def backward(self, dout):
        """Gradients with respect to the inputs (a list, or one array for one input).
        ``dout`` is one array per output, of the shapes forward returned; anything else
        is refused before any gradient changes."""
        douts = list(dout) if isinstance(dout, (list, tuple)) else [dout]
        grads = self._backward_many(douts, input_grad=True)
        return grads[0] if self.n_inputs == 1 else grads

    # --- config: the graph as JSON, the layers as children ----------------------------------
    def get_config(self):
        """The wiring: each node's layer (an index into ``children()``, None for an
        Input), per-sample shape and parents (node indices); the input and output nodes."""
        node_index = {id(n): i for i, n in enumerate(self.nodes)}
        layer_index = {id(layer): i for i, layer in enumerate(self.layers)}
        return {"nodes": [{"layer": layer_index.get(id(n.layer)), "shape": list(n.shape),
                           "parents": [node_index[id(p)] for p in n.parents]}
                          for n in self.nodes],
                "inputs": [node_index[id(n)] for n in self.inputs],
                "outputs": [node_index[id(n)] for n in self.outputs]}

    @classmethod
    def from_config(cls, config, children=()):
        """Rewire ``children`` (the layers, in ``self.layers`` order) as ``config`` says.
        Every index is checked (a model file may be damaged): a node's parents come
        before it, layers are indices into ``children``, nothing wraps around."""
        nodes = []
        for k, spec in enumerate(_items(config, "nodes", dict)):
            if spec.get("layer") is None:
                nodes.append(Input(_items(spec, "shape", int)))
                continue
            layer = children[_index(spec["layer"], len(children), f"node {k}'s layer")]
            parents = [nodes[_index(i, k, f"node {k}'s parent")]
                       for i in _items(spec, "parents", int)]
            if not parents or (len(parents) > 1 and not layer.multi_input):
                raise ValueError(f"Model config: node {k} ({layer!r}) has {len(parents)} "
                                 f"parents.")
            nodes.append(connect(layer, parents if layer.multi_input else parents[0]))
        return cls(inputs=[nodes[_index(i, len(nodes), "input")]
                           for i in _items(config, "inputs", int)],
                   outputs=[nodes[_index(i, len(nodes), "output")]
                            for i in _items(config, "outputs", int)])

    # --- inspection ---------------------------------------------------------------------
    def edges(self):
        """(from node index, to node index) pairs, node indices as in ``self.nodes``."""
        index = {id(n): i for i, n in enumerate(self.nodes)}
        return [(index[id(p)], index[id(n)]) for n in self.nodes for p in n.parents]

    def summary(self):
        """Nodes in order with their layer, output shape, parameter count and inputs."""
        index = {id(n): i for i, n in enumerate(self.nodes)}
        rows = [("#", "node", "output shape", "params", "from")]
        counted = set()
        for i, node in enumerate(self.nodes):
            layer = node.layer
            count = 0
            if layer is not None and id(layer) not in counted:
                counted.add(id(layer))
                count = sum(p.size for p in layer.parameters().values())
            label = (f"Input {self.inputs.index(node)}" if layer is None else repr(layer)) \
                + (" (shared)" if layer is not None and self._uses[id(layer)] > 1 else "")
            rows.append((str(i), label, shape_str(("N", *node.shape)), f"{count:,}",
                         ", ".join(str(index[id(p)]) for p in node.parents) or "-"))
        outs = ", ".join(str(index[id(n)]) for n in self.outputs)
        total = sum(p.size for p in self.parameters().values())  # shared ones once
        return table(rows, title=f"Model: {self.n_inputs} input(s), outputs at node(s) {outs}",
                     footer=f"total parameters: {total:,}", right=(3,))

    def __repr__(self):
        return f"Model({self.n_inputs} inputs, {len(self.nodes)} nodes, {self.n_outputs} outputs)"
