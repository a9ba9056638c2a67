"""``Dense``: the fully connected layer ``y = x @ W + b``. Defined in
chapters/02_neurons_dense_layers.ipynb, "2 · A layer: many neurons, many samples, one
matrix product"; its backward is derived in chapters/06_backpropagation.ipynb, "Backprop
through a dense layer"."""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from .._validation import ShapeError, check_int, check_size, reject_unknown_kwargs, shape_str
from ..utils import as_rng
from .base import Layer, Parameter

__all__ = ["Dense"]


class Dense(Layer):
    """Fully connected layer ``y = x @ W + b``.

    Parameters
    ----------
    in_features, out_features : int
    init : str or callable, default "glorot_uniform"
        Weight initialiser from :mod:`nnlib.init` (``"he_normal"`` suits ReLU nets).
    rng : None, int or numpy.random.Generator
    dtype : np.float32 (default) or np.float64

    Shapes
    ------
    x : (N, in_features) -> y : (N, out_features); W : (in, out), b : (out,).
    A sequence x : (N, T, in_features) gives y : (N, T, out_features), the same map at
    every position (as PyTorch's ``Linear``): the output layer of a sequence model.
    """

    @reject_unknown_kwargs
    def __init__(self, in_features, out_features, *, init="glorot_uniform", rng=None,
                 dtype=np.float32):
        super().__init__()
        self.in_features = check_int("Dense", "in_features", in_features, low=1)
        self.out_features = check_int("Dense", "out_features", out_features, low=1)
        self._set_dtype(dtype)
        check_size(f"Dense({self.in_features}, {self.out_features})", "a weight matrix W",
                   (self.in_features, self.out_features), self.dtype,
                   fix="in_features is the number of features per sample and out_features "
                       "the number of units; neither is the number of samples or pixels.")
        weight_init = initializers.get(init, "Dense")
        self.W = Parameter(weight_init((self.in_features, self.out_features), as_rng(rng),
                                       self.dtype))
        self.b = Parameter(np.zeros(self.out_features, dtype=self.dtype))
        self._x = None

    def forward(self, x):
        self._check_input(x, ndim=x.ndim if isinstance(x, np.ndarray) else 2,
                          expected=f"(N, {self.in_features})")
        if x.shape[-1] != self.in_features:
            self._shape_error(x)
        self._x = x
        out = x.reshape(-1, self.in_features) @ self.W.data  # (N, out), or (N T, out)
        out += self.b.data
        return out.reshape(*x.shape[:-1], self.out_features)

    def _shape_error(self, x):
        got = x.shape[-1]
        if got == 1 and x.shape[0] == self.in_features:
            fix = "Rows are samples: a single sample needs x.reshape(1, -1), a batch needs x.T."
        elif x.ndim == 3 and x.shape[1] * x.shape[2] == self.in_features:
            fix = ("Flatten images first: nl.Flatten() or x.reshape(len(x), -1) (Dense "
                   "takes (N, features) or sequences (N, T, features)).")
        else:
            fix = (f"The data or the previous layer gives {got} features: use "
                   f"Dense({got}, {self.out_features}), or fix the layer before.")
        seq = f" or (N, T, {self.in_features})" if x.ndim == 3 else ""
        raise ShapeError(f"Dense expected input (N, {self.in_features}){seq}, "
                         f"got {shape_str(x.shape)}. {fix}")

    def _check_input(self, x, *, ndim, expected):
        if isinstance(x, np.ndarray) and x.ndim not in (2, 3):
            fix = ("Flatten images first: nl.Flatten() or x.reshape(len(x), -1)."
                   if x.ndim > 2 else "A single sample needs x.reshape(1, -1).")
            raise ShapeError(f"Dense expected input {expected}, got {shape_str(x.shape)}. {fix}")
        super()._check_input(x, ndim=ndim, expected=expected)

    def backward(self, dout):
        self.backward_params(dout)
        dx = dout.reshape(-1, self.out_features) @ self.W.data.T  # (N, out) @ (out, in)
        return dx.reshape(self._x.shape)

    def backward_params(self, dout):
        self._require_forward()
        x = self._x.reshape(-1, self.in_features)        # (N, in); sequences: (N T, in)
        dout = dout.reshape(-1, self.out_features)
        self.W.grad += x.T @ dout         # (in, N) @ (N, out) -> (in, out)
        self.b.grad += dout.sum(axis=0)   # (out,)

    def parameters(self):
        return {"W": self.W, "b": self.b}

    def input_shape_hint(self):
        return (self.in_features,)

    def output_shape(self, input_shape):
        if len(input_shape) == 2 and input_shape[1] == self.in_features:  # a sequence
            return (input_shape[0], self.out_features)
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
