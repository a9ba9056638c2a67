"""Activation kernels and their derivatives. Derived in chapters/03_activations.ipynb,
"Sigmoid", "Tanh", "ReLU" and "Leaky ReLU and ELU".

Every function takes an array and returns a new one of the same shape and dtype; none
modifies its argument. Derivatives are written as functions of the *input* ``x``
(``relu_grad(x)``), so a learner can check each one against a numerical derivative of
its partner. The layers in :mod:`nnlib.layers.activations` wrap these.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = [
    "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "relu", "relu_grad",
    "leaky_relu", "leaky_relu_grad", "elu", "elu_grad", "gelu", "gelu_grad",
]


def sigmoid(x):
    """Logistic function 1 / (1 + e^-x), finite for any finite x.

    Parameters
    ----------
    x : ndarray of any shape, float

    Returns
    -------
    ndarray, same shape and dtype as ``x``, values in [0, 1]

    SciPy's ``expit`` evaluates the stable branch for each sign, so x = -1000 gives 0
    instead of overflowing ``exp(1000)``.

    >>> float(sigmoid(np.array(0.0)))
    0.5
    """
    return special.expit(x)


def sigmoid_grad(x):
    """d sigmoid / dx = s (1 - s) with s = sigmoid(x)."""
    s = special.expit(x)
    return s * (1 - s)


def tanh(x):
    """Hyperbolic tangent, values in [-1, 1]."""
    return np.tanh(x)


def tanh_grad(x):
    """d tanh / dx = 1 - tanh(x)^2."""
    t = np.tanh(x)
    return 1 - t * t


def relu(x):
    """max(0, x), elementwise. A new array; ``x`` is left untouched."""
    return np.maximum(x, 0)


def relu_grad(x):
    """1 where x > 0, else 0 (we take the subgradient 0 at exactly x = 0, as PyTorch)."""
    return (x > 0).astype(x.dtype)


def leaky_relu(x, alpha=0.01):
    """x where x > 0, else alpha * x."""
    return np.where(x > 0, x, alpha * x)


def leaky_relu_grad(x, alpha=0.01):
    """1 where x > 0, else alpha."""
    return np.where(x > 0, 1, alpha).astype(x.dtype)


def elu(x, alpha=1.0):
    """x where x > 0, else alpha (e^x - 1). ``expm1`` keeps small negative x accurate,
    and the exponent is clipped at 0 so large positive x never overflows."""
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def elu_grad(x, alpha=1.0):
    """1 where x > 0, else alpha e^x."""
    return np.where(x > 0, 1, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)


# GELU, the activation of transformers, derived in
# chapters/13_attention_transformers.ipynb, "The transformer block":
# x Phi(x), with Phi the standard normal CDF. The "tanh" form (Hendrycks & Gimpel, 2016,
# used by GPT-2) is within 1e-3 of it and costs one np.tanh instead of SciPy's erf, which
# is ~40x slower than np.tanh on float32 arrays.
_GELU_C = float(np.sqrt(2 / np.pi))
_GELU_A = 0.044715


def _check_approximate(approximate):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"GELU's 'approximate' must be 'none' (exact, x Phi(x)) or 'tanh'. "
                         f"Got {approximate!r} instead.")


def gelu(x, approximate="none"):
    """GELU: x Phi(x) (``approximate="none"``), or
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (``approximate="tanh"``), as
    PyTorch's ``gelu``."""
    _check_approximate(approximate)
    if approximate == "none":
        return x * special.ndtr(x)
    u = x * x
    u *= _GELU_A
    u += 1
    u *= x
    u *= _GELU_C                   # sqrt(2/pi) (x + a x^3)
    t = np.tanh(u, out=u)
    t += 1
    t *= x
    t *= 0.5
    return t


def gelu_grad(x, approximate="none"):
    """d gelu / dx: Phi(x) + x phi(x) (exact), or the derivative of the tanh form."""
    _check_approximate(approximate)
    if approximate == "none":
        pdf = np.exp(-0.5 * x * x) * x.dtype.type(1 / np.sqrt(2 * np.pi))
        return special.ndtr(x) + x * pdf
    x2 = x * x
    t = np.tanh(_GELU_C * x * (1 + _GELU_A * x2))
    # 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 a x^2)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (_GELU_C * (1 + 3 * _GELU_A * x2))
