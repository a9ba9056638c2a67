"""Normalisation layers: ``BatchNorm1D`` and ``BatchNorm2D`` (statistics over the batch,
running averages for evaluation) and ``LayerNorm`` (statistics over each sample's own
features). BatchNorm is derived in chapters/08_generalization.ipynb, "8 · Batch
normalisation", LayerNorm in chapters/13_attention_transformers.ipynb, "LayerNorm, and its
backward"; the math is in
:mod:`nnlib.functional.normalization`.
"""

from __future__ import annotations

import numpy as np

from .._validation import (
    ShapeError,
    check_float,
    check_int,
    check_size,
    reject_unknown_kwargs,
    shape_str,
)
from ..functional import normalization as F
from .base import Layer, Parameter

__all__ = ["BatchNorm1D", "BatchNorm2D", "LayerNorm"]


def _extra(layer, defaults):
    """``, eps=0.001`` for every keyword that differs from its default (for repr)."""
    parts = [f", {k}={getattr(layer, k)!r}" for k, v in defaults.items()
             if getattr(layer, k) != v]
    if layer.dtype != np.float32:
        parts.append(f", dtype=np.{layer.dtype.name}")
    return "".join(parts)


class _BatchNorm(Layer):
    """Shared by BatchNorm1D and BatchNorm2D: they differ only in the input's layout."""

    _layout = ""        # "(N, D)" or "(N, C, H, W)"
    _ndim = 2

    @reject_unknown_kwargs
    def __init__(self, num_features, *, momentum=0.1, eps=1e-5, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        self.num_features = check_int(name, self._size_name, num_features, low=1)
        self.momentum = check_float(name, "momentum", momentum, low=0, high=1)
        self.eps = check_float(name, "eps", eps, low=0, low_open=True)
        self._set_dtype(dtype)
        c = self.num_features
        for what in ("a scale gamma", "a shift beta", "a running mean", "a running variance"):
            check_size(f"{name}({c})", what, (c,), self.dtype,
                       fix=f"{self._size_name} is the number of "
                           f"{'features' if self._ndim == 2 else 'channels'} per sample, "
                           f"not the number of samples or values.")
        self.gamma = Parameter(np.ones(c, dtype=self.dtype))
        self.beta = Parameter(np.zeros(c, dtype=self.dtype))
        self.running_mean = np.zeros(c, dtype=self.dtype)
        self.running_var = np.ones(c, dtype=self.dtype)
        self._xhat = None

    _size_name = "num_features"

    def _check(self, x):
        name, c = type(self).__name__, self.num_features
        expected = self._layout.replace("D", str(c)).replace("C", str(c))
        if isinstance(x, np.ndarray) and x.ndim != self._ndim:
            other = {2: "BatchNorm1D", 4: "BatchNorm2D"}.get(x.ndim)
            fix = (f" For this input use nl.{other}({x.shape[1]})." if other else
                   " Sequences (N, T, D) are normalised per position with nl.LayerNorm(D).")
            raise ShapeError(f"{name} expected input {expected}, got {shape_str(x.shape)}.{fix}")
        self._check_input(x, ndim=self._ndim, expected=expected)
        if x.shape[1] != c:
            raise ShapeError(f"{name} expected input {expected}, got {shape_str(x.shape)}. "
                             f"Use {name}({x.shape[1]}) for {x.shape[1]} "
                             f"{'features' if self._ndim == 2 else 'channels'}.")
        count = x.size // c
        if self.training and count < 2:
            raise ValueError(f"{name} needs more than one value per "
                             f"{'feature' if self._ndim == 2 else 'channel'} in training "
                             f"mode (the batch variance of one number is 0), got input "
                             f"{shape_str(x.shape)}. Use a batch of at least 2, or call "
                             f".eval() to use the running statistics.")
        return count

    def _shape(self, a):
        return a if self._ndim == 2 else a.reshape(1, -1, 1, 1)

    def forward(self, x):
        count = self._check(x)
        if self.training:
            y, self._xhat, mean, var, self._inv_std = F.batch_norm(
                x, self.gamma.data, self.beta.data, self.eps)
            m = self.dtype.type(self.momentum)
            self.running_mean *= 1 - m
            self.running_mean += m * mean
            self.running_var *= 1 - m
            self.running_var += (m * count / (count - 1)) * var     # unbiased, as PyTorch
            return y
        self._inv_std = 1 / np.sqrt(self.running_var + self.dtype.type(self.eps))
        self._xhat = (x - self._shape(self.running_mean)) * self._shape(self._inv_std)
        return self._xhat * self._shape(self.gamma.data) + self._shape(self.beta.data)

    def backward(self, dout):
        self._require_forward("_xhat")
        if self._xhat.shape != getattr(dout, "shape", None):
            raise ShapeError(f"{type(self).__name__}.backward expected dout of the output's "
                             f"shape {shape_str(self._xhat.shape)}, got "
                             f"{shape_str(np.shape(dout))}.")
        if self.training:
            dx, dgamma, dbeta = F.batch_norm_backward(dout, self._xhat, self._inv_std,
                                                      self.gamma.data)
        else:  # the statistics are constants in eval mode: an affine map per feature
            axes = (0,) if self._ndim == 2 else (0, 2, 3)
            dgamma = np.sum(dout * self._xhat, axis=axes)
            dbeta = dout.sum(axis=axes)
            dx = dout * self._shape(self.gamma.data * self._inv_std)
        self.gamma.grad += dgamma
        self.beta.grad += dbeta
        return dx

    def parameters(self):
        return {"gamma": self.gamma, "beta": self.beta}

    def buffers(self):
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def output_shape(self, input_shape):
        if len(input_shape) != self._ndim - 1 or input_shape[0] != self.num_features:
            raise ShapeError(f"{type(self).__name__}({self.num_features}) expected per-sample "
                             f"input {self._layout[4:].replace('D', str(self.num_features))}"
                             f" with {self.num_features} first, got {shape_str(input_shape)}.")
        return tuple(input_shape)

    def get_config(self):
        return {self._size_name: self.num_features, "momentum": self.momentum,
                "eps": self.eps, "dtype": self.dtype.name}

    def __repr__(self):
        extra = _extra(self, {"momentum": 0.1, "eps": 1e-5})
        return f"{type(self).__name__}({self.num_features}{extra})"


class BatchNorm1D(_BatchNorm):
    """Batch normalisation of features (Ioffe & Szegedy, 2015), as PyTorch's
    ``BatchNorm1d`` on (N, D).

    Training: each feature is standardised with the batch mean and the *biased* batch
    variance, then scaled and shifted, ``y = gamma (x - mean) / sqrt(var + eps) + beta``;
    the running statistics move towards the batch's,
    ``running = (1 - momentum) running + momentum batch``, with the *unbiased* variance
    (``var * N / (N - 1)``). Evaluation (``.eval()``): the running statistics replace
    the batch's, so a sample's output no longer depends on the rest of its batch.

    Parameters
    ----------
    num_features : int, D
    momentum : float in [0, 1], default 0.1
    eps : float > 0, default 1e-5
    dtype : np.float32 (default) or np.float64

    Shapes
    ------
    x : (N, D) -> y : (N, D); gamma, beta : (D,) (parameters); running_mean,
    running_var : (D,) (buffers, saved with the model)
    """

    _layout = "(N, D)"
    _ndim = 2


class BatchNorm2D(_BatchNorm):
    """Batch normalisation of image channels, as PyTorch's ``BatchNorm2d``: the
    statistics of channel ``c`` run over the batch and every pixel, ``x[:, c, :, :]``
    (N H W numbers); otherwise as :class:`BatchNorm1D`.

    Parameters
    ----------
    num_channels : int, C
    momentum, eps, dtype : as BatchNorm1D

    Shapes
    ------
    x : (N, C, H, W) -> y : (N, C, H, W); gamma, beta, running_mean, running_var : (C,)
    """

    _layout = "(N, C, H, W)"
    _ndim = 4
    _size_name = "num_channels"

    @reject_unknown_kwargs
    def __init__(self, num_channels, *, momentum=0.1, eps=1e-5, dtype=np.float32):
        super().__init__(num_channels, momentum=momentum, eps=eps, dtype=dtype)

    @property
    def num_channels(self):
        return self.num_features


class LayerNorm(Layer):
    """Layer normalisation (Ba, Kiros & Hinton, 2016), as PyTorch's ``LayerNorm``: every
    sample -- every position of a sequence -- is standardised over its trailing
    ``normalized_shape`` axes, then scaled and shifted elementwise,
    ``y = gamma (x - mean) / sqrt(var + eps) + beta`` (biased variance). Nothing depends
    on the rest of the batch, so training and evaluation compute the same thing.

    Parameters
    ----------
    normalized_shape : int or tuple of int, the trailing shape S (e.g. D)
    eps : float > 0, default 1e-5
    dtype : np.float32 (default) or np.float64

    Shapes
    ------
    x : (N, ..., *S) -> y : same shape; gamma, beta : S
    """

    @reject_unknown_kwargs
    def __init__(self, normalized_shape, *, eps=1e-5, dtype=np.float32):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        if not shape:
            raise ValueError("The 'normalized_shape' parameter of LayerNorm must be an int "
                             "or a non-empty tuple of ints. Got () instead.")
        self.normalized_shape = tuple(check_int("LayerNorm", "normalized_shape", s, low=1)
                                      for s in shape)
        self.eps = check_float("LayerNorm", "eps", eps, low=0, low_open=True)
        self._set_dtype(dtype)
        for what in ("a scale gamma", "a shift beta"):
            check_size(f"LayerNorm({self.normalized_shape})", what, self.normalized_shape,
                       self.dtype, fix="normalized_shape is the per-sample shape of the last "
                                       "axes to normalise, e.g. D for (N, T, D) input.")
        self.gamma = Parameter(np.ones(self.normalized_shape, dtype=self.dtype))
        self.beta = Parameter(np.zeros(self.normalized_shape, dtype=self.dtype))
        self._xhat = None

    def _expected(self):
        return shape_str(("N", "...", *self.normalized_shape))

    def forward(self, x):
        k = len(self.normalized_shape)
        self._check_input(x, ndim=None, expected=None)
        if x.ndim < k + 1 or x.shape[-k:] != self.normalized_shape:
            fix = (" Rows are samples: a single sample needs x[None]." if x.shape ==
                   self.normalized_shape else
                   f" Use LayerNorm({x.shape[-1]}) to normalise over the last axis."
                   if x.ndim >= 2 else "")
            raise ShapeError(f"LayerNorm expected input {self._expected()}, got "
                             f"{shape_str(x.shape)}.{fix}")
        y, self._xhat, self._inv_std = F.layer_norm(x, self.gamma.data, self.beta.data,
                                                    self.eps)
        return y

    def backward(self, dout):
        self._require_forward("_xhat")
        dx, dgamma, dbeta = F.layer_norm_backward(dout, self._xhat, self._inv_std,
                                                  self.gamma.data)
        self.gamma.grad += dgamma
        self.beta.grad += dbeta
        return dx

    def parameters(self):
        return {"gamma": self.gamma, "beta": self.beta}

    def output_shape(self, input_shape):
        k = len(self.normalized_shape)
        if len(input_shape) < k or tuple(input_shape[-k:]) != self.normalized_shape:
            raise ShapeError(f"LayerNorm expected per-sample input ending in "
                             f"{shape_str(self.normalized_shape)}, got "
                             f"{shape_str(input_shape)}.")
        return tuple(input_shape)

    def get_config(self):
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "dtype": self.dtype.name}

    def __repr__(self):
        shape = (self.normalized_shape[0] if len(self.normalized_shape) == 1
                 else self.normalized_shape)
        return f"LayerNorm({shape}{_extra(self, {'eps': 1e-5})})"
