"""Gradient checking: compare analytic gradients with central differences in float64.

The central difference (f(x + h) - f(x - h)) / 2h has error O(h^2); with h = 1e-6 in
float64 a correct gradient agrees to about 1e-8 relative error, a wrong one rarely
better than 1e-2. In float32 the rounding error of f swamps the difference: always check
in float64. Pitfalls (kinks such as ReLU at 0) are discussed in
chapters/06_backpropagation.ipynb.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from .layers.base import Layer
from .utils import relative_error

__all__ = ["numerical_gradient", "rel_error", "check_layer", "GradCheckReport"]


def numerical_gradient(f, x, df=None, eps=1e-6):
    """Central-difference gradient of ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x)`` returning a float, or (with ``df``) an array.
        ``x`` is perturbed in place and restored, so ``f`` may close over it.
    x : ndarray, float64
    df : ndarray or None
        Upstream gradient of the array ``f`` returns: the result is the gradient of
        ``sum(f(x) * df)``, a vector-Jacobian product.
    eps : float, the step h

    Returns
    -------
    ndarray, same shape as ``x``
    """
    grad = np.zeros_like(x, dtype=np.float64)
    flat = x.reshape(-1)  # a view: writing to it perturbs x
    if not np.shares_memory(flat, x):
        raise ValueError("numerical_gradient needs a contiguous x it can perturb in place; "
                         "pass np.ascontiguousarray(x).")

    def value():
        out = f(x)
        return float(np.sum(out * df)) if df is not None else float(out)

    gflat = grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = value()
        flat[i] = old - eps
        minus = value()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def rel_error(a, b):
    """Largest elementwise relative error max |a - b| / max(1e-8, |a| + |b|).

    NaN anywhere gives inf, so ``rel_error(...) < tol`` is False for NaN.
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs arrays of one shape, got {a.shape} and {b.shape}.")
    if a.size == 0:
        return 0.0
    err = relative_error(a, b)
    return float(np.inf) if np.isnan(err).any() else float(err.max())


@dataclass
class GradCheckReport:
    """Per-gradient relative errors of a ``check_layer`` run; ``passed`` if all < ``tol``."""

    layer: str
    tol: float
    errors: dict = field(default_factory=dict)  # name -> (rel_error, worst index)

    @property
    def passed(self):
        return all(err < self.tol for err, _ in self.errors.values())

    @property
    def worst(self):
        """(name, rel_error, index) of the worst gradient element."""
        name = max(self.errors, key=lambda k: self.errors[k][0])
        return (name, *self.errors[name])

    def __str__(self):
        lines = [f"gradient check of {self.layer} (float64, tol {self.tol:g}):"]
        for name, (err, where) in self.errors.items():
            mark = "ok " if err < self.tol else "BAD"
            lines.append(f"  {mark} d{name:<8} rel error {err:.2e}  worst at {where}")
        return "\n".join(lines)

    __repr__ = __str__


def _worst(analytic, numeric):
    """(largest relative error, its index); NaN counts as infinitely wrong."""
    err = relative_error(analytic, numeric)
    if np.isnan(err).any():
        return float("inf"), tuple(int(i) for i in np.argwhere(np.isnan(err))[0])
    idx = np.unravel_index(np.argmax(err), err.shape)
    return float(err[idx]), tuple(int(i) for i in idx)


def check_layer(layer, x, *, eps=1e-6, tol=1e-6, seed=0):
    """Check ``layer.backward`` against central differences, for dx and every parameter.

    The layer is copied and cast to float64 first (the original is untouched). A random
    upstream gradient ``dout`` (seeded) makes the check a vector-Jacobian product. The
    layer must be deterministic in its current mode (put Dropout in eval mode).

    Parameters
    ----------
    layer : Layer
    x : ndarray (N, ...), or a list of them for a layer with ``multi_input``
        (``Add``, ``Concatenate``, ...): then each input is checked, as ``x0``, ``x1``...

    Returns
    -------
    GradCheckReport -- ``print`` it to see the worst element of each gradient.
    """
    if not isinstance(layer, Layer):
        raise TypeError(f"check_layer expects a Layer, got {type(layer).__name__}.")
    if layer.multi_input != isinstance(x, (list, tuple)):
        raise TypeError(f"check_layer: {layer!r} takes "
                        f"{'a list of arrays' if layer.multi_input else 'one array'}, got "
                        f"{'a list' if isinstance(x, (list, tuple)) else 'one array'}.")
    layer = copy.deepcopy(layer).astype(np.float64)
    # private float64 copies the check may perturb
    xs = [np.array(v, dtype=np.float64) for v in (x if layer.multi_input else [x])]

    def run(_):
        return layer.forward(xs if layer.multi_input else xs[0])

    out = run(None)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    layer.zero_grad()
    dx = layer.backward(dout)
    report = GradCheckReport(repr(layer), tol)
    if layer.multi_input:
        for i, (v, g) in enumerate(zip(xs, dx, strict=True)):
            report.errors[f"x{i}"] = _worst(g, numerical_gradient(run, v, dout, eps))
    else:
        report.errors["x"] = _worst(dx, numerical_gradient(run, xs[0], dout, eps))
    for name, p in layer.parameters().items():
        analytic = p.grad.copy()
        report.errors[name] = _worst(analytic, numerical_gradient(run, p.data, dout, eps))
    return report
