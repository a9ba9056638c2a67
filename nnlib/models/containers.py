"""Layers made of layers: ``LayerGroup`` (the shared base), ``Container`` (an ordered
chain) and ``Residual`` (``x + f(x)``). ``Sequential`` and the graph ``Model`` build on
these. Residual connections are derived in chapters/11_residual_recurrent.ipynb, "The
residual block: $y = x + f(x)$".
"""

from __future__ import annotations

from collections import Counter

from .._validation import ShapeError, float_dtype, shape_str
from ..layers.base import Layer

__all__ = ["LayerGroup", "Container", "Residual", "calls_sharing_layers"]


def _layers_inside(layer):
    """The ids of ``layer`` and of every layer inside it (children, recursively)."""
    seen, todo = set(), [layer]
    while todo:
        current = todo.pop()
        if id(current) not in seen:
            seen.add(id(current))
            todo.extend(current.children())
    return seen


def calls_sharing_layers(layers):
    """For the layer calls of one forward pass, in order (a layer may come more than
    once): True for each call that runs a layer -- itself, or one inside it -- that
    another call of the pass runs too.

    Each later call overwrites such a layer's forward cache (its ``_`` attributes), so
    the model saves the cache after each of these calls and puts it back before that
    call's backward (:meth:`Layer.save_cache`). Backward runs the calls in reverse
    order, so every call finds its own cache. For a container the saved cache holds its
    children's too, which is how the swap reaches layers inside containers.
    """
    inside = [_layers_inside(layer) for layer in layers]
    counts = Counter(i for ids in inside for i in ids)
    return [any(counts[i] > 1 for i in ids) for ids in inside]


class LayerGroup(Layer):
    """A layer made of other layers, ``self.layers``: parameters and buffers are named by
    position (``"0.W"``, ``"2.b"``; nested groups give ``"1.0.W"``), and
    train/eval/astype reach every member. A layer that appears more than once (the same
    layer twice in a chain, or inside two members) is listed once, under its first
    name, so optimizers step it once. Base of ``Container`` (chains) and graph
    ``Model``s."""

    layers = ()

    def children(self):
        return list(self.layers)

    def _unique_layers(self):
        return list(dict.fromkeys(self.layers))

    def parameters(self):
        named, seen = {}, set()
        for i, layer in enumerate(self.layers):
            for name, p in layer.parameters().items():
                if id(p) not in seen:
                    seen.add(id(p))
                    named[f"{i}.{name}"] = p
        return named

    def buffers(self):
        named, seen = {}, set()
        for i, layer in enumerate(self.layers):
            for name, b in layer.buffers().items():
                if id(b) not in seen:
                    seen.add(id(b))
                    named[f"{i}.{name}"] = b
        return named

    def train(self):
        self.training = True
        for layer in self.layers:
            layer.train()
        return self

    def eval(self):
        self.training = False
        for layer in self.layers:
            layer.eval()
        return self

    def astype(self, dtype):
        """Cast every member layer in place; the group's own ``dtype`` (what ``fit`` and
        ``predict`` convert data to) follows. Returns self."""
        dt = float_dtype(type(self).__name__, dtype)
        for layer in self._unique_layers():
            layer.astype(dt)
        self.dtype = dt
        return self

    def get_config(self):
        return {}  # the layers themselves are the children

    def save_cache(self):
        """Its own cache (with the per-call caches of shared members) and every
        member's: the whole subtree, for a group that is itself called twice."""
        return {"own": super().save_cache(),
                "layers": [layer.save_cache() for layer in self._unique_layers()]}

    def load_cache(self, cache):
        super().load_cache(cache["own"])
        for layer, layer_cache in zip(self._unique_layers(), cache["layers"], strict=True):
            layer.load_cache(layer_cache)


