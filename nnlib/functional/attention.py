"""Attention kernels: scaled dot-product attention with an optional mask, its backward,
the causal mask, and the split of the feature axis into heads. Derived in
chapters/13_attention_transformers.ipynb, "Scaled dot-product attention", "Masking: what a
position may see" and "Multi-head attention".

For queries ``q`` (Tq, d), keys ``k`` (Tk, d) and values ``v`` (Tk, dv):

    S = q k^T / sqrt(d),   A = softmax(S) along the keys (each row sums to 1),
    out = A v.

A mask (True = may attend) sets the scores it forbids to -inf *before* the softmax, so
their weights are exactly 0 and the other weights of the row still sum to 1. Leading
axes (batch, heads) are carried along: every function works on (..., T, d). Each keeps
the input dtype and never modifies its arguments; ``attention_naive`` is the loop twin.
"""

from __future__ import annotations

import numpy as np

__all__ = ["causal_mask", "scaled_dot_product_attention",
           "scaled_dot_product_attention_backward", "attention_naive", "split_heads",
           "merge_heads"]


def causal_mask(t):
    """The mask of a model that may not look ahead: query ``i`` sees keys ``j <= i``.

    Parameters
    ----------
    t : int, the sequence length

    Returns
    -------
    ndarray of shape (t, t), bool: True on and below the diagonal

    >>> causal_mask(3).astype(int).tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    return np.tri(t, dtype=bool)


def _check_mask(mask, shape):
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"attention masks are bool arrays (True = may attend), got "
                        f"{mask.dtype}. Build one with causal_mask(T) or a comparison.")
    try:
        full = np.broadcast_shapes(mask.shape, shape)
    except ValueError:
        full = None
    if full != tuple(shape):
        raise ValueError(f"the attention mask of shape {mask.shape} does not broadcast to the "
                         f"scores' shape {tuple(shape)} (..., Tq, Tk).")
    if not np.all(mask.any(axis=-1)):
        raise ValueError("a row of the attention mask forbids every key: that query would "
                         "take a softmax over nothing (0 / 0). Let each query see at least "
                         "one key.")
    return mask


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d)) v, with an optional mask applied before the softmax.

    Parameters
    ----------
    q : ndarray of shape (..., Tq, d), float
    k : ndarray of shape (..., Tk, d)
    v : ndarray of shape (..., Tk, dv)
    mask : None, or bool ndarray broadcastable to (..., Tq, Tk); True = may attend

    Returns
    -------
    out : ndarray of shape (..., Tq, dv)
    weights : ndarray of shape (..., Tq, Tk): the attention weights A, rows sum to 1
    """
    d = q.shape[-1]
    scores = q @ np.swapaxes(k, -1, -2)                     # (..., Tq, Tk)
    scores *= q.dtype.type(1 / np.sqrt(d))
    if mask is not None:
        mask = _check_mask(mask, scores.shape)
        scores = np.where(mask, scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)            # every row's max is 0 now
    weights = np.exp(scores, out=scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v, weights


def scaled_dot_product_attention_backward(dout, q, k, v, weights):
    """Backward of :func:`scaled_dot_product_attention` (the mask is already in
    ``weights``: masked weights are 0, so their score gradients are 0 too).

    With G = dout v^T (dL/dA): dS = A * (G - rowsum(G * A)) is the softmax's
    vector-Jacobian product of chapter 05, row by row; then dq = dS k / sqrt(d),
    dk = dS^T q / sqrt(d) and dv = A^T dout.

    Parameters
    ----------
    dout : ndarray of shape (..., Tq, dv)
    q, k, v : the forward inputs
    weights : ndarray of shape (..., Tq, Tk), the forward's A

    Returns
    -------
    dq, dk, dv : ndarrays of the shapes of q, k and v
    """
    scale = q.dtype.type(1 / np.sqrt(q.shape[-1]))
    dv = np.swapaxes(weights, -1, -2) @ dout                # (..., Tk, dv)
    dA = dout @ np.swapaxes(v, -1, -2)                      # (..., Tq, Tk)
    dA -= np.sum(dA * weights, axis=-1, keepdims=True)
    dA *= weights                                           # dS, the scores' gradient
    dA *= scale                                             # through the 1/sqrt(d)
    dq = dA @ k
    dk = np.swapaxes(dA, -1, -2) @ q
    return dq, dk, dv


def attention_naive(q, k, v, mask=None):
    """:func:`scaled_dot_product_attention` one query at a time, for (N, Tq, d) inputs:
    a Python loop over samples and queries, scores as dot products, softmax by hand.

    Returns
    -------
    out : ndarray of shape (N, Tq, dv); weights : ndarray of shape (N, Tq, Tk)
    """
    n, tq, d = q.shape
    tk = k.shape[1]
    keep = np.ones((n, tq, tk), bool) if mask is None else np.broadcast_to(mask, (n, tq, tk))
    out = np.zeros((n, tq, v.shape[2]), dtype=q.dtype)
    weights = np.zeros((n, tq, tk), dtype=q.dtype)
    for b in range(n):
        for i in range(tq):
            scores = [float(q[b, i] @ k[b, j]) / np.sqrt(d) for j in range(tk)]
            allowed = [j for j in range(tk) if keep[b, i, j]]
            top = max(scores[j] for j in allowed)
            e = {j: np.exp(scores[j] - top) for j in allowed}
            total = sum(e.values())
            for j in allowed:
                weights[b, i, j] = e[j] / total
                out[b, i] += weights[b, i, j] * v[b, j]
    return out, weights


def split_heads(x, num_heads):
    """(N, T, D) -> (N, H, T, D / H): head ``h`` takes features ``h * D/H`` to
    ``(h + 1) * D/H - 1``, a contiguous block (as PyTorch's ``nn.MultiheadAttention``)."""
    n, t, d = x.shape
    return x.reshape(n, t, num_heads, d // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    """(N, H, T, dh) -> (N, T, H dh), the inverse of :func:`split_heads`."""
    n, h, t, dh = x.shape
    return x.transpose(0, 2, 1, 3).reshape(n, t, h * dh)
