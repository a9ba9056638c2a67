"""``Conv2D``, the convolution layer for images ``(N, C, H, W)``, built in
chapters/09_convolution.ipynb. It runs :mod:`nnlib.functional.conv_fast`, which tests
compare with the readable kernels of :mod:`nnlib.functional.conv`."""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from .._validation import ShapeError, check_choice, check_int, reject_unknown_kwargs, shape_str
from ..functional import conv_fast
from ..functional.conv import MODES, output_size, pad_amounts
from ..utils import as_rng
from .base import Layer, Parameter

__all__ = ["Conv2D", "check_images"]


def _pair(owner, name, value):
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return tuple(check_int(owner, name, v, low=1) for v in value)
    v = check_int(owner, name, value, low=1)
    return v, v


def check_images(layer, x, channels):
    """Check that ``x`` is a batch of images (N, C, H, W) for ``layer``: 4-D, channels
    first, with ``channels`` channels (any when None); suggests the transpose for
    channels-last data. Shared by the convolution and pooling layers."""
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
    H_out = floor((H + pad_top + pad_bottom - kh) / stride) + 1 (likewise W_out,
    :func:`nnlib.functional.conv.output_size`):
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
            check_choice("Conv2D", "padding", padding, MODES)
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
        pad_h = pad_amounts(h, kh, self.stride, self.padding)
        pad_w = pad_amounts(w, kw, self.stride, self.padding)
        if h + sum(pad_h) < kh or w + sum(pad_w) < kw:
            raise ShapeError(
                f"Conv2D kernel {kh}x{kw} is larger than its input {h}x{w} with padding "
                f"{self.padding!r}. Use padding='same', a smaller kernel, or less pooling "
                f"before this layer.")
        return output_size(h, kh, self.stride, pad_h), output_size(w, kw, self.stride, pad_w)

    def forward(self, x):
        check_images(self, x, self.in_channels)
        self._out_hw(*x.shape[2:])
        out, self._cols = conv_fast.conv2d_forward(x, self.W.data, self.b.data, self.stride,
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
            self._cols = conv_fast.columns(self._x, *self.kernel_size, self.stride,
                                         self.padding, self._workspace)
        dx, dW, db = conv_fast.conv2d_backward(dout, self._x.shape, self._cols, self.W.data,
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
