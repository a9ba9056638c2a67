"""Pictures for chapters/01_numpy_for_neural_nets.ipynb: broadcasting, shape by shape and
value by value, and timing comparisons drawn as ratios.

``broadcast_alignment`` is the rule itself (pure Python, no drawing); ``plot_broadcast``
draws it; ``broadcast_explorer`` lets a learner type two shapes. ``plot_timings`` draws
the bar chart of a timing experiment measured in the same notebook cell.
"""

from __future__ import annotations

import re

import numpy as np
from matplotlib.patches import Rectangle

from .style import COLORS, PALETTE
from .view import View, _widgets

__all__ = ["parse_shape", "broadcast_alignment", "plot_broadcast", "broadcast_explorer",
           "plot_timings"]

_MAX_NDIM = 6


def parse_shape(text, name="shape"):
    """A shape from what a learner types: ``"(4, 1)"``, ``"4, 1"``, ``"4 1"``, ``"(3,)"``,
    ``"()"``. Raises ValueError naming ``name`` and showing an example."""
    if isinstance(text, (tuple, list)):
        parts = [str(p) for p in text]
    else:
        body = str(text).strip()
        if body.startswith("(") and body.endswith(")"):
            body = body[1:-1]
        parts = [p for p in re.split(r"[\s,]+", body.strip()) if p]
    if not all(re.fullmatch(r"\d+", p) for p in parts):
        raise ValueError(f"{name}: could not read {text!r} as a shape; write whole numbers "
                         f">= 0 such as (4, 1) or (3,).")
    shape = tuple(int(p) for p in parts)
    if len(shape) > _MAX_NDIM:
        raise ValueError(f"{name}: {len(shape)} dimensions; this view draws at most "
                         f"{_MAX_NDIM}.")
    return shape


def broadcast_alignment(shape_a, shape_b):
    """NumPy's broadcasting rule, one axis at a time.

    The shapes are aligned on the right; the shorter one is padded with 1s on the left.
    On each axis the sizes must be equal, or one of them 1 (that operand is stretched,
    without copying, to the other's size).

    Returns
    -------
    list of dict, one per axis from the left, with keys ``a``, ``b`` (sizes after
    padding), ``a_padded``, ``b_padded`` (True where the 1 was added), ``out`` (the
    result size, None where the sizes clash) and ``kind``: ``"equal"``, ``"stretch a"``,
    ``"stretch b"`` or ``"clash"``.
    """
    shape_a, shape_b = tuple(shape_a), tuple(shape_b)
    ndim = max(len(shape_a), len(shape_b))
    pad_a, pad_b = ndim - len(shape_a), ndim - len(shape_b)
    full_a, full_b = (1,) * pad_a + shape_a, (1,) * pad_b + shape_b
    axes = []
    for i, (a, b) in enumerate(zip(full_a, full_b, strict=True)):
        if a == b:
            kind, out = "equal", a
        elif a == 1:
            kind, out = "stretch a", b
        elif b == 1:
            kind, out = "stretch b", a
        else:
            kind, out = "clash", None
        axes.append({"a": a, "b": b, "a_padded": i < pad_a, "b_padded": i < pad_b,
                     "out": out, "kind": kind})
    return axes


def _result_shape(axes):
    if any(ax["kind"] == "clash" for ax in axes):
        return None
    return tuple(ax["out"] for ax in axes)


def _box(ax, x, y, text, *, face, edge="black", style="-", color="black", weight="normal",
         w=0.9, h=0.8, size=11):
    patch = ax.add_patch(Rectangle((x - w / 2, y - h / 2), w, h, facecolor=face,
                                   edgecolor=edge, linestyle=style, lw=1.2))
    label = ax.text(x, y, text, ha="center", va="center", color=color, fontsize=size,
                    fontweight=weight)
    return [patch, label]


