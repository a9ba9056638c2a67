"""Synthetic data sets made on the fly from a seed: no files, no network.

Every function takes ``n`` (samples per class for classification sets, total samples
otherwise), ``noise`` and ``rng`` (None, an int seed or a Generator), and returns
float32 inputs with integer labels (classification) or float32 targets (regression).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_float, check_int
from ..utils import as_rng

__all__ = ["spirals", "moons", "circles", "xor", "blobs", "sine", "adding_problem",
           "sine_sequences"]


def spirals(n=100, k=3, *, noise=0.2, rng=None):
    """``k`` interleaved spiral arms in 2-D (the CS231n toy set).

    Returns
    -------
    x : ndarray of shape (n k, 2), float32, radius <= 1
    y : ndarray of shape (n k,), int64, labels 0 .. k-1
    """
    n = check_int("spirals", "n", n, low=1)
    k = check_int("spirals", "k", k, low=2)
    noise = check_float("spirals", "noise", noise, low=0)
    rng = as_rng(rng)
    r = np.tile(np.linspace(0.0, 1.0, n), k)                       # (n k,)
    y = np.repeat(np.arange(k), n)                                  # (n k,)
    theta = (np.tile(np.linspace(0.0, 4.0, n), k) + y * 4.0
             + rng.standard_normal(n * k) * noise)
    x = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)    # (n k, 2)
    return x.astype(np.float32), y.astype(np.int64)


def moons(n=100, *, noise=0.1, rng=None):
    """Two interleaving half circles; ``n`` samples per class.

    Returns x ``(2n, 2)`` float32 and y ``(2n,)`` int64.
    """
    n = check_int("moons", "n", n, low=1)
    noise = check_float("moons", "noise", noise, low=0)
    rng = as_rng(rng)
    t = np.linspace(0.0, np.pi, n)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    x = np.concatenate([upper, lower]) + rng.standard_normal((2 * n, 2)) * noise
    y = np.repeat([0, 1], n)
    return x.astype(np.float32), y.astype(np.int64)


def circles(n=100, *, noise=0.05, factor=0.5, rng=None):
    """A small circle (label 1) inside a large one (label 0); ``n`` samples per class.

    ``factor`` in (0, 1) is the inner radius. Returns x ``(2n, 2)`` and y ``(2n,)``.
    """
    n = check_int("circles", "n", n, low=1)
    noise = check_float("circles", "noise", noise, low=0)
    factor = check_float("circles", "factor", factor, low=0, high=1, low_open=True,
                         high_open=True)
    rng = as_rng(rng)
    t = rng.uniform(0, 2 * np.pi, 2 * n)
    radius = np.repeat([1.0, factor], n)
    x = np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1)
    x += rng.standard_normal((2 * n, 2)) * noise
    return x.astype(np.float32), np.repeat([0, 1], n).astype(np.int64)


def xor(n=100, *, noise=0.1, rng=None):
    """The XOR problem: four clusters at (+-1, +-1), label 1 where the signs differ.

    ``n`` samples per cluster. Returns x ``(4n, 2)`` and y ``(4n,)``.
    """
    n = check_int("xor", "n", n, low=1)
    noise = check_float("xor", "noise", noise, low=0)
    rng = as_rng(rng)
    corners = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=np.float64)
    x = np.repeat(corners, n, axis=0) + rng.standard_normal((4 * n, 2)) * noise
    y = np.repeat([0, 1, 1, 0], n)
    return x.astype(np.float32), y.astype(np.int64)


def blobs(n=100, k=3, *, dim=2, spread=1.0, rng=None):
    """``k`` Gaussian clusters with centres drawn uniformly in [-5, 5]^dim.

    Returns x ``(n k, dim)`` and y ``(n k,)``.
    """
    n = check_int("blobs", "n", n, low=1)
    k = check_int("blobs", "k", k, low=1)
    dim = check_int("blobs", "dim", dim, low=1)
    spread = check_float("blobs", "spread", spread, low=0)
    rng = as_rng(rng)
    centres = rng.uniform(-5, 5, size=(k, dim))
    y = np.repeat(np.arange(k), n)
    x = centres[y] + rng.standard_normal((n * k, dim)) * spread
    return x.astype(np.float32), y.astype(np.int64)


def sine(n=200, *, noise=0.1, rng=None):
    """Noisy regression target y = sin(x) + noise on x uniform in [-pi, pi].

    Returns x ``(n, 1)`` and y ``(n, 1)``, both float32 (rows are samples).
    """
    n = check_int("sine", "n", n, low=1)
    noise = check_float("sine", "noise", noise, low=0)
    rng = as_rng(rng)
    x = np.sort(rng.uniform(-np.pi, np.pi, n))[:, None]
    y = np.sin(x) + rng.standard_normal((n, 1)) * noise
    return x.astype(np.float32), y.astype(np.float32)


def adding_problem(n=1000, t=20, *, rng=None):
    """The adding problem (Hochreiter & Schmidhuber, 1997): each step carries a random
    value in [0, 1) and a marker; exactly two steps are marked, and the target is the
    sum of their values. Predicting the constant 1 gives MSE ~ 1/6: a model has to
    remember across time to beat it.

    Returns
    -------
    x : ndarray of shape (n, t, 2), float32, channels (value, marker)
    y : ndarray of shape (n, 1), float32
    """
    n = check_int("adding_problem", "n", n, low=1)
    t = check_int("adding_problem", "t", t, low=2)
    rng = as_rng(rng)
    values = rng.random((n, t))
    first = rng.integers(0, t // 2, n)
    second = rng.integers(t // 2, t, n)
    markers = np.zeros((n, t))
    markers[np.arange(n), first] = 1
    markers[np.arange(n), second] = 1
    x = np.stack([values, markers], axis=2)                         # (n, t, 2)
    y = (values[np.arange(n), first] + values[np.arange(n), second])[:, None]
    return x.astype(np.float32), y.astype(np.float32)


def sine_sequences(n=500, t=30, *, noise=0.0, rng=None):
    """Sine continuation: windows of sin with random phase and frequency; the target is
    the next value after the window.

    Returns x ``(n, t, 1)`` and y ``(n, 1)``, float32.
    """
    n = check_int("sine_sequences", "n", n, low=1)
    t = check_int("sine_sequences", "t", t, low=2)
    noise = check_float("sine_sequences", "noise", noise, low=0)
    rng = as_rng(rng)
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    freq = rng.uniform(0.1, 0.3, (n, 1))
    steps = np.arange(t + 1)[None, :]
    wave = np.sin(phase + freq * steps) + rng.standard_normal((n, t + 1)) * noise
    return wave[:, :t, None].astype(np.float32), wave[:, t:].astype(np.float32)
