"""Weight initialisers, named after the papers that derived them.

Each keeps the variance of activations (forward) or gradients (backward) roughly
constant from layer to layer -- derived in chapters/02_neurons_dense_layers.ipynb.

========================  =====================  =================================
name                      distribution           scale
========================  =====================  =================================
``glorot_uniform``        U(-a, a)               a = sqrt(6 / (fan_in + fan_out))
``glorot_normal``         N(0, std^2)            std = sqrt(2 / (fan_in + fan_out))
``he_uniform``            U(-a, a)               a = sqrt(6 / fan_in)
``he_normal``             N(0, std^2)            std = sqrt(2 / fan_in)
``lecun_uniform``         U(-a, a)               a = sqrt(3 / fan_in)
``lecun_normal``          N(0, std^2)            std = sqrt(1 / fan_in)
========================  =====================  =================================

Glorot is also called Xavier and He is also called Kaiming; both spellings exist here.
The normal variants are plain (not truncated) normals, as PyTorch's ``*_normal_``.

Fans follow nnlib's layouts: a Dense weight ``(in, out)`` has fan_in = in, fan_out = out;
a Conv2D weight ``(F, C, kh, kw)`` has fan_in = C kh kw and fan_out = F kh kw.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_choice, check_float
from .utils import as_rng

__all__ = [
    "fans", "zeros", "normal", "glorot_uniform", "glorot_normal", "xavier_uniform",
    "xavier_normal", "he_uniform", "he_normal", "kaiming_uniform", "kaiming_normal",
    "lecun_uniform", "lecun_normal", "orthogonal", "get",
]


def fans(shape):
    """(fan_in, fan_out) of a weight of the given shape (see the module docstring)."""
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"fans need a weight of at least 2 dimensions, got shape {shape}.")
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive


def zeros(shape, rng=None, dtype=np.float32):
    """All zeros (biases). Zero *weights* make every unit identical: see chapter 02."""
    return np.zeros(shape, dtype=dtype)


def normal(shape, rng=None, dtype=np.float32, *, std=0.01):
    """N(0, std^2) with a fixed std (the pre-2010 default; too small for deep nets)."""
    std = check_float("init.normal", "std", std, low=0, low_open=True)
    return (as_rng(rng).standard_normal(shape) * std).astype(dtype)


def _uniform(shape, a, rng, dtype):
    return as_rng(rng).uniform(-a, a, size=shape).astype(dtype)


def _normal(shape, std, rng, dtype):
    return (as_rng(rng).standard_normal(shape) * std).astype(dtype)


def glorot_uniform(shape, rng=None, dtype=np.float32):
    """U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = fans(shape)
    return _uniform(shape, np.sqrt(6.0 / (fan_in + fan_out)), rng, dtype)


def glorot_normal(shape, rng=None, dtype=np.float32):
    """N(0, 2 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = fans(shape)
    return _normal(shape, np.sqrt(2.0 / (fan_in + fan_out)), rng, dtype)


def he_uniform(shape, rng=None, dtype=np.float32):
    """U(-a, a) with a = sqrt(6 / fan_in) (He et al., 2015), for ReLU networks."""
    fan_in, _ = fans(shape)
    return _uniform(shape, np.sqrt(6.0 / fan_in), rng, dtype)


def he_normal(shape, rng=None, dtype=np.float32):
    """N(0, 2 / fan_in) (He et al., 2015), for ReLU networks."""
    fan_in, _ = fans(shape)
    return _normal(shape, np.sqrt(2.0 / fan_in), rng, dtype)


def lecun_uniform(shape, rng=None, dtype=np.float32):
    """U(-a, a) with a = sqrt(3 / fan_in) (LeCun et al., 1998): variance 1 / fan_in."""
    fan_in, _ = fans(shape)
    return _uniform(shape, np.sqrt(3.0 / fan_in), rng, dtype)


def lecun_normal(shape, rng=None, dtype=np.float32):
    """N(0, 1 / fan_in) (LeCun et al., 1998), for tanh/SELU networks."""
    fan_in, _ = fans(shape)
    return _normal(shape, np.sqrt(1.0 / fan_in), rng, dtype)


def orthogonal(shape, rng=None, dtype=np.float32):
    """A random (semi-)orthogonal matrix of a 2-D ``shape`` (Saxe et al., 2014): its
    singular values are all 1, so ``h @ W`` keeps the norm of h. Recurrent layers start
    their ``Wh`` this way, so that gradients neither explode nor vanish over time at the
    start of training (chapters/11_residual_recurrent.ipynb)."""
    if len(shape) != 2:
        raise ValueError(f"orthogonal needs a 2-D shape, got {tuple(shape)}.")
    a = as_rng(rng).standard_normal((max(shape), min(shape)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # a uniformly distributed orthogonal matrix
    return (q if shape[0] >= shape[1] else q.T).astype(dtype)


xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal

_BY_NAME = {
    "zeros": zeros, "normal": normal,
    "glorot_uniform": glorot_uniform, "glorot_normal": glorot_normal,
    "xavier_uniform": glorot_uniform, "xavier_normal": glorot_normal,
    "he_uniform": he_uniform, "he_normal": he_normal,
    "kaiming_uniform": he_uniform, "kaiming_normal": he_normal,
    "lecun_uniform": lecun_uniform, "lecun_normal": lecun_normal,
}


def get(init, owner="layer"):
    """An initialiser from its name, or a callable ``f(shape, rng, dtype)`` as it is."""
    if callable(init):
        return init
    return _BY_NAME[check_choice(owner, "init", init, tuple(_BY_NAME))]
