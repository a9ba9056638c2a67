"""Optimizers: ``opt = SGD(model.parameters(), lr=0.1)``, then ``opt.step()`` after each
backward and ``opt.zero_grad()`` before the next. Update rules follow PyTorch, derived in
chapters/07_training.ipynb, "3 · Momentum", "4 · RMSProp: a learning rate per weight" and
"5 · Adam and its bias correction" (weight decay: chapters/08_generalization.ipynb,
"3 · L2 regularisation and weight decay"):

- weight decay is added to the gradient first: g = grad + weight_decay * w;
- SGD momentum: v = momentum * v + g, w -= lr * v (Nesterov: w -= lr * (g + momentum * v));
- RMSProp: s = rho * s + (1 - rho) g^2, w -= lr * g / (sqrt(s) + eps);
- Adam: m, v moving averages of g and g^2, bias-corrected, w -= lr m_hat / (sqrt(v_hat) + eps).

eps is always *outside* the square root. Parameters are updated in place, and the
state of each optimizer (velocity, moments) is allocated once per parameter. A step
still makes a few temporaries the size of a parameter (``lr * v``, ``g * g``,
``sqrt(v)``): small next to the forward and backward passes.
"""

from __future__ import annotations

import math

import numpy as np

from ._validation import check_float, reject_unknown_kwargs
from .layers.base import Parameter

__all__ = ["Optimizer", "SGD", "RMSProp", "Adam", "clip_grad_norm"]


def clip_grad_norm(parameters, max_norm):
    """Rescale all gradients together so their global L2 norm is at most ``max_norm``.

    The direction of the update is kept; only its length is capped. The standard cure
    for exploding gradients in recurrent networks (chapters/11_residual_recurrent.ipynb,
    "Clipping the explosion").

    Parameters
    ----------
    parameters : dict[str, Parameter] (``model.parameters()``) or iterable of Parameter
    max_norm : float > 0

    Returns
    -------
    float, the global norm *before* clipping
    """
    max_norm = check_float("clip_grad_norm", "max_norm", max_norm, low=0, low_open=True)
    params = list(parameters.values() if isinstance(parameters, dict) else parameters)
    total = math.sqrt(sum(float(np.vdot(p.grad, p.grad)) for p in params))
    if not math.isfinite(total):
        raise FloatingPointError(f"clip_grad_norm found a gradient norm of {total}: a NaN or "
                                 f"inf gradient cannot be clipped. Lower the learning rate.")
    if total > max_norm:
        scale = max_norm / (total + 1e-6)
        for p in params:
            p.grad *= scale
    return total


