"""The pictures and views of chapters 10 (pooling, a CNN on digits) and 11 (residual and
recurrent networks), under the Agg backend: every control of every view changes what it
draws, and every plot draws what its data say."""

import os

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")
os.environ.setdefault("MPLBACKEND", "Agg")

import nnlib as nl  # noqa: E402
from nnlib import viz  # noqa: E402


def small_cnn(seed=0):
    r = np.random.default_rng(seed)
    return nl.Sequential(nl.Conv2D(1, 4, 3, rng=r), nl.ReLU(), nl.MaxPool2D(2),
                         nl.Conv2D(4, 6, 3, rng=r), nl.ReLU(), nl.Flatten(),
                         nl.Dense(6 * 2 * 2, 3, rng=r))


def other_value(control):
    """A valid value of ``control`` different from its current one."""
    if hasattr(control, "options"):
        labels = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return next(v for v in labels if v != control.value)
    if type(control).__name__ == "FloatLogSlider":
        return control.base ** (control.min if control.value != control.base ** control.min
                                else control.max)
    return control.min if control.value != control.min else control.max


def views():
    x = np.random.default_rng(0).random((5, 1, 10, 10)).astype(np.float32)
    return {
        "pooling_explorer": viz.pooling_explorer,
        "feature_map_explorer": lambda: viz.feature_map_explorer(small_cnn(), x, [0, 1, 2, 0, 1]),
        "residual_gradient_view": lambda: viz.residual_gradient_view(depth=6),
        "gradient_through_time_view": lambda: viz.gradient_through_time_view(length=15),
    }


CONTROLS = {
    "pooling_explorer": ["image", "kind", "size", "stride"],
    "feature_map_explorer": ["index", "layer", "scale"],
    "residual_gradient_view": ["depth", "activation", "scale"],
    "gradient_through_time_view": ["cell", "scale", "length", "forget_bias"],
}


@pytest.mark.parametrize("factory, control",
                         [(f, c) for f, names in CONTROLS.items() for c in names])
def test_every_control_changes_the_picture(factory, control):
    view = views()[factory]()
    assert set(view.controls) == set(CONTROLS[factory])      # no control left untested
    before, redraws = bytes(view.image.value), view.redraws
    assert before.startswith(b"\x89PNG") and view.error is None and view.artists
    assert not view.controls[control].disabled
    view.controls[control].value = other_value(view.controls[control])
    assert view.redraws == redraws + 1 and view.error is None
    assert bytes(view.image.value) != before


def test_pooling_explorer_draws_the_pooled_image_and_explains_a_window_too_large():
    view = viz.pooling_explorer(image="values 7x7", kind="max", size=3, stride=2)
    shown_in, shown_out = view.artists[0].get_array(), view.artists[1].get_array()
    expected = nl.MaxPool2D(3, stride=2, dtype=np.float64).forward(shown_in[None, None])[0, 0]
    np.testing.assert_array_equal(shown_out, expected)
    view.controls["kind"].value = "avg"
    expected = nl.AvgPool2D(3, stride=2, dtype=np.float64).forward(shown_in[None, None])[0, 0]
    np.testing.assert_allclose(view.artists[1].get_array(), expected)
    view.controls["size"].value = 8                          # larger than 7 x 7
    assert "larger than the 7x7 input" in view.error and view.artists == []


def test_pooling_explorer_with_one_given_array_hides_the_image_choice():
    view = viz.pooling_explorer(x=np.arange(36.0).reshape(6, 6))
    assert view.controls["image"].layout.display == "none"
    assert view.artists[1].get_array().shape == (3, 3)


def test_plot_pooling_shares_the_scale_marks_unused_rows_and_writes_small_values():
    fig, axes = viz.new_figure(1, 2)
    x = np.arange(49.0).reshape(7, 7)
    artists = viz.plot_pooling(*axes, x, "max", 2, 2)
    assert artists[0].get_clim() == artists[1].get_clim() == (0.0, 48.0)
    hatched = [a for a in artists if getattr(a, "get_hatch", lambda: None)()]
    assert len(hatched) == 2                                   # last row and last column
    assert "floor((7 - 2) / 2) + 1 = 3" in axes[1].get_title()
    assert {t.get_text() for t in axes[1].texts} == {"8", "10", "12", "22", "24", "26", "36",
                                                     "38", "40"}
    fig, axes = viz.new_figure(1, 2)
    viz.plot_pooling(*axes, np.zeros((8, 8)), "avg", 2, 2)     # tiles exactly: nothing hatched
    assert not [p for p in axes[0].patches if p.get_hatch()]


