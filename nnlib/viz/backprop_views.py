"""Pictures of chapter 06 (backpropagation and gradient checking): a scalar computational
graph with forward values and backward gradients (fan-out summed), a small network unit
by unit, and the error of finite differences against the step h. The two views put the
network and the step-size study behind controls.

Every plot draws on the Axes it is given and returns the artists it drew.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..gradcheck import numerical_gradient, rel_error
from .style import COLORS, style_axes
from .widgets import View, _slider, _widgets

__all__ = ["plot_graph", "HIDDEN_ACTIVATIONS", "small_network", "backprop_values",
           "plot_backprop_network", "backprop_explorer", "STEP_FUNCTIONS", "difference_errors",
           "plot_step_errors", "step_size_explorer"]


# ------------------------------------------------------------------ a scalar graph

def _num(v):
    return f"{v:.4g}"


def plot_graph(ax, nodes, edges, title="forward values (black) and gradients dL/d(node) (red)"):
    """A scalar computational graph: boxes for nodes, arrows for the forward direction,
    and on every edge (in red) the gradient that flows back along it. A node used by
    several others (fan-out, orange) receives the *sum* of its edges' gradients; the sum
    is written under it.

    Parameters
    ----------
    nodes : dict name -> (x, y, label, value, grad)
        Position, a label such as ``"a = x * y"``, the forward value and dL/d(node).
    edges : sequence of (src, dst, contribution)
        ``contribution`` = dL/d(dst) * d(dst)/d(src), the gradient sent back to ``src``.
    """
    style_axes(ax)
    ax.grid(False)
    ax.axis("off")
    artists = []
    out_edges = {name: [] for name in nodes}
    for src, dst, contribution in edges:
        if src not in nodes or dst not in nodes:
            raise ValueError(f"edge {src!r} -> {dst!r} names a node that is not in nodes.")
        out_edges[src].append(contribution)
        (x0, y0), (x1, y1) = nodes[src][:2], nodes[dst][:2]
        artists.append(ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                                   arrowprops=dict(arrowstyle="-|>", color=COLORS["grey"],
                                                   lw=1.3, shrinkA=28, shrinkB=28)))
        artists.append(ax.text(0.5 * (x0 + x1), 0.5 * (y0 + y1) - 0.12,
                               f"\u2190 {_num(contribution)}", ha="center", va="top",
                               fontsize=9, color=COLORS["vermillion"]))
    for name, (x, y, label, value, grad) in nodes.items():
        fan_out = len(out_edges[name]) > 1
        artists.append(ax.text(x, y, f"{label}\n= {_num(value)}", ha="center", va="center",
                               fontsize=10, bbox=dict(boxstyle="round,pad=0.5", ec="black",
                                                      fc=COLORS["orange"] if fan_out
                                                      else "#F2F2F2", lw=0.8)))
        below = f"dL/d{name} = {_num(grad)}"
        if fan_out:
            parts = " + ".join(f"({_num(c)})" if c < 0 else _num(c) for c in out_edges[name])
            below += f"\n(fan-out: {parts} = {_num(sum(out_edges[name]))})"
        artists.append(ax.text(x, y - 0.32, below, ha="center", va="top", fontsize=9,
                               color=COLORS["vermillion"]))
    xs = [v[0] for v in nodes.values()]
    ys = [v[1] for v in nodes.values()]
    ax.set(xlim=(min(xs) - 0.7, max(xs) + 0.7), ylim=(min(ys) - 1.0, max(ys) + 0.6),
           title=title)
    return artists


# ------------------------------------------------------------ a small network, unit by unit

#: name -> (activation, derivative as a function of the pre-activation)
HIDDEN_ACTIVATIONS = {"relu": (F.relu, F.relu_grad), "tanh": (F.tanh, F.tanh_grad),
                      "sigmoid": (F.sigmoid, F.sigmoid_grad)}


def small_network(seed=0, inputs=2, hidden=3, classes=2):
    """Weights of a small dense network drawn from ``seed`` (float64)."""
    rng = np.random.default_rng(seed)
    return {"W1": rng.standard_normal((inputs, hidden)), "b1": 0.1 * rng.standard_normal(hidden),
            "W2": rng.standard_normal((hidden, classes)),
            "b2": 0.1 * rng.standard_normal(classes)}


def _loss(params, x, target, activation):
    act = HIDDEN_ACTIVATIONS[activation][0]
    z2 = act(x @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
    return float(-F.log_softmax(z2[None])[0, target])


def backprop_values(params, x, target, activation="tanh"):
    """Forward and backward pass of ONE sample through dense -> activation -> dense ->
    softmax cross-entropy, written unit by unit as the backprop view shows it.

    Parameters
    ----------
    params : dict with W1 (D, H), b1 (H,), W2 (H, C), b2 (C,)
    x : ndarray of shape (D,)
    target : int, the true class
    activation : a key of ``HIDDEN_ACTIVATIONS``

    Returns
    -------
    dict of the forward values x, z1, h, z2, p, loss; the local derivative ``local`` =
    f'(z1); the gradients dz2, dh, dz1, dx, dW1, db1, dW2, db2; and ``check``: the largest
    relative error of dW1, db1, dW2, db2 against central differences.
    """
    act, act_grad = HIDDEN_ACTIVATIONS[activation]
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2"))
    x = np.asarray(x, dtype=np.float64)
    z1 = x @ W1 + b1                     # (H,)
    h = act(z1)                          # (H,)
    z2 = h @ W2 + b2                     # (C,)
    p = F.softmax(z2[None])[0]           # (C,)
    loss = float(-np.log(p[target]))
    dz2 = p - np.eye(len(p))[target]     # softmax + cross-entropy, chapter 05
    dW2, db2 = np.outer(h, dz2), dz2     # (H, C), (C,)
    dh = W2 @ dz2                        # (H,)
    local = act_grad(z1)                 # f'(z1), (H,)
    dz1 = dh * local                     # (H,)
    dW1, db1 = np.outer(x, dz1), dz1     # (D, H), (H,)
    dx = W1 @ dz1                        # (D,)
    values = dict(x=x, z1=z1, h=h, z2=z2, p=p, loss=loss, local=local, dz2=dz2, dh=dh,
                  dz1=dz1, dx=dx, dW1=dW1, db1=db1, dW2=dW2, db2=db2)
    base = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    errors = []
    for name in base:
        trial = {k: v.copy() for k, v in base.items()}
        numeric = numerical_gradient(lambda _, t=trial: _loss(t, x, target, activation),
                                     trial[name])
        errors.append(rel_error(values["d" + name], numeric))
    values["check"] = max(errors)
    return values


def _short(v, sign=True):
    """Two decimals, or one significant digit in e-notation when that would show 0.00."""
    if v != 0 and abs(v) < 0.005:
        return f"{v:+.0e}" if sign else f"{v:.0e}"
    return f"{v:+.2f}" if sign else f"{v:.2f}"


def _edge_style(value, scale):
    return dict(color=COLORS["orange"] if value > 0 else COLORS["blue"],
                lw=0.6 + 3.5 * abs(value) / scale, alpha=0.7, zorder=1)


def plot_backprop_network(ax, params, x, target=0, activation="tanh", show="weights"):
    """One sample through dense -> activation -> dense -> softmax cross-entropy, unit by
    unit: each node shows its forward value (black) and the gradient of the loss with
    respect to it (red). Activation edges carry the local derivative f'(z1) they multiply
    by (grey dashed where it is 0: the gradient stops). Dense edges show the weights
    (``show="weights"``) or the weight gradients (``show="weight gradients"``), colour
    for the sign (orange +, blue -) and width for the size."""
    if show not in ("weights", "weight gradients"):
        raise ValueError(f"show must be 'weights' or 'weight gradients', got {show!r}.")
    v = backprop_values(params, x, target, activation)
    style_axes(ax)
    ax.grid(False)
    ax.axis("off")
    columns = [("x", v["x"], v["dx"]), ("z1", v["z1"], v["dz1"]), ("h", v["h"], v["dh"]),
               ("z2", v["z2"], v["dz2"]), ("L", np.array([v["loss"]]), np.array([1.0]))]
    pos = [np.linspace(1, -1, len(val)) if len(val) > 1 else np.zeros(1)
           for _, val, _ in columns]
    artists = []
    for col, key in ((0, "W1"), (2, "W2")):
        shown = params[key] if show == "weights" else v["d" + key]
        scale = np.abs(shown).max() or 1.0
        for i in range(shown.shape[0]):
            for j in range(shown.shape[1]):
                (y0, y1) = pos[col][i], pos[col + 1][j]
                artists += ax.plot([col, col + 1], [y0, y1], **_edge_style(shown[i, j], scale))
                if show == "weight gradients":  # staggered along x so labels do not collide
                    t = 0.18 + 0.5 * j / max(1, shown.shape[1] - 1)
                    ax.text(col + t, y0 + t * (y1 - y0), _short(shown[i, j]), fontsize=7,
                            ha="center", va="center", zorder=4,
                            bbox=dict(fc="white", ec="none", pad=0.3, alpha=0.8))
    for j, d in enumerate(v["local"]):
        blocked = d == 0
        artists += ax.plot([1, 2], [pos[1][j]] * 2, ls="--" if blocked else "-", lw=1.2,
                           color=COLORS["grey"] if blocked else "black", zorder=1)
        ax.text(1.5, pos[1][j] + 0.06, f"x {d:.2f}", ha="center", va="bottom", fontsize=8,
                color=COLORS["grey"] if blocked else "black")
    for j, p in enumerate(v["p"]):
        artists += ax.plot([3, 4], [pos[3][j], 0], color=COLORS["grey"], lw=1, zorder=1)
        ax.text(3.5, 0.5 * pos[3][j] + 0.06, f"p = {p:.2f}", ha="center", va="bottom",
                fontsize=8, color=COLORS["grey"])
    for col, (name, val, grad) in enumerate(columns):
        for j in range(len(val)):
            true_class = name == "z2" and j == target
            artists.append(ax.scatter(col, pos[col][j], s=1500, zorder=2, color="white",
                                      edgecolors=COLORS["green"] if true_class else "black",
                                      linewidths=2.5 if true_class else 1))
            ax.text(col, pos[col][j] + 0.03, _short(val[j], sign=False), ha="center",
                    va="bottom", fontsize=8, zorder=3)
            ax.text(col, pos[col][j] - 0.03, _short(grad[j]), ha="center", va="top",
                    fontsize=8, color=COLORS["vermillion"], zorder=3)
    act = activation
    headers = ["input x", "z1 = x W1 + b1", f"h = {act}(z1)", "z2 = h W2 + b2",
               "L = CE(softmax(z2))"]
    for col, text in enumerate(headers):
        ax.text(col, 1.3, text, ha="center", va="bottom", fontsize=9)
    ax.text(2, -1.42, f"black: forward value   red: dL/d(value)   edges: {show} "
            f"(orange +, blue -)   green ring: true class {target}", ha="center", va="top",
            fontsize=8)
    ax.set(xlim=(-0.45, 4.45), ylim=(-1.6, 1.5),
           title=f"loss {v['loss']:.3f}; backprop vs central differences: largest relative "
                 f"error {v['check']:.1e}")
    return artists


def backprop_explorer(x=(1.0, -0.5), target=0, activation="relu", seed=0, show="weights"):
    """A 2-3-2 network on one sample: inputs, true class, hidden activation, weights seed
    and what the dense edges show; forward values and backward gradients per unit."""
    w = _widgets()
    controls = {
        "x1": _slider(w, x[0], -2.0, 2.0, 0.1, "x1"),
        "x2": _slider(w, x[1], -2.0, 2.0, 0.1, "x2"),
        "target": w.ToggleButtons(options=[0, 1], value=target, description="true class"),
        "activation": w.Dropdown(options=list(HIDDEN_ACTIVATIONS), value=activation,
                                 description="hidden"),
        "seed": w.IntSlider(value=seed, min=0, max=20, description="weights seed",
                            continuous_update=False),
        "show": w.ToggleButtons(options=["weights", "weight gradients"], value=show,
                                description="edges show"),
    }
    for control in controls.values():
        control.style.description_width = "initial"

    def draw(fig, ax, x1, x2, target, activation, seed, show):
        return plot_backprop_network(ax, small_network(seed), np.array([x1, x2]), target,
                                     activation, show)

    return View(draw, controls, width=11, height=5.2, title="Backpropagation, unit by unit")


# --------------------------------------------------------- finite differences against h

#: name -> (f, f') for the step-size study; relu has its kink at 0
STEP_FUNCTIONS = {
    "sin(x)": (np.sin, np.cos),
    "exp(x)": (np.exp, np.exp),
    "x^3": (lambda x: x ** 3, lambda x: 3 * x ** 2),
    "relu(x)": (lambda x: np.maximum(x, 0), lambda x: np.where(x > 0, 1.0, 0.0)),
}


def difference_errors(name, x0, h, dtype=np.float64, scheme="central"):
    """|finite difference - f'(x0)| for each step in ``h``, computed in ``dtype``.

    ``scheme`` is "forward" ((f(x + h) - f(x)) / h) or "central"
    ((f(x + h) - f(x - h)) / 2h). The exact derivative is taken at x0 as stored in
    ``dtype``, in float64.
    """
    f, df = STEP_FUNCTIONS[name]
    dt = np.dtype(dtype).type
    x, hh = dt(x0), np.asarray(h).astype(dtype)
    with np.errstate(all="ignore"):
        if scheme == "forward":
            approx = (f(x + hh) - f(x)) / hh
        elif scheme == "central":
            approx = (f(x + hh) - f(x - hh)) / (dt(2) * hh)
        else:
            raise ValueError(f"scheme must be 'forward' or 'central', got {scheme!r}.")
    return np.abs(approx.astype(np.float64) - df(np.float64(x)))


def plot_step_errors(ax, h, curves, guides=(), floor=1e-17):
    """Error of finite differences against the step, on log-log axes.

    Parameters
    ----------
    h : ndarray, the steps
    curves : dict label -> errors (same length as ``h``); a label naming "central" or
        "forward" gets that scheme's colour, one naming "float32" a dashed line
    guides : sequence of (slope, h_anchor, error_anchor): dotted reference lines
        error = error_anchor * (h / h_anchor)^slope over two decades from the anchor
    floor : errors below it (an exact 0) are drawn at it
    """
    artists = []
    for i, (label, err) in enumerate(curves.items()):
        color = (COLORS["orange"] if "central" in label else COLORS["blue"] if "forward"
                 in label else COLORS["green"] if i % 2 else COLORS["purple"])
        shown = np.maximum(np.asarray(err, dtype=float), floor)
        best = int(np.argmin(shown))
        artists += ax.loglog(h, shown, ls="--" if "float32" in label else "-", color=color,
                             lw=1.8, label=f"{label}: best {shown[best]:.0e} at h = "
                                           f"{h[best]:.0e}")
        artists += ax.loglog([h[best]], [shown[best]], "o", color=color, ms=6)
    for slope, h0, e0 in guides:
        span = h0 * np.logspace(-2, 0, 10) if slope > 0 else h0 * np.logspace(0, 2, 10)
        artists += ax.loglog(span, e0 * (span / h0) ** slope, ":", color="black", lw=1.5)
        end = span[0] if slope > 0 else span[-1]
        ax.text(end, e0 * (end / h0) ** slope, f"slope {slope:g}", fontsize=8, ha="right"
                if slope > 0 else "left", va="top")
    ax.set(xlabel="step h", ylabel="|numerical - exact derivative|",
           title="finite-difference error against the step h")
    ax.legend(fontsize=7, loc="lower left" if len(curves) <= 2 else "best")
    return artists


_SCHEMES = {"forward and central": ("forward", "central"), "forward": ("forward",),
            "central": ("central",)}
_DTYPES = {"float64 and float32": ("float64", "float32"), "float64": ("float64",),
           "float32": ("float32",)}


def step_size_explorer(function="sin(x)", x0=1.0, schemes="forward and central",
                       dtypes="float64 and float32"):
    """Forward and central differences of a function at x0 against the step h, in
    float64 and float32: truncation error (slopes 1 and 2) on the right, round-off on the
    left, and what a kink (relu near 0) does to both."""
    w = _widgets()
    controls = {
        "function": w.Dropdown(options=list(STEP_FUNCTIONS), value=function,
                               description="function"),
        "x0": _slider(w, x0, -2.0, 2.0, 0.05, "x0"),
        "schemes": w.ToggleButtons(options=list(_SCHEMES), value=schemes,
                                   description="differences"),
        "dtypes": w.ToggleButtons(options=list(_DTYPES), value=dtypes, description="dtype"),
    }
    for control in controls.values():
        control.style.description_width = "initial"
    h = np.logspace(-15, 0, 61)

    def draw(fig, ax, function, x0, schemes, dtypes):
        curves, guides = {}, []
        for dtype in _DTYPES[dtypes]:
            for scheme in _SCHEMES[schemes]:
                curves[f"{scheme}, {dtype}"] = difference_errors(function, x0, h, dtype, scheme)
        for scheme, slope in (("forward", 1), ("central", 2)):
            err = curves.get(f"{scheme}, {_DTYPES[dtypes][0]}")
            anchor = 50  # h = 1e-2.5: truncation dominates for these functions
            if err is not None and err[anchor] > 1e-15:
                guides.append((slope, h[anchor], 3 * err[anchor]))
        artists = plot_step_errors(ax, h, curves, guides)
        ax.set_title(f"d/dx {function} at x0 = {x0:g}: finite-difference error against h")
        return artists

    return View(draw, controls, width=9, height=4.6, title="Step size and gradient checks")
