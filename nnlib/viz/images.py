"""Pure plotting functions for images and models: convolution and pooling explorers,
filters, feature maps, confusion matrices, misclassified examples and decision
boundaries. Each takes Axes (or a Figure to fill) and returns the artists it drew."""

from __future__ import annotations

import numpy as np

from ..functional import conv as C
from ..functional import pooling as P
from .conv_views import KERNEL_PRESETS, make_kernel
from .style import CMAP, COLORS, DIVERGING

__all__ = ["KERNELS", "plot_convolution", "plot_pooling", "plot_filters", "plot_feature_maps",
           "plot_confusion_matrix", "plot_misclassified", "plot_decision_boundary"]

#: Kernel presets (3 x 3) of chapter 09's photo grid; ``make_kernel`` gives any size.
KERNELS = {name: make_kernel(name, 3) for name in KERNEL_PRESETS if name != "random"}


def _show(ax, image, title, cmap=CMAP, values=False, symmetric=False):
    ax.grid(False)
    lim = np.abs(image).max() or 1.0
    art = ax.imshow(image, cmap=DIVERGING if symmetric else cmap,
                    vmin=-lim if symmetric else None, vmax=lim if symmetric else None)
    if values and image.size <= 100:
        for (i, j), v in np.ndenumerate(image):
            ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=8,
                    color="white" if abs(v) > 0.6 * lim else "black")
    ax.set(title=title, xticks=[], yticks=[])
    return art


def plot_convolution(ax_in, ax_k, ax_out, image, kernel, mode="same"):
    """Image, kernel (with its values) and the 2-D cross-correlation in ``mode``, the
    output size formula in the title."""
    (h, w), (kh, kw) = image.shape, kernel.shape
    if mode == "valid" and (kh > h or kw > w):
        raise ValueError(f"The {kh}x{kw} kernel is larger than the {h}x{w} image: 'valid' has "
                         f"no output. Use 'same' or 'full'.")
    out = C.correlate2d(image, kernel, mode)
    formula = {"valid": f"{h} - {kh} + 1 = {out.shape[0]}",
               "same": f"{h} (same)", "full": f"{h} + {kh} - 1 = {out.shape[0]}"}[mode]
    return [_show(ax_in, image, f"input {h}x{w}", cmap="gray"),
            _show(ax_k, kernel, f"kernel {kh}x{kw}", values=True, symmetric=True),
            _show(ax_out, out, f"{mode}: {out.shape[0]}x{out.shape[1]}  (H: {formula})",
                  cmap="gray")]


def plot_pooling(ax_in, ax_out, x, kind="max", size=2, stride=2):
    """A small 2-D array and its max or average pooling, values written in the cells and
    the first window outlined."""
    batch = x[None, None]
    out = (P.maxpool_forward if kind == "max" else P.avgpool_forward)(batch, size, stride)[0, 0]
    from matplotlib.patches import Rectangle

    artists = [_show(ax_in, x, f"input {x.shape[0]}x{x.shape[1]}", values=True),
               _show(ax_out, out, f"{kind} pool {size}x{size}, stride {stride}: "
                                  f"{out.shape[0]}x{out.shape[1]}", values=True)]
    artists.append(ax_in.add_patch(Rectangle((-0.5, -0.5), size, size, fill=False, lw=2.5,
                                             edgecolor=COLORS["orange"])))
    artists.append(ax_out.add_patch(Rectangle((-0.5, -0.5), 1, 1, fill=False, lw=2.5,
                                              edgecolor=COLORS["orange"])))
    return artists


def _grid(fig, n, ncols):
    nrows = -(-n // ncols)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return axes[:n]


def plot_filters(fig, W, ncols=8):
    """First-layer filters of a Conv2D weight (F, C, kh, kw) (channel 0), blue < 0 < red."""
    return [_show(ax, W[f, 0], f"filter {f}", symmetric=True)
            for f, ax in enumerate(_grid(fig, W.shape[0], ncols))]


def plot_feature_maps(fig, maps, ncols=8):
    """Feature maps (F, H, W) of one image."""
    return [_show(ax, maps[f], f"map {f}") for f, ax in enumerate(_grid(fig, len(maps), ncols))]


def plot_confusion_matrix(ax, y_true, y_pred, labels=None):
    """Counts of (true, predicted) pairs, with accuracy in the title."""
    k = int(max(y_true.max(), y_pred.max())) + 1
    counts = np.zeros((k, k), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    ax.grid(False)
    art = ax.imshow(counts, cmap="Blues")
    for (i, j), v in np.ndenumerate(counts):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                    color="white" if v > counts.max() / 2 else "black")
    ticks = range(k)
    names = labels or [str(i) for i in ticks]
    ax.set(xticks=ticks, yticks=ticks, xticklabels=names, yticklabels=names,
           xlabel="predicted", ylabel="true",
           title=f"confusion matrix (accuracy {np.trace(counts) / counts.sum():.1%})")
    return [art]


def plot_misclassified(fig, images, y_true, y_pred, max_n=16, ncols=8):
    """A grid of the first misclassified images, titled 'true -> predicted'."""
    wrong = np.flatnonzero(y_true != y_pred)[:max_n]
    if len(wrong) == 0:
        ax = fig.subplots()
        ax.axis("off")
        return [ax.text(0.5, 0.5, "no mistakes", ha="center", fontsize=14)]
    return [_show(ax, images[i].reshape(images[i].shape[-2:]), f"{y_true[i]} -> {y_pred[i]}",
                  cmap="gray_r") for i, ax in zip(wrong, _grid(fig, len(wrong), ncols),
                                                  strict=True)]


def plot_decision_boundary(ax, predict, x, y, resolution=200, margin=0.3):
    """Regions of the plane by predicted class, with the data on top.

    ``predict`` maps (M, 2) points to class scores (M, C) (e.g. ``model.predict``).
    """
    x0, y0 = x.min(axis=0) - margin
    x1, y1 = x.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(x.dtype)
    classes = predict(grid).argmax(axis=1).reshape(gx.shape)
    from matplotlib.colors import ListedColormap

    k = int(max(classes.max(), y.max())) + 1
    palette = [COLORS[c] for c in ("blue", "orange", "green", "vermillion", "purple", "sky")]
    cmap = ListedColormap(palette[:k])
    artists = [ax.contourf(gx, gy, classes, levels=np.arange(k + 1) - 0.5, cmap=cmap,
                           alpha=0.25)]
    artists.append(ax.scatter(x[:, 0], x[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=k - 0.5,
                              s=14, edgecolors="white", linewidths=0.4))
    accuracy = np.mean(predict(x).argmax(axis=1) == y)
    ax.set(xlabel="x1", ylabel="x2", title=f"decision regions (train accuracy {accuracy:.1%})")
    return artists