def test_plot_filters_and_feature_maps_use_one_scale_unless_asked():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((6, 2, 3, 3))
    fig, _ = viz.new_figure()
    fig.clear()
    artists = viz.plot_filters(fig, W, ncols=3, channel=1)
    lim = np.abs(W[:, 1]).max()
    assert len(artists) == 6 and all(a.get_clim() == (-lim, lim) for a in artists)
    np.testing.assert_array_equal(artists[4].get_array(), W[4, 1])
    assert len(fig.axes) == 7                                 # 6 filters and a colour bar
    maps = rng.random((5, 4, 4))
    fig.clear()
    shared = viz.plot_feature_maps(fig, maps, ncols=5)
    assert {a.get_clim() for a in shared} == {(maps.min(), maps.max())}
    fig.clear()
    own = viz.plot_feature_maps(fig, maps, ncols=5, shared=False)
    assert [a.get_clim() for a in own] == [(m.min(), m.max()) for m in maps]


def test_confusion_matrix_counts_normalises_and_outlines_the_worst_confusion():
    y_true = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 2, 2, 2, 2, 0])
    fig, ax = viz.new_figure()
    artists = viz.plot_confusion_matrix(ax, y_true, y_pred, num_classes=4)
    counts = artists[0].get_array()
    assert counts.shape == (4, 4) and counts[1, 2] == 2 and counts[2, 0] == 1
    assert artists[1].get_xy() == (1.5, 0.5)                  # (true 1, predicted 2)
    assert "accuracy 55.6%" in ax.get_title()
    fig, ax = viz.new_figure()
    rows = viz.plot_confusion_matrix(ax, y_true, y_pred, normalize=True)[0].get_array()
    np.testing.assert_allclose(rows.sum(axis=1), 1.0)
    np.testing.assert_allclose(rows[2], [0.25, 0, 0.75])


def test_misclassified_most_confident_first_with_probabilities():
    images = np.random.default_rng(0).random((6, 1, 5, 5))
    y_true = np.array([0, 1, 2, 0, 1, 2])
    y_pred = np.array([0, 2, 2, 1, 0, 2])                      # wrong: 1, 3, 4
    probs = np.full((6, 3), 0.1)
    probs[[1, 3, 4], y_pred[[1, 3, 4]]] = [0.5, 0.9, 0.7]
    fig, _ = viz.new_figure()
    fig.clear()
    artists = viz.plot_misclassified(fig, images, y_true, y_pred, probs=probs)
    titles = [a.axes.get_title() for a in artists]
    assert titles[0].startswith("0 -> 1\np=0.90") and titles[1].startswith("1 -> 0\np=0.70")
    np.testing.assert_array_equal(artists[0].get_array(), images[3, 0])
    assert len({a.get_clim() for a in artists}) == 1          # one grey scale for all


def test_layer_outputs_and_the_feature_path_follow_the_model():
    model = small_cnn()
    image = np.random.default_rng(1).random((1, 10, 10)).astype(np.float32)
    outs = viz.layer_outputs(model, image)
    assert [name for name, _ in outs][:2] == ["input", "0: Conv2D(1, 4, 3)"]
    np.testing.assert_allclose(outs[-1][1], model.predict(image[None])[0], rtol=1e-6)
    assert model.training                                     # restored after eval mode
    fig, _ = viz.new_figure()
    fig.clear()
    viz.plot_feature_path(fig, model, image, max_maps=4)
    rows = [ax for ax in fig.axes if ax.get_ylabel()]
    assert len(rows) == 1 + 5                                  # input + 5 layers with maps
    assert "4x8x8" in rows[1].get_ylabel() and "4x4x4" in rows[3].get_ylabel()


