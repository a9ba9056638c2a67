"""Convolution kernels, the readable versions: single 2-D arrays in every mode, im2col and
its adjoint col2im, the batched convolution as im2col + one GEMM, and naive loop twins
of each. Derived in chapters/09_convolution.ipynb. The layer ``nl.Conv2D`` runs the
same computation through :mod:`nnlib.functional.conv_fast`, which is tested against
these.

Conventions. "Convolution" layers compute a cross-correlation, as PyTorch and
``scipy.signal.correlate2d`` do: out[i, j] = sum_{di, dj} x[i + di, j + dj] w[di, dj].
A true convolution flips the kernel first. Output size along one axis
(:func:`output_size`)::

    H_out = floor((H + pad_top + pad_bottom - kh) / stride) + 1

Padding modes: "valid" (none), "full" (k - 1 on each side), "same" (output size
ceil(H / stride); for stride 1 that is pad k - 1 in total, the extra row/column of an
even kernel at the bottom/right, as SciPy and PyTorch), or an int on every side.

im2col layout (the chapter's and the exercise's): ``cols`` has shape
``(N H_out W_out, C kh kw)``; row ``(n, i, j)`` (row-major) is the window whose top-left
corner is at ``(i stride, j stride)`` of sample n, flattened in ``(c, di, dj)`` order,
the order of ``W.reshape(F, -1)``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "MODES", "output_size", "pad_amounts", "pad_images",
    "correlate2d", "convolve2d",
    "im2col", "im2col_naive", "col2im",
    "conv2d", "conv2d_backward", "conv2d_naive", "conv2d_backward_naive",
]

MODES = ("valid", "same", "full")


def output_size(n, k, stride=1, pad=0):
    """Number of positions of a window of size ``k`` moved by ``stride`` along an axis
    of length ``n`` with zero padding ``pad``: floor((n + before + after - k) / stride) + 1.

    Parameters
    ----------
    n, k, stride : int
    pad : int (the same on both sides) or (before, after)

    >>> output_size(28, 3, 1, 1), output_size(7, 2, 2)   # 'same' 3x3; pooling 7 -> 3
    (28, 3)
    """
    before, after = (pad, pad) if np.isscalar(pad) else pad
    return (n + before + after - k) // stride + 1


def pad_amounts(n, k, stride, padding):
    """(before, after) zero padding along an axis of length ``n`` for kernel ``k``.

    ``padding`` is "valid", "same", "full" or an int p (p on each side).
    """
    if padding == "valid":
        return 0, 0
    if padding == "full":
        return k - 1, k - 1
    if padding == "same":
        out = -(-n // stride)
        total = max((out - 1) * stride + k - n, 0)
        return total // 2, total - total // 2
    return padding, padding


def pad_images(x, kh, kw, stride=1, padding="valid"):
    """``x`` (N, C, H, W) zero-padded for a kh x kw kernel: (N, C, Hp, Wp)."""
    _, _, h, w = x.shape
    return np.pad(x, ((0, 0), (0, 0), pad_amounts(h, kh, stride, padding),
                      pad_amounts(w, kw, stride, padding)))


# ------------------------------------------------------------- single 2-D arrays (SciPy)

def correlate2d(image, kernel, mode="full"):
    """2-D cross-correlation, equal to ``scipy.signal.correlate2d(image, kernel, mode)``.

    Parameters
    ----------
    image : ndarray of shape (H, W)
    kernel : ndarray of shape (kh, kw), no larger than the image
    mode : "full" (H + kh - 1, W + kw - 1), "same" (H, W) or "valid" (H - kh + 1, W - kw + 1)

    'same' is the centre crop of 'full' starting at (kh // 2, kw // 2), as SciPy.
    """
    kh, kw = kernel.shape
    padded = np.pad(image, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    windows = sliding_window_view(padded, (kh, kw))        # (H + kh - 1, W + kw - 1, kh, kw)
    full = np.einsum("ijkl,kl->ij", windows, kernel, optimize=True)
    return _crop(full, image.shape, kernel.shape, mode, (kh // 2, kw // 2))


def convolve2d(image, kernel, mode="full"):
    """2-D convolution, equal to ``scipy.signal.convolve2d(image, kernel, mode)``: the
    correlation with the kernel flipped in both axes. Its 'same' crop starts at
    ((kh - 1) // 2, (kw - 1) // 2), so for even kernels it is *not* ``correlate2d`` with a
    flipped kernel in 'same' mode."""
    kh, kw = kernel.shape
    full = correlate2d(image, kernel[::-1, ::-1], "full")
    return _crop(full, image.shape, kernel.shape, mode, ((kh - 1) // 2, (kw - 1) // 2))


def _crop(full, image_shape, kernel_shape, mode, same_start):
    (h, w), (kh, kw) = image_shape, kernel_shape
    if mode == "full":
        return full
    if mode == "same":
        top, left = same_start
        return full[top:top + h, left:left + w]
    if mode == "valid":
        return full[kh - 1:h, kw - 1:w]
    raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")


# ------------------------------------------------------------------------ im2col, col2im

def im2col(x, kh, kw, stride=1):
    """Every kh x kw window of an (already padded) batch as one row of a matrix.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    kh, kw, stride : int

    Returns
    -------
    cols : ndarray of shape (N H_out W_out, C kh kw); rows in (n, i, j) order, columns
        in (c, di, dj) order, so ``cols @ W.reshape(F, -1).T`` is the convolution.

    Built from kh kw strided slice copies, one per kernel offset (di, dj): each copies
    that element of every window at once.
    """
    n, c, h, w = x.shape
    h_out, w_out = output_size(h, kh, stride), output_size(w, kw, stride)
    cols = np.empty((n, h_out, w_out, c, kh, kw), dtype=x.dtype)
    for di in range(kh):
        for dj in range(kw):
            window_element = x[:, :, di:di + stride * (h_out - 1) + 1:stride,
                               dj:dj + stride * (w_out - 1) + 1:stride]   # (N, C, Ho, Wo)
            cols[..., di, dj] = window_element.transpose(0, 2, 3, 1)      # (N, Ho, Wo, C)
    return cols.reshape(n * h_out * w_out, c * kh * kw)


def im2col_naive(x, kh, kw, stride=1):
    """Loop reference of :func:`im2col`: one window at a time, same layout."""
    n, c, h, w = x.shape
    h_out, w_out = output_size(h, kh, stride), output_size(w, kw, stride)
    cols = np.empty((n * h_out * w_out, c * kh * kw), dtype=x.dtype)
    row = 0
    for s in range(n):
        for i in range(h_out):
            for j in range(w_out):
                window = x[s, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                cols[row] = window.reshape(-1)                 # (C, kh, kw) in (c, di, dj)
                row += 1
    return cols


def col2im(cols, x_shape, kh, kw, stride=1):
    """The adjoint of :func:`im2col`: add every entry of ``cols`` back to the pixel it
    was copied from (a pixel in several windows receives the sum). This is how the
    gradient with respect to the columns becomes the gradient of the image.

    Parameters
    ----------
    cols : ndarray of shape (N H_out W_out, C kh kw), :func:`im2col`'s layout
    x_shape : (N, C, H, W) of the image that ``im2col`` took

    Returns
    -------
    ndarray of shape (N, C, H, W)
    """
    n, c, h, w = x_shape
    h_out, w_out = output_size(h, kh, stride), output_size(w, kw, stride)
    windows = cols.reshape(n, h_out, w_out, c, kh, kw)
    dx = np.zeros(x_shape, dtype=cols.dtype)
    for di in range(kh):
        for dj in range(kw):
            dx[:, :, di:di + stride * (h_out - 1) + 1:stride,
               dj:dj + stride * (w_out - 1) + 1:stride] += windows[..., di, dj].transpose(
                   0, 3, 1, 2)                                    # (N, C, Ho, Wo)
    return dx


# ------------------------------------------------------ batched: im2col + GEMM, and loops

def conv2d(x, W, b, stride=1, padding="valid"):
    """Batched cross-correlation as im2col + one matrix product.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    W : ndarray of shape (F, C, kh, kw)
    b : ndarray of shape (F,)
    stride : int >= 1
    padding : "valid", "same", "full" or int

    Returns
    -------
    ndarray of shape (N, F, H_out, W_out), H_out and W_out from :func:`output_size`
    """
    f, _, kh, kw = W.shape
    xp = pad_images(x, kh, kw, stride, padding)
    n, _, hp, wp = xp.shape
    h_out, w_out = output_size(hp, kh, stride), output_size(wp, kw, stride)
    out = im2col(xp, kh, kw, stride) @ W.reshape(f, -1).T + b      # (N Ho Wo, F)
    return out.reshape(n, h_out, w_out, f).transpose(0, 3, 1, 2)   # (N, F, Ho, Wo)


def conv2d_backward(dout, x, W, stride=1, padding="valid"):
    """Gradients of :func:`conv2d` with im2col and col2im.

    Parameters
    ----------
    dout : ndarray of shape (N, F, H_out, W_out)
    x, W, stride, padding : as given to :func:`conv2d`

    Returns
    -------
    dx : (N, C, H, W), dW : (F, C, kh, kw), db : (F,)

    With ``cols`` the im2col matrix and ``d`` = dout as (N Ho Wo, F): dW = d^T cols,
    db = the column sums of d, and dx = col2im(d W) cropped to the unpadded image.
    """
    n, _, h, w = x.shape
    f, _, kh, kw = W.shape
    xp = pad_images(x, kh, kw, stride, padding)
    top = pad_amounts(h, kh, stride, padding)[0]
    left = pad_amounts(w, kw, stride, padding)[0]
    d = dout.transpose(0, 2, 3, 1).reshape(-1, f)                   # (N Ho Wo, F)
    dW = (d.T @ im2col(xp, kh, kw, stride)).reshape(W.shape)       # (F, C, kh, kw)
    db = d.sum(axis=0)
    dxp = col2im(d @ W.reshape(f, -1), xp.shape, kh, kw, stride)   # (N, C, Hp, Wp)
    return dxp[:, :, top:top + h, left:left + w], dW, db


def conv2d_naive(x, W, b, stride=1, padding="valid"):
    """Batched cross-correlation with explicit loops: the reference the fast paths are
    tested against. Slow on purpose: readable first.

    Parameters and shapes as :func:`conv2d`.
    """
    n, _, h, w = x.shape
    f, _, kh, kw = W.shape
    xp = pad_images(x, kh, kw, stride, padding)
    h_out, w_out = output_size(xp.shape[2], kh, stride), output_size(xp.shape[3], kw, stride)
    out = np.empty((n, f, h_out, w_out), dtype=np.result_type(x, W))
    for s in range(n):
        for k in range(f):
            for i in range(h_out):
                for j in range(w_out):
                    window = xp[s, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[s, k, i, j] = np.sum(window * W[k]) + b[k]
    return out


def conv2d_backward_naive(dout, x, W, stride=1, padding="valid"):
    """Loop reference of :func:`conv2d_backward`: every output position sends its
    gradient back to the window it read (dx) and to the filter (dW)."""
    n, _, h, w = x.shape
    f, _, kh, kw = W.shape
    xp = pad_images(x, kh, kw, stride, padding)
    top = pad_amounts(h, kh, stride, padding)[0]
    left = pad_amounts(w, kw, stride, padding)[0]
    dxp, dW = np.zeros_like(xp, dtype=dout.dtype), np.zeros(W.shape, dtype=dout.dtype)
    for s in range(n):
        for k in range(f):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows = slice(i * stride, i * stride + kh)
                    cols = slice(j * stride, j * stride + kw)
                    dW[k] += dout[s, k, i, j] * xp[s, :, rows, cols]
                    dxp[s, :, rows, cols] += dout[s, k, i, j] * W[k]
    return dxp[:, :, top:top + h, left:left + w], dW, dout.sum(axis=(0, 2, 3))
