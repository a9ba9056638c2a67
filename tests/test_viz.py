"""nnlib.viz under the Agg backend: every pure plot draws labelled artists, every widget
view redraws when a control changes, the dashboard updates and leaves a final figure."""

import hashlib
import io
import os

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")
os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt  # noqa: E402

import nnlib as nl  # noqa: E402
from nnlib import viz  # noqa: E402


def labelled(ax):
    return bool(ax.get_title()) and (bool(ax.get_xlabel()) or not ax.axison)


@pytest.mark.parametrize("name", list(viz.ACTIVATIONS))
def test_activation_plot_marks_vanishing_gradients(name):
    fig, (ax_f, ax_d) = viz.new_figure(1, 2)
    artists = viz.plot_activation(ax_f, ax_d, name, alpha=0.3)
    assert len(artists) == 3 and labelled(ax_f) and labelled(ax_d)
    y = artists[0].get_ydata()
    x = artists[0].get_xdata()
    fn, _, takes_alpha = viz.ACTIVATIONS[name]
    np.testing.assert_allclose(y, fn(x, *((0.3,) if takes_alpha else ())))
    shaded = "gradient vanishes" in artists[2].get_label()
    assert shaded


def test_softmax_plot_bars_sum_to_one_and_temperature_flattens():
    fig, ax = viz.new_figure()
    sharp = [b.get_height() for b in viz.plot_softmax(ax, [2.0, 1.0, 0.0], 0.5)]
    flat = [b.get_height() for b in viz.plot_softmax(ax, [2.0, 1.0, 0.0], 5.0)]
    assert sum(sharp) == pytest.approx(1) and max(flat) < max(sharp)


@pytest.mark.parametrize("surface", list(viz.SURFACES))
def test_descent_paths(surface):
    fig, ax = viz.new_figure()
    artists = viz.plot_descent(ax, surface, lr=0.01, steps=20)
    assert labelled(ax) and len(ax.get_legend().get_texts()) == 4
    path = viz.descend("quadratic", "momentum", 0.05, 200)
    assert np.abs(path[-1]).max() < 1e-2  # converges to the minimum at 0
    assert artists


def test_depth_statistics_show_vanishing_and_he_keeping_scale():
    acts, grads = viz.depth_statistics("normal", "tanh", depth=10, width=64, n=128)
    assert acts[-1].std() < 0.01 * acts[0].std()          # small init: activations vanish
    acts, grads = viz.depth_statistics("he_normal", "relu", depth=10, width=256, n=256)
    assert 0.3 < acts[-1].std() / acts[0].std() < 3      # He keeps the scale
    fig, (a, g) = viz.new_figure(1, 2)
    assert len(viz.plot_depth_statistics(a, g, acts, grads)) == 20


def test_image_plots():
    rng = np.random.default_rng(0)
    fig, axes = viz.new_figure(1, 3)
    image = rng.random((12, 10))
    arts = viz.plot_convolution(*axes, image, viz.KERNELS["sobel x"], "valid")
    assert arts[2].get_array().shape == (10, 8) and "10 = 10" not in axes[2].get_title()
    assert "12 - 3 + 1 = 10" in axes[2].get_title()
    fig, axes = viz.new_figure(1, 2)
    arts = viz.plot_pooling(*axes, rng.integers(0, 9, (6, 6)).astype(float), "max", 3, 2)
    assert arts[1].get_array().shape == (2, 2)
    fig, _ = viz.new_figure(width=8)
    fig.clear()
    assert len(viz.plot_filters(fig, rng.standard_normal((8, 1, 3, 3)))) == 8
    fig.clear()
    assert len(viz.plot_feature_maps(fig, rng.random((4, 5, 5)))) == 4
    fig, ax = viz.new_figure()
    y_true, y_pred = np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 2, 1])
    counts = viz.plot_confusion_matrix(ax, y_true, y_pred)[0].get_array()
    assert counts[1, 2] == 1 and np.trace(counts) == 4 and "80.0%" in ax.get_title()
    fig.clear()
    assert len(viz.plot_misclassified(fig, rng.random((5, 1, 4, 4)), y_true, y_pred)) == 1