def _draw_alignment(ax, shape_a, shape_b, axes):
    """Three rows of boxes: A, B and the result, one column per aligned axis."""
    artists = []
    ndim = len(axes)
    rows = {"a": 2, "b": 1, "a + b": 0}
    for name, y in rows.items():
        artists.append(ax.text(-0.7, y, name, ha="right", va="center", fontsize=11,
                               fontweight="bold"))
    for j, info in enumerate(axes):
        for key, y in (("a", 2), ("b", 1)):
            size, padded = info[key], info[f"{key}_padded"]
            stretched = info["kind"] == f"stretch {key}"
            if info["kind"] == "clash":
                artists += _box(ax, j, y, str(size), face="#F6C9B8", edge=COLORS["vermillion"])
            elif stretched:
                artists += _box(ax, j, y, f"1→{info['out']}", face="#FBE3B5",
                                edge=COLORS["orange"], style="--" if padded else "-",
                                color="#6B4700")
            else:
                artists += _box(ax, j, y, str(size), face="white")
        out = info["out"]
        artists += (_box(ax, j, 0, "✗", face="#F6C9B8", edge=COLORS["vermillion"],
                         color=COLORS["vermillion"], weight="bold") if out is None else
                    _box(ax, j, 0, str(out), face="#CFE3F3", edge=COLORS["blue"],
                         weight="bold"))
        artists.append(ax.text(j, -0.65, f"axis {j - ndim}", ha="center", va="top",
                               fontsize=8, color=COLORS["grey"]))
    if ndim == 0:
        artists.append(ax.text(0, 1, "two scalars: shape ()", ha="center", va="center"))
    artists.append(ax.text(-1.6, -1.15, "dashed: a 1 added on the left   orange: stretched "
                           "(stride 0, no copy)   red: clash", ha="left", va="top",
                           fontsize=8, color=COLORS["grey"]))
    ax.set_xlim(-1.6, max(ndim, 1) - 0.4)
    ax.set_ylim(-1.5, 2.6)
    ax.set_axis_off()
    return artists


def _grid(ax, x0, values, stretched_rows, stretched_cols, color, title):
    """One 2-D array as a grid of numbered cells; stretched (virtual) cells in grey."""
    artists = []
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            virtual = stretched_rows and i > 0 or stretched_cols and j > 0
            face = "#EEEEEE" if virtual else color
            artists.append(ax.add_patch(Rectangle((x0 + j, -i - 1), 1, 1, facecolor=face,
                                                  edgecolor="white", lw=1.5)))
            artists.append(ax.text(x0 + j + 0.5, -i - 0.5, f"{values[i, j]:g}", ha="center",
                                   va="center", fontsize=9,
                                   color=COLORS["grey"] if virtual else "black",
                                   fontstyle="italic" if virtual else "normal"))
    artists.append(ax.text(x0 + cols / 2, 0.25, title, ha="center", va="bottom", fontsize=9))
    return artists


def _draw_values(ax, shape_a, shape_b, axes, out_shape, max_side):
    """A + B on small arrays: a = 1, 2, 3, ...; b = 10, 20, 30, ...; stretched copies
    (which NumPy never stores) drawn grey."""
    ax.set_axis_off()
    if out_shape is None:
        return [ax.text(0.5, 0.5, "no result: the shapes clash\n(NumPy raises ValueError)",
                        ha="center", va="center", transform=ax.transAxes, fontsize=11,
                        color=COLORS["vermillion"])]
    if len(out_shape) > 2 or any(s > max_side or s == 0 for s in out_shape):
        return [ax.text(0.5, 0.5, f"result shape {out_shape}\n(values are drawn for 1-D and "
                        f"2-D results up to {max_side} x {max_side})", ha="center",
                        va="center", transform=ax.transAxes, fontsize=10)]
    a = np.arange(1, int(np.prod(shape_a)) + 1).reshape(shape_a)
    b = 10 * np.arange(1, int(np.prod(shape_b)) + 1).reshape(shape_b)
    result = a + b
    def as2d(v):  # the stretched (N, M) view of a 0-, 1- or 2-D operand
        return np.broadcast_to(v, out_shape).reshape((1,) * (2 - len(out_shape)) + out_shape)

    ax2 = ([{"kind": "equal"}] * (2 - len(axes))) + axes   # pad to two axes for drawing
    rows, cols = as2d(result).shape
    artists = []
    x = 0.0
    for values, who, color in ((a, "a", "#CFE3F3"), (b, "b", "#FBE3B5"),
                               (result, None, "#D5EFE4")):
        stretched_r = who is not None and ax2[0]["kind"] == f"stretch {who}" and rows > 1
        stretched_c = who is not None and ax2[1]["kind"] == f"stretch {who}" and cols > 1
        title = (f"{who} {tuple(values.shape)}" + (" stretched" if stretched_r or stretched_c
                                                   else "")
                 if who else f"a + b {tuple(result.shape)}")
        artists += _grid(ax, x, as2d(values), stretched_r, stretched_c, color, title)
        x += cols
        if who is not None:
            artists.append(ax.text(x + 0.5, -rows / 2, "+" if who == "a" else "=",
                                   ha="center", va="center", fontsize=14))
        x += 1
    ax.set_xlim(-0.2, x - 0.8)
    ax.set_ylim(-rows - 0.3, 1.0)
    ax.set_aspect("equal")
    return artists


