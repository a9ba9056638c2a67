"""Pooling layers for images ``(N, C, H, W)``: ``MaxPool2D`` and ``AvgPool2D``, built in
chapters/10_pooling_cnns.ipynb on the kernels of :mod:`nnlib.functional.pooling`."""

from __future__ import annotations

from .._validation import ShapeError, check_int, reject_unknown_kwargs
from ..functional import pooling
from ..functional.conv import output_size
from .base import Layer
from .conv import check_images

__all__ = ["MaxPool2D", "AvgPool2D"]


class _Pool2D(Layer):
    """Shared validation for pooling layers: square windows, stride defaults to size."""

    @reject_unknown_kwargs
    def __init__(self, pool_size=2, stride=None, *, dtype=None):
        super().__init__(dtype=dtype)
        name = type(self).__name__
        self.pool_size = check_int(name, "pool_size", pool_size, low=1)
        self.stride = self.pool_size if stride is None else check_int(name, "stride", stride,
                                                                      low=1)
        self._x = None

    def _out_hw(self, h, w):
        k = self.pool_size
        if h < k or w < k:
            raise ShapeError(f"{type(self).__name__} window {k}x{k} is larger than its input "
                             f"{h}x{w}. Use a smaller pool_size or remove a pooling layer.")
        return output_size(h, k, self.stride), output_size(w, k, self.stride)

    def _check(self, x):
        check_images(self, x, None)
        self._out_hw(*x.shape[2:])

    def output_shape(self, input_shape):
        c, h, w = input_shape
        return (c, *self._out_hw(h, w))

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "stride": self.stride}

    def __repr__(self):
        extra = "" if self.stride == self.pool_size else f", stride={self.stride}"
        return f"{type(self).__name__}({self.pool_size}{extra})"


class MaxPool2D(_Pool2D):
    """Max over ``pool_size`` x ``pool_size`` windows. Backward sends each window's
    gradient to one element: its first maximum in row-major order (as PyTorch).

    Parameters
    ----------
    pool_size : int >= 1, the window is pool_size x pool_size
    stride : int >= 1, default pool_size (windows side by side)

    Shapes
    ------
    x : (N, C, H, W) -> y : (N, C, H_out, W_out) with H_out = floor((H - pool_size) /
    stride) + 1, likewise W_out: rows and columns no window reaches are dropped (7 x 7
    with pool 2 gives 3 x 3) and get zero gradient.
    """

    def forward(self, x):
        self._check(x)
        self._x = x
        self._out = pooling.maxpool_forward(x, self.pool_size, self.stride)
        return self._out

    def backward(self, dout):
        self._require_forward()
        return pooling.maxpool_backward(dout, self._x, self._out, self.pool_size, self.stride)


class AvgPool2D(_Pool2D):
    """Mean over ``pool_size`` x ``pool_size`` windows. Backward shares each window's
    gradient equally among its elements: dout / pool_size^2.

    Parameters and shapes as :class:`MaxPool2D`: x (N, C, H, W) -> y (N, C, H_out, W_out),
    H_out = floor((H - pool_size) / stride) + 1.
    """

    def forward(self, x):
        self._check(x)
        self._x = x
        return pooling.avgpool_forward(x, self.pool_size, self.stride)

    def backward(self, dout):
        self._require_forward()
        return pooling.avgpool_backward(dout, self._x.shape, self.pool_size, self.stride)
