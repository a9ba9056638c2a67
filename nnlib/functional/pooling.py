"""Pooling kernels: max and average over k x k windows with any stride, and naive loop
references. Derived in chapters/10_pooling_cnns.ipynb, "Pooling: one number per window",
"Backward: where does the gradient go?" and "Ties: the one place max is not differentiable".

Output size per axis is ``output_size(H, k, stride)`` = floor((H - k) / stride) + 1
(:func:`nnlib.functional.conv.output_size` with no padding), as PyTorch: rows and columns that
no window reaches are ignored (7 x 7 with pool 2 gives 3 x 3) and get zero gradient.

Both forwards take the k x k strided views ``x[:, :, di::stride, dj::stride]`` (cropped
to the output size) and combine them elementwise: ``np.maximum`` over strided views is
about 35x faster than ``reshape(...).max(axis=(3, 5))``. Max-pooling goes in two steps,
over the k rows of each window first (whole image rows at a time, which NumPy streams
faster than every-other-element views), then over the k columns: 20% faster, and max
gives the same result in any order. Max-pool backward sends each window's gradient to
exactly one element, the first maximum in row-major order (as PyTorch), also when values
tie; a mask ``x == max`` would hand it to every tied element.
"""

from __future__ import annotations

import numpy as np

from .conv import output_size

__all__ = ["maxpool_forward", "maxpool_backward", "avgpool_forward",
           "avgpool_backward", "maxpool_naive", "avgpool_naive"]


def _axis_slices(length, size, stride):
    """For each offset d along one axis of ``length``, the slice that takes element d of
    every window: ``output_size(length, size, stride)`` elements, ``stride`` apart."""
    n_out = output_size(length, size, stride)
    return [slice(d, d + stride * (n_out - 1) + 1, stride) for d in range(size)]


def _window_slices(shape, size, stride):
    """For each offset (di, dj) in row-major order, the index that selects that element
    of every window: x[index] has shape (N, C, H_out, W_out)."""
    for rows in _axis_slices(shape[2], size, stride):
        for cols in _axis_slices(shape[3], size, stride):
            yield (slice(None), slice(None), rows, cols)


def _tiles_exactly(shape, size, stride):
    """Windows that neither overlap nor leave anything out: each pixel in one window."""
    return stride == size and shape[2] % size == 0 and shape[3] % size == 0


def maxpool_forward(x, size, stride):
    """Max over each window.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    size, stride : int

    Returns
    -------
    ndarray of shape (N, C, H_out, W_out), H_out = floor((H - size) / stride) + 1
    """
    rows = [x[:, :, r] for r in _axis_slices(x.shape[2], size, stride)]
    best_row = rows[0].copy()                      # (N, C, H_out, W): max over window rows
    for row in rows[1:]:
        np.maximum(best_row, row, out=best_row)
    cols = [best_row[..., c] for c in _axis_slices(x.shape[3], size, stride)]
    out = cols[0].copy()                           # (N, C, H_out, W_out): then over columns
    for col in cols[1:]:
        np.maximum(out, col, out=out)
    return out


def maxpool_backward(dout, x, out, size, stride):
    """dx of max-pooling: each window's gradient to its first maximal element.

    Parameters
    ----------
    dout, out : ndarray of shape (N, C, H_out, W_out); ``out`` is the forward output
    x : ndarray of shape (N, C, H, W), the forward input
    size, stride : int, as given to the forward

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
    """
    exact = _tiles_exactly(x.shape, size, stride)
    # When windows tile the input, every pixel is written exactly once: no zero fill.
    dx = np.empty_like(x) if exact else np.zeros_like(x)
    unclaimed = np.ones(out.shape, dtype=bool)  # windows whose max is not yet found
    hit = np.empty(out.shape, dtype=bool)
    offsets = list(_window_slices(x.shape, size, stride))
    for index in offsets[:-1]:
        np.equal(x[index], out, out=hit)
        hit &= unclaimed   # the first maximum of its window
        unclaimed ^= hit   # (hit is inside unclaimed: this clears the windows just found)
        _send(dout, hit, dx, index, exact)
    # A window not claimed by now has its maximum at the last offset. (A window holding a
    # NaN has none; it sends its gradient there too. Such a batch never gets this far:
    # the NaN reaches the predictions, and the loss refuses them.)
    _send(dout, unclaimed, dx, offsets[-1], exact)
    return dx


def _send(dout, hit, dx, index, exact):
    """dx[index] gets dout where ``hit``, 0 elsewhere (added to it, for overlapping
    windows)."""
    if exact:
        np.multiply(dout, hit, out=dx[index])
    else:
        dx[index] += dout * hit  # overlapping windows add up


def avgpool_forward(x, size, stride):
    """Mean over each window.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    size, stride : int

    Returns
    -------
    ndarray of shape (N, C, H_out, W_out), H_out = floor((H - size) / stride) + 1
    """
    slices = _window_slices(x.shape, size, stride)
    out = x[next(slices)].copy()
    for index in slices:
        out += x[index]
    out *= 1 / (size * size)
    return out


def avgpool_backward(dout, x_shape, size, stride):
    """dx of average pooling: each window's gradient shared equally, dout / size^2.

    Parameters
    ----------
    dout : ndarray of shape (N, C, H_out, W_out)
    x_shape : (N, C, H, W) of the forward input

    Returns
    -------
    dx : ndarray of shape ``x_shape``, the dtype of ``dout``
    """
    exact = _tiles_exactly(x_shape, size, stride)
    dx = (np.empty if exact else np.zeros)(x_shape, dtype=dout.dtype)
    share = dout * (1 / (size * size))
    for index in _window_slices(x_shape, size, stride):
        if exact:
            dx[index] = share
        else:
            dx[index] += share
    return dx


def _pool_naive(x, size, stride, reduce):
    n, c, h, w = x.shape
    h_out, w_out = output_size(h, size, stride), output_size(w, size, stride)
    out = np.empty((n, c, h_out, w_out), dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size]
            out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


def maxpool_naive(x, size, stride):
    """Loop reference for :func:`maxpool_forward`."""
    return _pool_naive(x, size, stride, np.max)


def avgpool_naive(x, size, stride):
    """Loop reference for :func:`avgpool_forward`."""
    return _pool_naive(x, size, stride, np.mean)
