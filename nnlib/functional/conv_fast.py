"""The fast path of the convolution: what ``nl.Conv2D`` runs. It computes exactly what
:mod:`nnlib.functional.conv` computes (tests compare the two on random shapes), with
the speed tricks kept out of the teaching code:

- **Workspaces.** The padded batch is copied once, channel-first ``(C, N, Hp, Wp)``,
  into a buffer the layer keeps; so are the columns, the dout matrix and the dx
  buffers. Fresh large temporaries can page-fault on every call; reused ones do not.
- **Channel-first columns.** ``cols`` has shape ``(C, kh, kw, N, H_out, width)``: as a
  ``(C kh kw, N H_out width)`` matrix it is the transpose of
  :func:`nnlib.functional.conv.im2col`'s, so one GEMM ``W.reshape(F, -1) @ cols`` gives
  every output at once, already channel-first.
- **The stride-1 flat layout** (see :func:`columns`): every one of the kh kw copies is
  one contiguous run.
- **Padded GEMM rows** (:func:`row_length`): rows never a multiple of 4 KiB apart.
- **Column-buffer reuse** (``reuse_cols`` in :func:`conv2d_backward`): the dx GEMM
  writes over the columns, dead once dW is computed.
- **Blocked GEMMs** (:func:`blocks`): each of the three products runs as a stack of
  products over groups of whole images, a few hundred columns each, instead of one
  product over all ``N H_out width`` columns.
- **Row sums by BLAS** (:func:`_ones`): db is ``dout2 @ ones``, a matrix-vector product.

Measured effects are in benchmarks/README.md.
"""

from __future__ import annotations

import numpy as np

from .conv import output_size, pad_amounts

__all__ = ["columns", "as_matrix", "row_length", "block_count", "blocks", "conv2d_forward",
           "conv2d_backward"]


def _gather_windows(xpad, kh, kw, stride, cols):
    """Fill ``cols`` (C, kh, kw, N, H_out, W_out) from the padded, channel-first batch
    ``xpad`` (C, N, Hp, Wp): kh kw strided slice copies, each taking the (di, dj)
    element of every window at once."""
    h_out, w_out = cols.shape[4:]
    for di in range(kh):
        for dj in range(kw):
            cols[:, di, dj] = xpad[:, :, di:di + stride * (h_out - 1) + 1:stride,
                                   dj:dj + stride * (w_out - 1) + 1:stride]
    return cols


def _scatter_windows(dcols, dxpad, stride):
    """The adjoint of :func:`_gather_windows`: add each column entry back to the pixel
    it came from. ``dxpad`` (C, N, Hp, Wp) must be zeroed by the caller."""
    _, kh, kw, _, h_out, w_out = dcols.shape
    for di in range(kh):
        for dj in range(kw):
            dxpad[:, :, di:di + stride * (h_out - 1) + 1:stride,
                  dj:dj + stride * (w_out - 1) + 1:stride] += dcols[:, di, dj]
    return dxpad


def _buffer(workspace, name, shape, dtype, fill=0):
    """An array from ``workspace`` (a dict a layer keeps across calls), filled with
    ``fill`` when allocated, and allocated again only when the shape or dtype changes.
    Fresh large temporaries can page-fault on every call; reusing them is what makes the
    fast path fast."""
    if workspace is None:
        return np.full(shape, fill, dtype=dtype)
    buf = workspace.get(name)
    if buf is None or buf.shape != shape or buf.dtype != dtype:
        buf = workspace[name] = np.full(shape, fill, dtype=dtype)
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


def _ones(workspace, n, dtype):
    """A vector of ``n`` ones from ``workspace`` (fresh when it is None): ``A @ ones``
    sums the rows of ``A`` as one BLAS matrix-vector product, 2.5x faster here than
    ``A.sum(axis=1)`` on the columns matrices."""
    return _buffer(workspace, "ones", (n,), dtype, fill=1)


def _matrix(workspace, name, rows, cols, dtype):
    """A zeroed (rows, cols) view with padded rows (see :func:`row_length`) from
    ``workspace`` (fresh when it is None)."""
    dtype = np.dtype(dtype)
    buf = _buffer(workspace, name, (rows, row_length(cols, dtype.itemsize)), dtype)
    return buf[:, :cols]


# The three GEMMs of a convolution are short and very wide: (F, C kh kw) times
# (C kh kw, N H_out width), with N H_out width in the tens of thousands. OpenBLAS ran them
# at 15-75 GFLOP/s at one thread; cut into a stack of products over a few images at a
# time (blocks of about 256 KiB of operands, which stay in the core's cache) the same
# products took 1.3-5x less time (conv 8->16 "same" on 64 images of 14x14: forward 548 ->
# 351 us, dx 914 -> 385 us, dW 554 -> 362 us; conv 1->8 on 28x28: dW 458 -> 90 us). The
# blocks are views: nothing is copied, and forward and dx give the same bits as before
# (dW's sum over images is done in another order: it agrees to rounding).

