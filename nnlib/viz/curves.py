"""Pure plotting functions for functions and their gradients: activations,
softmax, gradient-descent paths, initialisation statistics. Each takes the Axes to draw
on and returns the artists it drew; none creates or shows a figure."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import init as initializers
from ..layers.base import Parameter
from ..optim import SGD, Adam, RMSProp
from ..utils import as_rng
from .style import COLORS, PALETTE

__all__ = ["ACTIVATIONS", "plot_activation", "plot_softmax", "SURFACES",
           "descend", "plot_descent", "depth_statistics", "plot_depth_statistics"]

#: name -> (function, derivative, takes alpha)
ACTIVATIONS = {
    "sigmoid": (F.sigmoid, F.sigmoid_grad, False),
    "tanh": (F.tanh, F.tanh_grad, False),
    "relu": (F.relu, F.relu_grad, False),
    "leaky_relu": (F.leaky_relu, F.leaky_relu_grad, True),
    "elu": (F.elu, F.elu_grad, True),
}


def plot_activation(ax_f, ax_d, name, alpha=0.1, *, lim=5.0, vanish=0.05):
    """An activation (left) and its derivative (right); where |f'| < ``vanish`` the
    derivative axis is shaded: gradients passing through there nearly vanish."""
    fn, grad, takes_alpha = ACTIVATIONS[name]
    x = np.linspace(-lim, lim, 401)
    args = (alpha,) if takes_alpha else ()
    y, dy = fn(x, *args), grad(x, *args)
    label = f"{name}(x)" + (f", alpha={alpha:g}" if takes_alpha else "")
    artists = ax_f.plot(x, y, color=COLORS["blue"], lw=2, label=label)
    artists += ax_d.plot(x, dy, color=COLORS["vermillion"], lw=2, label=f"{name}'(x)")
    small = np.abs(dy) < vanish
    artists.append(ax_d.fill_between(x, 0, 1, where=small, color=COLORS["grey"], alpha=0.25,
                                     transform=ax_d.get_xaxis_transform(),
                                     label=f"|f'(x)| < {vanish:.2g}: gradient vanishes"))
    ax_f.set(title=f"{name}", xlabel="x", ylabel="f(x)")
    ax_d.set(title=f"derivative: |f'| < {vanish:.2g} on {small.mean():.0%} of "
                   f"[{-lim:g}, {lim:g}]", xlabel="x", ylabel="f'(x)")
    for ax in (ax_f, ax_d):
        ax.axhline(0, color="black", lw=0.6)
    ax_f.legend(loc="upper left")
    ax_d.legend(loc="best", fontsize=8)
    return artists


def plot_softmax(ax, logits, temperature=1.0, label=0):
    """Probabilities softmax(z / T) as bars, the true class highlighted, CE in the title."""
    z = np.asarray(logits, dtype=float) / temperature
    p = F.softmax(z[None])[0]
    colors = [COLORS["orange"] if i == label else COLORS["blue"] for i in range(len(p))]
    bars = ax.bar(range(len(p)), p, color=colors)
    for i, v in enumerate(p):
        ax.text(i, v + 0.02, f"{v:.2f}", ha="center")
    ce = -F.log_softmax(z[None])[0, label]
    ax.set(ylim=(0, 1.1), xlabel="class", ylabel="probability", xticks=range(len(p)),
           title=f"softmax(z / {temperature:g}): cross-entropy for class {label} = {ce:.3f}")
    return list(bars)


# ------------------------------------------------------------------- gradient descent

def _quadratic(cond):
    return (lambda w: 0.5 * (w[0] ** 2 + cond * w[1] ** 2),
            lambda w: np.array([w[0], cond * w[1]]))


SURFACES = {
    "quadratic": lambda cond=10.0: (*_quadratic(cond), (-4.0, 4.0, -3.0, 3.0), (-3.5, 2.5)),
    "rosenbrock": lambda cond=None: (
        lambda w: (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2,
        lambda w: np.array([-2 * (1 - w[0]) - 400 * w[0] * (w[1] - w[0] ** 2),
                            200 * (w[1] - w[0] ** 2)]),
        (-2.0, 2.0, -1.0, 3.0), (-1.5, 2.5)),
    "saddle": lambda cond=None: (
        lambda w: w[0] ** 2 - w[1] ** 2,
        lambda w: np.array([2 * w[0], -2 * w[1]]),
        (-3.0, 3.0, -3.0, 3.0), (-2.5, 1e-3)),
}

#: name -> factory(params, lr) of the nnlib optimizer drawn under that name
OPTIMIZERS = {"SGD": lambda p, lr: SGD(p, lr),
              "momentum": lambda p, lr: SGD(p, lr, momentum=0.9),
              "Nesterov": lambda p, lr: SGD(p, lr, momentum=0.9, nesterov=True),
              "RMSProp": lambda p, lr: RMSProp(p, lr),
              "Adam": lambda p, lr: Adam(p, lr)}

_OPTIMIZER_COLORS = dict(zip(OPTIMIZERS, PALETTE, strict=False))


def descend(surface, optimizer, lr, steps, cond=10.0):
    """The path (k + 1, 2) of an nnlib optimizer on a 2-D surface, k <= ``steps``: the
    path stops early (k < steps) where it diverges (|w| > 1e6 or not finite)."""
    f, grad, _, start = SURFACES[surface](cond)
    w = Parameter(np.array(start, dtype=np.float64))
    opt = OPTIMIZERS[optimizer]({"w": w}, lr)
    path = [w.data.copy()]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            opt.zero_grad()
            w.grad += grad(w.data)
            opt.step()
            if not np.all(np.isfinite(w.data)) or np.abs(w.data).max() > 1e6:
                break  # diverged: stop the path where it leaves the picture
            path.append(w.data.copy())
    return np.array(path)


def plot_descent(ax, surface="quadratic", optimizers=("SGD", "momentum", "RMSProp", "Adam"),
                 lr=0.05, steps=50, cond=10.0, *, ax_loss=None):
    """Contours of a 2-D loss surface and each optimizer's path from the same start (the
    star); with ``ax_loss``, also the loss along each path against the step (log scale
    where the surface is bounded below by 0). A path that diverges is cut where it
    leaves the picture and its legend entry says at which step."""
    f, _, (x0, x1, y0, y1), start = SURFACES[surface](cond)
    gx, gy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    z = f(np.stack([gx, gy]))
    levels = np.quantile(z, np.linspace(0.01, 0.95, 20)) if surface != "saddle" else 20
    artists = [ax.contour(gx, gy, z, levels=levels, cmap="Greys", linewidths=0.6)]
    for name in optimizers:
        path = descend(surface, name, lr, steps, cond)
        color = _OPTIMIZER_COLORS.get(name, COLORS["grey"])
        taken = len(path) - 1
        label = (f"{name}: diverged at step {taken + 1}" if taken < steps
                 else f"{name}: f = {f(path[-1]):.3g}")
        artists += ax.plot(path[:, 0], path[:, 1], "-o", ms=2.5, lw=1.4, color=color,
                           label=label)
        if ax_loss is not None:
            values = np.array([f(w) for w in path])
            artists += ax_loss.plot(np.arange(len(path)), values, color=color, lw=1.6,
                                    label=name)
    artists += ax.plot(*start, "k*", ms=10)
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="w1", ylabel="w2",
           title=f"{surface}" + (f" (conditioning {cond:g})" if surface == "quadratic" else "")
           + f", lr = {lr:g}, {steps} steps")
    if optimizers:
        ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    if ax_loss is not None:
        bounded = surface != "saddle"  # the saddle's f is unbounded below
        if bounded:
            ax_loss.set_yscale("log")
        ax_loss.set(xlim=(0, max(steps, 1)), xlabel="step",
                    ylabel="f(w)" + (" (log scale)" if bounded else ""),
                    title="loss along each path")
        if optimizers:
            ax_loss.legend(fontsize=8)
    return artists


# ------------------------------------------------------------------- init and depth

def depth_statistics(init="he_normal", activation="relu", depth=8, width=256, n=512, rng=0):
    """Forward a random batch through ``depth`` Dense layers and backpropagate a random
    gradient; returns per-layer activations and input gradients (lists of arrays)."""
    rng = as_rng(rng)
    fn, grad, takes_alpha = ACTIVATIONS[activation]
    args = (0.1,) if takes_alpha else ()
    weights = [initializers.get(init)((width, width), rng, np.float64) for _ in range(depth)]
    x = rng.standard_normal((n, width))
    acts, pres = [], []
    for W in weights:
        pre = x @ W
        x = fn(pre, *args)
        pres.append(pre)
        acts.append(x)
    g = rng.standard_normal(x.shape)
    grads = []
    for W, pre in zip(reversed(weights), reversed(pres), strict=True):
        g = (g * grad(pre, *args)) @ W.T
        grads.append(g)
    return acts, grads[::-1]


def plot_depth_statistics(ax_act, ax_grad, acts, grads):
    """Histograms per layer (one colour per layer, deeper = darker) of activations and
    of gradients: shrinking histograms are vanishing signals, spreading ones exploding."""
    artists = []
    cmap = __import__("matplotlib").colormaps["viridis"]
    depth = len(acts)
    for i, (a, g) in enumerate(zip(acts, grads, strict=True)):
        color = cmap(1 - i / max(depth - 1, 1))
        for ax, values in ((ax_act, a), (ax_grad, g)):
            v = values.ravel()
            lim = np.quantile(np.abs(v), 0.99) or 1.0
            hist, edges = np.histogram(v, bins=60, range=(-lim, lim), density=True)
            artists += ax.plot((edges[:-1] + edges[1:]) / 2, hist, color=color, lw=1.2,
                               label=f"layer {i + 1}: std {v.std():.2g}")
    ax_act.set(title="activations per layer", xlabel="value", ylabel="density")
    ax_grad.set(title="gradients per layer", xlabel="value", ylabel="density")
    for ax in (ax_act, ax_grad):
        ax.legend(fontsize=7, ncols=2)
    return artists
