"""The views of chapters 07 and 08 under Agg: every control of every view changes what it
draws (the data of the drawn lines, not just a title), controls that do not apply are
disabled, and the pure plotting functions behind them draw what they say."""

import os

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")
os.environ.setdefault("MPLBACKEND", "Agg")

from matplotlib.lines import Line2D  # noqa: E402

import nnlib as nl  # noqa: E402
from nnlib import viz  # noqa: E402


def lines(view):
    """(label, x data, y data) of every line the view's last redraw drew."""
    return [(a.get_label(), np.asarray(a.get_xdata(), float), np.asarray(a.get_ydata(), float))
            for a in view.artists if isinstance(a, Line2D)]


def same(a, b):
    return len(a) == len(b) and all(
        la == lb and xa.shape == xb.shape and np.allclose(xa, xb) and np.allclose(ya, yb)
        for (la, xa, ya), (lb, xb, yb) in zip(a, b, strict=True))


def move(view, name, value):
    """Set one control; return the lines before and after, and check it redrew."""
    before, redraws = lines(view), view.redraws
    view.controls[name].value = value
    assert view.redraws == redraws + 1 and view.error is None
    return before, lines(view)


# --- gradient-descent playground -----------------------------------------------------------

@pytest.fixture(scope="module")
def playground():
    return viz.gd_playground(surface="quadratic", lr=0.05, steps=50)


def test_every_playground_control_changes_the_paths(playground):
    # one control after the other, each from the state the previous one left
    for control, value in [("surface", "rosenbrock"), ("surface", "saddle"),
                           ("surface", "quadratic"), ("lr", 0.01), ("steps", 120),
                           ("cond", 30.0), ("optimizers", ("Adam",)),
                           ("optimizers", ("SGD", "Nesterov"))]:
        before, after = move(playground, control, value)
        assert not same(before, after), (control, value)


def test_playground_draws_one_path_and_one_loss_curve_per_chosen_optimizer(playground):
    playground.controls["optimizers"].value = ("SGD", "momentum", "Nesterov")
    labels = [label for label, *_ in lines(playground)]
    assert sum(label.startswith(("SGD:", "momentum:", "Nesterov:")) for label in labels) == 3
    assert {"SGD", "momentum", "Nesterov"} <= set(labels)  # the loss panel


def test_playground_steps_control_sets_the_path_length(playground):
    playground.controls["optimizers"].value = ("SGD",)
    playground.controls["steps"].value = 7
    path = next(xy for label, *xy in lines(playground) if label.startswith("SGD:"))
    assert len(path[0]) == 8  # w_0 .. w_7


def test_conditioning_applies_to_the_quadratic_only(playground):
    playground.controls["surface"].value = "quadratic"
    assert not playground.controls["cond"].disabled
    playground.controls["surface"].value = "rosenbrock"
    assert playground.controls["cond"].disabled
    playground.controls["surface"].value = "quadratic"
    assert not playground.controls["cond"].disabled


def test_play_drives_the_steps(playground):
    playground.controls["steps"].value = 10
    redraws = playground.redraws
    playground.play.value = 100
    assert playground.controls["steps"].value == 100 and playground.redraws == redraws + 1


def test_descent_legend_says_where_a_path_diverged():
    fig, (ax, ax_loss) = viz.new_figure(1, 2)
    viz.plot_descent(ax, "quadratic", ("SGD", "Adam"), lr=0.3, steps=200, cond=10,
                     ax_loss=ax_loss)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0].startswith("SGD: diverged at step") and texts[1].startswith("Adam: f =")
    assert ax_loss.get_yscale() == "log" and ax_loss.get_xlabel() == "step"
    path = viz.descend("quadratic", "SGD", 0.3, 200)
    assert len(path) < 201 and np.all(np.isfinite(path))


def test_nesterov_path_is_nnlib_sgd_with_nesterov():
    path = viz.descend("quadratic", "Nesterov", 0.05, 30, cond=10)
    w = nl.Parameter(np.array([-3.5, 2.5]))
    opt = nl.SGD({"w": w}, 0.05, momentum=0.9, nesterov=True)
    for _ in range(30):
        opt.zero_grad()
        w.grad += np.array([1.0, 10.0]) * w.data
        opt.step()
    np.testing.assert_allclose(path[-1], w.data)


# --- initialisation and depth (chapter 02's view, as chapter 08 uses it) ---------------------