class Optimizer:
    """Base class: holds the parameters and the learning rate; subclasses define
    ``_update``. An optimizer sees only ``parameters()``: buffers are never stepped."""

    def __init__(self, params, lr, weight_decay=0.0):
        name = type(self).__name__
        if not isinstance(params, dict) or not all(isinstance(p, Parameter)
                                                   for p in params.values()):
            raise TypeError(f"{name} expected a dict of Parameters as returned by "
                            f"model.parameters(), got {type(params).__name__}. "
                            f"Try {name}(model.parameters(), lr=...).")
        if not params:
            raise ValueError(f"{name} got no parameters to optimize. Build it from "
                             f"model.parameters() of a model that has trainable layers.")
        seen = {}
        for key, p in params.items():
            if id(p) in seen:
                raise ValueError(
                    f"{name} got the same Parameter twice, as {seen[id(p)]!r} and {key!r}: "
                    f"each step would update it twice. Pass each parameter once "
                    f"(model.parameters() lists a shared layer once; when merging the "
                    f"parameters of two models that share a layer, drop the repeats).")
            seen[id(p)] = key
        self.params = params
        self.lr = check_float(name, "lr", lr, low=0, low_open=True)
        self.weight_decay = check_float(name, "weight_decay", weight_decay, low=0)
        self.t = 0  # number of steps taken
        self._scratch = {k: np.empty_like(p.data) for k, p in params.items()}

    def zero_grad(self):
        for p in self.params.values():
            p.zero_grad()

    def state(self) -> dict[str, dict[str, np.ndarray]]:
        """The per-parameter arrays this optimizer keeps, by name (``{"m": {...},
        "v": {...}}`` for Adam); each follows its parameter's dtype."""
        return {}

    def step(self):
        """Apply one update to every parameter from its current ``.grad``."""
        self.t += 1
        for key, p in self.params.items():
            if self._scratch[key].dtype != p.data.dtype:  # model.astype(...) since the last step
                self._follow_dtype(key, p.data.dtype)
            g = p.grad
            if self.weight_decay:
                g = np.add(g, self.weight_decay * p.data, out=self._scratch[key])
            self._update(key, p, g)

    def _follow_dtype(self, key, dtype):
        """Cast the state of one parameter to its new dtype, values kept: after
        ``model.astype(np.float64)`` the moments are float64 too, not float32 arrays that
        NumPy would silently round every update into."""
        self._scratch[key] = np.empty_like(self._scratch[key], dtype=dtype)
        for arrays in self.state().values():
            if key in arrays:
                arrays[key] = arrays[key].astype(dtype)

    def _update(self, key, p, g):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum and weight decay.

    Parameters
    ----------
    params : dict[str, Parameter], from ``model.parameters()``
    lr : float > 0
    momentum : float in [0, 1)
    nesterov : bool, requires momentum > 0
    weight_decay : float >= 0, L2 penalty coefficient added to the gradient
    """

    @reject_unknown_kwargs
    def __init__(self, params, lr, *, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.momentum = check_float("SGD", "momentum", momentum, low=0, high=1, high_open=True)
        if nesterov and self.momentum == 0:
            raise ValueError("The 'nesterov' parameter of SGD needs momentum > 0. "
                             "Got momentum=0; try SGD(params, lr, momentum=0.9, nesterov=True).")
        self.nesterov = bool(nesterov)
        self.velocity = {k: np.zeros_like(p.data) for k, p in params.items()} \
            if self.momentum else {}

    def state(self):
        return {"velocity": self.velocity}

    def _update(self, key, p, g):
        if not self.momentum:
            p.data -= np.multiply(g, self.lr, out=self._scratch[key])
            return
        v = self.velocity[key]
        v *= self.momentum
        v += g
        if self.nesterov:
            g = np.add(g, self.momentum * v, out=self._scratch[key])
            p.data -= self.lr * g
        else:
            p.data -= self.lr * v

    def __repr__(self):
        return (f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov}, "
                f"weight_decay={self.weight_decay})")


class RMSProp(Optimizer):
    """Divide each step by a running RMS of recent gradients (Hinton, 2012).

    Parameters
    ----------
    params : dict[str, Parameter]
    lr : float > 0
    rho : float in [0, 1), decay of the squared-gradient average
    eps : float > 0, added to sqrt(s) (outside the root, as PyTorch)
    weight_decay : float >= 0
    """

    @reject_unknown_kwargs
    def __init__(self, params, lr, *, rho=0.9, eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.rho = check_float("RMSProp", "rho", rho, low=0, high=1, high_open=True)
        self.eps = check_float("RMSProp", "eps", eps, low=0, low_open=True)
        self.square_avg = {k: np.zeros_like(p.data) for k, p in params.items()}

    def state(self):
        return {"square_avg": self.square_avg}

    def _update(self, key, p, g):
        s = self.square_avg[key]
        s *= self.rho
        s += (1 - self.rho) * g * g
        denom = np.sqrt(s)
        denom += self.eps
        p.data -= self.lr * g / denom


class Adam(Optimizer):
    """Adaptive moment estimation (Kingma & Ba, 2015), with PyTorch's conventions.

    Parameters
    ----------
    params : dict[str, Parameter]
    lr : float > 0, default 1e-3
    beta1, beta2 : float in [0, 1), decay rates of the first and second moments
    eps : float > 0, added to sqrt(v_hat)
    weight_decay : float >= 0, L2 added to the gradient (not AdamW's decoupled decay)
    """

    @reject_unknown_kwargs
    def __init__(self, params, lr=1e-3, *, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.beta1 = check_float("Adam", "beta1", beta1, low=0, high=1, high_open=True)
        self.beta2 = check_float("Adam", "beta2", beta2, low=0, high=1, high_open=True)
        self.eps = check_float("Adam", "eps", eps, low=0, low_open=True)
        self.m = {k: np.zeros_like(p.data) for k, p in params.items()}
        self.v = {k: np.zeros_like(p.data) for k, p in params.items()}

    def state(self):
        return {"m": self.m, "v": self.v}

    def _update(self, key, p, g):
        m, v = self.m[key], self.v[key]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * (g * g)
        bias1 = 1 - self.beta1 ** self.t
        bias2 = 1 - self.beta2 ** self.t
        # w -= lr * (m / bias1) / (sqrt(v / bias2) + eps), with the scalars folded together.
        denom = np.sqrt(v)
        denom *= 1 / math.sqrt(bias2)
        denom += self.eps
        p.data -= (self.lr / bias1) * m / denom

    def __repr__(self):
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps})"
