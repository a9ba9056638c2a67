"""Embedding kernels: looking up rows of a table by integer index, the gradient of that
lookup, and the sinusoidal positional encodings. Derived in
chapters/13_attention_transformers.ipynb, "Tokens and embeddings" and "Attention ignores
order — positional encodings".

A lookup ``W[idx]`` is the product of one-hot rows with ``W``, so its gradient is the
product of their transpose with ``dout``: every occurrence of index ``i`` adds its row of
``dout`` to row ``i`` of dW. A token that appears twice gets both contributions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["embedding", "embedding_backward", "embedding_backward_naive",
           "sinusoidal_positions"]


def embedding(W, idx):
    """Rows of ``W`` picked by ``idx``.

    Parameters
    ----------
    W : ndarray of shape (V, D), the table
    idx : int ndarray of any shape S, values in [0, V)

    Returns
    -------
    ndarray of shape S + (D,), the dtype of ``W``
    """
    return W[idx]


def embedding_backward(dout, idx, num_embeddings, *, out=None):
    """dL/dW of :func:`embedding`: row ``i`` is the sum of ``dout`` over the positions
    where ``idx == i`` (zero for indices that did not occur).

    Parameters
    ----------
    dout : ndarray of shape S + (D,)
    idx : int ndarray of shape S
    num_embeddings : int, V
    out : None, or an ndarray of shape (V, D) to add the gradient to (a layer's
        ``W.grad``: no (V, D) temporary for a large vocabulary)

    Returns
    -------
    dW : ndarray of shape (V, D), the dtype of ``dout`` (``out`` itself when given)
    """
    d = dout.shape[-1]
    dW = np.zeros((num_embeddings, d), dtype=dout.dtype) if out is None else out
    # np.add.at is unbuffered: an index that occurs twice adds both rows (dW[idx] += ...
    # would keep only the last one)
    np.add.at(dW, idx.reshape(-1), dout.reshape(-1, d))
    return dW


def embedding_backward_naive(dout, idx, num_embeddings):
    """:func:`embedding_backward` as one-hot rows times ``dout`` (no scatter at all)."""
    onehot = np.eye(num_embeddings, dtype=dout.dtype)[idx.reshape(-1)]   # (positions, V)
    return onehot.T @ dout.reshape(-1, dout.shape[-1])


def sinusoidal_positions(t, d, *, base=10000.0, dtype=np.float32):
    """The fixed positional encodings of "Attention is all you need" (Vaswani et al.,
    2017): for position ``p`` and ``i = 0, 1, ..., d/2 - 1``,

        P[p, 2i] = sin(p / base^(2i/d)),   P[p, 2i + 1] = cos(p / base^(2i/d)),

    sines in the even columns, cosines in the odd ones. Each pair of columns turns at its
    own frequency, so every position gets a different code, and P[p + k] is a rotation of
    P[p] that depends on k only.

    Parameters
    ----------
    t : int, the number of positions
    d : int, even, the embedding width

    Returns
    -------
    ndarray of shape (t, d)
    """
    if d % 2:
        raise ValueError(f"sinusoidal positions need an even width d (sine and cosine "
                         f"pairs), got d = {d}.")
    p = np.arange(t)[:, None]                          # (t, 1)
    freq = base ** (-np.arange(0, d, 2) / d)           # (d/2,)
    P = np.empty((t, d))
    P[:, 0::2] = np.sin(p * freq)
    P[:, 1::2] = np.cos(p * freq)
    return P.astype(dtype)
