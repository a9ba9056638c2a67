"""Dense, activation, Flatten, Dropout and Residual layers.

Each layer is one small class with ``forward(x) -> y`` and ``backward(dout) -> dx``;
what backward needs is stored under a name in forward. Rows are samples.
"""

from __future__ import annotations

import numpy as np

from . import functional as F
from . import init as initializers
from ._validation import ShapeError, check_float, check_int, reject_unknown_kwargs, shape_str
from .core import Layer, Parameter, as_rng

__all__ = [
    "Dense", "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Softmax",
    "Flatten", "Dropout", "LayerGroup", "Container", "Residual",
]


class Dense(Layer):
    """Fully connected layer ``y = x @ W + b``. Defined in chapters/02_neurons_dense_layers.

    Parameters
    ----------
    in_features, out_features : int
    init : str or callable, default "glorot_uniform"
        Weight initialiser from :mod:`nnlib.init` (``"he_normal"`` suits ReLU nets).
    rng : None, int or numpy.random.Generator
    dtype : np.float32 (default) or np.float64

    Shapes
    ------
    x : (N, in_features) -> y : (N, out_features); W : (in, out), b : (out,)
    """

    @reject_unknown_kwargs
    def __init__(self, in_features, out_features, *, init="glorot_uniform", rng=None,
                 dtype=np.float32):
        super().__init__()
        self.in_features = check_int("Dense", "in_features", in_features, low=1)
        self.out_features = check_int("Dense", "out_features", out_features, low=1)
        self._set_dtype(dtype)
        weight_init = initializers.get(init, "Dense")
        self.W = Parameter(weight_init((self.in_features, self.out_features), as_rng(rng),
                                       self.dtype))
        self.b = Parameter(np.zeros(self.out_features, dtype=self.dtype))
        self._x = None

    def forward(self, x):
        self._check_input(x, ndim=2, expected=f"(N, {self.in_features})")
        if x.shape[1] != self.in_features:
            self._shape_error(x)
        self._x = x
        out = x @ self.W.data  # (N, out)
        out += self.b.data
        return out

    def _shape_error(self, x):
        got = x.shape[1]
        if got == 1 and x.shape[0] == self.in_features:
            fix = "Rows are samples: a single sample needs x.reshape(1, -1), a batch needs x.T."
        else:
            fix = (f"The data or the previous layer gives {got} features: use "
                   f"Dense({got}, {self.out_features}), or fix the layer before.")
        raise ShapeError(f"Dense expected input (N, {self.in_features}), "
                         f"got {shape_str(x.shape)}. {fix}")

    def _check_input(self, x, *, ndim, expected):
        if isinstance(x, np.ndarray) and x.ndim != 2:
            fix = ("Flatten images first: nl.Flatten() or x.reshape(len(x), -1)."
                   if x.ndim > 2 else "A single sample needs x.reshape(1, -1).")
            raise ShapeError(f"Dense expected input {expected}, got {shape_str(x.shape)}. {fix}")
        super()._check_input(x, ndim=ndim, expected=expected)

    def backward(self, dout):
        self.backward_params(dout)
        return dout @ self.W.data.T       # (N, out) @ (out, in) -> (N, in)

    def backward_params(self, dout):
        self._require_forward()
        self.W.grad += self._x.T @ dout   # (in, N) @ (N, out) -> (in, out)
        self.b.grad += dout.sum(axis=0)   # (out,)

    def parameters(self):
        return {"W": self.W, "b": self.b}

    def output_shape(self, input_shape):
        if tuple(input_shape) != (self.in_features,):
            raise ShapeError(f"Dense expected per-sample input ({self.in_features},), "
                             f"got {shape_str(input_shape)}.")
        return (self.out_features,)

    def get_config(self):
        return {"in_features": self.in_features, "out_features": self.out_features,
                "dtype": self.dtype.name}

    def __repr__(self):
        extra = "" if self.dtype == np.float32 else f", dtype=np.{self.dtype.name}"
        return f"Dense({self.in_features}, {self.out_features}{extra})"


class _Activation(Layer):
    """An elementwise activation: ``fn`` forward, ``dout * grad(x)`` backward."""

    def forward(self, x):
        self._check_input(x, ndim=None, expected=None)
        self._x = x
        return self._fn(x)

    def backward(self, dout):
        self._require_forward()
        return dout * self._grad(self._x)


class ReLU(_Activation):
    """max(0, x). Defined in chapters/03_activations.ipynb."""

    _x = None

    def _fn(self, x):
        return F.relu(x)

    def backward(self, dout):
        self._require_forward()
        return dout * (self._x > 0)  # the bool mask multiplies without a float copy