def test_decision_boundary():
    x, y = nl.data.spirals(20, 3, rng=0)
    model = nl.Sequential(nl.Dense(2, 8, rng=0), nl.ReLU(), nl.Dense(8, 3, rng=1))
    fig, ax = viz.new_figure()
    artists = viz.plot_decision_boundary(ax, model.predict, x, y, resolution=30)
    assert len(artists) == 2 and "accuracy" in ax.get_title()


def _spirals_model():
    x, y = nl.data.spirals(20, 3, rng=0)
    return {"model": nl.Sequential(nl.Dense(2, 8, rng=0), nl.ReLU(), nl.Dense(8, 3, rng=1)),
            "x": x, "y": y}


#: every view factory nnlib.viz exports (a new one is included automatically), with the
#: arguments it needs when it has no defaults
VIEWS = {name: (lambda: {}) for name in viz.__all__
         if name.endswith(("_explorer", "_playground", "_view"))}
VIEWS["decision_boundary_view"] = _spirals_model
VIEWS["feature_map_explorer"] = lambda: {
    "model": nl.Sequential(nl.Conv2D(1, 3, 3, rng=0), nl.ReLU(), nl.MaxPool2D(2)),
    "images": np.random.default_rng(0).random((4, 1, 8, 8)).astype(np.float32)}
VIEWS["drawing_pad_view"] = lambda: {
    "model": nl.Sequential(nl.Flatten(), nl.Dense(32 * 32, 36, rng=0)),
    "names": list("0123456789") + list(nl.data.LETTERS),
    "prepare": lambda d: np.kron(np.asarray(d, dtype=np.float32), np.ones((2, 2)))}
VIEWS["mistake_explorer"] = lambda: {
    "images": np.random.default_rng(0).random((40, 1, 8, 8)), "y_true": np.arange(40) % 4,
    "probs": np.random.default_rng(1).dirichlet(np.ones(4), 40), "names": list("abcd")}
#: for a control disabled by default, a selection under which it applies (add one here
#: when a new view disables a control)
ENABLE = {"alpha": ("name", "elu"), "target": ("kind", "mse"), "cond": ("surface", "quadratic"),
          "seed": ("kernel", "random"), "std": ("init", "normal"),
          "forget_bias": ("cell", "both")}
#: for a text control, another value a learner would type
TYPED = {"(4, 1)": "(2, 3, 1)", "(3,)": "(5, 1, 4)"}


def _moved(control):
    """A different valid value for a control, as a learner would pick it."""
    if isinstance(control.value, tuple):                # SelectMultiple: another selection
        first = control.options[0]
        return (tuple(o for o in control.value if o != first) if first in control.value
                else (first,))
    if hasattr(control, "index"):                       # Dropdown, ToggleButtons
        return control.options[(control.index + 1) % len(control.options)]
    if isinstance(control.value, str):                  # Text
        return TYPED[control.value]
    lo, hi = control.min, control.max
    for fraction in (0.7, 0.3):
        value = lo + fraction * (hi - lo)
        if type(control).__name__ == "FloatLogSlider":
            value = control.base ** value
        elif type(control).__name__ == "IntSlider":
            value = round(value)
        if value != control.value:
            return value
    raise AssertionError(f"no other value for {control}")


def _set(control, value):
    if isinstance(control.value, tuple):
        control.value = value
    elif hasattr(control, "index"):
        control.index = list(control.options).index(value)
    else:
        control.value = value


def _png(view):
    return hashlib.sha256(bytes(view.image.value)).hexdigest()


@pytest.mark.views
@pytest.mark.parametrize("factory", sorted(VIEWS))
def test_every_control_of_every_view_changes_the_picture(factory):
    """The rule "views respond": from the default selection, each enabled control
    redraws a different picture; a disabled one would not have changed it (so disabling
    is honest) and, once the selection that needs it is made, it does."""
    def fresh():
        return getattr(viz, factory)(**VIEWS[factory]())

    view = fresh()
    assert bytes(view.image.value).startswith(b"\x89PNG") and view.artists and not view.error
    for name in view.controls:
        view = fresh()
        control = view.controls[name]
        before, redraws = _png(view), view.redraws
        if name in view.active():
            _set(control, _moved(control))
            assert view.redraws == redraws + 1 and view.error is None, (name, view.error)
            assert _png(view) != before, f"{factory}: moving {name!r} changed nothing"
            continue
        _set(control, _moved(control))
        assert _png(view) == before, f"{factory}: {name!r} is disabled but changes the view"
        selector, choice = ENABLE[name]
        _set(view.controls[selector], choice)
        assert not control.disabled, f"{name!r} stays disabled for {selector}={choice!r}"
        before = _png(view)
        _set(control, _moved(control))
        assert _png(view) != before, f"{factory}: {name!r} changed nothing once enabled"


