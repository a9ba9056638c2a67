"""Layers for graph models: merges of several inputs (``Add``, ``Multiply``,
``Concatenate``), ``Reshape``, and ``Pointwise`` for an elementwise function the learner
supplies with its derivative. Merge layers take a *list* of arrays and their backward
returns a list of gradients, one per input."""

from __future__ import annotations

import numpy as np

from ._validation import ShapeError, check_int, reject_unknown_kwargs, shape_str
from .core import Layer

__all__ = ["Merge", "Add", "Multiply", "Concatenate", "Reshape", "Pointwise"]


class Merge(Layer):
    """Base of layers that combine a list of inputs of one shape."""

    takes_list = True

    def _check_list(self, xs):
        name = type(self).__name__
        if not isinstance(xs, (list, tuple)) or len(xs) < 2:
            raise TypeError(f"{name} takes a list of at least 2 arrays (or graph nodes), got "
                            f"{type(xs).__name__}. Call it as {name}()([a, b]).")
        for x in xs:
            self._check_input(x, ndim=None, expected=None)
        self._require_equal_shapes([x.shape for x in xs])

    def _require_equal_shapes(self, shapes):
        if len({tuple(s) for s in shapes}) > 1:
            raise ShapeError(f"{type(self).__name__} needs inputs of one shape, got "
                             f"{', '.join(shape_str(s) for s in shapes)}. Add a Dense or "
                             f"Reshape layer so that they match.")

    def output_shape(self, input_shapes):
        self._require_equal_shapes(input_shapes)
        return tuple(input_shapes[0])


class Add(Merge):
    """Elementwise sum of its inputs. Backward: every input receives ``dout`` itself --
    addition passes gradients through unchanged (the residual connection's trick)."""

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

    _n = None


class Multiply(Merge):
    """Elementwise product. Backward: input k receives ``dout`` times the product of the
    other inputs (the product rule)."""

    _xs = None

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


class Concatenate(Layer):
    """Join inputs along ``axis`` (of the full array, batch axis included; default -1,
    the features). Backward splits ``dout`` back into the inputs' pieces."""

    takes_list = True

    @reject_unknown_kwargs
    def __init__(self, axis=-1, *, dtype=None):
        super().__init__(dtype=dtype)
        self.axis = check_int("Concatenate", "axis", axis)
        if self.axis == 0:
            raise ValueError("The 'axis' parameter of Concatenate cannot be 0, the batch axis: "
                             "samples are rows. Use axis=-1 (features) or 1 (channels).")
        self._sizes = None

    def forward(self, xs):
        if not isinstance(xs, (list, tuple)) or len(xs) < 2:
            raise TypeError("Concatenate takes a list of at least 2 arrays (or graph nodes).")
        for x in xs:
            self._check_input(x, ndim=None, expected=None)
        self._check_shapes([x.shape[1:] for x in xs], batch=[x.shape[0] for x in xs])
        self._sizes = [x.shape[self.axis] for x in xs]
        return np.concatenate(xs, axis=self.axis)

    def _check_shapes(self, shapes, batch=()):
        axis = self.axis - 1 if self.axis > 0 else self.axis  # per-sample axis
        rest = {tuple(np.delete(np.array(s), axis)) for s in shapes}
        if len(rest) > 1 or len(set(batch)) > 1:
            raise ShapeError(f"Concatenate(axis={self.axis}) needs inputs that agree on every "
                             f"other axis, got per-sample shapes "
                             f"{', '.join(shape_str(s) for s in shapes)}.")
        return axis

    def backward(self, dout):
        self._require_forward("_sizes")
        return np.split(dout, np.cumsum(self._sizes)[:-1], axis=self.axis)

    def output_shape(self, input_shapes):
        axis = self._check_shapes(input_shapes)
        out = list(input_shapes[0])
        out[axis] = sum(s[axis] for s in input_shapes)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Reshape(Layer):
    """(N, ...) -> (N, *shape): the per-sample shape changes, the values do not."""

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


class Pointwise(Layer):
    """An elementwise function ``f`` with its derivative ``df``, both given by you.

    On its first forward pass the layer compares ``df`` with a central difference of ``f``
    at the actual inputs and raises if they disagree, so a wrong derivative is caught
    before it silently trains a wrong model.

    >>> layer = Pointwise(np.sin, np.cos)
    """

    serializable = False  # it holds Python functions

    @reject_unknown_kwargs
    def __init__(self, f, df, name=None, *, dtype=None):
        super().__init__(dtype=dtype)
        if not (callable(f) and callable(df)):
            raise TypeError("Pointwise(f, df) needs two functions: f(x) and its derivative.")
        self.f, self.df = f, df
        self.name = name or getattr(f, "__name__", "f")
        self._verified = False
        self._x = None

    def _verify(self, x):
        sample = np.asarray(x, dtype=np.float64).ravel()[:64]
        h = 1e-5
        numeric = (self.f(sample + h) - self.f(sample - h)) / (2 * h)
        analytic = np.asarray(self.df(sample), dtype=np.float64)
        err = np.abs(analytic - numeric) / np.maximum(1e-6, np.abs(analytic) + np.abs(numeric))
        if not np.all(err < 1e-4):
            i = int(np.argmax(np.where(np.isnan(err), np.inf, err)))
            raise ValueError(
                f"Pointwise({self.name}): df does not look like the derivative of f. At "
                f"x = {sample[i]:.4g}, df(x) = {analytic[i]:.6g} but (f(x + h) - f(x - h)) / 2h "
                f"= {numeric[i]:.6g}. Fix df (or f).")
        self._verified = True

    def forward(self, x):
        self._check_input(x, ndim=None, expected=None)
        if not self._verified:
            self._verify(x)
        self._x = x
        return np.asarray(self.f(x), dtype=x.dtype)

    def backward(self, dout):
        self._require_forward()
        return dout * np.asarray(self.df(self._x), dtype=dout.dtype)

    def __repr__(self):
        return f"Pointwise({self.name})"