class Container(LayerGroup):
    """An ordered chain of layers (``Sequential``, ``Residual``): ``Container(*layers)``."""

    def __init__(self, *layers):
        super().__init__()
        name = type(self).__name__
        if not layers:
            raise ValueError(f"{name} needs at least one layer, got none. Pass the layers in "
                             f"order: {name}(nl.Dense(784, 64), nl.ReLU(), nl.Dense(64, 10)).")
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            raise TypeError(f"{name} takes the layers as separate arguments, got one "
                            f"{type(layers[0]).__name__}. Unpack it: {name}(*layers).")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                hint = " Did you forget the parentheses, e.g. nl.ReLU()?" if (
                    isinstance(layer, type) and issubclass(layer, Layer)) else ""
                raise TypeError(f"{type(self).__name__} takes Layer objects; argument {i} is "
                                f"{layer!r}.{hint}")
        self.layers = list(layers)
        self._shared_key = self._shared = None
        self._caches = {}  # position -> forward cache of that call, for shared layers

    def _shared_calls(self):
        """calls_sharing_layers for the chain, recomputed only if ``layers`` changed."""
        key = tuple(map(id, self.layers))
        if key != self._shared_key:
            self._shared_key, self._shared = key, calls_sharing_layers(self.layers)
        return self._shared

    @classmethod
    def from_config(cls, config, children=()):
        return cls(*children, **config)

    def _forward_chain(self, x):
        shared, caches = self._shared_calls(), {}
        for i, layer in enumerate(self.layers):
            try:
                out = layer.forward(x)
            except ShapeError as e:
                came = (f"the input {shape_str(x.shape)}" if i == 0 else
                        f"layer {i - 1} ({self.layers[i - 1]!r}) output {shape_str(x.shape)}")
                raise ShapeError(f"{type(self).__name__} layer {i} ({layer!r}) cannot take "
                                 f"{came}: {e}") from None
            if shared[i]:  # the layer runs again in this pass: keep this call's cache
                caches[i] = layer.save_cache()
            x = out
        self._caches = caches
        return x

    def _backward_chain(self, dout, input_grad=True):
        """Backward through every layer in reverse. With ``input_grad=False`` nothing
        below the first trainable layer runs, and that layer skips its dx: returns None.
        A layer called more than once gets each call's own cache back first."""
        stop = 0 if input_grad else self._first_trainable()
        for i in range(len(self.layers) - 1, stop, -1):
            dout = self._member(i).backward(dout)
        if stop == len(self.layers):
            return None
        if input_grad:
            return self._member(0).backward(dout)
        self._member(stop).backward_params(dout)
        return None

    def _member(self, i):
        """Layer ``i``, with the cache of its call in this chain put back if it is
        shared."""
        layer = self.layers[i]
        if i in self._caches:
            layer.load_cache(self._caches[i])
        return layer

    def _first_trainable(self):
        return next((i for i, layer in enumerate(self.layers) if layer.parameters()),
                    len(self.layers))

    def output_shape(self, input_shape):
        for layer in self.layers:
            input_shape = layer.output_shape(input_shape)
        return input_shape

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"{type(self).__name__}({inner})"


class Residual(Container):
    """``y = x + f(x)`` with ``f`` the given layers in order: the skip connection carries
    the gradient past ``f`` unchanged (dx = dout + df). ``f`` must keep the shape."""

    def forward(self, x):
        fx = self._forward_chain(x)
        if fx.shape != x.shape:
            raise ShapeError(f"Residual needs f(x) of the same shape as x: x is "
                             f"{shape_str(x.shape)} but f(x) is {shape_str(fx.shape)}. Make the "
                             f"last layer inside Residual output {x.shape[1:]} per sample.")
        return x + fx

    def backward(self, dout):
        return dout + self._backward_chain(dout)

    def output_shape(self, input_shape):
        out = super().output_shape(input_shape)
        if tuple(out) != tuple(input_shape):
            raise ShapeError(f"Residual needs f(x) of the same shape as x: per-sample input "
                             f"{shape_str(input_shape)}, f(x) {shape_str(out)}.")
        return tuple(input_shape)
