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
    """A 2-D array (a real image or a small array of values) and its max or average
    pooling, both on the input's colour scale (so max pooling visibly brightens and
    average pooling blurs).

    The first two windows are outlined on the input (orange, then blue: they overlap when
    stride < size) with the output pixels they make; rows and columns that no window
    reaches are hatched (the output size is floored, as in PyTorch). Values are written
    in the cells of arrays up to 12 x 12. The output-size formula is in the title.
    """
    from matplotlib.patches import Rectangle

    x = np.asarray(x, dtype=float)
    h, w = x.shape
    if size > min(h, w):
        raise ValueError(f"A {size}x{size} window is larger than the {h}x{w} input: pooling "
                         f"has no output. Use a size of at most {min(h, w)}.")
    pool = P.maxpool_forward if kind == "max" else P.avgpool_forward
    out = pool(x[None, None], size, stride)[0, 0]
    ho, wo = out.shape
    lo, hi = float(x.min()), float(x.max())
    small = x.size <= 144
    artists = []
    for ax, image, title in (
            (ax_in, x, f"input {h}x{w}"),
            (ax_out, out, f"{kind} pool, size {size}, stride {stride}: {ho}x{wo}\n"
                          f"rows: floor(({h} - {size}) / {stride}) + 1 = {ho}")):
        ax.grid(False)
        artists.append(ax.imshow(image, cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1))
        if small:
            for (i, j), v in np.ndenumerate(image):
                ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=8,
                        color="black" if v > (lo + hi) / 2 else "white")
        ax.set(title=title, xticks=[], yticks=[])
    ax_in.set_xlabel("same grey scale for input and output (min to max of the input)",
                     fontsize=8)
    used_h, used_w = (ho - 1) * stride + size, (wo - 1) * stride + size
    for y0, x0, dy, dx in ((used_h, 0, h - used_h, w), (0, used_w, used_h, w - used_w)):
        if dy > 0 and dx > 0:  # never inside a window: no output, zero gradient
            artists.append(ax_in.add_patch(Rectangle(
                (x0 - 0.5, y0 - 0.5), dx, dy, fill=False, hatch="///", lw=0,
                edgecolor=COLORS["vermillion"])))
    lw = 2.5 if small else 1.5
    for k, color in enumerate((COLORS["orange"], COLORS["sky"])[:wo]):
        artists.append(ax_in.add_patch(Rectangle((k * stride - 0.5, -0.5), size, size,
                                                 fill=False, lw=lw, edgecolor=color)))
        artists.append(ax_out.add_patch(Rectangle((k - 0.5, -0.5), 1, 1, fill=False, lw=lw,
                                                  edgecolor=color)))
    return artists


