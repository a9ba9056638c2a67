"""Activation kernels and their derivatives. Derived in chapters/03_activations.ipynb.

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
    "leaky_relu", "leaky_relu_grad", "elu", "elu_grad",
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
