"""Pure NumPy kernels: activations, their derivatives, softmax and losses.

Every function takes arrays and returns new arrays; none modifies its arguments, and
each keeps the dtype of its input. The layers in :mod:`nnlib.layers` and the losses in
:mod:`nnlib.losses` are thin, validated wrappers around these.

Derivatives are written as functions of the *input* ``x`` (``relu_grad(x)``) so that a
learner can check each one against a numerical derivative of its partner.
Activations are derived in chapters/03_activations.ipynb, softmax and cross-entropy in
chapters/05_softmax_cross_entropy.ipynb.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = [
    "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "relu", "relu_grad",
    "leaky_relu", "leaky_relu_grad", "elu", "elu_grad",
    "logsumexp", "softmax", "log_softmax", "softmax_jacobian", "softmax_backward",
    "one_hot", "mse", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy",
]


# --------------------------------------------------------------------------- activations

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


# ------------------------------------------------------------------------------ softmax

def logsumexp(z, axis=-1, keepdims=False):
    """log(sum(exp(z))) along ``axis``, computed as m + log(sum(exp(z - m))) with m the max,
    so logits of +-1000 neither overflow nor underflow."""
    m = np.max(z, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(z, axis=-1):
    """Softmax along ``axis`` (the class axis, last by default).

    Parameters
    ----------
    z : ndarray of shape (N, C), float
        Logits; rows are samples.

    Returns
    -------
    ndarray of shape (N, C): positive, each row sums to 1.

    Subtracting each row's max first changes nothing mathematically (the factor e^-m
    cancels) and keeps every exponent <= 0.
    """
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    """log(softmax(z)) = z - logsumexp(z), exact even where softmax underflows to 0."""
    return z - logsumexp(z, axis=axis, keepdims=True)


def softmax_jacobian(s):
    """Jacobian ds_i/dz_j = s_i (delta_ij - s_j) = diag(s) - s s^T of one softmax output.

    Parameters
    ----------
    s : ndarray of shape (C,), a softmax output

    Returns
    -------
    ndarray of shape (C, C), symmetric
    """
    return np.diag(s) - np.outer(s, s)


def softmax_backward(s, dout):
    """Vector-Jacobian product of softmax without forming the (C, C) Jacobian.

    For each row, dz = J^T dout = s * (dout - <dout, s>).

    Parameters
    ----------
    s : ndarray of shape (N, C), the softmax output
    dout : ndarray of shape (N, C), upstream gradient

    Returns
    -------
    dz : ndarray of shape (N, C)
    """
    return s * (dout - np.sum(dout * s, axis=-1, keepdims=True))


# ------------------------------------------------------------------------------- losses

def one_hot(labels, num_classes, dtype=np.float32):
    """(N,) integer labels -> (N, C) one-hot rows."""
    out = np.zeros((labels.shape[0], num_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


def mse(pred, target):
    """Mean squared error over ALL elements, and its gradient.

    Returns
    -------
    loss : float
        mean((pred - target)^2)
    dpred : ndarray like ``pred``
        2 (pred - target) / pred.size
    """
    diff = pred - target
    return float(np.mean(diff * diff)), (2 / diff.size) * diff


def _prob_eps(dtype):
    # 1 - 1e-12 rounds to 1 in float32; clip at a margin the dtype can represent.
    return 1e-7 if np.dtype(dtype) == np.float32 else 1e-12


def binary_cross_entropy(p, y):
    """Binary cross-entropy on probabilities, mean over all elements, and its gradient.

    ``p`` is clipped to [eps, 1 - eps] (eps = 1e-12 in float64, 1e-7 in float32) so that
    the loss and the gradient (p_c - y) / (p_c (1 - p_c)) / size stay finite at p in {0, 1}.
    """
    eps = _prob_eps(p.dtype)
    pc = np.clip(p, eps, 1 - eps)
    loss = -np.mean(y * np.log(pc) + (1 - y) * np.log1p(-pc))
    return float(loss), ((pc - y) / (pc * (1 - pc)) / p.size).astype(p.dtype, copy=False)


def binary_cross_entropy_with_logits(z, y):
    """Binary cross-entropy on logits (sigmoid fused in), mean over all elements.

    loss = max(z, 0) - z y + log(1 + e^-|z|), which is exact and finite for any z;
    the gradient is (sigmoid(z) - y) / size.
    """
    loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    return float(loss), (special.expit(z) - y) / z.size


def cross_entropy(logits, target):
    """Softmax cross-entropy on logits, mean over the batch, and its gradient.

    Parameters
    ----------
    logits : ndarray of shape (N, C), float
    target : ndarray of shape (N,) int class indices, or (N, C) float rows of
        probabilities (one-hot or soft)

    Returns
    -------
    loss : float
        mean over N of -sum_c y_c log softmax(z)_c
    dlogits : ndarray of shape (N, C)
        (softmax(z) - y) / N -- derived in chapters/05_softmax_cross_entropy.ipynb
    """
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)   # (N, C), max 0 per row
    p = np.exp(shifted)
    total = p.sum(axis=1, keepdims=True)                   # (N, 1), in [1, C]
    p /= total                                             # softmax
    # -log softmax(z)_c = log(total) - shifted_c, exact even where p_c underflows to 0
    if target.ndim == 1:
        rows = np.arange(n)
        loss = np.mean(np.log(total[:, 0]) - shifted[rows, target])
        p[rows, target] -= 1
    else:
        loss = np.sum(target * (np.log(total) - shifted)) / n
        p -= target
    p /= n
    return float(loss), p
