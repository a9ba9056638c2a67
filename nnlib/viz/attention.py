"""The attention-map explorer of chapters/13_attention_transformers.ipynb: for a model
with attention layers and a token sequence, pick the layer, the head and the query
position, and see where that query looks.

``attention_maps`` runs the model once (evaluation mode) and collects every attention
layer's weights; ``plot_attention`` draws one head's map (rows are queries, columns are
keys, on the fixed scale 0 to 1 that attention weights live on) with the chosen query's
row outlined, and that row as bars over the key tokens.
"""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from ..layers.attention import MultiHeadAttention, TransformerBlock
from ..layers.dense import Dense
from ..layers.embedding import Embedding, PositionalEmbedding
from ..models.sequential import Sequential
from .style import CMAP, COLORS
from .view import View, _widgets

__all__ = ["attention_layers", "attention_maps", "plot_attention", "attention_explorer"]


def attention_layers(model):
    """Every ``MultiHeadAttention`` inside ``model`` (a layer, a container, a graph model
    or a ``TransformerBlock``), in order, with a readable name."""
    found = []

    def walk(layer, where):
        if isinstance(layer, MultiHeadAttention):
            found.append((f"{where} (attention)" if where else "attention", layer))
        elif isinstance(layer, TransformerBlock):
            found.append((f"{where} (block)" if where else "block", layer.attn))
        for i, child in enumerate(layer.children()):
            walk(child, f"{where}.{i}" if where else f"layer {i}")

    walk(model, "")
    return found


def attention_maps(model, tokens):
    """Run ``model`` on ``tokens`` in evaluation mode and return ``[(name, weights)]``,
    weights of shape (N, heads, T, T) for each attention layer."""
    layers = attention_layers(model)
    if not layers:
        raise ValueError(f"{model!r} has no attention layer (MultiHeadAttention or "
                         f"TransformerBlock) to show.")
    was_training = model.training
    model.eval()
    try:
        model.forward(tokens)
    finally:
        if was_training:
            model.train()
    return [(name, layer.attention.copy()) for name, layer in layers]


def plot_attention(ax_map, ax_bar, weights, query, labels, *, causal=False, title=""):
    """One head's attention map and one query's row of it.

    Parameters
    ----------
    ax_map, ax_bar : matplotlib Axes
    weights : ndarray of shape (T, T), rows are queries, each row sums to 1
    query : int, the query position to outline and show as bars
    labels : list of T str, the tokens
    causal : bool, grey out the keys a causal layer may not see

    Returns
    -------
    list of artists: the image, the outline, the bars
    """
    t = len(labels)
    image = ax_map.imshow(weights, cmap=CMAP, vmin=0.0, vmax=1.0, aspect="auto")
    outline = ax_map.add_patch(_row_box(query, t))
    ax_map.set(title=title or "attention weights (scale 0 to 1)",
               xlabel="key: position and token (attended to)",
               ylabel="query: position and token", xticks=range(t), yticks=range(t))
    ax_map.set_xticklabels([f"{j}\n{lab}" for j, lab in enumerate(labels)], fontsize=7)
    ax_map.set_yticklabels([f"{j} {lab}" for j, lab in enumerate(labels)], fontsize=7)
    ax_map.grid(False)
    ax_map.figure.colorbar(image, ax=ax_map, fraction=0.046, pad=0.02, label="weight")
    row = weights[query]
    colors = [COLORS["grey"] if causal and j > query else COLORS["blue"] for j in range(t)]
    bars = ax_bar.bar(range(t), row, color=colors)
    best = int(np.argmax(row))
    bars[best].set_color(COLORS["vermillion"])
    ax_bar.set(ylim=(0, 1.05), xticks=range(t), xlabel="key: position and token",
               ylabel="weight", title=f"query {query} ({labels[query]!r}) looks most at key "
                                      f"{best} ({labels[best]!r}): {row[best]:.2f}")
    ax_bar.set_xticklabels([f"{j}\n{lab}" for j, lab in enumerate(labels)], fontsize=7)
    if causal and query < t - 1:
        ax_bar.axvspan(query + 0.5, t - 0.5, color=COLORS["grey"], alpha=0.15,
                       label="future: masked")
        ax_bar.legend(fontsize=8, loc="upper right")
    return [image, outline, *bars]


def _row_box(query, t):
    return Rectangle((-0.5, query - 0.5), t, 1, fill=False, edgecolor=COLORS["vermillion"],
                     linewidth=2.0)


def _demo():
    """A small untrained causal model and a sequence, for the explorer's defaults."""
    model = Sequential(Embedding(12, 16, rng=0), PositionalEmbedding(8, 16, rng=1),
                       TransformerBlock(16, 2, causal=True, rng=2),
                       TransformerBlock(16, 2, causal=True, rng=3), Dense(16, 12, rng=4))
    tokens = np.array([[3, 1, 4, 1, 5, 9, 2, 6]])
    return model, tokens


def attention_explorer(model=None, tokens=None, labels=None, *, layer=0, head=0, query=None):
    """Pick an attention layer, a head and a query position (and an example, when
    ``tokens`` holds several sequences): the head's map and the query's weights.

    Parameters
    ----------
    model : a model with attention layers (default: a small untrained demo model)
    tokens : int array (T,) or (S, T): one or S example sequences
    labels : None, a function token id -> str, or a list of str per token id
    """
    if model is None:
        model, default_tokens = _demo()
        tokens = default_tokens if tokens is None else tokens
    tokens = np.atleast_2d(np.asarray(tokens))
    names = [name for name, _ in attention_layers(model)]
    maps = [attention_maps(model, tokens[i:i + 1]) for i in range(len(tokens))]
    causal = [a.causal for _, a in attention_layers(model)]
    heads = maps[0][0][1].shape[1]
    t = tokens.shape[1]

    def text(tok):
        if callable(labels):
            return labels(int(tok))
        return str(labels[int(tok)]) if labels is not None else str(int(tok))

    w = _widgets()
    controls = {"layer": w.Dropdown(options=[(n, i) for i, n in enumerate(names)], value=layer,
                                    description="layer"),
                "head": w.ToggleButtons(options=list(range(heads)), value=head,
                                        description="head"),
                "query": w.IntSlider(value=t - 1 if query is None else query, min=0, max=t - 1,
                                     description="query position", continuous_update=False)}
    if len(tokens) > 1:
        controls["example"] = w.IntSlider(value=0, min=0, max=len(tokens) - 1,
                                          description="example", continuous_update=False)

    def draw(fig, axes, layer, head, query, example=0):
        weights = maps[example][layer][1][0, head]
        seq = [text(tok) for tok in tokens[example]]
        return plot_attention(axes[0], axes[1], weights, query, seq, causal=causal[layer],
                              title=f"{names[layer]}, head {head} (weights, scale 0 to 1)")

    return View(draw, controls, ncols=2, width=11, height=4.2, title="Attention-map explorer")
