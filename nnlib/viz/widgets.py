"""ipywidgets factories: sliders and dropdowns wired to the pure plotting functions.

Each factory returns a :class:`View` (an ``ipywidgets.VBox``): controls on top, the
figure below as an ``ipywidgets.Image`` re-rendered on every change. Tests drive a view
without a browser: set ``view.controls["alpha"].value`` and look at ``view.artists``
(what the last redraw drew) and ``view.redraws``.
"""

from __future__ import annotations

import numpy as np

from ..data import load_photo
from . import curves, images
from .style import new_figure, to_png

__all__ = ["View", "activation_explorer", "softmax_explorer", "gd_playground",
           "convolution_explorer", "pooling_explorer", "decision_boundary_view"]


def _widgets():
    try:
        import ipywidgets
    except ImportError as e:
        raise ImportError("The interactive views need ipywidgets: pip install -e '.[course]'.") \
            from e
    return ipywidgets


class View:
    """Controls plus a figure that redraws when any control changes."""

    def __init__(self, draw, controls, *, nrows=1, ncols=1, width=9.0, height=None, title=""):
        w = _widgets()
        self.draw, self.controls = draw, controls
        self.layout = (nrows, ncols, width, height)
        self.image = w.Image(format="png")
        self.artists, self.redraws, self.error = [], 0, None
        header = [w.HTML(f"<b>{title}</b>")] if title else []
        self.widget = w.VBox([*header, w.HBox(list(controls.values()),
                                              layout=w.Layout(flex_flow="row wrap")),
                              self.image])
        for control in controls.values():
            control.observe(lambda change: self.update(), names="value")
        self.update()

    def values(self):
        return {name: control.value for name, control in self.controls.items()}

    def update(self):
        nrows, ncols, width, height = self.layout
        fig, axes = new_figure(nrows, ncols, width=width, height=height)
        try:
            self.artists = self.draw(fig, axes, **self.values())
            self.error = None
        except ValueError as e:  # e.g. a kernel larger than the image in 'valid' mode
            self.error = str(e)
            fig.clear()
            fig.text(0.5, 0.5, str(e), ha="center", va="center", wrap=True)
            self.artists = []
        self.image.value = to_png(fig)
        self.redraws += 1

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def _slider(w, value, lo, hi, step, description):
    return w.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                         continuous_update=False, readout_format=".3g")


def activation_explorer(name="leaky_relu", alpha=0.1):
    """Activation and derivative side by side, with an alpha slider (leaky ReLU, ELU)."""
    w = _widgets()
    controls = {"name": w.Dropdown(options=list(curves.ACTIVATIONS), value=name,
                                   description="activation"),
                "alpha": _slider(w, alpha, 0.0, 2.0, 0.01, "alpha")}
    return View(lambda fig, axes, name, alpha: curves.plot_activation(axes[0], axes[1], name,
                                                                      alpha),
                controls, ncols=2, height=3.2, title="Activation explorer")


def softmax_explorer(logits=(2.0, 1.0, 0.1, -1.0), label=0):
    """A slider per logit and a temperature slider: probabilities and cross-entropy."""
    w = _widgets()
    controls = {f"z{i}": _slider(w, v, -10, 10, 0.1, f"z{i}") for i, v in enumerate(logits)}
    controls["temperature"] = _slider(w, 1.0, 0.1, 5.0, 0.1, "temperature")
    controls["label"] = w.Dropdown(options=list(range(len(logits))), value=label,
                                   description="true class")

    def draw(fig, ax, temperature, label, **z):
        return curves.plot_softmax(ax, [z[f"z{i}"] for i in range(len(z))], temperature, label)

    return View(draw, controls, width=7, height=3.5, title="Softmax explorer")


def gd_playground(surface="quadratic", lr=0.05, steps=50):
    """SGD, momentum, RMSProp and Adam on a 2-D surface: learning rate, steps, surface and
    (for the quadratic) its conditioning."""
    w = _widgets()
    controls = {"surface": w.Dropdown(options=list(curves.SURFACES), value=surface,
                                      description="surface"),
                "lr": w.FloatLogSlider(value=lr, base=10, min=-4, max=0, step=0.1,
                                       description="lr", continuous_update=False),
                "steps": w.IntSlider(value=steps, min=1, max=300, description="steps",
                                     continuous_update=False),
                "cond": _slider(w, 10.0, 1.0, 50.0, 1.0, "conditioning")}
    return View(lambda fig, ax, surface, lr, steps, cond: curves.plot_descent(
        ax, surface, lr=lr, steps=steps, cond=cond), controls, width=7, height=5,
        title="Gradient-descent playground")


def convolution_explorer(image=None, kernel="sobel x", mode="same"):
    """An image, a kernel preset (or 'custom': a 3 x 3 random kernel from a seed) and the
    mode; the output and its size formula."""
    w = _widgets()
    if image is None:
        image = load_photo(size=96)
    controls = {"kernel": w.Dropdown(options=[*images.KERNELS, "custom"], value=kernel,
                                     description="kernel"),
                "mode": w.ToggleButtons(options=["full", "same", "valid"], value=mode,
                                        description="mode"),
                "seed": w.IntSlider(value=0, min=0, max=20, description="custom seed",
                                    continuous_update=False)}

    def draw(fig, axes, kernel, mode, seed):
        k = (images.KERNELS[kernel] if kernel != "custom"
             else np.random.default_rng(seed).standard_normal((3, 3)))
        return images.plot_convolution(axes[0], axes[1], axes[2], image, k, mode)

    return View(draw, controls, ncols=3, height=3.4, title="Convolution explorer")


def pooling_explorer(x=None, kind="max", size=2, stride=2):
    """Max or average pooling of a small array of values, with size and stride."""
    w = _widgets()
    x = np.random.default_rng(0).integers(0, 10, (6, 6)).astype(float) if x is None else x
    controls = {"kind": w.ToggleButtons(options=["max", "avg"], value=kind, description="pool"),
                "size": w.IntSlider(value=size, min=1, max=4, description="size",
                                    continuous_update=False),
                "stride": w.IntSlider(value=stride, min=1, max=4, description="stride",
                                      continuous_update=False)}
    return View(lambda fig, axes, kind, size, stride: images.plot_pooling(
        axes[0], axes[1], x, kind, size, stride), controls, ncols=2, height=3.5,
        title="Pooling explorer")


def decision_boundary_view(model, x, y):
    """Decision regions of ``model`` on 2-D data, with a resolution slider."""
    w = _widgets()
    controls = {"resolution": w.IntSlider(value=150, min=20, max=300, step=10,
                                          description="resolution", continuous_update=False)}
    return View(lambda fig, ax, resolution: images.plot_decision_boundary(
        ax, model.predict, x, y, resolution), controls, width=6, height=5,
        title="Decision boundary")