def plot_broadcast(ax_shapes, ax_values, shape_a, shape_b, *, max_side=6):
    """Broadcasting of ``a + b`` for arrays of the given shapes.

    Left: the shapes aligned on the right, added 1s marked, stretched axes orange, a
    clash red. Right: for small 1-D or 2-D results, the values of ``a = 1, 2, ...``,
    ``b = 10, 20, ...`` and ``a + b``, the stretched copies grey (NumPy never stores
    them: the stride of a stretched axis is 0).

    Returns the artists drawn.
    """
    shape_a, shape_b = parse_shape(shape_a, "shape A"), parse_shape(shape_b, "shape B")
    axes = broadcast_alignment(shape_a, shape_b)
    out_shape = _result_shape(axes)
    artists = _draw_alignment(ax_shapes, shape_a, shape_b, axes)
    if out_shape is None:
        clash = [f"axis {i - len(axes)}: {ax['a']} vs {ax['b']}"
                 for i, ax in enumerate(axes) if ax["kind"] == "clash"]
        ax_shapes.set_title(f"a {shape_a} + b {shape_b}: error\n" + ", ".join(clash)
                            + " (neither is 1)", color=COLORS["vermillion"], fontsize=11)
    else:
        ax_shapes.set_title(f"a {shape_a} + b {shape_b} → {out_shape}\n"
                            "aligned on the right; missing axes count as 1", fontsize=11)
    artists += _draw_values(ax_values, shape_a, shape_b, axes, out_shape, max_side)
    ax_values.set_title("values (grey: stretched copies, never stored)", fontsize=11)
    return artists


def broadcast_explorer(a="(4, 1)", b="(3,)"):
    """Type two shapes: their alignment, the result shape (or the clash) and, for small
    results, the values of a + b."""
    w = _widgets()
    wide = {"description_width": "initial"}          # labels in full, never cut off
    controls = {"a": w.Text(value=a, description="shape of a", continuous_update=False,
                            style=wide),
                "b": w.Text(value=b, description="shape of b", continuous_update=False,
                            style=wide)}
    return View(lambda fig, axes, a, b: plot_broadcast(axes[0], axes[1], a, b), controls,
                ncols=2, width=11, height=3.8, title="Broadcasting explorer: a + b")


def plot_timings(ax, timings, baseline, *, title=None):
    """Grouped bars: for each size, each version's time divided by ``baseline``'s time at
    the same size, on a log scale, each bar labelled with its ratio.

    Parameters
    ----------
    timings : dict of str -> dict of str -> float
        ``{size label: {version: seconds}}``, measured in the same cell.
    baseline : str, the version every ratio is relative to.

    Returns the bar containers.
    """
    sizes = list(timings)
    versions = list(next(iter(timings.values())))
    width = 0.8 / len(sizes)
    bars = []
    for k, size in enumerate(sizes):
        ratios = [timings[size][v] / timings[size][baseline] for v in versions]
        xs = np.arange(len(versions)) + (k - (len(sizes) - 1) / 2) * width
        container = ax.bar(xs, ratios, width, color=PALETTE[k % len(PALETTE)], label=size)
        for x, r in zip(xs, ratios, strict=True):
            ax.text(x, r * 1.08, f"{r:.0f}x" if r >= 10 else f"{r:.1f}x", ha="center",
                    va="bottom", fontsize=8)
        bars.append(container)
    ax.set_yscale("log")
    ax.axhline(1, color=COLORS["grey"], lw=0.8)
    top = max(timings[s][v] / timings[s][baseline] for s in sizes for v in versions)
    bottom = min(timings[s][v] / timings[s][baseline] for s in sizes for v in versions)
    ax.set_ylim(min(0.5, bottom / 2), top * 4)
    ax.set_xticks(range(len(versions)), versions, fontsize=9)
    ax.set(ylabel=f"time / time of {baseline}\n(log scale, same size)",
           title=title or f"time relative to {baseline}, measured in this run")
    ax.legend(title="array size", fontsize=8)
    return bars
