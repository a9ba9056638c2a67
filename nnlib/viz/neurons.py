"""Pictures for chapters/02_neurons_dense_layers.ipynb: one neuron over the plane, and
what an initialiser does to the signal as it passes through many layers.

``plot_neuron`` / ``neuron_explorer`` draw f(w . x + b) for a 2-input neuron.
``layer_profile`` pushes a batch through a deep MLP and backpropagates a gradient;
``plot_layer_profile`` draws the standard deviation per layer (log scale) and the
distribution of values per layer; ``init_grid`` and ``plot_init_grid`` sum it up for
every initialiser x activation. The interactive view is ``widgets.init_explorer``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LogNorm

from .. import init as initializers
from .curves import ACTIVATIONS, depth_statistics
from .style import CMAP, COLORS
from .view import View, _slider, _widgets

__all__ = ["INITS", "plot_neuron", "neuron_explorer", "layer_profile", "plot_layer_profile",
           "init_grid", "plot_init_grid"]

#: the initialisers the views offer (aliases such as xavier_* left out: same functions)
INITS = ("zeros", "normal", "lecun_uniform", "lecun_normal", "glorot_uniform",
         "glorot_normal", "he_uniform", "he_normal")

#: colour range of each activation's output on the neuron plot (None: from the data)
_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def plot_neuron(ax, w1, w2, b, activation="sigmoid", *, lim=3.0, alpha=0.1):
    """The output f(w1 x1 + w2 x2 + b) of one neuron over the square [-lim, lim]^2, the
    line w . x + b = 0 where the pre-activation changes sign, and the weight vector w
    (perpendicular to that line, pointing to where the output grows).

    The colour scale is the activation's full range for sigmoid (0..1) and tanh (-1..1);
    for the unbounded ones it spans the values drawn (the colour bar says which).
    """
    fn, _, takes_alpha = ACTIVATIONS[activation]
    grid = np.linspace(-lim, lim, 121)
    x1, x2 = np.meshgrid(grid, grid)
    z = w1 * x1 + w2 * x2 + b
    y = fn(z, *((alpha,) if takes_alpha else ()))
    vmin, vmax = _RANGES.get(activation, (float(y.min()), float(max(y.max(), y.min() + 1e-9))))
    image = ax.imshow(y, extent=(-lim, lim, -lim, lim), origin="lower", cmap=CMAP,
                      vmin=vmin, vmax=vmax)
    artists = [image]
    colorbar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label(f"{activation}(w·x + b)"
                       + ("" if activation in _RANGES else " (range of this plot)"))
    norm = np.hypot(w1, w2)
    if norm > 1e-12:
        if z.min() < 0 < z.max():                          # the line crosses the square
            artists.append(ax.contour(x1, x2, z, levels=[0.0], colors="white", linewidths=2))
        foot = -b / norm ** 2 * np.array([w1, w2])        # the point of the line nearest 0
        scale = min(1.0, 0.8 * lim / norm)
        artists.append(ax.annotate("", xy=foot + scale * np.array([w1, w2]), xytext=foot,
                                   arrowprops={"arrowstyle": "->", "color": COLORS["orange"],
                                               "lw": 2}))
        artists.append(ax.text(*(foot + scale * np.array([w1, w2]) * 1.08), "w",
                               color=COLORS["orange"], fontsize=12, fontweight="bold"))
    else:
        artists.append(ax.text(0, 0, "w = 0: the output is the constant f(b)", ha="center",
                               color="white"))
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="input x1", ylabel="input x2",
           title=f"w = ({w1:g}, {w2:g}), b = {b:g}: white line w·x + b = 0")
    return artists


def neuron_explorer(w1=1.5, w2=-1.0, b=0.5, activation="sigmoid"):
    """Sliders for the two weights and the bias of one neuron, and its activation."""
    w = _widgets()
    controls = {"w1": _slider(w, w1, -4, 4, 0.1, "w1"), "w2": _slider(w, w2, -4, 4, 0.1, "w2"),
                "b": _slider(w, b, -4, 4, 0.1, "b"),
                "activation": w.Dropdown(options=list(ACTIVATIONS), value=activation,
                                         description="activation",
                                         style={"description_width": "initial"})}
    return View(lambda fig, ax, w1, w2, b, activation: plot_neuron(ax, w1, w2, b, activation),
                controls, width=6.5, height=5, title="One neuron: f(w·x + b)")


# ------------------------------------------------------------------ signal through depth

def _initializer(init, std):
    if init == "normal":
        return lambda shape, rng, dtype: initializers.normal(shape, rng, dtype, std=std)
    return init


def layer_profile(init="he_normal", activation="relu", depth=10, *, width=256, n=256,
                  std=0.01, rng=0):
    """Push a standard-normal batch ``(n, width)`` through ``depth`` Dense layers of
    ``width`` units (zero biases, float64) and backpropagate a standard-normal gradient.

    ``std`` is the weight std of the ``"normal"`` initialiser (ignored by the others,
    whose scale comes from the fans).

    Returns
    -------
    acts, grads : lists of ``depth`` arrays of shape (n, width): each layer's output and
    the gradient with respect to each layer's input.
    """
    return depth_statistics(_initializer(init, std), activation, depth, width, n, rng)


def _stds(values):
    return np.array([float(v.std()) for v in values])


def _value_map(ax, values, title, *, bins=61):
    """Per layer (rows) the fraction of its values in each bin (columns), on a log colour
    scale so that a spike (ReLU's exact zeros) and a spread both show. The value axis
    is shared by all layers, so growth and collapse show as widening and narrowing."""
    flat = [v.ravel() for v in values]
    lo = min(float(np.quantile(v, 0.005)) for v in flat)
    hi = max(float(np.quantile(v, 0.995)) for v in flat)
    if hi - lo < 1e-300:
        lo, hi = lo - 1.0, hi + 1.0
    counts = np.stack([np.histogram(np.clip(v, lo, hi), bins=bins, range=(lo, hi))[0]
                       for v in flat]).astype(float)
    fraction = counts / counts.sum(axis=1, keepdims=True)
    image = ax.imshow(np.clip(fraction, 1e-4, 1), aspect="auto", cmap=CMAP,
                      interpolation="nearest", norm=LogNorm(vmin=1e-4, vmax=1),
                      extent=(lo, hi, len(values) + 0.5, 0.5))
    ax.set(title=title, xlabel="value (axis shared by all layers; 1% tails clipped)",
           ylabel="layer")
    return image


def plot_layer_profile(ax_std, ax_act, ax_grad, acts, grads, *, label=None):
    """Left: std of each layer's activations and of the gradient reaching each layer's
    input, on a log scale; the grey line is 1, the std of the input batch and of the
    gradient fed in at the top. An std of exactly 0 is drawn as an x on the bottom edge.
    Middle and right: the distribution of activations and of gradients per layer (colour:
    fraction of the layer's values per bin, log scale). ``label`` (e.g. the initialiser)
    opens the left title.

    Returns the artists drawn.
    """
    depth = len(acts)
    layers = np.arange(1, depth + 1)
    a_std, g_std = _stds(acts), _stds(grads)
    both = np.concatenate([a_std, g_std])
    nonzero = both[both > 0]
    low = min(nonzero.min(), 0.1) / 10 if nonzero.size else 1e-2
    high = max(both.max(), 10.0) * 3
    artists = []
    for stds, style, color, what in ((a_std, "-o", COLORS["blue"], "activations"),
                                     (g_std, "--s", COLORS["vermillion"], "gradients")):
        artists += ax_std.plot(layers, np.where(stds > 0, stds, low), style, color=color,
                               ms=4, label=what)
        zero = stds == 0
        if zero.any():
            artists += ax_std.plot(layers[zero], np.full(zero.sum(), low), "x", color=color,
                                   ms=10, mew=2, clip_on=False, label=f"{what}: exactly 0")
    ax_std.axhline(1.0, color=COLORS["grey"], lw=1, label="1 = input scale")
    ax_std.set_yscale("log")
    ax_std.set_ylim(low, high)
    summary = (f"std: activations of layer {depth} {a_std[-1]:.2g}, gradient at layer 1 "
               f"{g_std[0]:.2g}")
    ax_std.set(xlabel="layer", ylabel="standard deviation (log scale)",
               title=summary if label is None else f"{label}\n{summary}")
    ax_std.title.set_fontsize(10)
    ax_std.legend(fontsize=8, loc="best")
    artists.append(_value_map(ax_act, acts, "activations per layer"))
    artists.append(_value_map(ax_grad, grads, "gradients per layer (w.r.t. layer input)"))
    for ax in (ax_act, ax_grad):
        ax.grid(False)
        ax.title.set_fontsize(10)
    return artists


def init_grid(depth=20, *, inits=INITS[1:], activations=tuple(ACTIVATIONS), width=128, n=128,
              std=0.01, rng=0):
    """For every initialiser x activation, the std of the last layer's activations and of
    the gradient at the first layer (input std and top gradient std are both 1).

    Returns
    -------
    act_std, grad_std : arrays of shape (len(inits), len(activations))
    """
    act_std = np.zeros((len(inits), len(activations)))
    grad_std = np.zeros_like(act_std)
    for i, init in enumerate(inits):
        for j, activation in enumerate(activations):
            acts, grads = layer_profile(init, activation, depth, width=width, n=n, std=std,
                                        rng=rng)
            act_std[i, j], grad_std[i, j] = acts[-1].std(), grads[0].std()
    return act_std, grad_std


def plot_init_grid(ax, values, inits, activations, title, *, floor=1e-12):
    """A table coloured on a log scale: 1 (the input's scale) in the middle colour,
    collapse dark, explosion bright; every cell written out."""
    shown = np.clip(values, floor, None)
    image = ax.imshow(shown, cmap="RdBu_r", norm=LogNorm(vmin=1e-6, vmax=1e6), aspect="auto")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            ax.text(j, i, "0" if v == 0 else f"{v:.2g}", ha="center", va="center", fontsize=8,
                    color="white" if abs(np.log10(max(v, floor))) > 3 else "black")
    ax.set_xticks(range(len(activations)), activations, fontsize=9)
    ax.set_yticks(range(len(inits)), inits, fontsize=9)
    ax.set(title=title, xlabel="activation")
    ax.grid(False)
    colorbar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label("std (log scale, clipped to 1e-6 .. 1e6)")
    return [image]
