"""ipywidgets factories: sliders and dropdowns wired to the pure plotting functions.

Each factory returns a :class:`View` (an ``ipywidgets.VBox``): controls on top, the
figure below as an ``ipywidgets.Image`` re-rendered on every change. Tests drive a view
without a browser: set ``view.controls["alpha"].value`` and look at ``view.artists``
(what the last redraw drew) and ``view.redraws``.
"""

from __future__ import annotations

import numpy as np

from . import curves, images
from .style import new_figure, to_png

__all__ = ["View", "activation_explorer", "loss_explorer", "softmax_explorer", "gd_playground",
           "init_explorer", "convolution_explorer", "pooling_explorer", "backprop_explorer",
           "decision_boundary_view"]


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


def loss_explorer(kind="bce", target=1.0):
    """MSE, BCE or CE as a function of the prediction, with the gradient."""
    w = _widgets()
    controls = {"kind": w.Dropdown(options=["mse", "bce", "ce"], value=kind, description="loss"),
                "target": _slider(w, target, 0.0, 1.0, 0.05, "target")}
    return View(lambda fig, ax, kind, target: curves.plot_loss(ax, kind, target), controls,
                width=7, height=3.5, title="Loss explorer")


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

    def applies(change=None):
        controls["cond"].disabled = controls["surface"].value != "quadratic"

    controls["surface"].observe(applies, names="value")
    applies()

    def draw(fig, axes, surface, optimizers, lr, steps, cond):
        return curves.plot_descent(axes[0], surface, optimizers, lr=lr, steps=steps, cond=cond,
                                   ax_loss=axes[1])

    view = View(draw, controls, ncols=2, width=11, height=4.6,
                title="Gradient-descent playground")
    # play: steps from 0 to the slider's maximum, one frame every 0.4 s
    play = w.Play(value=steps, min=0, max=steps_slider.max, step=5, interval=400,
                  description="play")
    w.link((play, "value"), (steps_slider, "value"))
    view.play = play
    view.widget.children = (*view.widget.children[:-1], play, view.widget.children[-1])
    return view


def init_explorer(init="he_normal", activation="relu", depth=8):
    """Activations and gradients through ``depth`` Dense layers (width 128) for an init
    scheme x activation: histograms per layer (activation values; gradient sizes on a log
    scale) and each one's standard deviation against the layer -- a flat line keeps its
    scale, a falling one vanishes, a rising one explodes."""
    w = _widgets()
    from .. import init as initializers

    names = [n for n in initializers._BY_NAME if n not in ("xavier_uniform", "xavier_normal",
                                                          "kaiming_uniform", "kaiming_normal")]
    controls = {"init": w.Dropdown(options=names, value=init, description="init"),
                "activation": w.Dropdown(options=list(curves.ACTIVATIONS), value=activation,
                                         description="activation"),
                "depth": w.IntSlider(value=depth, min=1, max=30, description="depth",
                                     continuous_update=False)}

    def draw(fig, axes, init, activation, depth):
        acts, grads = curves.depth_statistics(init, activation, depth, width=128, n=256)
        return curves.plot_depth_statistics(axes[0], axes[1], acts, grads, ax_std=axes[2],
                                            log_gradients=True)

    return View(draw, controls, ncols=3, width=13, height=3.8,
                title="Initialisation and depth")


def convolution_explorer(image=None, kernel="sobel x", mode="same"):
    """An image, a kernel preset (or 'custom': a 3 x 3 random kernel from a seed) and the
    mode; the output and its size formula."""
    w = _widgets()
    if image is None:
        from ..data import load_photo

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


def backprop_explorer(seed=0):
    """A 2-3-2 network: forward values and backward gradients per unit; the input sliders
    change x, the seed the weights."""
    w = _widgets()
    controls = {"x1": _slider(w, 1.0, -2, 2, 0.1, "x1"), "x2": _slider(w, -0.5, -2, 2, 0.1, "x2"),
                "activation": w.Dropdown(options=["relu", "tanh", "sigmoid"], value="tanh",
                                         description="hidden"),
                "seed": w.IntSlider(value=seed, min=0, max=20, description="weights seed",
                                    continuous_update=False)}

    def draw(fig, ax, x1, x2, activation, seed):
        rng = np.random.default_rng(seed)
        layers = [(rng.standard_normal((2, 3)), rng.standard_normal(3) * 0.1, activation),
                  (rng.standard_normal((3, 2)), rng.standard_normal(2) * 0.1, None)]
        return images.plot_backprop(ax, layers, np.array([[x1, x2]]), np.array([[1.0, -1.0]]))

    return View(draw, controls, width=8, height=4.5, title="Backpropagation, unit by unit")


def decision_boundary_view(model, x, y):
    """Decision regions of ``model`` on 2-D data, with a resolution slider."""
    w = _widgets()
    controls = {"resolution": w.IntSlider(value=150, min=20, max=300, step=10,
                                          description="resolution", continuous_update=False)}
    return View(lambda fig, ax, resolution: images.plot_decision_boundary(
        ax, model.predict, x, y, resolution), controls, width=6, height=5,
        title="Decision boundary")
