"""Convolution pictures for chapter 09: kernel presets of any size, the sliding window
(one output value as the sum of a window times the kernel) and a layer's stride and
padding, with the output-size formula. Pure plotting functions take Axes and return the
artists they drew; the two view factories wire them to controls."""

from __future__ import annotations

from math import comb

import numpy as np
from scipy import signal

from ..data import load_photo
from ..layers import Conv2D
from .style import COLORS, DIVERGING
from .view import View, _widgets

__all__ = ["KERNEL_PRESETS", "make_kernel", "plot_sliding_window", "plot_conv_layer",
           "sliding_window_explorer", "convolution_explorer"]

#: Kernels of the explorer, each available at every size (``make_kernel``).
KERNEL_PRESETS = ("identity", "box blur", "gaussian", "sharpen", "sobel x", "sobel y", "random")


def pad_amounts(n, k, stride, padding):
    """(before, after) zero padding of ``nl.Conv2D`` along an axis of length ``n``:
    "valid" none, "full" k - 1 per side, an int p per side, and "same" what makes the
    output ceil(n / stride) long, the odd one out at the end (bottom/right)."""
    if padding == "valid":
        return 0, 0
    if padding == "full":
        return k - 1, k - 1
    if padding == "same":
        total = max((-(-n // stride) - 1) * stride + k - n, 0)
        return total // 2, total - total // 2
    return padding, padding


def _binomial(k):
    """Row k - 1 of Pascal's triangle: a k-tap smoothing kernel (1 2 1 for k = 3)."""
    return np.array([comb(k - 1, i) for i in range(k)], dtype=float)


def make_kernel(name, size=3, seed=0):
    """A ``size`` x ``size`` kernel.

    identity : a single 1 at ((size - 1) // 2, (size - 1) // 2), the pixel that "same"
        padding aligns with each output (for an even size the extra padding row and
        column go to the bottom and right, so the centre sits up and left)
    box blur : the mean of the window; gaussian : binomial weights (1 2 1 for size 3)
    sharpen : 2 identity - gaussian, "unsharp masking": the image plus the detail that
        blurring removes
    sobel x / sobel y : binomial smoothing across, a difference (-1 0 1 for size 3)
        along; they respond to vertical / horizontal edges; size >= 2
    random : standard-normal weights from ``seed``
    """
    size = int(size)
    if size < 1:
        raise ValueError(f"size must be an int >= 1, got {size}.")
    if name == "random":
        return np.random.default_rng(seed).standard_normal((size, size))
    if name in ("identity", "sharpen"):
        delta = np.zeros((size, size))
        delta[(size - 1) // 2, (size - 1) // 2] = 1.0
        return delta if name == "identity" else 2 * delta - make_kernel("gaussian", size)
    if name == "box blur":
        return np.full((size, size), 1.0 / size**2)
    if name == "gaussian":
        g = np.outer(_binomial(size), _binomial(size))
        return g / g.sum()
    if name in ("sobel x", "sobel y"):
        if size < 2:
            raise ValueError("A Sobel kernel takes a difference of two pixels: use a size >= 2.")
        across = np.outer(_binomial(size), np.convolve(_binomial(size - 1), [-1.0, 1.0]))
        return across if name == "sobel x" else across.T
    raise ValueError(f"kernel must be one of {KERNEL_PRESETS}, got {name!r}.")


def _cells(ax, values, fmt="{:.3g}", lim=None, fontsize=8):
    """Write each value in its cell, white on dark cells."""
    lim = lim or (np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1.0) or 1.0
    texts = []
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            texts.append(ax.text(j, i, fmt.format(v + 0.0), ha="center", va="center",
                                 fontsize=fontsize,
                                 color="white" if abs(v) > 0.6 * lim else "black"))
    return texts


def _box(ax, top, left, h, w, color, **kw):
    from matplotlib.patches import Rectangle

    return ax.add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, lw=2.5,
                                  edgecolor=color, **kw))


def _grid_axes(ax, title, lines=False):
    """No ticks; with ``lines``, thin lines between the cells of the image on ``ax``."""
    ax.grid(False)
    ax.set(title=title, xticks=[], yticks=[])
    if lines:
        h, w = ax.images[-1].get_array().shape
        ax.set_xticks(np.arange(-0.5, w, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, h, 1), minor=True)
        ax.tick_params(which="minor", length=0)
        ax.grid(which="minor", color=COLORS["grey"], lw=0.6)


def plot_sliding_window(ax_in, ax_k, ax_prod, ax_out, image, kernel, position):
    """One step of a 'valid' cross-correlation: the window at output ``position``
    (counted in reading order) on the input, the kernel, their elementwise product and
    the output, filled in up to this position; the sum is in the output's title."""
    (h, w), (kh, kw) = image.shape, kernel.shape
    ho, wo = h - kh + 1, w - kw + 1
    if not 0 <= position < ho * wo:
        raise ValueError(f"position must be in [0, {ho * wo}), got {position}.")
    row, col = divmod(int(position), wo)
    window = image[row:row + kh, col:col + kw]
    products = window * kernel
    out = signal.correlate2d(image, kernel, "valid")
    shown = np.full(out.shape, np.nan)
    shown.flat[:position + 1] = out.flat[:position + 1]
    lim_in, lim_out = np.abs(image).max() or 1.0, np.abs(out).max() or 1.0
    artists = [ax_in.imshow(image, cmap="Greys", vmin=0, vmax=lim_in)]
    artists += _cells(ax_in, image, "{:.0f}", lim_in)
    artists.append(_box(ax_in, row, col, kh, kw, COLORS["orange"]))
    _grid_axes(ax_in, f"input {h}x{w}\nwindow at rows {row}-{row + kh - 1}, "
                      f"columns {col}-{col + kw - 1}", lines=True)
    lim_k = np.abs(kernel).max() or 1.0
    artists.append(ax_k.imshow(kernel, cmap=DIVERGING, vmin=-lim_k, vmax=lim_k))
    artists += _cells(ax_k, kernel, "{:.3g}", lim_k)
    _grid_axes(ax_k, f"kernel\n{kh}x{kw}", lines=True)
    lim_p = np.abs(products).max() or 1.0
    artists.append(ax_prod.imshow(products, cmap=DIVERGING, vmin=-lim_p, vmax=lim_p))
    artists += _cells(ax_prod, products, "{:.3g}", lim_p)
    _grid_axes(ax_prod, "window x kernel\n(elementwise)", lines=True)
    cmap = __import__("matplotlib").colormaps[DIVERGING].with_extremes(bad="#F2F2F2")
    artists.append(ax_out.imshow(shown, cmap=cmap, vmin=-lim_out, vmax=lim_out))
    artists += _cells(ax_out, shown, "{:.3g}", lim_out)
    artists.append(_box(ax_out, row, col, 1, 1, COLORS["orange"]))
    _grid_axes(ax_out, f"output {ho}x{wo} ('valid')\nout[{row}, {col}] = sum of products "
                       f"= {out[row, col]:.3g}", lines=True)
    return artists


def _formula(n, k, stride, before, after, n_out):
    return (f"floor(({n} + {before} + {after} - {k}) / {stride}) + 1 = {n_out}"
            if stride > 1 else f"{n} + {before} + {after} - {k} + 1 = {n_out}")


def plot_conv_layer(fig, ax_in, ax_k, ax_out, image, kernel, stride=1, padding="same"):
    """What a one-channel ``nl.Conv2D`` does to ``image``: the zero-padded input (image
    outlined, the first window in blue and the last one in vermillion), the kernel and
    the output, with the output-size formula for both axes.

    The output is shown on a stated scale. A kernel whose weights sum to 1 (identity,
    blurs, sharpen) keeps the brightness of flat regions, so its output is an image: grey
    on the input's [0, 1] scale, values outside it clipped (the title says how many).
    Any other kernel (edge detectors, random) gives signed responses: blue < 0 < red,
    symmetric around 0.
    """
    (h, w), (kh, kw) = image.shape, kernel.shape
    (top, bottom), (left, right) = (pad_amounts(h, kh, stride, padding),
                                    pad_amounts(w, kw, stride, padding))
    if h + top + bottom < kh or w + left + right < kw:
        raise ValueError(f"The {kh}x{kw} kernel does not fit in the {h}x{w} image with this "
                         f"padding: no output. Pad more or use a smaller kernel.")
    layer = Conv2D(1, 1, (kh, kw), stride=stride, padding=padding, dtype=np.float64)
    layer.W.data[...] = kernel
    out = layer.forward(image[None, None].astype(np.float64))[0, 0]
    ho, wo = out.shape
    padded = np.pad(image, ((top, bottom), (left, right)))
    artists = [ax_in.imshow(padded, cmap="gray", vmin=0, vmax=1)]
    artists.append(_box(ax_in, top, left, h, w, COLORS["orange"], ls="--"))
    artists.append(_box(ax_in, 0, 0, kh, kw, COLORS["sky"]))
    artists.append(_box(ax_in, (ho - 1) * stride, (wo - 1) * stride, kh, kw,
                        COLORS["vermillion"]))
    _grid_axes(ax_in, f"input {h}x{w}, zero padding\ntop {top}, bottom {bottom}, "
                      f"left {left}, right {right}")
    lim_k = np.abs(kernel).max() or 1.0
    artists.append(ax_k.imshow(kernel, cmap=DIVERGING, vmin=-lim_k, vmax=lim_k))
    if kernel.size <= 25:
        artists += _cells(ax_k, kernel, "{:.2g}", lim_k)
    _grid_axes(ax_k, f"kernel {kh}x{kw}")
    if not np.isclose(kernel.sum(), 1.0):
        lim = np.abs(out).max() or 1.0
        art = ax_out.imshow(out, cmap=DIVERGING, vmin=-lim, vmax=lim)
        scale = "signed, symmetric scale"
    else:
        clipped = np.mean((out < 0) | (out > 1))
        art = ax_out.imshow(out, cmap="gray", vmin=0, vmax=1)
        scale = "grey on [0, 1]" + (f", {clipped:.0%} clipped" if clipped else "")
    artists.append(art)
    artists.append(fig.colorbar(art, ax=ax_out, fraction=0.046, pad=0.03))
    _grid_axes(ax_out, f"output {ho}x{wo} (stride {stride})\n{scale}")
    ax_out.set_xlabel(f"H: {_formula(h, kh, stride, top, bottom, ho)}\n"
                      f"W: {_formula(w, kw, stride, left, right, wo)}", fontsize=8)
    return artists


# ----------------------------------------------------------------------------- views

#: Small integer kernels for the sliding-window view.
_SMALL_KERNELS = {
    "vertical edge": np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype=float),
    "horizontal edge": np.array([[-1, -1, -1], [0, 0, 0], [1, 1, 1]], dtype=float),
    "box sum": np.ones((3, 3)),
}


def _bar_image():
    """A 6 x 7 picture: a bar of ink (9, with a softer edge of 4) on paper (0)."""
    image = np.zeros((6, 7))
    image[1:5, 3:5] = 9.0
    image[1:5, 2] = 4.0
    return image


def sliding_window_explorer(position=0, kernel="vertical edge", image=None):
    """Walk a 3 x 3 kernel over a small picture, one output position at a time."""

    w = _widgets()
    image = _bar_image() if image is None else np.asarray(image, dtype=float)
    kh, kw = 3, 3
    steps = (image.shape[0] - kh + 1) * (image.shape[1] - kw + 1)
    controls = {"position": w.IntSlider(value=position, min=0, max=steps - 1,
                                        description="output position",
                                        continuous_update=False),
                "kernel": w.Dropdown(options=list(_SMALL_KERNELS), value=kernel,
                                     description="kernel")}

    def draw(fig, axes, position, kernel):
        return plot_sliding_window(*axes, image, _SMALL_KERNELS[kernel], position)

    widths = [image.shape[1], kw + 1, kw + 1, image.shape[1] - kw + 1]
    return View(draw, controls, ncols=4, width=12, height=3.6, title="Sliding window",
                figure_kw={"width_ratios": widths})


def convolution_explorer(image=None, kernel="sobel x", size=3, stride=1, padding="same",
                         seed=0):
    """A one-channel convolution layer on a photo: kernel preset and size (even sizes
    too), stride and padding; the output size formula under the output. The seed
    applies to the 'random' kernel only."""
    w = _widgets()
    if image is None:
        image = load_photo(size=40)
    paddings = [("valid", "valid"), ("same", "same"), ("full", "full"), ("1", 1), ("2", 2)]
    controls = {
        "kernel": w.Dropdown(options=list(KERNEL_PRESETS), value=kernel, description="kernel"),
        "size": w.IntSlider(value=size, min=1, max=7, description="kernel size",
                            continuous_update=False),
        "stride": w.IntSlider(value=stride, min=1, max=4, description="stride",
                              continuous_update=False),
        "padding": w.ToggleButtons(options=paddings, value=padding, description="padding",
                                   style={"button_width": "64px"}),
        "seed": w.IntSlider(value=seed, min=0, max=20, description="random seed",
                            continuous_update=False),
    }

    def draw(fig, axes, kernel, size, stride, padding, seed):
        return plot_conv_layer(fig, *axes, image, make_kernel(kernel, size, seed), stride,
                               padding)

    return View(draw, controls, ncols=3, width=10.5, height=3.9, title="Convolution explorer",
                applies={"seed": lambda v: v["kernel"] == "random"})
