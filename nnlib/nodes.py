"""Graph nodes: the values a graph model is wired from.

    x = nl.Input((784,))            # a node: the model's input, per-sample shape (784,)
    h = nl.Dense(784, 64)(x)        # calling a layer on a node makes a new node

``Layer.__call__`` hands nodes to :func:`connect`, which checks the shapes at wiring
time and returns the new :class:`Node`; :class:`nnlib.models.Model` then runs the nodes
in order. This module sits below the layers (see nnlib/README.md): it relies only on
the layer protocol (``output_shape``, ``multi_input``), never on a layer class.
"""

from __future__ import annotations

from ._validation import ShapeError, shape_str

__all__ = ["Node", "Input", "is_node", "connect"]


class Node:
    """A value in a graph: ``layer`` applied to ``parents`` (an Input has neither).

    Attributes
    ----------
    layer : Layer or None (for an Input)
    parents : list of Node, in the order the layer takes its inputs
    shape : tuple, the per-sample shape (no batch axis), known when the graph is built,
        so mismatched layers fail at wiring time, not at the first batch
    """

    def __init__(self, layer, parents, shape):
        self.layer, self.parents, self.shape = layer, list(parents), tuple(shape)

    def __repr__(self):
        what = "Input" if self.layer is None else repr(self.layer)
        return f"<Node {what} -> {shape_str(('N', *self.shape))}>"


class Input(Node):
    """A graph's entry point; ``shape`` is per sample (no batch axis): ``Input((784,))``."""

    def __init__(self, shape):
        if isinstance(shape, int):
            shape = (shape,)
        super().__init__(None, [], shape)


def is_node(x):
    """True for a Node, or a non-empty list or tuple of Nodes (a merge layer's input)."""
    return isinstance(x, Node) or (isinstance(x, (list, tuple)) and len(x) > 0
                                   and all(isinstance(v, Node) for v in x))


def connect(layer, x):
    """``layer(node)``, or ``merge_layer([node, node])``: a new Node, shapes checked.

    Layers that declare ``multi_input = True`` take a list of nodes; all others one.
    """
    is_list = isinstance(x, (list, tuple))
    if layer.multi_input != is_list:
        raise TypeError(f"{layer!r} takes {'a list of nodes' if layer.multi_input else 'one node'}"
                        f", got {'a list' if is_list else 'one node'}.")
    parents = list(x) if is_list else [x]
    shapes = [p.shape for p in parents]
    try:
        shape = layer.output_shape(shapes if layer.multi_input else shapes[0])
    except ShapeError as e:
        raise ShapeError(f"cannot connect {layer!r} to {', '.join(map(repr, parents))}: {e}") \
            from None
    return Node(layer, parents, shape)
