"""The regularisation explorer of chapters/08_generalization.ipynb: a small MLP trained on
a few noisy 2-D points with an L2 penalty (weight decay) and dropout, its decision regions
and its training and validation curves.

Every redraw trains a model (about a second): results are cached, so moving a slider
back is instant.
"""

from __future__ import annotations

import functools

import numpy as np

from ..callbacks import History
from ..data import moons
from ..layers import Dense, Dropout, ReLU
from ..models import Sequential
from ..optim import SGD
from .images import plot_decision_boundary
from .style import COLORS
from .widgets import View, _widgets

__all__ = ["L2_STRENGTHS", "regularization_data", "train_regularized", "plot_regularization",
           "regularization_explorer"]

#: the L2 strengths (weight_decay) the explorer offers, 0 = none
L2_STRENGTHS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


@functools.lru_cache(maxsize=16)
def regularization_data(seed=0, n_train=20, n_val=100, noise=0.3):
    """Two noisy moons: ``n_train`` training and ``n_val`` validation points per class
    (different draws of the same distribution). Returns x, y, x_val, y_val."""
    x, y = moons(n_train, noise=noise, rng=seed)
    x_val, y_val = moons(n_val, noise=noise, rng=10_000 + seed)
    for a in (x, y, x_val, y_val):
        a.flags.writeable = False  # cached: shared by every caller
    return x, y, x_val, y_val


@functools.lru_cache(maxsize=64)
def train_regularized(l2=0.0, dropout=0.0, seed=0, *, hidden=128, epochs=300, lr=0.1):
    """Train 2 -> hidden -> hidden -> 2 (ReLU, dropout ``dropout`` after each hidden
    layer) with full-batch SGD (momentum 0.9, ``weight_decay=l2``) on
    :func:`regularization_data`. The same ``seed`` gives the same data and weights.

    Returns
    -------
    model : Sequential, in eval mode
    history : History with loss, accuracy, val_loss, val_accuracy per epoch
    """
    x, y, x_val, y_val = regularization_data(seed)
    layers = [Dense(2, hidden, init="he_normal", rng=seed), ReLU()]
    if dropout:
        layers.append(Dropout(dropout, rng=seed + 1))
    layers += [Dense(hidden, hidden, init="he_normal", rng=seed + 2), ReLU()]
    if dropout:
        layers.append(Dropout(dropout, rng=seed + 3))
    layers.append(Dense(hidden, 2, rng=seed + 4))
    model = Sequential(*layers)
    history = model.fit(x, y, loss="cross_entropy",
                        optimizer=SGD(model.parameters(), lr, momentum=0.9, weight_decay=l2),
                        epochs=epochs, batch_size=len(x), validation_data=(x_val, y_val),
                        seed=seed, verbose=False)
    model.eval()
    return model, history


def plot_regularization(ax_boundary, ax_curves, model, history, x, y, x_val=None, y_val=None):
    """Left: the decision regions of ``model`` with the training points (validation points
    as small crosses). Right: training and validation loss per epoch (log scale), the
    best validation epoch marked."""
    history = history.history if isinstance(history, History) else history
    both = x if x_val is None else np.concatenate([x, x_val])
    bounds = (both.min(axis=0) - 0.3, both.max(axis=0) + 0.3)
    if x_val is not None:  # under the training points, faint
        colors = [COLORS["blue"] if c == 0 else COLORS["orange"] for c in y_val]
        ax_boundary.scatter(x_val[:, 0], x_val[:, 1], c=colors, marker="x", s=10,
                            linewidths=0.7, alpha=0.5)
    artists = plot_decision_boundary(ax_boundary, model.predict, x, y, resolution=120,
                                     bounds=bounds, size=36)
    artists[-1].set(edgecolors="black", linewidths=0.8, zorder=3)
    title = f"train accuracy {history['accuracy'][-1]:.0%}"
    if x_val is not None:
        title += f", validation {history['val_accuracy'][-1]:.0%} (crosses)"
    ax_boundary.set_title(title)
    epochs = np.arange(1, len(history["loss"]) + 1)
    artists += ax_curves.semilogy(epochs, history["loss"], color=COLORS["blue"],
                                  label="training loss")
    if history.get("val_loss"):
        val = np.asarray(history["val_loss"])
        best = int(np.argmin(val))
        artists += ax_curves.semilogy(epochs, val, color=COLORS["orange"],
                                      label="validation loss")
        artists += ax_curves.plot(best + 1, val[best], "*", color=COLORS["vermillion"], ms=10,
                                  label=f"best validation: epoch {best + 1}, {val[best]:.3f}")
        ax_curves.set_title(f"loss: final training {history['loss'][-1]:.3f}, "
                            f"validation {val[-1]:.3f}")
    else:
        ax_curves.set_title("training loss")
    ax_curves.set(xlabel="epoch", ylabel="cross-entropy (log scale)")
    ax_curves.legend(fontsize=8, loc="best")
    return artists


def regularization_explorer(l2=0.0, dropout=0.0, seed=0):
    """L2 strength and dropout rate -> the decision regions and the loss curves of a small
    MLP trained on 40 noisy points; "data sample" draws another training set (and
    initial weights) from the same distribution."""
    w = _widgets()
    controls = {
        "l2": w.SelectionSlider(options=[(f"{v:g}", v) for v in L2_STRENGTHS], value=l2,
                                description="L2 (decay)", continuous_update=False),
        "dropout": w.FloatSlider(value=dropout, min=0.0, max=0.8, step=0.1,
                                 description="dropout p", continuous_update=False,
                                 readout_format=".1f"),
        "seed": w.IntSlider(value=seed, min=0, max=9, description="data sample",
                            continuous_update=False),
    }

    def draw(fig, axes, l2, dropout, seed):
        model, history = train_regularized(float(l2), round(float(dropout), 2), int(seed))
        x, y, x_val, y_val = regularization_data(int(seed))
        return plot_regularization(axes[0], axes[1], model, history, x, y, x_val, y_val)

    return View(draw, controls, ncols=2, width=11, height=4.4,
                title="Regularisation explorer: L2 and dropout")