def test_depth_gradients_vanish_through_plain_sigmoid_layers_not_residual_ones():
    plain = viz.depth_gradient_norms(20, activation="sigmoid")
    residual = viz.depth_gradient_norms(20, residual=True, activation="sigmoid")
    assert plain.shape == residual.shape == (21,)
    assert plain[0] / plain[-1] < 1e-9                         # slope <= 1/4 per layer
    assert 0.3 < residual[0] / residual[-1] < 3
    assert np.all(np.diff(np.log(plain)) > 0)                  # shrinks at every layer


def test_depth_gradient_norms_match_a_hand_written_backward():
    depth, width, n = 3, 4, 5
    norms = viz.depth_gradient_norms(depth, residual=True, activation="tanh", width=width,
                                     n=n, rng=7)
    rng = np.random.default_rng(7)                             # the same draws, by hand
    weights = [nl.Dense(width, width, rng=rng, dtype=np.float64) for _ in range(depth)]
    x = rng.standard_normal((n, width))
    xs = []
    for d in weights:
        xs.append(x)
        x = x + np.tanh(x @ d.W.data + d.b.data)
    g = rng.standard_normal(x.shape) / np.sqrt(x.size)
    expected = [np.linalg.norm(g)]
    for d, x_in in zip(reversed(weights), reversed(xs), strict=True):
        g = g + (g * (1 - np.tanh(x_in @ d.W.data + d.b.data) ** 2)) @ d.W.data.T
        expected.append(np.linalg.norm(g))
    np.testing.assert_allclose(norms, expected[::-1], rtol=1e-10)


def test_time_gradients_vanish_or_explode_with_the_recurrent_scale():
    small = viz.time_gradient_norms("rnn", 30, scale=0.5)
    large = viz.time_gradient_norms("rnn", 30, scale=3.0)
    assert small.shape == (30,) and small[0] / small[-1] < 1e-6
    assert large[0] / large[-1] > 1e2
    forgetful = viz.time_gradient_norms("lstm", 30, forget_bias=-2.0)
    keeping = viz.time_gradient_norms("lstm", 30, forget_bias=3.0)
    assert keeping[0] / keeping[-1] > 1e3 * forgetful[0] / forgetful[-1]


def test_time_gradient_norms_equal_central_differences():
    norms = viz.time_gradient_norms("lstm", 4, hidden=3, inputs=2, n=1, rng=3)
    rng = np.random.default_rng(3)                             # rebuild the same run
    layer = nl.LSTM(2, 3, rng=rng, dtype=np.float64)
    layer.b.data[3:6] = 1.0
    x = rng.standard_normal((1, 4, 2))
    g = rng.standard_normal((1, 3)) / np.sqrt(3)
    numeric = nl.numerical_gradient(lambda v: float(np.sum(layer.forward(v)[:, -1] * g)), x)
    np.testing.assert_allclose(norms, np.linalg.norm(numeric, axis=2)[0], rtol=1e-6)


def test_forget_bias_is_disabled_while_only_the_rnn_is_shown():
    view = viz.gradient_through_time_view(cell="RNN", length=10)
    assert view.controls["forget_bias"].disabled
    view.controls["cell"].value = "LSTM"
    assert not view.controls["forget_bias"].disabled
    labels = [a.get_label() for a in view.artists]
    assert len(labels) == 1 and labels[0].startswith("LSTM")


def test_live_dashboard_tracks_every_trainable_layer_of_a_cnn():
    x = np.random.default_rng(0).random((12, 1, 10, 10)).astype(np.float32)
    y = np.arange(12) % 3
    model = small_cnn()
    board = viz.LiveDashboard(min_interval=0.0, mode="widget", budget=1e9)
    model.fit(x, y, loss=nl.CrossEntropyLoss(), optimizer=nl.Adam(model.parameters()),
              epochs=2, batch_size=4, validation_data=(x, y), callbacks=[board],
              verbose=False)
    assert set(board.grad_norms) == {"layer 0", "layer 3", "layer 6"}
    assert board.redraws == 3 and bytes(board.image.value).startswith(b"\x89PNG")
