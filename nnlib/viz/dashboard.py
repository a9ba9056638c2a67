"""A live training dashboard for ``fit``: loss and accuracy curves (train and
validation) and per-layer gradient norms, updated in place in a notebook.

In a notebook it redraws an ``ipywidgets.Image`` in place, leaving a final static PNG in
the cell's output so a saved notebook shows the finished curves. A redraw costs 0.1-0.3 s
on a laptop (matplotlib renders every label), so redraws are rationed: at least
``min_interval`` seconds apart, and never more than ``budget`` (3%) of the time spent
training -- a dashboard must not make training noticeably slower. Outside a
notebook (a terminal, a script) it prints one plain text line per epoch instead.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from ..callbacks import Callback
from .style import COLORS, PALETTE, new_figure, to_png

__all__ = ["LiveDashboard", "plot_history", "in_notebook"]


def in_notebook():
    """True inside a Jupyter kernel (where widgets can be displayed)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def plot_history(ax_loss, ax_acc, ax_grad, history, grad_norms):
    """Training curves and gradient norms. ``history``: dict of per-epoch lists;
    ``grad_norms``: {layer name: list of norms per epoch}. The epoch of the lowest
    validation loss, when there is one, is marked with a star on the loss and accuracy
    panels."""
    from matplotlib.ticker import MaxNLocator

    artists = []
    for key, color in (("loss", COLORS["blue"]), ("val_loss", COLORS["orange"])):
        if history.get(key):
            artists += ax_loss.plot(range(1, len(history[key]) + 1), history[key], "-o", ms=3,
                                    color=color, label=key)
    losses = [v for key in ("loss", "val_loss") for v in history.get(key) or ()]
    if losses and min(losses) > 0:  # log scale: the late, small changes stay visible
        ax_loss.set_yscale("log")
        ax_loss.set(title="loss", xlabel="epoch", ylabel="loss (log scale)")
    else:
        ax_loss.set(title="loss", xlabel="epoch", ylabel="loss")
    for key, color in (("accuracy", COLORS["blue"]), ("val_accuracy", COLORS["orange"])):
        if history.get(key):
            artists += ax_acc.plot(range(1, len(history[key]) + 1), history[key], "-o", ms=3,
                                   color=color, label=key)
    ax_acc.set(title="accuracy", xlabel="epoch", ylabel="accuracy")
    val = history.get("val_loss")
    if val:
        best = int(np.argmin(val))
        artists += ax_loss.plot(best + 1, val[best], "*", ms=11, color=COLORS["vermillion"],
                                label=f"best val_loss (epoch {best + 1})")
        if len(history.get("val_accuracy") or ()) > best:
            artists += ax_acc.plot(best + 1, history["val_accuracy"][best], "*", ms=11,
                                   color=COLORS["vermillion"])
    for (name, norms), color in zip(grad_norms.items(), PALETTE * 4, strict=False):
        artists += ax_grad.semilogy(range(1, len(norms) + 1), norms, color=color, label=name)
    ax_grad.set(title="gradient norm per layer (last batch)", xlabel="epoch",
                ylabel="||grad|| (log scale)")
    for ax in (ax_loss, ax_acc, ax_grad):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    return artists


class LiveDashboard(Callback):
    """``model.fit(..., callbacks=[LiveDashboard()])``.

    Parameters
    ----------
    min_interval : float, seconds between two redraws in a notebook (default 1.0)
    budget : float, the largest fraction of training time spent redrawing (default 0.03)
    mode : "auto" (widget in a notebook, text elsewhere), "widget" or "text"
    file : where text mode prints (default stdout)
    """

    def __init__(self, min_interval=1.0, mode="auto", file=None, budget=0.03):
        if mode not in ("auto", "widget", "text"):
            raise ValueError(f"The 'mode' parameter of LiveDashboard must be one of 'auto', "
                             f"'widget', 'text'. Got {mode!r} instead.")
        self.min_interval = min_interval
        self.budget = budget
        self.mode = mode
        self.file = file
        self.redraws = 0

    def on_train_begin(self, logs):
        self.history = {key: [] for key in logs["metrics"]}
        self.grad_norms = {}
        self._layers = self._layer_groups()
        self._widget_mode = self.mode == "widget" or (self.mode == "auto" and in_notebook())
        # The first redraw waits until it fits the budget too (assuming ~0.15 s a redraw):
        # a run of a few seconds shows only its final figure.
        self._next_draw = time.perf_counter() + max(self.min_interval, 0.15 / self.budget)
        self.draw_seconds = 0.0  # time spent redrawing during training (the final one apart)
        self.redraws = 0
        self.image = None
        if self._widget_mode:
            import ipywidgets

            self.image = ipywidgets.Image(format="png")
            if in_notebook():
                from IPython.display import display

                display(self.image)

    def _layer_groups(self):
        """Parameter names grouped by layer: '0.W', '0.b' -> 'layer 0'."""
        groups = {}
        for name in self.model.parameters():
            key = name.rsplit(".", 1)[0] if "." in name else name
            groups.setdefault(f"layer {key}", []).append(name)
        return groups

    def _legend_name(self, group):
        """'layer 0' -> 'layer 0: Dense(784, 256)' when the model has a list of layers."""
        layers = getattr(self.model, "layers", ())
        index = group.removeprefix("layer ")
        if index.isdigit() and int(index) < len(layers):
            return f"{group}: {layers[int(index)]!r}"
        return group

    def on_epoch_end(self, epoch, logs):
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        params = self.model.parameters()
        for layer, names in self._layers.items():
            norm = float(np.sqrt(sum(np.vdot(params[n].grad, params[n].grad) for n in names)))
            self.grad_norms.setdefault(layer, []).append(norm)
        if self._widget_mode:
            if time.perf_counter() >= self._next_draw:
                self._draw()
        else:
            text = "  ".join(f"{k} {v:.4f}" for k, v in logs.items())
            print(f"epoch {epoch + 1}: {text}", file=self.file or sys.stdout, flush=True)

    def figure(self):
        fig, axes = new_figure(1, 3, width=11, height=3.2, layout=None)
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.16, top=0.9, wspace=0.28)
        named = {self._legend_name(k): v for k, v in self.grad_norms.items()}
        self.artists = plot_history(*axes, self.history, named)
        return fig

    def _draw(self):
        start = time.perf_counter()
        self.image.value = to_png(self.figure(), dpi=72)
        self.redraws += 1
        cost = time.perf_counter() - start
        self.draw_seconds += cost
        self._next_draw = start + max(self.min_interval, cost / self.budget)

    def on_train_end(self, logs):
        if not self._widget_mode:
            return
        during_training, start = self.draw_seconds, time.perf_counter()
        self._draw()
        self.draw_seconds = during_training
        self.final_draw_seconds = time.perf_counter() - start
        if in_notebook():  # a static copy that a saved notebook keeps
            from IPython.display import Image, display

            self.image.layout.display = "none"
            display(Image(self.image.value))
