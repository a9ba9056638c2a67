"""Convolution kernels: single 2-D arrays in every mode, a naive batched reference and
the fast im2col path. Derived in chapters/09_convolution.ipynb.

Conventions. "Convolution" layers compute a cross-correlation, as PyTorch and
``scipy.signal.correlate2d`` do: out[i, j] = sum_{di, dj} x[i + di, j + dj] w[di, dj].
A true convolution flips the kernel first. Output size along one axis::

    H_out = floor((H + pad_top + pad_bottom - kh) / stride) + 1

Padding modes: "valid" (none), "full" (k - 1 on each side), "same" (output size
ceil(H / stride); for stride 1 that is pad k - 1 in total, the extra row/column of an
even kernel at the bottom/right, as SciPy and PyTorch), or an int on every side.

Fast-path layout. Images are copied once into a zero-padded workspace laid out
channel-first ``(C, N, Hp, Wp)``; im2col then fills ``cols`` of shape
``(C, kh, kw, N, H_out, W_out)`` with kh * kw strided slice copies, so that one GEMM
``W.reshape(F, -1) @ cols.reshape(C kh kw, -1)`` gives every output at once. The rows
of that matrix are padded (:func:`row_length`) so that they are never a multiple of
4 KiB apart, which halved the GEMMs' speed.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "output_size", "pad_amounts", "correlate2d", "convolve2d", "conv2d_naive",
    "im2col", "col2im", "columns", "row_length", "conv2d_forward", "conv2d_backward",
]

MODES = ("valid", "same", "full")


def output_size(n, k, stride=1, pad=0):
    """floor((n + 2 pad - k) / stride) + 1 for a symmetric integer ``pad``."""
    return (n + 2 * pad - k) // stride + 1


def pad_amounts(n, k, stride, padding):
    """(before, after) zero padding along an axis of length ``n`` for kernel ``k``."""
    if padding == "valid":
        return 0, 0
    if padding == "full":
        return k - 1, k - 1
    if padding == "same":
        out = -(-n // stride)
        total = max((out - 1) * stride + k - n, 0)
        return total // 2, total - total // 2
    return padding, padding


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


# ----------------------------------------------------------------- batched, naive loops

def conv2d_naive(x, W, b, stride=1, padding="valid"):
    """Batched cross-correlation with explicit loops: the reference the fast path is
    tested against. Slow on purpose: readable first.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    W : ndarray of shape (F, C, kh, kw)
    b : ndarray of shape (F,)
    stride : int >= 1
    padding : "valid", "same", "full" or int

    Returns
    -------
    ndarray of shape (N, F, H_out, W_out)
    """
    n, _, h, w = x.shape
    f, _, kh, kw = W.shape
    (top, bottom), (left, right) = pad_amounts(h, kh, stride, padding), \
        pad_amounts(w, kw, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    h_out = (h + top + bottom - kh) // stride + 1
    w_out = (w + left + right - kw) // stride + 1
    out = np.empty((n, f, h_out, w_out), dtype=np.result_type(x, W))
    for s in range(n):
        for k in range(f):
            for i in range(h_out):
                for j in range(w_out):
                    window = xp[s, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[s, k, i, j] = np.sum(window * W[k]) + b[k]
    return out


# ------------------------------------------------------------------------ im2col path

def im2col(xpad, kh, kw, stride, cols=None):
    """Gather every kh x kw window of a padded, channel-first batch into columns.

    Parameters
    ----------
    xpad : ndarray of shape (C, N, Hp, Wp)
    kh, kw, stride : int
    cols : ndarray of shape (C, kh, kw, N, H_out, W_out) or None
        A workspace to fill (reused across calls to avoid fresh allocations).

    Returns
    -------
    cols : ndarray of shape (C, kh, kw, N, H_out, W_out);
        ``cols.reshape(C kh kw, N H_out W_out)`` has one column per output position.
    """
    c, n, hp, wp = xpad.shape
    h_out, w_out = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    if cols is None:
        cols = np.empty((c, kh, kw, n, h_out, w_out), dtype=xpad.dtype)
    for di in range(kh):
        for dj in range(kw):
            # every window's (di, dj) element at once: one strided slice copy
            cols[:, di, dj] = xpad[:, :, di:di + stride * (h_out - 1) + 1:stride,
                                   dj:dj + stride * (w_out - 1) + 1:stride]
    return cols


def col2im(dcols, dxpad, stride):
    """The adjoint of :func:`im2col`: add each column entry back to the pixel it came
    from (pixels in several windows receive the sum). ``dxpad`` (C, N, Hp, Wp) must be
    zeroed by the caller; it is returned."""
    _, kh, kw, _, h_out, w_out = dcols.shape
    for di in range(kh):
        for dj in range(kw):
            dxpad[:, :, di:di + stride * (h_out - 1) + 1:stride,
                  dj:dj + stride * (w_out - 1) + 1:stride] += dcols[:, di, dj]
    return dxpad


def _buffer(workspace, name, shape, dtype):
    """A zero-initialised array from ``workspace`` (a dict a layer keeps across calls),
    allocated again only when the shape or dtype changes. Fresh large temporaries can
    page-fault on every call; reusing them is what makes the fast path fast."""
    if workspace is None:
        return np.zeros(shape, dtype=dtype)
    buf = workspace.get(name)
    if buf is None or buf.shape != shape or buf.dtype != dtype:
        buf = workspace[name] = np.zeros(shape, dtype=dtype)
    return buf


# GEMM operands get padded rows. The columns matrix is (C kh kw, L) with L = N H_out Wp,
# and for the course's conv 8->16 (batch 64, 14x14) L is 14,336 floats: its rows are
# exactly 14 x 4 KiB apart. Rows a multiple of 4 KiB apart land in the same cache sets
# and confuse the CPU's load/store disambiguation ("4K aliasing"); OpenBLAS ran the
# forward and dx GEMMs at half speed (0.81 and 0.92 ms instead of 0.46 and 0.44 ms).
# Starting each row 64 bytes later fixes it at a cost of < 1% memory. BLAS takes the
# padded stride directly (its leading dimension), so nothing is copied.

def row_length(n, itemsize):
    """A row stride in elements for a matrix with ``n`` columns: ``n`` rounded up to 64
    bytes, plus 64 bytes when the rows would be a multiple of 1 KiB apart."""
    per_line = max(64 // itemsize, 1)
    ld = -(-n // per_line) * per_line
    if (ld * itemsize) % 1024 == 0:
        ld += per_line
    return ld


def _matrix(workspace, name, rows, cols, dtype):
    """A zeroed (rows, cols) view with padded rows (see :func:`row_length`) from
    ``workspace`` (fresh when it is None)."""
    dtype = np.dtype(dtype)
    buf = _buffer(workspace, name, (rows, row_length(cols, dtype.itemsize)), dtype)
    return buf[:, :cols]


def _padded_shape(x_shape, kh, kw, stride, padding):
    n, c, h, w = x_shape
    (top, bottom), (left, right) = pad_amounts(h, kh, stride, padding), \
        pad_amounts(w, kw, stride, padding)
    return (c, n, h + top + bottom, w + left + right), top, left


# Stride 1 takes a faster road than im2col's kh * kw strided copies. Lay the rows of each
# padded image end to end: (C, N, Hp * Wp) plus kw - 1 spare zeros. The (di, dj) element
# of every window is then ONE contiguous run of H_out * Wp values starting at
# di * Wp + dj, so each copy (and each col2im add) streams whole rows instead of
# W_out-long pieces. The price: every output row is computed Wp wide, and the kw - 1
# extra columns (which straddle two image rows) are dropped. Measured 2-4x faster for
# the copies, for 5-15% more GEMM work.

def _flat_images(workspace, name, c, n, hp, wp, kw, dtype):
    """(flat, grid): a zeroed (C, N, Hp Wp + kw - 1) buffer and its (C, N, Hp, Wp) view."""
    flat = _buffer(workspace, name, (c, n, hp * wp + kw - 1), dtype)
    return flat, flat[:, :, :hp * wp].reshape(c, n, hp, wp)


def columns(x, kh, kw, stride=1, padding="valid", workspace=None):
    """Pad ``x`` (N, C, H, W) and gather its kh x kw windows: the ``cols`` that
    :func:`conv2d_forward` multiplies by the weights and :func:`conv2d_backward` needs
    for dW. Shape (C, kh, kw, N, H_out, width), where width is W_out, or Wp for stride 1
    (the flattened-rows layout above)."""
    n, c, h, w = x.shape
    (_, _, hp, wp), top, left = _padded_shape(x.shape, kh, kw, stride, padding)
    h_out, w_out = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    if stride == 1:
        flat, grid = _flat_images(workspace, "xflat", c, n, hp, wp, kw, x.dtype)
        grid[:, :, top:top + h, left:left + w] = x.transpose(1, 0, 2, 3)  # borders stay 0
        cols = _matrix(workspace, "cols", c * kh * kw, n * h_out * wp,
                       x.dtype).reshape(c, kh, kw, n, h_out, wp)
        run = h_out * wp
        for di in range(kh):
            for dj in range(kw):
                start = di * wp + dj
                cols[:, di, dj] = flat[:, :, start:start + run].reshape(c, n, h_out, wp)
        return cols
    xpad = _buffer(workspace, "xpad", (c, n, hp, wp), x.dtype)
    xpad[:, :, top:top + h, left:left + w] = x.transpose(1, 0, 2, 3)
    cols = _matrix(workspace, "cols", c * kh * kw, n * h_out * w_out, x.dtype)
    return im2col(xpad, kh, kw, stride, cols.reshape(c, kh, kw, n, h_out, w_out))


def conv2d_forward(x, W, b, stride=1, padding="valid", workspace=None):
    """Fast batched cross-correlation: pad, im2col, one GEMM.

    Shapes as :func:`conv2d_naive`. Returns ``(out, cols)``; ``cols`` is what
    :func:`conv2d_backward` needs. ``workspace`` (a dict) keeps the padded image and
    the columns between calls; the output is always a fresh array.
    """
    n, c, _, _ = x.shape
    f, _, kh, kw = W.shape
    cols = columns(x, kh, kw, stride, padding, workspace)
    _, _, _, _, h_out, width = cols.shape                             # width: Wp or W_out
    w_out = (_padded_shape(x.shape, kh, kw, stride, padding)[0][3] - kw) // stride + 1
    dtype, length = np.result_type(W, cols), n * h_out * width
    out = np.empty((f, row_length(length, dtype.itemsize)), dtype)[:, :length]  # fresh
    np.matmul(W.reshape(f, -1), _as_matrix(cols), out=out)            # (F, N Ho width)
    out += b[:, None]
    return out.reshape(f, n, h_out, width)[..., :w_out].transpose(1, 0, 2, 3), cols


def _as_matrix(cols):
    """(C, kh, kw, N, H_out, width) columns as the (C kh kw, N H_out width) GEMM operand;
    a view for the columns this module makes (padded rows included)."""
    c, kh, kw, n, h_out, width = cols.shape
    return cols.reshape(c * kh * kw, n * h_out * width)


def conv2d_backward(dout, x_shape, cols, W, stride=1, padding="valid", workspace=None,
                    input_grad=True, reuse_cols=False):
    """Gradients of :func:`conv2d_forward`.

    Parameters
    ----------
    dout : ndarray of shape (N, F, H_out, W_out)
    x_shape : (N, C, H, W) of the forward input
    cols : what ``conv2d_forward`` returned
    W : ndarray of shape (F, C, kh, kw)
    input_grad : bool, False skips dx (the GEMM and col2im) and returns None for it
    reuse_cols : bool, True lets the dx GEMM write its (C kh kw, N Ho width) result
        into ``cols``, which is no longer needed once dW is computed: one buffer the
        size of the columns instead of two, and ~10% faster, since less memory streams
        through the caches. ``cols`` holds garbage afterwards. Ignored when the dtypes of
        ``cols`` and ``dout`` differ.

    Returns
    -------
    dx : (N, C, H, W) or None, dW : (F, C, kh, kw), db : (F,)
    """
    n, c, h, w = x_shape
    f, _, kh, kw = W.shape
    _, _, _, _, h_out, width = cols.shape
    # dout channel-first as (F, N Ho width); in the stride-1 layout the extra columns
    # (width = Wp > W_out) stay zero: the dropped outputs get zero gradient
    dout2 = _matrix(workspace, "dout", f, n * h_out * width, dout.dtype)
    dout2.reshape(f, n, h_out, width)[..., :dout.shape[3]] = dout.transpose(1, 0, 2, 3)
    # dW^T = cols @ dout2^T: measured ~1.7x faster in OpenBLAS than dout2 @ cols^T for
    # these long, thin operands; the (C kh kw, F) result is tiny to transpose.
    cols2 = _as_matrix(cols)                                          # (C kh kw, N Ho width)
    dW = (cols2 @ dout2.T).T.reshape(W.shape)                         # (F, C, kh, kw)
    db = dout2.sum(axis=1)
    if not input_grad:
        return None, dW, db
    if reuse_cols and cols.dtype == dout.dtype:
        dcols2 = cols2
    else:
        dcols2 = _matrix(workspace, "dcols", *cols2.shape, dout.dtype)
    np.matmul(W.reshape(f, -1).T, dout2, out=dcols2)
    dcols = dcols2.reshape(cols.shape)
    (_, _, hp, wp), top, left = _padded_shape(x_shape, kh, kw, stride, padding)
    if stride == 1:
        flat, grid = _flat_images(workspace, "dxflat", c, n, hp, wp, kw, dout.dtype)
        flat.fill(0)
        run = h_out * wp
        for di in range(kh):
            for dj in range(kw):
                start = di * wp + dj
                flat[:, :, start:start + run] += dcols[:, di, dj].reshape(c, n, run)
    else:
        grid = _buffer(workspace, "dxpad", (c, n, hp, wp), dout.dtype)
        grid.fill(0)
        col2im(dcols, grid, stride)
    # a fresh (N, C, H, W) copy: no view of the workspace escapes (ascontiguousarray
    # would hand back the view itself when C == 1)
    dx = grid[:, :, top:top + h, left:left + w].transpose(1, 0, 2, 3).copy()
    return dx, dW, db
