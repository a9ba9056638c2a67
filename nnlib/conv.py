"""Convolution and pooling layers for images ``(N, C, H, W)``. Conv2D is built in
chapters/09_convolution.ipynb, pooling in chapters/10_pooling_cnns.ipynb."""

from __future__ import annotations

import numpy as np

from . import convolution as conv_fn
from . import init as initializers
from . import pooling as pool_fn
from ._validation import ShapeError, check_choice, check_int, reject_unknown_kwargs, shape_str
from .core import Layer, Parameter, as_rng

__all__ = ["Conv2D", "MaxPool2D", "AvgPool2D"]


def _pair(owner, name, value):
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return tuple(check_int(owner, name, v, low=1) for v in value)
    v = check_int(owner, name, value, low=1)
    return v, v


def _check_images(layer, x, channels):
    """4-D, channels first, with the expected channel count; suggests the transpose for
    channels-last data."""
    name = type(layer).__name__
    expected = f"(N, {channels}, H, W)" if channels else "(N, C, H, W)"
    if isinstance(x, np.ndarray) and x.ndim != 4:
        fix = (" Add the channel axis: x[:, None] for grayscale images." if x.ndim == 3 else
               " Images are (N, C, H, W).")
        raise ShapeError(f"{name} expected input {expected}, got {shape_str(x.shape)}.{fix}")
    layer._check_input(x, ndim=4, expected=expected)
    if channels and x.shape[1] != channels:
        fix = (" Channels-last data? Try x.transpose(0, 3, 1, 2)." if x.shape[-1] == channels
               else f" Use {name}({x.shape[1]}, ...) or fix the layer before.")
        raise ShapeError(f"{name} expected input {expected}, got {shape_str(x.shape)}.{fix}")


class Conv2D(Layer):
    """2-D convolution layer (a cross-correlation, as PyTorch).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (kh, kw)
    stride : int >= 1
    padding : "valid" | "same" | "full" | int >= 0
    init : str or callable, weight initialiser (default "he_normal", for ReLU nets)
    rng : None, int or numpy.random.Generator
    dtype : np.float32 (default) or np.float64

    Shapes
    ------
    x : (N, C, H, W) -> y : (N, F, H_out, W_out), W : (F, C, kh, kw), b : (F,), with
    H_out = floor((H + pad_top + pad_bottom - kh) / stride) + 1 (likewise W_out):
    "valid" pads 0, "full" kh - 1 per side, an int p per side, and "same" gives
    H_out = ceil(H / stride) with the odd extra row/column at the bottom/right.
    """

    @reject_unknown_kwargs
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding="valid", *,
                 init="he_normal", rng=None, dtype=np.float32):
        super().__init__()
        self.in_channels = check_int("Conv2D", "in_channels", in_channels, low=1)
        self.out_channels = check_int("Conv2D", "out_channels", out_channels, low=1)
        self.kernel_size = _pair("Conv2D", "kernel_size", kernel_size)
        self.stride = check_int("Conv2D", "stride", stride, low=1)
        if isinstance(padding, str):
            check_choice("Conv2D", "padding", padding, conv_fn.MODES)
        else:
            padding = check_int("Conv2D", "padding", padding, low=0)
        self.padding = padding
        self._set_dtype(dtype)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.W = Parameter(initializers.get(init, "Conv2D")(shape, as_rng(rng), self.dtype))
        self.b = Parameter(np.zeros(self.out_channels, dtype=self.dtype))
        self._workspace = {}  # padded input, columns, dx buffer: reused across calls
        self._x = self._cols = None

    def _out_hw(self, h, w):
        kh, kw = self.kernel_size
        (t, b), (l, r) = (conv_fn.pad_amounts(h, kh, self.stride, self.padding),
                          conv_fn.pad_amounts(w, kw, self.stride, self.padding))
        if h + t + b < kh or w + l + r < kw:
            raise ShapeError(
                f"Conv2D kernel {kh}x{kw} is larger than its input {h}x{w} with padding "
                f"{self.padding!r}. Use padding='same', a smaller kernel, or less pooling "
                f"before this layer.")
        return (h + t + b - kh) // self.stride + 1, (w + l + r - kw) // self.stride + 1

    def forward(self, x):
        _check_images(self, x, self.in_channels)
        self._out_hw(*x.shape[2:])
        out, self._cols = conv_fn.conv2d_forward(x, self.W.data, self.b.data, self.stride,
                                                 self.padding, self._workspace)
        self._x = x
        return out

    def backward(self, dout):
        return self._backward(dout, input_grad=True)

    def backward_params(self, dout):
        self._backward(dout, input_grad=False)

    def _backward(self, dout, input_grad):
        self._require_forward()
        if self._cols is None:  # a second backward after one forward: rebuild the columns
            self._cols = conv_fn.columns(self._x, *self.kernel_size, self.stride,
                                         self.padding, self._workspace)
        dx, dW, db = conv_fn.conv2d_backward(dout, self._x.shape, self._cols, self.W.data,
                                             self.stride, self.padding, self._workspace,
                                             input_grad, reuse_cols=input_grad)
        if input_grad:
            self._cols = None  # the dx GEMM wrote over the columns (reuse_cols)
        self.W.grad += dW
        self.b.grad += db
        return dx

    def parameters(self):
        return {"W": self.W, "b": self.b}

    def output_shape(self, input_shape):
        c, h, w = input_shape
        if c != self.in_channels:
            raise ShapeError(f"Conv2D expected per-sample input ({self.in_channels}, H, W), "
                             f"got {shape_str(input_shape)}.")
        return (self.out_channels, *self._out_hw(h, w))

    def get_config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": self.stride,
                "padding": self.padding, "dtype": self.dtype.name}

    def __repr__(self):
        kh, kw = self.kernel_size
        k = kh if kh == kw else (kh, kw)
        extra = "" if self.stride == 1 else f", stride={self.stride}"
        extra += "" if self.padding == "valid" else f", padding={self.padding!r}"
        return f"Conv2D({self.in_channels}, {self.out_channels}, {k}{extra})"


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
        return pool_fn.pool_output_size(h, k, self.stride), pool_fn.pool_output_size(
            w, k, self.stride)

    def _check(self, x):
        _check_images(self, x, None)
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
    """Max over ``pool_size`` x ``pool_size`` windows (stride defaults to the size).
    Backward sends each window's gradient to one element: its first maximum."""

    def forward(self, x):
        self._check(x)
        self._x = x
        self._out = pool_fn.maxpool_forward(x, self.pool_size, self.stride)
        return self._out

    def backward(self, dout):
        self._require_forward()
        return pool_fn.maxpool_backward(dout, self._x, self._out, self.pool_size, self.stride)


class AvgPool2D(_Pool2D):
    """Mean over ``pool_size`` x ``pool_size`` windows (stride defaults to the size)."""

    def forward(self, x):
        self._check(x)
        self._x = x
        return pool_fn.avgpool_forward(x, self.pool_size, self.stride)

    def backward(self, dout):
        self._require_forward()
        return pool_fn.avgpool_backward(dout, self._x.shape, self.pool_size, self.stride)
