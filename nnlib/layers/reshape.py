"""Layers that change the shape of each sample, never its values: ``Flatten`` and
``Reshape``. Backward puts the gradient back into the input's shape."""

from __future__ import annotations

import numpy as np

from .._validation import ShapeError, reject_unknown_kwargs, shape_str
from .base import Layer

__all__ = ["Flatten", "Reshape"]


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1 d2 ...). A view when the input is contiguous."""

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


class Reshape(Layer):
    """(N, ...) -> (N, *shape): the per-sample shape changes, the values do not.

    Parameters
    ----------
    shape : tuple of int, the per-sample output shape (no batch axis)
    """

    @reject_unknown_kwargs
    def __init__(self, shape, *, dtype=None):
        super().__init__(dtype=dtype)
        self.shape = tuple(int(s) for s in shape)
        self._in_shape = None

    def forward(self, x):
        self._check_input(x, ndim=None, expected=None)
        if int(np.prod(x.shape[1:])) != int(np.prod(self.shape)):
            raise ShapeError(f"Reshape{self.shape} cannot take per-sample shape "
                             f"{shape_str(x.shape[1:])}: {int(np.prod(x.shape[1:]))} values "
                             f"!= {int(np.prod(self.shape))}.")
        self._in_shape = x.shape
        return x.reshape(x.shape[0], *self.shape)

    def backward(self, dout):
        self._require_forward("_in_shape")
        return dout.reshape(self._in_shape)

    def output_shape(self, input_shape):
        if int(np.prod(input_shape)) != int(np.prod(self.shape)):
            raise ShapeError(f"Reshape{self.shape} cannot take per-sample shape "
                             f"{shape_str(input_shape)}.")
        return self.shape

    def get_config(self):
        return {**super().get_config(), "shape": list(self.shape)}
