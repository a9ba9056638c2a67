"""Inside a trained CNN: what each layer makes of one image. A pure function draws one
image's feature maps layer by layer; a view picks the image, the layer and the colour
scale. Used in chapters/10_pooling_cnns.ipynb."""

from __future__ import annotations

import numpy as np

from .style import CMAP
from .widgets import View, _widgets

__all__ = ["layer_outputs", "plot_feature_path", "feature_map_explorer"]


def layer_outputs(model, image):
    """Run one image (C, H, W) through a Sequential model layer by layer (evaluation
    mode). Returns a list of (name, output of that layer for this image), the first
    entry the input itself; names read ``"1: ReLU()"`` (position: layer)."""
    was_training = model.training
    model.eval()
    try:
        x = np.asarray(image, dtype=model.dtype or np.float32)[None]
        outs = [("input", x[0])]
        for i, layer in enumerate(model.layers):
            x = layer.forward(x)
            outs.append((f"{i}: {layer!r}", x[0]))
    finally:
        if was_training:
            model.train()
    return outs


def _image_layers(outs):
    """The entries whose output is still a stack of images (C, H, W)."""
    return [(name, out) for name, out in outs if out.ndim == 3]


def plot_feature_path(fig, model, image, max_maps=8):
    """One image through the convolutional part of a network: one row per layer whose
    output is a stack of maps (conv, activation, pooling), its first ``max_maps`` maps
    on the row's own colour scale (the row's range is in its label), the size shrinking
    at each pooling layer."""
    rows = _image_layers(layer_outputs(model, image))
    ncols = max_maps
    axes = fig.subplots(len(rows), ncols, squeeze=False)
    artists = []
    for (name, maps), row in zip(rows, axes, strict=True):
        lo, hi = float(maps.min()), float(maps.max())
        for k, ax in enumerate(row):
            ax.grid(False)
            ax.set(xticks=[], yticks=[])
            if k >= len(maps):
                ax.set_visible(False)
                continue
            artists.append(ax.imshow(maps[k], cmap="gray_r" if name == "input" else CMAP,
                                     vmin=lo, vmax=hi if hi > lo else lo + 1))
        c, h, w = maps.shape
        row[0].set_ylabel(f"{name.split(': ')[-1]}\n{c}x{h}x{w}\n[{lo:.2g}, {hi:.2g}]",
                          fontsize=7, rotation=0, ha="right", va="center")
    for k in range(ncols):  # column titles above the first row of maps
        axes[min(1, len(rows) - 1), k].set_title(f"map {k}", fontsize=8)
    fig.suptitle("one digit through the network (each row on its own colour scale, "
                 "given as [min, max])", fontsize=9)
    return artists


def feature_map_explorer(model, images, labels=None, index=0, layer=None):
    """Every feature map of one layer for one image: choose the image, the layer (those
    whose output is a stack of maps) and the colour scale (shared by all maps, with a
    colour bar, or each map stretched to its own range)."""
    w = _widgets()
    stacks = _image_layers(layer_outputs(model, images[0]))[1:]
    names = [name for name, _ in stacks]
    ncols = 8
    nrows = 1 + -(-max(len(maps) for _, maps in stacks) // ncols)  # the same grid for all
    controls = {"index": w.IntSlider(value=index, min=0, max=len(images) - 1,
                                     description="image", continuous_update=False),
                "layer": w.Dropdown(options=names, value=layer or names[0],
                                    description="layer"),
                "scale": w.ToggleButtons(options=["shared", "each map"], value="shared",
                                         description="colours")}

    def draw(fig, axes, index, layer, scale):
        fig.clear()
        outs = dict(layer_outputs(model, images[index]))
        maps = outs[layer]
        grid = fig.subplots(nrows, ncols, squeeze=False)
        for ax in grid.ravel():
            ax.grid(False)
            ax.set(xticks=[], yticks=[])
        ax = grid[0, 0]
        ax.imshow(outs["input"][0], cmap="gray_r")
        ax.set_title(f"label {labels[index]}" if labels is not None else f"image {index}")
        shared = scale == "shared"
        lo, hi = float(maps.min()), float(maps.max())
        artists = []
        for k, ax in enumerate(grid[1:].ravel()):
            if k >= len(maps):
                ax.set_visible(False)
                continue
            if shared:
                artists.append(ax.imshow(maps[k], cmap=CMAP, vmin=lo,
                                         vmax=hi if hi > lo else lo + 1))
                ax.set_title(f"map {k}", fontsize=8)
            else:
                artists.append(ax.imshow(maps[k], cmap=CMAP))
                ax.set_title(f"{k}: {maps[k].min():.2g}..{maps[k].max():.2g}", fontsize=7)
        if shared:  # the colour bar sits in the free space of the top row
            for ax in grid[0, 1:-1]:
                ax.set_visible(False)
            bar = fig.colorbar(artists[0], cax=grid[0, -1].inset_axes([0.0, 0.1, 0.15, 0.8]))
            grid[0, -1].axis("off")
            bar.set_label("activation", fontsize=8)
        else:
            for ax in grid[0, 1:]:
                ax.set_visible(False)
        how = (f"one colour scale [{lo:.2g}, {hi:.2g}]" if shared
               else "each map stretched to its own range (titles)")
        fig.suptitle(f"{layer}: {maps.shape[0]} maps of {maps.shape[1]}x{maps.shape[2]}, {how}",
                     fontsize=9)
        return artists

    return View(draw, controls, width=9, height=min(1.05 * nrows + 0.4, 6.0),
                title="Feature maps")
