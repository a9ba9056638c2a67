"""One look for every figure of the course: a colour-blind-safe palette (Okabe & Ito),
labelled axes, sizes readable at notebook width, and figures that do not pile up.

Figures are made with ``matplotlib.figure.Figure`` directly, not ``pyplot``: pyplot
keeps every figure alive in a global registry until it is closed, which is how notebook
memory grows cell after cell. A plain Figure is freed like any object.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure

__all__ = ["PALETTE", "COLORS", "new_figure", "to_png", "show", "style_axes", "CMAP",
           "DIVERGING"]

#: Okabe-Ito palette, distinguishable with every common colour-vision deficiency.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000"]
COLORS = {"blue": PALETTE[0], "orange": PALETTE[1], "green": PALETTE[2],
          "vermillion": PALETTE[3], "purple": PALETTE[4], "sky": PALETTE[5],
          "yellow": PALETTE[6], "black": PALETTE[7], "grey": "#8C8C8C"}
CMAP = "viridis"      # sequential, perceptually uniform, colour-blind safe
DIVERGING = "RdBu_r"  # signed values (weights, gradients): blue negative, red positive

def new_figure(nrows=1, ncols=1, *, width=8.0, height=None, squeeze=True, layout="constrained",
               **subplot_kw):
    """A Figure sized for a notebook (8 inches wide by default) and its axes.
    ``layout=None`` skips the constrained layout (which doubles the render time) for
    figures redrawn often.

    Returns
    -------
    fig, axes : Figure and one Axes (or an array of them, as ``plt.subplots``)
    """
    height = height if height is not None else min(3.2 * nrows, 9.0)
    fig = Figure(figsize=(width, height), layout=layout)
    axes = fig.subplots(nrows, ncols, squeeze=squeeze, **subplot_kw)
    for ax in np.atleast_1d(axes).ravel():
        style_axes(ax)
    return fig, axes


def style_axes(ax):
    """House style on one Axes: palette, light grid, no top/right spines."""
    from cycler import cycler

    ax.set_prop_cycle(cycler(color=PALETTE))
    ax.grid(True, alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def to_png(fig, dpi=90):
    """The figure as PNG bytes (for ``ipywidgets.Image`` and static outputs)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def show(fig, dpi=90):
    """Display a figure as a PNG in a notebook (no pyplot, so nothing stays open).
    Outside a notebook, returns the PNG bytes."""
    png = to_png(fig, dpi=dpi)
    try:
        from IPython.display import Image, display
    except ImportError:
        return png
    display(Image(png))
    return None
