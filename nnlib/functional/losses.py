"""Loss kernels: each returns ``(loss, dpred)``, the value as a float and its gradient
with respect to the prediction, plus ``one_hot`` for targets. Derived in
chapters/04_losses.ipynb and chapters/05_softmax_cross_entropy.ipynb; the classes in
:mod:`nnlib.losses` validate the inputs and wrap these.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["one_hot", "mse", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy"]


def one_hot(labels, num_classes=None, dtype=np.float32):
    """(N,) integer class labels -> (N, C) rows with a single 1.

    Parameters
    ----------
    labels : array_like of shape (N,), integers in [0, C)
    num_classes : int C, or None for ``labels.max() + 1``
    dtype : float dtype of the result

    Returns
    -------
    ndarray of shape (N, C)

    >>> one_hot(np.array([2, 0]), 3)
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
    """
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"one_hot expected integer labels, got {labels.dtype}. "
                        f"Try labels.astype(np.int64).")
    c = int(labels.max()) + 1 if num_classes is None else num_classes
    if labels.min() < 0 or labels.max() >= c:
        raise ValueError(f"one_hot got labels in [{labels.min()}, {labels.max()}] for "
                         f"{c} classes.")
    out = np.zeros((labels.shape[0], c), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


def mse(pred, target):
    """Mean squared error over ALL elements, and its gradient.

    Parameters
    ----------
    pred, target : ndarray of one shape (N, ...), float

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

    Parameters
    ----------
    p : ndarray of shape (N, ...), probabilities in [0, 1]
    y : ndarray of the same shape, targets in [0, 1]

    Returns
    -------
    loss : float, -mean(y log p + (1 - y) log(1 - p))
    dp : ndarray like ``p``
    """
    eps = _prob_eps(p.dtype)
    pc = np.clip(p, eps, 1 - eps)
    loss = -np.mean(y * np.log(pc) + (1 - y) * np.log1p(-pc))
    return float(loss), ((pc - y) / (pc * (1 - pc)) / p.size).astype(p.dtype, copy=False)


def binary_cross_entropy_with_logits(z, y):
    """Binary cross-entropy on logits (sigmoid fused in), mean over all elements.

    loss = max(z, 0) - z y + log(1 + e^-|z|), which is exact and finite for any z;
    the gradient is (sigmoid(z) - y) / size.

    Parameters
    ----------
    z : ndarray of shape (N, ...), float logits
    y : ndarray of the same shape, targets in [0, 1]

    Returns
    -------
    loss : float
    dz : ndarray like ``z``
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
