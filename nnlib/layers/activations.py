"""Activation layers: elementwise functions with no parameters, one small class each,
and ``Pointwise`` for a function you supply with its derivative. The math is in
:mod:`nnlib.functional.activations`, derived in chapters/03_activations.ipynb, "Sigmoid",
"Tanh", "ReLU" and "Leaky ReLU and ELU".

Every activation takes any input shape ``(N, ...)`` and returns the same shape and
dtype; backward returns ``dout`` times the derivative at the stored input (or output).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_float, reject_unknown_kwargs
from ..functional import activations as A
from ..functional import logits
from ..utils import relative_error
from .base import Layer

__all__ = ["ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Softmax", "Pointwise"]


def _relu_fast(x):
    """``A.relu(x)``: the same values and memory layout, 1.2-2.3x faster on large
    arrays. ``np.maximum(x, 0)`` runs NumPy's element-by-element loop when one operand is
    a scalar (150 us for 400k floats here, 55 us against an array). So the output's
    memory is viewed as rows and the maximum taken against one row of zeros, which runs
    the vectorised loop; a strided x (after a Conv2D, x is) is first copied into the
    output, in its memory order, and the maximum taken in place."""
    if x.size < 32768:  # below this, the plain call is as fast
        return A.relu(x)
    y = np.empty_like(x)  # compact, its axes in memory in the order of x's
    out = y.ravel(order="K")
    if not np.may_share_memory(out, y):  # not a view: keep the plain road
        return A.relu(x)
    if x.flags.c_contiguous or x.flags.f_contiguous:
        src = x.ravel(order="K")  # a view, in the same order as out
    else:
        np.copyto(y, x)
        src = out
    rows = y.shape[int(np.argmax(y.strides))]
    np.maximum(src.reshape(rows, -1), np.zeros(out.size // rows, y.dtype),
               out=out.reshape(rows, -1))
    return y


class ReLU(Layer):
    """max(0, x). Backward reuses the stored output y: dx = dout where y > 0, else 0
    (y > 0 exactly where x > 0)."""

    def forward(self, x):
        self._check_input(x, ndim=None, expected=None)
        self._y = _relu_fast(x)  # A.relu(x), without NumPy's slow scalar loop
        return self._y

    def backward(self, dout):
        self._require_forward("_y")
        # The mask is read from the output, a fresh compact array, rather than the input,
        # which may be a strided view (a convolution's output is): 1.6x faster after a
        # Conv2D.
        return dout * (self._y > 0)  # the bool mask multiplies without a float copy


class _WithAlpha(Layer):
    """Shared by LeakyReLU and ELU: a validated ``alpha >= 0``, saved in the config."""

    def __init__(self, alpha, *, dtype=None):
        super().__init__(dtype=dtype)
        self.alpha = check_float(type(self).__name__, "alpha", alpha, low=0)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class LeakyReLU(_WithAlpha):
    """x where x > 0, else alpha x. Backward: dout times 1 or alpha."""

    @reject_unknown_kwargs
    def __init__(self, alpha=0.01, *, dtype=None):
        super().__init__(alpha, dtype=dtype)

    def forward(self, x):
        self._check_input(x, ndim=None, expected=None)
        self._x = x
        return A.leaky_relu(x, self.alpha)

    def backward(self, dout):
        self._require_forward()
        return dout * A.leaky_relu_grad(self._x, self.alpha)


class ELU(_WithAlpha):
    """x where x > 0, else alpha (e^x - 1). Backward: dout times 1 or alpha e^x."""

    @reject_unknown_kwargs
    def __init__(self, alpha=1.0, *, dtype=None):
        super().__init__(alpha, dtype=dtype)

    def forward(self, x):
        self._check_input(x, ndim=None, expected=None)
        self._x = x
        return A.elu(x, self.alpha)

    def backward(self, dout):
        self._require_forward()
        return dout * A.elu_grad(self._x, self.alpha)


class GELU(Layer):
    """x Phi(x), Phi the standard normal CDF: the activation of transformers, derived in
    chapters/13_attention_transformers.ipynb, "The transformer block". ``approximate="tanh"`` uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) instead (as PyTorch's
    ``GELU(approximate="tanh")`` and GPT-2): within 1e-3 of the exact curve and much faster
    on CPU, since it needs no erf. Backward: dout times the derivative of the form used.
    """

    @reject_unknown_kwargs
    def __init__(self, *, approximate="none", dtype=None):
        super().__init__(dtype=dtype)
        self.approximate = check_choice("GELU", "approximate", approximate, ("none", "tanh"))
        self._x = None

    def forward(self, x):
        self._check_input(x, ndim=None, expected=None)
        self._x = x
        return A.gelu(x, self.approximate)

    def backward(self, dout):
        self._require_forward()
        return dout * A.gelu_grad(self._x, self.approximate)

    def get_config(self):
        return {**super().get_config(), "approximate": self.approximate}


class Sigmoid(Layer):
    """1 / (1 + e^-x). Backward reuses the stored output s: dx = dout s (1 - s)."""

    def forward(self, x):
        self._check_input(x, ndim=None, expected=None)
        self._s = A.sigmoid(x)
        return self._s

    def backward(self, dout):
        self._require_forward("_s")
        return dout * self._s * (1 - self._s)


class Tanh(Layer):
    """tanh(x). Backward reuses the stored output t: dx = dout (1 - t^2)."""

    def forward(self, x):
        self._check_input(x, ndim=None, expected=None)
        self._t = A.tanh(x)
        return self._t

    def backward(self, dout):
        self._require_forward("_t")
        return dout * (1 - self._t * self._t)


class Softmax(Layer):
    """Softmax over the last axis, ``(N, C) -> (N, C)``. Backward is the softmax
    vector-Jacobian product. For classification prefer raw logits with
    ``CrossEntropyLoss``, which fuses the softmax and is exact and faster."""

    def forward(self, x):
        self._check_input(x, ndim=None, expected=None)
        self._s = logits.softmax(x)
        return self._s

    def backward(self, dout):
        self._require_forward("_s")
        return logits.softmax_backward(self._s, dout)


class Pointwise(Layer):
    """An elementwise function ``f`` with its derivative ``df``, both given by you.

    On its first forward pass the layer compares ``df`` with a central difference of ``f``
    at the actual inputs and raises if they disagree, so a wrong derivative is caught
    before it silently trains a wrong model. It cannot be saved (it holds Python
    functions, and nnlib never pickles).

    >>> layer = Pointwise(np.sin, np.cos)
    """

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
        err = relative_error(analytic, numeric, floor=1e-6)
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

    def get_config(self):
        raise TypeError(f"{self!r} holds Python functions, which nnlib does not save (that "
                        f"would need pickle). Save the other weights with np.savez, or "
                        f"replace it by a built-in layer.")

    def __repr__(self):
        return f"Pointwise({self.name})"