class LeakyReLU(_Activation):
    """x where x > 0, else alpha x."""

    @reject_unknown_kwargs
    def __init__(self, alpha=0.01, *, dtype=None):
        super().__init__(dtype=dtype)
        self.alpha = check_float("LeakyReLU", "alpha", alpha, low=0)
        self._x = None

    def _fn(self, x):
        return F.leaky_relu(x, self.alpha)

    def _grad(self, x):
        return F.leaky_relu_grad(x, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class ELU(_Activation):
    """x where x > 0, else alpha (e^x - 1)."""

    @reject_unknown_kwargs
    def __init__(self, alpha=1.0, *, dtype=None):
        super().__init__(dtype=dtype)
        self.alpha = check_float("ELU", "alpha", alpha, low=0)
        self._x = None

    def _fn(self, x):
        return F.elu(x, self.alpha)

    def _grad(self, x):
        return F.elu_grad(x, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Sigmoid(_Activation):
    """1 / (1 + e^-x); backward reuses the stored output: dx = dout s (1 - s)."""

    _x = None

    def _fn(self, x):
        return F.sigmoid(x)

    def forward(self, x):
        self._s = super().forward(x)
        return self._s

    def backward(self, dout):
        self._require_forward()
        return dout * self._s * (1 - self._s)


class Tanh(_Activation):
    """tanh(x); backward reuses the stored output: dx = dout (1 - t^2)."""

    _x = None

    def _fn(self, x):
        return F.tanh(x)

    def forward(self, x):
        self._t = super().forward(x)
        return self._t

    def backward(self, dout):
        self._require_forward()
        return dout * (1 - self._t * self._t)


class Softmax(_Activation):
    """Row-wise softmax over the last axis. For classification prefer raw logits with
    ``CrossEntropyLoss``, which fuses the softmax and is exact and faster."""

    _x = None

    def _fn(self, x):
        return F.softmax(x)

    def forward(self, x):
        self._s = super().forward(x)
        return self._s

    def backward(self, dout):
        self._require_forward()
        return F.softmax_backward(self._s, dout)


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1 d2 ...). A view when the input is contiguous."""

    _shape = None

    def forward(self, x):
        self._check_input(x, ndim=None, expected=None)
        if x.ndim < 2:
            raise ShapeError(f"Flatten expected input (N, ...) with at least 2 dimensions, "
                             f"got {shape_str(x.shape)}. Rows are samples.")
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        self._require_forward("_shape")
        return dout.reshape(self._shape)

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)


class Dropout(Layer):
    """Inverted dropout: in training, zero each element with probability ``p`` and scale
    the survivors by 1 / (1 - p), so eval mode is the plain identity.

    Parameters
    ----------
    p : float in [0, 1), the probability of dropping an element
    rng : None, int or numpy.random.Generator, the source of the masks
    """

    @reject_unknown_kwargs
    def __init__(self, p=0.5, *, rng=None, dtype=None):
        super().__init__(dtype=dtype)
        self.p = check_float("Dropout", "p", p, low=0, high=1, high_open=True)
        self.rng = as_rng(rng)
        self._mask = None

    def forward(self, x):
        self._check_input(x, ndim=None, expected=None)
        if not self.training or self.p == 0:
            self._mask = None
            return x
        keep = self.rng.random(x.shape, dtype=x.dtype) >= self.p
        self._mask = keep * x.dtype.type(1 / (1 - self.p))  # values in {0, 1/(1-p)}
        return x * self._mask

    def backward(self, dout):
        return dout if self._mask is None else dout * self._mask

    def get_config(self):
        return {**super().get_config(), "p": self.p}


class LayerGroup(Layer):
    """A layer made of other layers, ``self.layers``: parameters are named by position
    (``"0.W"``, ``"2.b"``; nested groups give ``"1.0.W"``), and train/eval/astype reach
    every member. Base of ``Container`` (chains) and graph ``Model``s."""

    layers = ()

    def parameters(self):
        return {f"{i}.{name}": p
                for i, layer in enumerate(self.layers)
                for name, p in layer.parameters().items()}

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


class Container(LayerGroup):
    """An ordered chain of layers (``Sequential``, ``Residual``)."""

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                hint = " Did you forget the parentheses, e.g. nl.ReLU()?" if (
                    isinstance(layer, type) and issubclass(layer, Layer)) else ""
                raise TypeError(f"{type(self).__name__} takes Layer objects; argument {i} is "
                                f"{layer!r}.{hint}")
        self.layers = list(layers)

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
