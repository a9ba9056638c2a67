"""nnlib.viz under the Agg backend: every pure plot draws labelled artists, every widget
view redraws when a control changes, the dashboard updates and leaves a final figure."""

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


VIEWS = {
    "activation_explorer": ("alpha", 0.7),
    "softmax_explorer": ("temperature", 3.0),
    "gd_playground": ("lr", 0.01),
    "init_explorer": ("depth", 3),
    "convolution_explorer": ("mode", "valid"),
    "pooling_explorer": ("stride", 1),
}  # the views of chapters 04 and 06 are tested control by control in test_viz_ch0406.py


@pytest.mark.parametrize("factory", VIEWS)
def test_views_redraw_when_a_control_moves(factory):
    view = getattr(viz, factory)()
    first_png, first_redraws = bytes(view.image.value), view.redraws
    assert first_png.startswith(b"\x89PNG") and view.artists and view.error is None
    control, value = VIEWS[factory]
    view.controls[control].value = value
    assert view.redraws == first_redraws + 1
    assert bytes(view.image.value) != first_png


def test_convolution_view_explains_a_kernel_too_large():
    view = viz.convolution_explorer(image=np.zeros((2, 2)), mode="same")
    assert view.error is None
    view.controls["mode"].value = "valid"
    assert "larger than the 2x2 image" in view.error and view.artists == []


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