def test_init_explorer_shows_what_chapter_08_says():
    view = viz.init_explorer(init="he_normal", activation="relu", depth=12)

    def gradient_stds():
        return next(y for name, _, y in lines(view) if name == "gradients")

    he = gradient_stds()
    assert len(he) == 12 and he.max() / he.min() < 3          # He + ReLU: flat
    view.controls["init"].value = "glorot_uniform"
    view.controls["activation"].value = "sigmoid"
    sigmoid = gradient_stds()
    assert sigmoid[0] / sigmoid[-1] < 1e-4                    # layer 1 gets far less


# --- regularisation explorer ----------------------------------------------------------------

@pytest.fixture(scope="module")
def reg_view():
    return viz.regularization_explorer(l2=0.0, dropout=0.0, seed=0)


def test_every_regularization_control_changes_the_curves(reg_view):
    for control, value, default in [("l2", 0.01, 0.0), ("dropout", 0.5, 0.0), ("seed", 3, 0)]:
        before, after = move(reg_view, control, value)
        assert not same(before, after), control
        move(reg_view, control, default)  # back to the defaults (cached: no retraining)
        assert same(lines(reg_view), before), control


def test_l2_shrinks_the_weights_and_the_overfitting():
    plain, hist_plain = viz.train_regularized(0.0, 0.0, 0)
    decayed, hist_decayed = viz.train_regularized(0.01, 0.0, 0)

    def norm(model):
        return np.sqrt(sum(np.sum(p.data ** 2) for p in model.parameters().values()))

    assert norm(decayed) < 0.5 * norm(plain)
    assert hist_plain["loss"][-1] < hist_decayed["loss"][-1]           # fits training less
    assert hist_plain["val_loss"][-1] > hist_decayed["val_loss"][-1]   # but generalises better
    assert viz.train_regularized(0.01, 0.0, 0)[0] is decayed           # cached


def test_regularization_plot_marks_the_best_validation_epoch():
    model, history = viz.train_regularized(0.0, 0.0, 0)
    x, y, x_val, y_val = viz.regularization_data(0)
    assert x.shape == (40, 2) and x_val.shape == (200, 2) and not x.flags.writeable
    fig, (a, b) = viz.new_figure(1, 2)
    artists = viz.plot_regularization(a, b, model, history, x, y, x_val, y_val)
    star = next(art for art in artists if isinstance(art, Line2D)
                and art.get_label().startswith("best validation"))
    val = np.array(history["val_loss"])
    assert star.get_xdata()[0] == val.argmin() + 1 and np.isclose(star.get_ydata()[0], val.min())
    assert "validation" in a.get_title() and b.get_yscale() == "log"


def test_decision_boundary_bounds_set_the_region():
    x, y = nl.data.moons(20, rng=0)
    model = nl.Sequential(nl.Dense(2, 4, rng=0), nl.ReLU(), nl.Dense(4, 2, rng=1))
    fig, ax = viz.new_figure()
    viz.plot_decision_boundary(ax, model.predict, x, y, resolution=20, bounds=((-5, -4), (6, 7)))
    assert ax.get_xlim() == (-5, 6) and ax.get_ylim() == (-4, 7)


# --- live dashboard ---------------------------------------------------------------------------

def test_dashboard_marks_the_best_epoch_names_layers_and_logs_the_loss():
    x, y = nl.data.spirals(20, 3, rng=0)
    xv, yv = nl.data.spirals(10, 3, rng=1)
    model = nl.Sequential(nl.Dense(2, 8, rng=0), nl.ReLU(), nl.Dense(8, 3, rng=1))
    board = viz.LiveDashboard(min_interval=3600, mode="widget")
    model.fit(x, y, loss="cross_entropy", optimizer=nl.Adam(model.parameters(), lr=0.05),
              epochs=6, validation_data=(xv, yv), callbacks=[board], verbose=False)
    fig = board.figure()
    ax_loss, _, ax_grad = fig.axes
    best = int(np.argmin(board.history["val_loss"]))
    star = next(line for line in ax_loss.get_lines() if line.get_label().startswith("best"))
    assert star.get_xdata()[0] == best + 1 and ax_loss.get_yscale() == "log"
    names = [t.get_text() for t in ax_grad.get_legend().get_texts()]
    assert names == ["layer 0: Dense(2, 8)", "layer 2: Dense(8, 3)"]