def test_views_render_at_their_natural_size_and_labels_fit():
    view = viz.softmax_explorer()
    assert view.image.layout.width == f"{round(6.5 * viz.View.DPI)}px"
    assert all(c.style.description_width == "initial" for c in view.controls.values())
    assert "nnlib-view" in view.widget._dom_classes
    assert all(f"nnlib-control-{n}" in c._dom_classes for n, c in view.controls.items())


def test_activation_view_disables_alpha_where_it_does_not_apply():
    view = viz.activation_explorer("sigmoid")
    assert view.controls["alpha"].disabled and "alpha" not in view.active()
    view.controls["name"].value = "leaky_relu"
    assert not view.controls["alpha"].disabled


@pytest.mark.parametrize("size", range(1, 8))
def test_kernel_presets_at_every_size(size):
    image = np.random.default_rng(size).random((9, 8))
    identity = viz.make_kernel("identity", size)
    # 'same' padding puts the extra row/column of an even kernel at the bottom/right, so
    # the identity's 1 sits at (k - 1) // 2 and 'same' returns the image itself
    same = nl.Conv2D(1, 1, size, padding="same", dtype=np.float64)
    same.W.data[0, 0] = identity
    np.testing.assert_allclose(same.forward(image[None, None])[0, 0], image)
    for name in ("box blur", "gaussian"):
        kernel = viz.make_kernel(name, size)
        assert kernel.shape == (size, size) and kernel.sum() == pytest.approx(1)
        assert (kernel >= 0).all()
    assert viz.make_kernel("sharpen", size).sum() == pytest.approx(1)
    if size >= 2:
        sobel = viz.make_kernel("sobel x", size)
        step = np.repeat([[0.0] * 4 + [1.0] * 4], 9, axis=0)   # dark left, bright right
        response = nl.Conv2D(1, 1, size, dtype=np.float64)
        response.W.data[0, 0] = sobel
        assert response.forward(step[None, None]).max() > 0 and sobel.sum() == 0
        np.testing.assert_array_equal(viz.make_kernel("sobel y", size), sobel.T)
    else:
        with pytest.raises(ValueError, match="size >= 2"):
            viz.make_kernel("sobel x", 1)
    np.testing.assert_array_equal(viz.make_kernel("random", size, seed=3),
                                  viz.make_kernel("random", size, seed=3))


