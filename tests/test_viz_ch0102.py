"""The views of chapters 01 and 02 under the Agg backend: the broadcasting rule against
NumPy's, the pictures against the numbers they claim to show, and every control of every
view changing what it draws (controls that do not apply are disabled)."""

import os

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")
os.environ.setdefault("MPLBACKEND", "Agg")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from nnlib import viz  # noqa: E402

# ------------------------------------------------------------------------ broadcasting

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)


@given(shapes, shapes)
def test_broadcast_alignment_agrees_with_numpy(a, b):
    axes = viz.broadcast_alignment(a, b)
    try:
        expected = np.broadcast_shapes(a, b)
    except ValueError:
        expected = None
    clash = [ax for ax in axes if ax["kind"] == "clash"]
    if expected is None:
        assert clash
    else:
        assert not clash and tuple(ax["out"] for ax in axes) == expected
    assert len(axes) == max(len(a), len(b))
    assert sum(ax["a_padded"] for ax in axes) == len(axes) - len(a)


def test_broadcast_alignment_names_who_is_stretched():
    axes = viz.broadcast_alignment((5,), (5, 1))     # the classic (N,) against (N, 1)
    assert [ax["kind"] for ax in axes] == ["stretch a", "stretch b"]
    assert axes[0]["a_padded"] and not axes[0]["b_padded"]


@pytest.mark.parametrize("text, shape", [("(4, 1)", (4, 1)), ("4,1", (4, 1)), ("4 1", (4, 1)),
                                         ("(3,)", (3,)), ("()", ()), ("  7 ", (7,))])
def test_parse_shape(text, shape):
    assert viz.parse_shape(text) == shape


@pytest.mark.parametrize("text", ["(4, -1)", "4.5", "a, b", "(1,2,3,4,5,6,7)"])
def test_parse_shape_rejects_with_an_example(text):
    with pytest.raises(ValueError, match="shape A"):
        viz.parse_shape(text, "shape A")


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_plot_broadcast_draws_the_values_of_a_plus_b():
    fig, (left, right) = viz.new_figure(1, 2)
    viz.plot_broadcast(left, right, "(4, 1)", "(3,)")
    assert "(4, 3)" in left.get_title()
    drawn = texts(right)
    for v in np.arange(1, 5)[:, None] + 10 * np.arange(1, 4):   # every entry of a + b
        for x in v:
            assert f"{x:g}" in drawn
    assert any("1→3" in t for t in texts(left)) and any("1→4" in t for t in texts(left))


def test_plot_broadcast_shows_a_clash_instead_of_raising():
    fig, (left, right) = viz.new_figure(1, 2)
    viz.plot_broadcast(left, right, "(2, 3)", "(3, 2)")
    assert "error" in left.get_title() and "axis -1: 3 vs 2" in left.get_title()
    assert any("clash" in t for t in texts(right))


def test_plot_broadcast_large_result_is_described_not_drawn():
    fig, (left, right) = viz.new_figure(1, 2)
    viz.plot_broadcast(left, right, "(8, 3, 32, 32)", "(3, 1, 1)")
    assert "(8, 3, 32, 32)" in left.get_title()
    assert any("result shape (8, 3, 32, 32)" in t for t in texts(right))


def test_plot_timings_bars_are_ratios_to_the_baseline():
    timings = {"small": {"loop": 3.0, "fast": 0.01}, "large": {"loop": 500.0, "fast": 1.0}}
    fig, ax = viz.new_figure()
    bars = viz.plot_timings(ax, timings, "fast")
    heights = [[b.get_height() for b in container] for container in bars]
    assert heights == [[300.0, 1.0], [500.0, 1.0]]
    assert ax.get_yscale() == "log" and "fast" in ax.get_ylabel()
    assert "300x" in texts(ax) and "500x" in texts(ax)


# ------------------------------------------------------------------------ neurons, init

def test_plot_neuron_colours_the_activation_of_w_x_plus_b():
    fig, ax = viz.new_figure()
    image = viz.plot_neuron(ax, 2.0, -1.0, 0.5, "tanh")[0]
    values = image.get_array()
    grid = np.linspace(-3, 3, values.shape[0])
    i, j = 10, 90                                         # row i is x2, column j is x1
    assert values[i, j] == pytest.approx(np.tanh(2.0 * grid[j] - grid[i] + 0.5))
    assert image.get_clim() == (-1.0, 1.0)                # the activation's full range


