"""Layers made of layers: ``LayerGroup`` (the shared base), ``Container`` (an ordered
chain) and ``Residual`` (``x + f(x)``). ``Sequential`` and the graph ``Model`` build on
these. Residual connections are motivated in chapters/11_residual_recurrent.ipynb.
"""

from __future__ import annotations

from .._validation import ShapeError, shape_str
from ..layers.base import Layer

__all__ = ["LayerGroup", "Container", "Residual"]


class LayerGroup(Layer):
    """A layer made of other layers, ``self.layers``: parameters and buffers are named by
    position (``"0.W"``, ``"2.b"``; nested groups give ``"1.0.W"``), and
    train/eval/astype reach every member. Base of ``Container`` (chains) and graph
    ``Model``s."""

    layers = ()

    def children(self):
        return list(self.layers)

    def parameters(self):
        return {f"{i}.{name}": p
                for i, layer in enumerate(self.layers)
                for name, p in layer.parameters().items()}

    def buffers(self):
        return {f"{i}.{name}": b
                for i, layer in enumerate(self.layers)
                for name, b in layer.buffers().items()}

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
        for layer in self.layers:
            layer.astype(dtype)
        return self

    def get_config(self):
        return {}  # the layers themselves are the children

    def save_cache(self):
        return {"own": super().save_cache(),
                "layers": [layer.save_cache() for layer in self.layers]}

    def load_cache(self, cache):
        super().load_cache(cache["own"])
        for layer, layer_cache in zip(self.layers, cache["layers"], strict=True):
            layer.load_cache(layer_cache)


class Container(LayerGroup):
    """An ordered chain of layers (``Sequential``, ``Residual``): ``Container(*layers)``."""

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                hint = " Did you forget the parentheses, e.g. nl.ReLU()?" if (
                    isinstance(layer, type) and issubclass(layer, Layer)) else ""
                raise TypeError(f"{type(self).__name__} takes Layer objects; argument {i} is "
                                f"{layer!r}.{hint}")
        self.layers = list(layers)

    @classmethod
    def from_config(cls, config, children=()):
        return cls(*children, **config)

    def _forward_chain(self, x):
        for i, layer in enumerate(self.layers):
            try:
                out = layer.forward(x)
            except ShapeError as e:
                came = (f"the input {shape_str(x.shape)}" if i == 0 else
                        f"layer {i - 1} ({self.layers[i - 1]!r}) output {shape_str(x.shape)}")
                raise ShapeError(f"{type(self).__name__} layer {i} ({layer!r}) cannot take "
                                 f"{came}: {e}") from None
            x = out
        return x

    def _backward_chain(self, dout, input_grad=True):
        """Backward through every layer in reverse. With ``input_grad=False`` nothing
        below the first trainable layer runs, and that layer skips its dx: returns None."""
        stop = 0 if input_grad else self._first_trainable()
        for layer in reversed(self.layers[stop + 1:]):
            dout = layer.backward(dout)
        if stop == len(self.layers):
            return None
        if input_grad:
            return self.layers[0].backward(dout)
        self.layers[stop].backward_params(dout)
        return None

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
