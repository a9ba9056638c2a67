"""Normalisation kernels: batch normalisation (statistics over the batch, one pair per
feature or channel) and layer normalisation (statistics over each sample's features).
BatchNorm is derived in chapters/08_generalization.ipynb, "8 · Batch normalisation",
LayerNorm in chapters/13_attention_transformers.ipynb, "LayerNorm, and its backward".

Both standardise a group of ``m`` numbers and then scale and shift them:

    xhat = (x - mean) / sqrt(var + eps),   y = gamma * xhat + beta,

with the *biased* variance (divide by ``m``). Only the axes the statistics run over
differ, so both share one backward. With ``g = dout * gamma`` (the gradient reaching
``xhat``), every group gets

    dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps),

the means taken over the same ``m`` numbers. Every function keeps the input dtype and
never modifies its arguments. The ``*_naive`` twins loop over groups and use the full
Jacobian, a different route to the same numbers that the tests compare with.
"""

from __future__ import annotations

import numpy as np

__all__ = ["batch_norm", "batch_norm_backward", "layer_norm", "layer_norm_backward",
           "batch_norm_naive", "layer_norm_naive", "normalize_backward_naive"]


def _stat_axes(x, what):
    """Axes the batch statistics run over: (0,) for (N, D), (0, 2, 3) for (N, C, H, W)."""
    if x.ndim == 2:
        return (0,)
    if x.ndim == 4:
        return (0, 2, 3)
    raise ValueError(f"{what} expects x of shape (N, D) or (N, C, H, W), got {x.shape}.")


def _per_feature(a, ndim):
    """A per-feature array (D,) or (C,) shaped to broadcast against the input."""
    return a if ndim == 2 else a.reshape(1, -1, 1, 1)


def batch_norm(x, gamma, beta, eps=1e-5):
    """Batch normalisation in training mode: statistics of this batch.

    Parameters
    ----------
    x : ndarray of shape (N, D), or (N, C, H, W) for images (statistics per channel,
        over N, H and W)
    gamma, beta : ndarray of shape (D,) or (C,)
    eps : float, added to the variance before the square root

    Returns
    -------
    y : ndarray, the shape and dtype of ``x``
    xhat : ndarray, the shape of ``x``: the standardised input (needed by backward)
    mean, var : ndarray of shape (D,) or (C,): the batch mean and *biased* variance
    inv_std : ndarray of shape (D,) or (C,): 1 / sqrt(var + eps)
    """
    axes = _stat_axes(x, "batch_norm")
    mean = x.mean(axis=axes)
    centred = x - _per_feature(mean, x.ndim)
    var = np.mean(centred * centred, axis=axes)
    inv_std = 1 / np.sqrt(var + x.dtype.type(eps))
    xhat = centred * _per_feature(inv_std, x.ndim)
    y = xhat * _per_feature(gamma, x.ndim) + _per_feature(beta, x.ndim)
    return y, xhat, mean, var, inv_std


def batch_norm_backward(dout, xhat, inv_std, gamma):
    """Backward of :func:`batch_norm` in training mode.

    Parameters
    ----------
    dout : ndarray, the shape of ``x``: dL/dy
    xhat, inv_std : what :func:`batch_norm` returned
    gamma : ndarray of shape (D,) or (C,)

    Returns
    -------
    dx : ndarray, the shape of ``x``
    dgamma, dbeta : ndarray of shape (D,) or (C,)
    """
    axes = _stat_axes(dout, "batch_norm_backward")
    dbeta = dout.sum(axis=axes)
    dgamma = np.sum(dout * xhat, axis=axes)
    m = dout.size // dbeta.size                      # numbers per feature: N (or N H W)
    # mean(g) and mean(g * xhat) with g = dout * gamma, per feature
    g_mean = dbeta * gamma / m
    gx_mean = dgamma * gamma / m
    nd = dout.ndim
    dx = dout * _per_feature(gamma * inv_std, nd)
    dx -= _per_feature(g_mean * inv_std, nd)
    dx -= xhat * _per_feature(gx_mean * inv_std, nd)
    return dx, dgamma, dbeta