def test_layer_profile_collapse_explosion_and_he():
    acts, grads = viz.layer_profile("normal", "tanh", 8, width=64, n=64, std=0.01)
    assert acts[-1].std() < 1e-6 and grads[0].std() < 1e-6           # collapse
    acts, grads = viz.layer_profile("normal", "relu", 8, width=64, n=64, std=0.5)
    assert acts[-1].std() > 1e3                                       # explosion
    acts, grads = viz.layer_profile("he_normal", "relu", 8, width=256, n=128)
    assert 0.3 < acts[-1].std() < 3 and 0.3 < grads[0].std() < 3      # He keeps the scale
    acts, grads = viz.layer_profile("zeros", "tanh", 3, width=16, n=8)
    assert all(a.std() == 0 for a in acts) and all(g.std() == 0 for g in grads)


def test_plot_layer_profile_draws_the_stds_it_computed():
    acts, grads = viz.layer_profile("glorot_uniform", "relu", 6, width=64, n=64)
    fig, axes = viz.new_figure(1, 3)
    artists = viz.plot_layer_profile(*axes, acts, grads)
    np.testing.assert_allclose(artists[0].get_ydata(), [a.std() for a in acts])
    np.testing.assert_allclose(artists[1].get_ydata(), [g.std() for g in grads])
    assert axes[0].get_yscale() == "log"
    assert artists[-2].get_array().shape == (6, 61)       # one histogram row per layer
    assert axes[0].get_title().startswith("std: activations of layer 6")
    fig, axes = viz.new_figure(1, 3)
    viz.plot_layer_profile(*axes, acts, grads, label="glorot + relu")
    assert axes[0].get_title().startswith("glorot + relu\nstd:")


def test_plot_layer_profile_marks_exact_zeros():
    acts, grads = viz.layer_profile("zeros", "relu", 4, width=16, n=8)
    fig, axes = viz.new_figure(1, 3)
    viz.plot_layer_profile(*axes, acts, grads)
    labels = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert "activations: exactly 0" in labels and "gradients: exactly 0" in labels


def test_init_grid_and_its_plot():
    inits, activations = ("normal", "he_normal"), ("tanh", "relu")
    act, grad = viz.init_grid(6, inits=inits, activations=activations, width=64, n=64)
    assert act.shape == grad.shape == (2, 2)
    assert act[0, 1] < 1e-3 < 0.3 < act[1, 1] < 3
    fig, ax = viz.new_figure()
    viz.plot_init_grid(ax, act, inits, activations, "activations")
    assert f"{act[1, 1]:.2g}" in texts(ax)


# ------------------------------------------------------------------------ every control

def png(view):
    return bytes(view.image.value)


# factory -> (control, new value) for EVERY control of the view, from its default
# selection (init_explorer made small for speed: its choices keep their defaults)
CONTROLS = {
    "broadcast_explorer": [("a", "(4, 3)"), ("b", "(4, 1)")],
    "neuron_explorer": [("w1", -2.0), ("w2", 2.5), ("b", -1.0), ("activation", "tanh")],
    "init_explorer": [("activation", "tanh"), ("depth", 6), ("width", 48),
                      ("init", "normal"), ("std", 0.5)],
}
SMALL = {"init_explorer": {"depth": 4, "width": 32}}


def make(factory):
    return getattr(viz, factory)(**SMALL.get(factory, {}))


@pytest.mark.parametrize("factory, control, value",
                         [(f, c, v) for f, moves in CONTROLS.items() for c, v in moves])
def test_each_control_changes_the_picture(factory, control, value):
    view = make(factory)
    if control == "std":                    # only applies to the plain normal initialiser
        view.controls["init"].value = "normal"
    before, redraws = png(view), view.redraws
    assert view.error is None and view.artists
    view.controls[control].value = value
    assert view.redraws == redraws + 1 and view.error is None
    assert png(view) != before, f"{factory}: moving {control} did not change the picture"


def test_views_list_every_control_in_the_table():
    for factory, moves in CONTROLS.items():
        assert set(make(factory).controls) == {c for c, _ in moves}, factory


def test_init_explorer_disables_std_unless_normal():
    view = viz.init_explorer(**SMALL["init_explorer"])
    assert view.controls["init"].value == "he_normal" and view.controls["std"].disabled
    view.controls["init"].value = "normal"
    assert not view.controls["std"].disabled
    view.controls["init"].value = "glorot_uniform"
    assert view.controls["std"].disabled


def test_broadcast_explorer_explains_bad_input_and_clashes():
    view = viz.broadcast_explorer()
    view.controls["a"].value = "(4, x)"
    assert view.error and "shape A" in view.error and "(4, 1)" in view.error
    view.controls["a"].value = "(2, 3)"
    view.controls["b"].value = "(3, 2)"
    assert view.error is None and view.artists   # a clash is drawn, not an error


def test_views_fit_a_1400_by_900_screen():
    for factory in CONTROLS:
        view = make(factory)
        _, _, width, height = view.layout
        assert width * 90 <= 1400 and (height or 3.2) * 90 + 150 <= 900, factory
        assert view.image.layout.width == f"{round(width * viz.View.DPI)}px"  # natural size
