"""A picture of a graph model: layers as boxes, arrows for edges with the per-sample
shape they carry, laid out left to right by depth. Plain matplotlib, no graphviz."""

from __future__ import annotations

from .images import _grid, _show
from .style import COLORS, style_axes

__all__ = ["plot_model", "plot_weight_images"]


def _layout(model):
    """(x, y) per node: x = longest path from an input, nodes of one depth spread in y."""
    depth = {}
    for node in model.nodes:  # topological order: parents first
        depth[id(node)] = max((depth[id(p)] + 1 for p in node.parents), default=0)
    columns = {}
    for node in model.nodes:
        columns.setdefault(depth[id(node)], []).append(node)
    pos = {}
    for d, nodes in columns.items():
        for i, node in enumerate(nodes):
            pos[id(node)] = (d, (len(nodes) - 1) / 2 - i)
    return pos


def plot_model(ax, model):
    """Draw ``model`` (an ``nl.Model``). Returns the box and arrow artists."""
    style_axes(ax)
    ax.grid(False)
    ax.axis("off")
    pos = _layout(model)
    artists = []
    for node in model.nodes:
        x1, y1 = pos[id(node)]
        for parent in node.parents:
            x0, y0 = pos[id(parent)]
            artists.append(ax.annotate("", xy=(x1 - 0.28, y1), xytext=(x0 + 0.28, y0),
                                       arrowprops=dict(arrowstyle="->", color=COLORS["grey"],
                                                       lw=1.2)))
            shape = "x".join(map(str, parent.shape))
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.08, shape, ha="center", fontsize=7,
                    color=COLORS["blue"])
    shared = {id(layer) for layer in model.layers
              if sum(n.layer is layer for n in model.nodes) > 1}
    for node in model.nodes:
        x, y = pos[id(node)]
        if node.layer is None:
            label, color = f"Input\n{'x'.join(map(str, node.shape))}", COLORS["sky"]
        else:
            label = type(node.layer).__name__
            if hasattr(node.layer, "in_features"):
                label += f"\n{node.layer.in_features}->{node.layer.out_features}"
            color = COLORS["orange"] if id(node.layer) in shared else "#F2F2F2"
        if any(node is out for out in model.outputs):
            label += "\n(output)"
        artists.append(ax.text(x, y, label, ha="center", va="center", fontsize=8,
                               bbox=dict(boxstyle="round,pad=0.4", fc=color, ec="black",
                                         lw=0.8)))
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set(xlim=(min(xs) - 0.6, max(xs) + 0.6), ylim=(min(ys) - 0.8, max(ys) + 0.8),
           title="model graph (orange: a layer shared by several nodes; blue: edge shapes)")
    return artists


def plot_weight_images(fig, W, image_shape, n=16, ncols=8):
    """The first ``n`` columns of a first-layer weight ``W`` (pixels, units) as images:
    what each unit responds to (red +, blue -)."""
    axes = _grid(fig, min(n, W.shape[1]), ncols)
    return [_show(ax, W[:, j].reshape(image_shape), f"unit {j}", symmetric=True)
            for j, ax in enumerate(axes)]