def layer_norm(x, gamma, beta, eps=1e-5):
    """Layer normalisation: each sample (each position of a sequence) standardised over
    its trailing ``gamma.ndim`` axes.

    Parameters
    ----------
    x : ndarray of shape (N, ..., *S), float; ``S = gamma.shape``
    gamma, beta : ndarray of shape S, e.g. (D,)
    eps : float

    Returns
    -------
    y : ndarray, the shape and dtype of ``x``
    xhat : ndarray, the shape of ``x``
    inv_std : ndarray of shape (N, ..., 1, ..., 1): 1 / sqrt(var + eps) per group

    >>> y, _, _ = layer_norm(np.array([[1.0, 2.0, 3.0]]), np.ones(3), np.zeros(3))
    >>> np.round(y, 4).tolist()
    [[-1.2247, 0.0, 1.2247]]
    """
    axes = tuple(range(x.ndim - gamma.ndim, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(var + x.dtype.type(eps))
    xhat = centred * inv_std
    return xhat * gamma + beta, xhat, inv_std


def layer_norm_backward(dout, xhat, inv_std, gamma):
    """Backward of :func:`layer_norm`.

    Parameters
    ----------
    dout : ndarray, the shape of ``x``
    xhat, inv_std : what :func:`layer_norm` returned
    gamma : ndarray of shape S

    Returns
    -------
    dx : ndarray, the shape of ``x``
    dgamma, dbeta : ndarray of shape S (summed over every sample and position)
    """
    k = gamma.ndim
    axes = tuple(range(dout.ndim - k, dout.ndim))
    lead = tuple(range(dout.ndim - k))
    dbeta = dout.sum(axis=lead)
    dgamma = np.sum(dout * xhat, axis=lead)
    g = dout * gamma                                     # dL/dxhat
    dx = g - g.mean(axis=axes, keepdims=True)
    dx -= xhat * np.mean(g * xhat, axis=axes, keepdims=True)
    dx *= inv_std
    return dx, dgamma, dbeta


# --------------------------------------------------------------------- naive twins

def _normalize_group(v, eps):
    mean = sum(v) / len(v)
    var = sum((vi - mean) ** 2 for vi in v) / len(v)
    return [(vi - mean) / np.sqrt(var + eps) for vi in v]


def batch_norm_naive(x, gamma, beta, eps=1e-5):
    """:func:`batch_norm`'s ``y`` with a Python loop over features and plain sums.
    ``x`` of shape (N, D) only."""
    y = np.empty_like(x)
    for j in range(x.shape[1]):
        column = _normalize_group(list(x[:, j]), eps)
        y[:, j] = [gamma[j] * v + beta[j] for v in column]
    return y


def layer_norm_naive(x, gamma, beta, eps=1e-5):
    """:func:`layer_norm`'s ``y`` for ``x`` of shape (N, D), one row at a time."""
    y = np.empty_like(x)
    for i in range(x.shape[0]):
        row = _normalize_group(list(x[i]), eps)
        y[i] = [gamma[j] * v + beta[j] for j, v in enumerate(row)]
    return y


def normalize_backward_naive(g, v, eps=1e-5):
    """dL/dv for one group ``v`` of m numbers standardised to ``xhat``, given ``g`` =
    dL/dxhat, through the full (m, m) Jacobian

        d xhat_i / d v_j = (delta_ij - 1/m - xhat_i xhat_j / m) / sqrt(var + eps).

    Parameters
    ----------
    g, v : ndarray of shape (m,)

    Returns
    -------
    ndarray of shape (m,)
    """
    m = v.size
    var = np.var(v)
    xhat = (v - v.mean()) / np.sqrt(var + eps)
    jacobian = (np.eye(m) - 1 / m - np.outer(xhat, xhat) / m) / np.sqrt(var + eps)
    return jacobian.T @ g
