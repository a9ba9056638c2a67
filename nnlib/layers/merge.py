"""Merge layers for graph models: ``Add``, ``Multiply`` and ``Concatenate`` combine a
*list* of inputs, and their backward returns a list of gradients, one per input. They
declare it with ``multi_input = True`` (see ``Layer``). Graph models are built in
chapters/11_residual_recurrent.ipynb."""

from __future__ import annotations

import numpy as np

from .._validation import ShapeError, check_int, reject_unknown_kwargs, shape_str
from .base import Layer

__all__ = ["Merge", "Add", "Multiply", "Concatenate"]


class Merge(Layer):
    """Base of layers that combine a list of at least two inputs.

    By default the inputs must have one shape, and so does the output; subclasses with
    another rule override :meth:`_merged_shape`.
    """

    multi_input = True

    def _check_list(self, xs):
        name = type(self).__name__
        if not isinstance(xs, (list, tuple)) or len(xs) < 2:
            raise TypeError(f"{name} takes a list of at least 2 arrays (or graph nodes), got "
                            f"{type(xs).__name__}. Call it as {name}()([a, b]).")
        for x in xs:
            self._check_input(x, ndim=None, expected=None)
        if len({len(x) for x in xs}) > 1:
            raise ShapeError(f"{name} needs inputs with the same number of rows (samples), "
                             f"got {', '.join(shape_str(x.shape) for x in xs)}.")
        self._merged_shape([x.shape[1:] for x in xs])

    def _merged_shape(self, shapes):
        """The per-sample output shape for per-sample input ``shapes``; raises
        ShapeError when they cannot be merged."""
        if len({tuple(s) for s in shapes}) > 1:
            raise ShapeError(f"{type(self).__name__} needs inputs of one shape, got "
                             f"{', '.join(shape_str(s) for s in shapes)}. Add a Dense or "
                             f"Reshape layer so that they match.")
        return tuple(shapes[0])

    def output_shape(self, input_shapes):
        return self._merged_shape(input_shapes)


class Add(Merge):
    """Elementwise sum of its inputs.

    Shapes
    ------
    xs : list of k >= 2 arrays (N, ...) of one shape -> y : (N, ...)
    backward(dout) -> [dout] * k: addition passes the gradient to every input unchanged
    (the trick of residual connections).
    """

    def forward(self, xs):
        self._check_list(xs)
        self._n = len(xs)
        out = xs[0].copy()
        for x in xs[1:]:
            out += x
        return out

    def backward(self, dout):
        self._require_forward("_n")
        return [dout] * self._n


class Multiply(Merge):
    """Elementwise product of its inputs.

    Shapes
    ------
    xs : list of k >= 2 arrays (N, ...) of one shape -> y : (N, ...)
    backward(dout) -> k arrays (N, ...): input i receives ``dout`` times the product of
    the other inputs (the product rule).
    """

    def forward(self, xs):
        self._check_list(xs)
        self._xs = list(xs)
        out = xs[0].copy()
        for x in xs[1:]:
            out *= x
        return out

    def backward(self, dout):
        self._require_forward("_xs")
        grads = []
        for k in range(len(self._xs)):
            g = dout.copy()
            for j, x in enumerate(self._xs):
                if j != k:
                    g *= x
            grads.append(g)
        return grads


class Concatenate(Merge):
    """Join inputs along ``axis`` (of the full array, batch axis included; default -1,
    the features).

    Shapes
    ------
    xs : list of k >= 2 arrays that agree on every axis but ``axis`` -> y with the sizes
    along ``axis`` added up, e.g. (N, 3) and (N, 5) -> (N, 8);
    backward(dout) -> k arrays: ``dout`` split back into the inputs' pieces.
    """

    @reject_unknown_kwargs
    def __init__(self, axis=-1, *, dtype=None):
        super().__init__(dtype=dtype)
        self.axis = check_int("Concatenate", "axis", axis)
        if self.axis == 0:
            raise ValueError("The 'axis' parameter of Concatenate cannot be 0, the batch axis: "
                             "samples are rows. Use axis=-1 (features) or 1 (channels).")
        self._sizes = None

    def forward(self, xs):
        self._check_list(xs)
        self._sizes = [x.shape[self.axis] for x in xs]
        return np.concatenate(xs, axis=self.axis)

    def _merged_shape(self, shapes):
        axis = self.axis - 1 if self.axis > 0 else self.axis  # the per-sample axis
        rest = {tuple(np.delete(np.array(s), axis)) for s in shapes}
        if len(rest) > 1 or len({len(s) for s in shapes}) > 1:
            raise ShapeError(f"Concatenate(axis={self.axis}) needs inputs that agree on every "
                             f"other axis, got per-sample shapes "
                             f"{', '.join(shape_str(s) for s in shapes)}.")
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        return tuple(out)

    def backward(self, dout):
        self._require_forward("_sizes")
        return np.split(dout, np.cumsum(self._sizes)[:-1], axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