BLOCK_BYTES = 256 * 1024


def block_count(n, per_image, rows, itemsize):
    """How many blocks to cut ``n`` images' columns into: the fewest whose operands
    (``rows`` rows of ``per_image`` columns per image) fit in :data:`BLOCK_BYTES`, with
    each block a whole number of images (so the count divides ``n``). An empty batch
    is one (empty) block."""
    if n < 1:
        return 1
    most = max(1, BLOCK_BYTES // max(1, rows * per_image * itemsize))  # images per block
    per_block = max(g for g in range(1, min(most, n) + 1) if n % g == 0)
    return n // per_block


def blocks(a, count):
    """(rows, L) as a stack of ``count`` (rows, L / count) column blocks: a view."""
    rows, length = a.shape
    view = a.reshape(rows, count, length // count).transpose(1, 0, 2)
    assert view.size == 0 or np.may_share_memory(view, a), "blocks() must not copy"
    return view


def _padded_shape(x_shape, kh, kw, stride, padding):
    n, c, h, w = x_shape
    (top, bottom), (left, right) = (pad_amounts(h, kh, stride, padding),
                                    pad_amounts(w, kw, stride, padding))
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
    h_out, w_out = output_size(hp, kh, stride), output_size(wp, kw, stride)
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
    return _gather_windows(xpad, kh, kw, stride, cols.reshape(c, kh, kw, n, h_out, w_out))


def conv2d_forward(x, W, b, stride=1, padding="valid", workspace=None):
    """Fast batched cross-correlation: pad, gather the windows, one GEMM.

    Shapes as :func:`nnlib.functional.conv.conv2d`. Returns ``(out, cols)``; ``cols`` is what
    :func:`conv2d_backward` needs. ``workspace`` (a dict) keeps the padded image and
    the columns between calls; the output is always a fresh array.
    """
    n, c, _, _ = x.shape
    f, _, kh, kw = W.shape
    cols = columns(x, kh, kw, stride, padding, workspace)
    _, _, _, _, h_out, width = cols.shape                             # width: Wp or W_out
    w_out = output_size(_padded_shape(x.shape, kh, kw, stride, padding)[0][3], kw, stride)
    dtype, length = np.result_type(W, cols), n * h_out * width
    out = np.empty((f, row_length(length, dtype.itemsize)), dtype)[:, :length]  # fresh
    count = block_count(n, h_out * width, f + c * kh * kw, dtype.itemsize)
    np.matmul(W.reshape(f, -1), blocks(as_matrix(cols), count),
              out=blocks(out, count))                                # (F, N Ho width)
    out += b[:, None]
    return out.reshape(f, n, h_out, width)[..., :w_out].transpose(1, 0, 2, 3), cols


def as_matrix(cols):
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
    # dW^T = cols @ dout2^T, summed over blocks of images (see block_count); the
    # (C kh kw, F) result is tiny to transpose.
    cols2 = as_matrix(cols)                                          # (C kh kw, N Ho width)
    count = block_count(n, h_out * width, f + c * kh * kw, dout2.dtype.itemsize)
    dW = np.matmul(blocks(cols2, count), blocks(dout2, count).transpose(0, 2, 1)).sum(axis=0)
    dW = dW.T.reshape(W.shape)                                       # (F, C, kh, kw)
    db = dout2 @ _ones(workspace, dout2.shape[1], dout2.dtype)  # row sums: BLAS's gemv
    if not input_grad:
        return None, dW, db
    if reuse_cols and cols.dtype == dout.dtype:
        dcols2 = cols2
    else:
        dcols2 = _matrix(workspace, "dcols", *cols2.shape, dout.dtype)
    np.matmul(W.reshape(f, -1).T, blocks(dout2, count), out=blocks(dcols2, count))
    dcols = dcols2.reshape(cols.shape)
    (_, _, hp, wp), top, left = _padded_shape(x_shape, kh, kw, stride, padding)
    if stride == 1:
        flat, grid = _flat_images(workspace, "dxflat", c, n, hp, wp, kw, dout.dtype)
        run = h_out * wp
        flat[:, :, :run] = dcols[:, 0, 0].reshape(c, n, run)  # the first run: a copy
        flat[:, :, run:] = 0                                   # (and zeros after it)
        for di in range(kh):
            for dj in range(kw):
                if di or dj:
                    start = di * wp + dj
                    flat[:, :, start:start + run] += dcols[:, di, dj].reshape(c, n, run)
    else:
        grid = _buffer(workspace, "dxpad", (c, n, hp, wp), dout.dtype)
        grid.fill(0)
        _scatter_windows(dcols, grid, stride)
    # a fresh (N, C, H, W) copy: no view of the workspace escapes (ascontiguousarray
    # would hand back the view itself when C == 1)
    dx = grid[:, :, top:top + h, left:left + w].transpose(1, 0, 2, 3).copy()
    return dx, dW, db
