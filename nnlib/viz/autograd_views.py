"""Pictures of chapter 14 (autograd): the graph an expression of ``nnlib.autograd``
tensors records, drawn left (inputs) to right (result), with each node's value and, step
by step through the backward pass, the gradients it receives.

Every plot draws on the Axes it is given and returns the artists it drew.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor
from .style import COLORS, style_axes
from .view import View, _slider, _widgets

__all__ = ["EXPRESSIONS", "expression_graph", "backward_steps", "plot_expression_graph",
           "autograd_explorer"]

#: name -> function of two scalar Tensors x, y. Each uses both; several reuse a value
#: (fan-out) so the backward pass has gradients to add up.
EXPRESSIONS = {
    "(x*y + x)**2": lambda x, y: (x * y + x) ** 2,
    "tanh(x*y) + x*y": lambda x, y: _named((x * y), "h", lambda h: h.tanh() + h),
    "sigmoid(x) * log(y*y + 1)": lambda x, y: x.sigmoid() * (y * y + 1).log(),
    "log(exp(x) + exp(y))": lambda x, y: (x.exp() + y.exp()).log(),
    "relu(x - y) / (y*y + 1)": lambda x, y: (x - y).relu() / (y * y + 1),
}


def _named(t, name, then):
    t.name = name
    return then(t)


def expression_graph(root):
    """Every tensor ``root`` was computed from, inputs first.

    Returns
    -------
    nodes : list of Tensor, each after all of its inputs (constants included)
    edges : list of (input index, output index, vjp), one per use of an input
    depth : list of int, the longest path from a leaf to each node (0 for leaves)
    """
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p, _ in node._edges if id(p) not in visited)
    index = {id(n): i for i, n in enumerate(order)}
    edges = [(index[id(p)], index[id(n)], vjp) for n in order for p, vjp in n._edges]
    depth = [0] * len(order)
    for i, j, _ in edges:                      # edges come in topological order of j
        depth[j] = max(depth[j], depth[i] + 1)
    return order, edges, depth


def backward_steps(root):
    """The backward pass of ``root`` (a single number) replayed one node at a time,
    without touching any ``.grad``.

    Returns
    -------
    visit : list of node indices (as in :func:`expression_graph`) in the order backward
        visits them: reverse topological, the root first; constants are never visited
    sent : dict edge index -> the gradient that edge carried back (its VJP applied to
        the gradient of the edge's output)
    grads : list, dL/d(node) for every node (None for constants)
    """
    nodes, edges, _ = expression_graph(root)
    pending = {len(nodes) - 1: np.ones_like(root.data)}
    visit, sent = [], {}
    incoming = {j: [] for j in range(len(nodes))}
    for e, (_, j, _) in enumerate(edges):
        incoming[j].append(e)
    grads = [None] * len(nodes)
    for j in reversed(range(len(nodes))):
        if j not in pending:
            continue
        visit.append(j)
        grads[j] = pending.pop(j)
        for e in incoming[j]:
            i, _, vjp = edges[e]
            if nodes[i].requires_grad:
                sent[e] = vjp(grads[j])
                pending[i] = pending[i] + sent[e] if i in pending else sent[e]
    return visit, sent, grads


def _label(node):
    if node.op:
        return node.name + " = " + node.op if node.name else node.op
    if not node.requires_grad:
        return "const"
    return node.name or "input"


def _number(v):
    v = np.asarray(v)
    return f"{float(v):.4g}" if v.size == 1 else f"array {v.shape}"


def _edge(ax, artists, start, end, bend, color, gap=0.38):
    """An arrow from ``start`` to ``end`` (data coordinates), a quadratic curve lifted by
    ``bend`` times its length, stopping ``gap`` short of both boxes. Returns its middle."""
    p0, p1 = np.asarray(start, float), np.asarray(end, float)
    length = np.hypot(*(p1 - p0))
    normal = np.array([-(p1 - p0)[1], (p1 - p0)[0]]) / length
    control = (p0 + p1) / 2 + bend * length * normal * (1 if normal[1] >= 0 else -1)
    t = np.linspace(gap / length, 1 - gap / length, 40)[:, None]
    curve = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * control + t ** 2 * p1
    artists += ax.plot(curve[:-1, 0], curve[:-1, 1], color=color, lw=1.3, zorder=1)
    artists.append(ax.annotate("", xy=curve[-1], xytext=curve[-3], arrowprops=dict(
        arrowstyle="-|>", color=color, lw=1.3, shrinkA=0, shrinkB=0), zorder=1))
    return 0.25 * p0 + 0.5 * control + 0.25 * p1


def plot_expression_graph(ax, root, step=None):
    """The graph of ``root`` (a single-number Tensor) after ``step`` nodes of the backward
    pass (None: all of it).

    Each box shows a node's operation (or name) and its forward value (black). A node
    the backward pass has visited shows its gradient dL/d(node) in red; a node still
    waiting shows what has arrived so far ("so far"), which is how a value used twice
    (fan-out, orange) collects the sum of both. Each edge that has carried a gradient
    back is labelled with it (both, for an operation that uses one input twice, as
    ``y * y``); the node visited next is outlined in green.
    """
    if root.size != 1:
        raise ValueError(f"plot_expression_graph draws the backward pass of a single number; "
                         f"the root has shape {root.shape}. Reduce it first (.sum()).")
    nodes, edges, depth = expression_graph(root)
    visit, sent, grads = backward_steps(root)
    step = len(visit) if step is None else int(np.clip(step, 0, len(visit)))
    done = set(visit[:step])
    uses = [sum(1 for i, _, _ in edges if i == k) for k in range(len(nodes))]
    columns = {}
    for k, d in enumerate(depth):
        columns.setdefault(d, []).append(k)
    pos = {}
    for d, members in columns.items():
        for r, k in enumerate(members):
            pos[k] = (1.6 * d, (len(members) - 1) / 2 - r)
    style_axes(ax)
    ax.grid(False)
    ax.axis("off")
    groups = {}                     # y * y uses y twice: one arrow, both gradients on it
    for e, (i, j, _) in enumerate(edges):
        groups.setdefault((i, j), []).append(e)
    artists = []
    for (i, j), group in groups.items():
        carried = [sent[e] for e in group if e in sent and j in done]
        color = COLORS["vermillion"] if carried else COLORS["grey"]
        # an edge that skips a column bends upwards, clear of the nodes in between
        bend = 0.0 if depth[j] - depth[i] == 1 else 0.22
        mid = _edge(ax, artists, pos[i], pos[j], bend, color)
        if carried:
            text = "\u2190 " + " + ".join(_number(g) for g in carried)
            artists.append(ax.text(mid[0], mid[1] + 0.06, text, ha="center", va="bottom",
                                   fontsize=8, color=color,
                                   bbox=dict(fc="white", ec="none", pad=0.2, alpha=0.8)))
    nxt = visit[step] if step < len(visit) else None
    for k, node in enumerate(nodes):
        x, y = pos[k]
        fan_out = uses[k] > 1 and node.requires_grad
        box = dict(boxstyle="round,pad=0.45", lw=2.5 if k == nxt else 0.8,
                   ec=COLORS["green"] if k == nxt else "black",
                   fc=COLORS["orange"] if fan_out else ("#F2F2F2" if node.requires_grad
                                                        else "white"))
        artists.append(ax.text(x, y, f"{_label(node)}\n{_number(node.data)}", ha="center",
                               va="center", fontsize=10, bbox=box, zorder=3))
        if not node.requires_grad:
            continue
        if k in done:
            below = f"grad {_number(grads[k])}"
        else:
            arrived = [sent[e] for e, (i, j, _) in enumerate(edges) if i == k and j in done]
            below = f"so far {_number(sum(arrived))}" if arrived else "grad ?"
        artists.append(ax.text(x, y - 0.24, below, ha="center", va="top", fontsize=9,
                               color=COLORS["vermillion"] if k in done else COLORS["grey"]))
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    ax.set(xlim=(min(xs) - 0.7, max(xs) + 0.7), ylim=(min(ys) - 0.6, max(ys) + 0.75))
    next_up = f"; next: {_label(nodes[nxt])}" if nxt is not None else " (done)"
    ax.set_title(f"backward pass: {step} of {len(visit)} nodes visited{next_up}   "
                 f"(black: value, red: gradient, orange: used twice)", fontsize=10)
    return artists


def autograd_explorer(expression="(x*y + x)**2", x=2.0, y=-3.0, step=None):
    """An expression of two numbers as the graph autograd records: pick the
    expression, move x and y, and step through the backward pass node by node."""
    w = _widgets()
    sizes = {name: len(backward_steps(fn(Tensor(1.0, requires_grad=True),
                                         Tensor(1.0, requires_grad=True)))[0])
             for name, fn in EXPRESSIONS.items()}
    top = sizes[expression]
    controls = {
        "expression": w.Dropdown(options=list(EXPRESSIONS), value=expression,
                                 description="expression"),
        "x": _slider(w, x, -3.0, 3.0, 0.1, "x"),
        "y": _slider(w, y, -3.0, 3.0, 0.1, "y"),
        "step": w.IntSlider(value=top if step is None else step, min=0, max=top,
                            description="backward step", continuous_update=False),
    }
    for control in controls.values():
        control.style.description_width = "initial"

    def new_expression(change):
        # a longer or shorter graph: the step slider spans it and shows it whole
        slider = controls["step"]
        slider.max = max(slider.max, sizes[change["new"]])
        slider.value = sizes[change["new"]]
        slider.max = sizes[change["new"]]

    controls["expression"].observe(new_expression, names="value")

    def draw(fig, ax, expression, x, y, step):
        tx = Tensor(float(x), requires_grad=True, name="x")
        ty = Tensor(float(y), requires_grad=True, name="y")
        return plot_expression_graph(ax, EXPRESSIONS[expression](tx, ty), step)

    return View(draw, controls, width=11, height=4.6, title="Autograd, node by node")