def _grid(fig, n, ncols):
    nrows = -(-n // ncols)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return axes[:n]


def _colorbar(fig, art, axes, label):
    bar = fig.colorbar(art, ax=list(axes), shrink=0.8, pad=0.02)
    bar.set_label(label, fontsize=8)
    return bar


def plot_filters(fig, W, ncols=8, channel=0):
    """The filters of a Conv2D weight (F, C, kh, kw) for one input channel, all on one
    symmetric colour scale (blue < 0 < red, white = 0) with a colour bar, so filters can
    be compared with each other."""
    W = np.asarray(W)
    lim = float(np.abs(W[:, channel]).max()) or 1.0
    axes = _grid(fig, W.shape[0], ncols)
    artists = []
    for f, ax in enumerate(axes):
        ax.grid(False)
        artists.append(ax.imshow(W[f, channel], cmap=DIVERGING, vmin=-lim, vmax=lim))
        ax.set(title=f"filter {f}", xticks=[], yticks=[])
    _colorbar(fig, artists[0], axes, "weight (one scale for all)")
    return artists


def plot_feature_maps(fig, maps, ncols=8, names=None, shared=True):
    """Feature maps (F, H, W) of one image. ``shared``: one colour scale for all maps (a
    dark map is a weak response), with a colour bar; else each map is stretched to its
    own range (and says so in its title)."""
    maps = np.asarray(maps)
    lo, hi = float(maps.min()), float(maps.max())
    axes = _grid(fig, len(maps), ncols)
    artists = []
    for f, ax in enumerate(axes):
        ax.grid(False)
        name = names[f] if names is not None else f"map {f}"
        if shared:
            art = ax.imshow(maps[f], cmap=CMAP, vmin=lo, vmax=hi if hi > lo else lo + 1)
        else:
            art = ax.imshow(maps[f], cmap=CMAP)
            name += f"\n{maps[f].min():.2g}..{maps[f].max():.2g}"
        ax.set(title=name, xticks=[], yticks=[])
        artists.append(art)
    if shared:
        _colorbar(fig, artists[0], axes, "activation (one scale for all)")
    return artists


def plot_confusion_matrix(ax, y_true, y_pred, labels=None, num_classes=None, normalize=False):
    """How often each true class (row) was predicted as each class (column); accuracy in
    the title. ``normalize``: each row as fractions of that class (its recall on the
    diagonal). The largest confusion off the diagonal is outlined."""
    from matplotlib.patches import Rectangle

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    k = num_classes or (len(labels) if labels is not None else
                        int(max(y_true.max(), y_pred.max())) + 1)
    counts = np.zeros((k, k), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    shown = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    ax.grid(False)
    art = ax.imshow(shown, cmap="Blues", vmin=0)
    top = shown.max() or 1
    for (i, j), v in np.ndenumerate(shown):
        if counts[i, j]:
            ax.text(j, i, f"{v:.2f}".lstrip("0") if normalize else str(v), ha="center",
                    va="center", fontsize=7, color="white" if v > top / 2 else "black")
    off = counts - np.diag(np.diag(counts))
    artists = [art]
    if off.max() > 0:
        i, j = np.unravel_index(off.argmax(), off.shape)
        artists.append(ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=2,
                                              edgecolor=COLORS["vermillion"])))
    ticks = range(k)
    names = list(labels) if labels is not None else [str(i) for i in ticks]
    what = "fraction of each true class" if normalize else "counts"
    ax.set(xticks=ticks, yticks=ticks, xticklabels=names, yticklabels=names,
           xlabel="predicted", ylabel="true",
           title=f"confusion matrix, {what} (accuracy {np.trace(counts) / counts.sum():.1%})")
    return artists


def plot_misclassified(fig, images, y_true, y_pred, max_n=16, ncols=8, probs=None):
    """A grid of misclassified images titled 'true -> predicted'. With ``probs`` (N, K)
    the mistakes are ordered most confident first and titled with the probability the
    model gave its wrong answer and the true class. Images share the grey scale of the
    whole set (dark = ink)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)
    if probs is not None:
        wrong = wrong[np.argsort(-probs[wrong, y_pred[wrong]], kind="stable")]
    wrong = wrong[:max_n]
    if len(wrong) == 0:
        ax = fig.subplots()
        ax.axis("off")
        return [ax.text(0.5, 0.5, "no mistakes", ha="center", fontsize=14)]
    lo, hi = float(np.min(images[wrong])), float(np.max(images[wrong]))
    artists = []
    for i, ax in zip(wrong, _grid(fig, len(wrong), ncols), strict=True):
        title = f"{y_true[i]} -> {y_pred[i]}"
        if probs is not None:
            title += f"\np={probs[i, y_pred[i]]:.2f} (true {probs[i, y_true[i]]:.2f})"
        ax.grid(False)
        artists.append(ax.imshow(images[i].reshape(images[i].shape[-2:]), cmap="gray_r",
                                 vmin=lo, vmax=hi if hi > lo else lo + 1))
        ax.set(xticks=[], yticks=[])
        ax.set_title(title, fontsize=8)
    return artists


def plot_decision_boundary(ax, predict, x, y, resolution=200, margin=0.3, *, bounds=None,
                           size=14):
    """Regions of the plane by predicted class, with the data on top.

    ``predict`` maps (M, 2) points to class scores (M, C) (e.g. ``model.predict``).
    ``bounds`` = ((x_min, y_min), (x_max, y_max)) sets the region drawn (default: the
    data's range plus ``margin``); ``size`` is the marker size of the points.
    """
    if bounds is None:
        (x0, y0), (x1, y1) = x.min(axis=0) - margin, x.max(axis=0) + margin
    else:
        (x0, y0), (x1, y1) = bounds
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
                              s=size, edgecolors="white", linewidths=0.4))
    accuracy = np.mean(predict(x).argmax(axis=1) == y)
    ax.set(xlabel="x1", ylabel="x2", xlim=(x0, x1), ylim=(y0, y1),
           title=f"decision regions (train accuracy {accuracy:.1%})")
    return artists

