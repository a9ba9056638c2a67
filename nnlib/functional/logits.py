"""Kernels on logits: log-sum-exp, softmax, log-softmax, the softmax Jacobian and its
vector-Jacobian product. Derived in chapters/05_softmax_cross_entropy.ipynb.

Each function keeps the dtype of its input and never modifies its arguments.
"""

from __future__ import annotations

import numpy as np

__all__ = ["logsumexp", "softmax", "log_softmax", "softmax_jacobian", "softmax_backward"]


def logsumexp(z, axis=-1, keepdims=False):
    """log(sum(exp(z))) along ``axis``, computed as m + log(sum(exp(z - m))) with m the
    max, so logits of +-1000 neither overflow nor underflow.

    Parameters
    ----------
    z : ndarray of shape (N, C) (any shape works), float
    axis : int, the axis summed over (the class axis, last by default)
    keepdims : bool, keep ``axis`` with length 1

    Returns
    -------
    ndarray of shape (N,), or (N, 1) with ``keepdims``

    >>> float(logsumexp(np.array([1000.0, 1000.0])) - 1000)  # log 2, no overflow
    0.6931471805599453
    """
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
    """log(softmax(z)) = z - logsumexp(z), exact even where softmax underflows to 0.

    Parameters
    ----------
    z : ndarray of shape (N, C), float logits

    Returns
    -------
    ndarray of shape (N, C), every entry <= 0; exp of each row sums to 1
    """
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