def test_classic_3x3_presets():
    np.testing.assert_array_equal(viz.KERNELS["sobel x"], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_allclose(viz.KERNELS["gaussian"] * 16, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


@pytest.mark.parametrize("padding", ["valid", "same", "full", 1, 2])
def test_conv_layer_plot_states_the_output_size_it_shows(padding):
    image = np.random.default_rng(0).random((11, 9))
    for size, stride in ((2, 1), (3, 2), (4, 3), (5, 1)):
        fig, axes = viz.new_figure(1, 3)
        artists = viz.plot_conv_layer(fig, *axes, image, viz.make_kernel("sobel x", size),
                                      stride, padding)
        out = artists[-2].get_array()
        pad = {"valid": 0, "full": size - 1}.get(padding, padding)
        if padding == "same":
            expected = (-(-11 // stride), -(-9 // stride))
        else:
            expected = ((11 + 2 * pad - size) // stride + 1, (9 + 2 * pad - size) // stride + 1)
        assert out.shape == expected
        assert f"output {expected[0]}x{expected[1]}" in axes[2].get_title()
        assert axes[2].get_xlabel().splitlines()[0].endswith(f"= {expected[0]}")


def test_conv_layer_plot_says_when_it_clips():
    image = np.random.default_rng(0).random((12, 10))
    fig, axes = viz.new_figure(1, 3)
    viz.plot_conv_layer(fig, *axes, image, viz.make_kernel("box blur", 3), 1, "same")
    assert "grey on [0, 1]" in axes[2].get_title() and "clipped" not in axes[2].get_title()
    fig, axes = viz.new_figure(1, 3)
    viz.plot_conv_layer(fig, *axes, image, viz.make_kernel("sharpen", 3), 1, "same")
    assert "grey on [0, 1]" in axes[2].get_title() and "% clipped" in axes[2].get_title()
    fig, axes = viz.new_figure(1, 3)
    viz.plot_conv_layer(fig, *axes, image, viz.make_kernel("sobel y", 3), 1, "same")
    assert "signed" in axes[2].get_title()
    fig, axes = viz.new_figure(1, 3)
    with pytest.raises(ValueError, match="does not fit"):
        viz.plot_conv_layer(fig, *axes, image[:2, :2], viz.make_kernel("gaussian", 5), 1, "valid")


def test_sliding_window_sum_is_the_correlation():
    from scipy import signal

    image = np.arange(30.0).reshape(5, 6) % 7
    kernel = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
    out = signal.correlate2d(image, kernel, "valid")
    for position in (0, 5, out.size - 1):
        fig, axes = viz.new_figure(1, 4)
        viz.plot_sliding_window(*axes, image, kernel, position)
        row, col = divmod(position, out.shape[1])
        assert axes[3].get_title().endswith(f"= {out[row, col]:.3g}")
        shown = axes[3].images[0].get_array()
        assert np.isnan(shown.filled(np.nan).flat[position + 1:]).all()
    with pytest.raises(ValueError, match="position"):
        viz.plot_sliding_window(*axes, image, kernel, out.size)


def test_no_pyplot_figures_pile_up():
    before = len(plt.get_fignums())
    for _ in range(5):
        viz.activation_explorer()
    assert len(plt.get_fignums()) == before


def test_dashboard_text_mode_prints_a_line_per_epoch():
    x, y = nl.data.spirals(20, 3, rng=0)
    model = nl.Sequential(nl.Dense(2, 8, rng=0), nl.ReLU(), nl.Dense(8, 3, rng=1))
    out = io.StringIO()
    model.fit(x, y, loss="cross_entropy", optimizer=nl.Adam(model.parameters()), epochs=3,
              callbacks=[viz.LiveDashboard(mode="text", file=out)], verbose=False)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and lines[2].startswith("epoch 3: loss")


def test_dashboard_widget_mode_updates_at_most_as_often_as_allowed():
    x, y = nl.data.spirals(20, 3, rng=0)
    xv, yv = nl.data.spirals(10, 3, rng=1)
    model = nl.Sequential(nl.Dense(2, 8, rng=0), nl.ReLU(), nl.Dense(8, 3, rng=1))
    every = viz.LiveDashboard(min_interval=0.0, mode="widget", budget=1e9)
    model.fit(x, y, loss="cross_entropy", optimizer=nl.Adam(model.parameters()), epochs=4,
              validation_data=(xv, yv), callbacks=[every], verbose=False)
    assert every.redraws == 5  # each epoch and the final figure
    assert bytes(every.image.value).startswith(b"\x89PNG")
    assert set(every.history) >= {"loss", "val_loss", "accuracy", "val_accuracy"}
    assert set(every.grad_norms) == {"layer 0", "layer 2"}
    assert all(len(v) == 4 and all(n > 0 for n in v) for v in every.grad_norms.values())
    rare = viz.LiveDashboard(min_interval=3600, mode="widget")
    model.fit(x, y, loss="cross_entropy", optimizer=nl.Adam(model.parameters()), epochs=4,
              callbacks=[rare], verbose=False)
    assert rare.redraws == 1  # only the final figure
    labels = [t.get_text() for t in rare.figure().axes[0].get_legend().get_texts()]
    assert labels == ["loss"]


def test_palette_is_the_okabe_ito_set():
    assert viz.PALETTE[:3] == ["#0072B2", "#E69F00", "#009E73"]
