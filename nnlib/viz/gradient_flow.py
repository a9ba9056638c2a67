"""How gradients travel: through the depth of a plain or a residual MLP, and back through
the time steps of an RNN or an LSTM. Measured with nnlib's own layers (their ``backward``)
in float64, plotted by pure functions, explored with two views. Used in
chapters/11_residual_recurrent.ipynb."""

from __future__ import annotations

import numpy as np

from ..layers import LSTM, RNN, Dense, ReLU, Sigmoid, Tanh
from ..models import Residual, Sequential
from .style import COLORS
from .widgets import View, _widgets

__all__ = ["ACTIVATION_LAYERS", "depth_gradient_norms", "plot_depth_gradients",
           "time_gradient_norms", "plot_time_gradients", "residual_gradient_view",
           "gradient_through_time_view"]

#: activation name -> layer class, for the depth experiment
ACTIVATION_LAYERS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU}


def depth_gradient_norms(depth=30, *, residual=False, activation="sigmoid", scale=1.0,
                         width=64, n=256, rng=0):
    """The gradient norm at the input of every block of a deep MLP, after one backward
    pass of a random loss gradient from the top.

    Each block is ``Dense(width, width)`` (Glorot uniform weights times ``scale``) and the
    activation; a residual block computes ``x + block(x)`` (``nl.Residual``).

    Returns
    -------
    ndarray of shape (depth + 1,): entry l is ||dL/dx_l|| at the input of block l
    (l = 0 is the network's input, l = depth its output).
    """
    rng = np.random.default_rng(rng)
    act = ACTIVATION_LAYERS[activation]
    blocks = []
    for _ in range(depth):
        dense = Dense(width, width, rng=rng, dtype=np.float64)
        dense.W.data *= scale
        blocks.append(Residual(dense, act()) if residual else Sequential(dense, act()))
    x = rng.standard_normal((n, width))
    for block in blocks:
        x = block.forward(x)
    g = rng.standard_normal(x.shape) / np.sqrt(x.size)  # ||g|| ~ 1 at the top
    norms = [np.linalg.norm(g)]
    for block in reversed(blocks):
        g = block.backward(g)
        norms.append(np.linalg.norm(g))
    return np.array(norms[::-1])


def plot_depth_gradients(ax, curves):
    """Gradient norm against depth, log scale. ``curves``: {label: norms (depth + 1,)}."""
    artists = []
    colors = [COLORS["vermillion"], COLORS["blue"], COLORS["orange"], COLORS["green"]]
    for (label, norms), color in zip(curves.items(), colors * 3, strict=False):
        ratio = norms[0] / norms[-1]
        artists += ax.semilogy(np.arange(len(norms)), norms, "-o", ms=3, color=color,
                               label=f"{label}: input / output = {ratio:.2g}")
    ax.set(xlabel="layer l (0 = input of the network)", ylabel="||dL/dx_l|| (log scale)",
           title="gradient norm reaching each layer, backward from the top")
    ax.legend(fontsize=8)
    return artists


def time_gradient_norms(cell="rnn", length=50, *, scale=1.0, forget_bias=1.0, hidden=32,
                        inputs=4, n=16, rng=0):
    """How much a loss on the last hidden state depends on each input step.

    A random ``nl.RNN`` or ``nl.LSTM`` (float64) with its recurrent weights ``Wh`` times
    ``scale`` (and, for the LSTM, the forget-gate bias set to ``forget_bias``) reads
    ``length`` steps of standard normal inputs; the loss is a random linear function of
    ``h_T`` only. Backpropagation through time gives dL/dx_t for every step.

    Returns
    -------
    ndarray of shape (length,): ||dL/dx_t|| averaged over the batch, t = 1..length
    """
    rng = np.random.default_rng(rng)
    layer = (RNN if cell == "rnn" else LSTM)(inputs, hidden, rng=rng, dtype=np.float64)
    layer.Wh.data *= scale
    if cell == "lstm":
        layer.b.data[hidden:2 * hidden] = forget_bias  # gate order i, f, g, o
    hs = layer.forward(rng.standard_normal((n, length, inputs)))
    dout = np.zeros_like(hs)
    dout[:, -1] = rng.standard_normal((n, hidden)) / np.sqrt(hidden)
    return np.linalg.norm(layer.backward(dout), axis=2).mean(axis=0)


def plot_time_gradients(ax, curves):
    """Gradient norm against time step, log scale. ``curves``: {label: norms (T,)}."""
    artists = []
    colors = [COLORS["vermillion"], COLORS["blue"], COLORS["orange"], COLORS["green"]]
    for (label, norms), color in zip(curves.items(), colors * 3, strict=False):
        t = np.arange(1, len(norms) + 1)
        artists += ax.semilogy(t, norms, "-", lw=2, color=color,
                               label=f"{label}: step 1 / step T = {norms[0] / norms[-1]:.2g}")
    ax.set(xlabel="time step t (the loss reads only the last state, at t = T)",
           ylabel="||dL/dx_t|| (log scale)",
           title="how much the loss at the end still depends on step t")
    ax.legend(fontsize=8)
    return artists


def residual_gradient_view(depth=30, activation="sigmoid", scale=1.0):
    """Plain against residual MLP: the gradient norm at every layer, with the depth, the
    activation and the scale of the initial weights."""
    w = _widgets()
    controls = {"depth": w.IntSlider(value=depth, min=2, max=60, description="depth",
                                     continuous_update=False),
                "activation": w.Dropdown(options=list(ACTIVATION_LAYERS), value=activation,
                                         description="activation"),
                "scale": w.FloatLogSlider(value=scale, base=2, min=-3, max=2, step=0.25,
                                          description="weight scale",
                                          continuous_update=False)}

    def draw(fig, ax, depth, activation, scale):
        kw = {"activation": activation, "scale": scale}
        return plot_depth_gradients(ax, {
            "plain": depth_gradient_norms(depth, residual=False, **kw),
            "residual": depth_gradient_norms(depth, residual=True, **kw)})

    return View(draw, controls, width=8, height=4.2, title="Gradients through depth")


def gradient_through_time_view(cell="both", scale=1.0, length=60, forget_bias=1.0):
    """The gradient-norm-through-time view: ||dL/dx_t|| against t for an RNN, an LSTM or
    both, with the scale of the recurrent weights, the sequence length and the LSTM's
    forget-gate bias (disabled when only the RNN is shown)."""
    w = _widgets()
    controls = {"cell": w.ToggleButtons(options=["RNN", "LSTM", "both"], value=cell,
                                        description="cell"),
                "scale": w.FloatSlider(value=scale, min=0.25, max=3.0, step=0.05,
                                       description="Wh scale", continuous_update=False),
                "length": w.IntSlider(value=length, min=5, max=200, step=5,
                                      description="length T", continuous_update=False),
                "forget_bias": w.FloatSlider(value=forget_bias, min=-2.0, max=5.0, step=0.25,
                                             description="forget bias",
                                             continuous_update=False)}

    def draw(fig, ax, cell, scale, length, forget_bias):
        curves = {}
        if cell in ("RNN", "both"):
            curves[f"RNN, Wh x {scale:g}"] = time_gradient_norms("rnn", length, scale=scale)
        if cell in ("LSTM", "both"):
            curves[f"LSTM, Wh x {scale:g}, forget bias {forget_bias:g}"] = time_gradient_norms(
                "lstm", length, scale=scale, forget_bias=forget_bias)
        return plot_time_gradients(ax, curves)

    return View(draw, controls, width=8, height=4.2, title="Gradient norm through time",
                applies={"forget_bias": lambda values: values["cell"] != "RNN"})
