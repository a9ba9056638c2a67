"""Kernels: pure NumPy functions, one module per topic, each with its naive twin where
the fast version is not obviously right. Every function takes arrays and returns new
arrays; none modifies its arguments, and each keeps the dtype of its input. The layer
classes (:mod:`nnlib.layers`) and the losses (:mod:`nnlib.losses`) are thin, validated
wrappers around these.

=====================  ==========================================================
module                 kernels
=====================  ==========================================================
``activations``        sigmoid, tanh, relu, leaky_relu, elu and their ``*_grad``
``logits``             logsumexp, softmax, log_softmax, softmax_jacobian/backward
``losses``             one_hot, mse, binary_cross_entropy(_with_logits), cross_entropy
``conv``               output_size, correlate2d/convolve2d, im2col/col2im, conv2d,
                       conv2d_backward and their ``*_naive`` loop twins
``conv_fast``          what ``nl.Conv2D`` runs: the same convolution with workspaces
                       and layout tricks (not re-exported here)
``pooling``            max/avg pooling forward and backward, ``*_naive`` twins
=====================  ==========================================================

Every kernel of the teaching modules is importable from here: ``nl.functional.relu``.
"""

from . import activations, conv, conv_fast, logits, losses, pooling
from .activations import (
    elu,
    elu_grad,
    leaky_relu,
    leaky_relu_grad,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)
from .conv import (
    MODES,
    col2im,
    conv2d,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_naive,
    convolve2d,
    correlate2d,
    im2col,
    im2col_naive,
    output_size,
    pad_amounts,
    pad_images,
)
from .logits import log_softmax, logsumexp, softmax, softmax_backward, softmax_jacobian
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse,
    one_hot,
)
from .pooling import (
    avgpool_backward,
    avgpool_forward,
    avgpool_naive,
    maxpool_backward,
    maxpool_forward,
    maxpool_naive,
)

__all__ = [
    "activations", "logits", "losses", "conv", "conv_fast", "pooling", "sigmoid",
    "sigmoid_grad", "tanh", "tanh_grad", "relu", "relu_grad", "leaky_relu",
    "leaky_relu_grad", "elu", "elu_grad", "logsumexp", "softmax", "log_softmax",
    "softmax_jacobian", "softmax_backward", "one_hot", "mse", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "MODES", "output_size",
    "pad_amounts", "pad_images", "correlate2d", "convolve2d", "im2col", "im2col_naive",
    "col2im", "conv2d", "conv2d_backward", "conv2d_naive", "conv2d_backward_naive",
    "maxpool_forward", "maxpool_backward", "avgpool_forward", "avgpool_backward",
    "maxpool_naive", "avgpool_naive",
]
