"""The pictures and views of chapters 04 (losses) and 06 (backpropagation), under Agg:
every number a view writes is checked against nnlib's losses and layers or against
central differences, and every control of every view changes what it draws."""

import os

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")
os.environ.setdefault("MPLBACKEND", "Agg")

import nnlib as nl  # noqa: E402
from nnlib import viz  # noqa: E402
from nnlib.gradcheck import numerical_gradient  # noqa: E402

F = nl.functional


# ------------------------------------------------------------------------ chapter 04

@pytest.mark.parametrize("target", [0.0, 0.3, 1.0])
def test_binary_losses_agree_with_nnlib_and_central_differences(target):
    p = np.array([0.05, 0.3, 0.5, 0.9])
    got = viz.binary_losses(p, target, "probability")
    y = np.full_like(p, target)
    for i in range(len(p)):  # one element at a time: nnlib's losses average over elements
        mse, dmse = F.mse(p[i:i + 1], y[i:i + 1])
        bce, dbce = F.binary_cross_entropy(p[i:i + 1], y[i:i + 1])
        np.testing.assert_allclose([got["mse"][0][i], got["mse"][1][i]], [mse, dmse[0]])
        np.testing.assert_allclose([got["bce"][0][i], got["bce"][1][i]], [bce, dbce[0]])
    z = np.array([-6.0, -2.0, 0.1, 3.0, 6.0])
    got = viz.binary_losses(z, target, "logit")
    for key in ("mse", "bce"):
        loss, grad = got[key]
        numeric = numerical_gradient(
            lambda v, key=key: float(np.sum(viz.binary_losses(v, target, "logit")[key][0])),
            z.copy())
        # absolute tolerance too: MSE's gradient at z = 6 is ~1e-5, below the round-off
        # of a central difference of a loss of ~1 (chapter 06)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9, err_msg=key)
    for i in range(len(z)):
        bce, dz = F.binary_cross_entropy_with_logits(z[i:i + 1], np.array([target]))
        np.testing.assert_allclose([got["bce"][0][i], got["bce"][1][i]], [bce, dz[0]])


def test_binary_losses_reject_probabilities_outside_the_open_interval():
    with pytest.raises(ValueError, match="strictly inside"):
        viz.binary_losses(np.array([0.0, 0.5]), 1.0, "probability")
    with pytest.raises(ValueError, match="space"):
        viz.binary_losses(np.array([0.5]), 1.0, "odds")


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_loss_plot_marks_the_prediction_with_its_loss_and_gradient():
    fig, (ax_l, ax_g) = viz.new_figure(1, 2)
    viz.plot_binary_losses(ax_l, ax_g, 0.2, 1.0, "probability")
    assert _legend(ax_l) == [f"MSE: L = {0.64:.3f}", f"BCE: L = {-np.log(0.2):.3f}"]
    assert _legend(ax_g) == ["MSE: dL/dp = -1.600", f"BCE: dL/dp = {-0.8 / 0.16:+.3f}"]
    assert "cut at +-10" in ax_g.get_title()          # BCE's gradient leaves the axis
    assert ax_l.get_xlabel() and ax_g.get_ylabel() == "dL/dp"
    fig, (ax_l, ax_g) = viz.new_figure(1, 2)
    viz.plot_binary_losses(ax_l, ax_g, 0.2, 1.0, "logit", show=("bce",))
    assert _legend(ax_g) == ["BCE: dL/dz = -0.800"]  # p - y
    assert "z = -1.39" in ax_l.get_title() and "cut" not in ax_g.get_title()
    with pytest.raises(ValueError, match="probability in"):
        viz.plot_binary_losses(ax_l, ax_g, 1.0, 1.0)


def test_gradient_magnitudes_show_mse_vanishing_on_the_wrong_side():
    fig, ax = viz.new_figure()
    mse, bce = viz.plot_gradient_magnitudes(ax, target=1.0)[:2]
    z, g_mse, g_bce = mse.get_xdata(), mse.get_ydata(), bce.get_ydata()
    assert abs(z[np.argmax(g_mse)] - np.log(0.5)) < 0.03    # MSE peaks at p = 1/3
    assert g_bce[0] > 0.99 and g_mse[0] < 1e-3              # z = -10: confidently wrong
    assert ax.get_yscale() == "log" and ax.get_title()
    with pytest.raises(ValueError):
        viz.plot_gradient_magnitudes(ax, target=0.5)


def test_runs_side_by_side_one_line_per_run_and_metric():
    fig, axes = viz.new_figure(1, 2)
    runs = {"a": {"loss": [3, 2, 1], "acc": [0.1, 0.5, 0.9]}, "b": {"loss": [3, 3, 3],
                                                                    "acc": [0.1, 0.1, 0.2]}}
    artists = viz.plot_runs(axes, runs, [("loss", "loss", True), ("acc", "accuracy", False)])
    assert len(artists) == 4 and axes[0].get_yscale() == "log"
    np.testing.assert_array_equal(artists[3].get_ydata(), [0.1, 0.1, 0.2])


# ------------------------------------------------------------------------ chapter 06

def test_graph_writes_the_fan_out_sum():
    fig, ax = viz.new_figure()
    nodes = {"x": (0, 0, "x", 2.0, 16.0), "a": (1, -1, "a = x y", -6.0, -8.0),
             "b": (2, 0, "b = a + x", -4.0, -8.0)}
    viz.plot_graph(ax, nodes, [("x", "a", 24.0), ("x", "b", -8.0), ("a", "b", -8.0)])
    texts = [t.get_text() for t in ax.texts]
    assert "dL/dx = 16\n(fan-out: 24 + (-8) = 16)" in texts
    assert "dL/da = -8" in texts and "x\n= 2" in texts
    with pytest.raises(ValueError, match="not in nodes"):
        viz.plot_graph(ax, nodes, [("x", "c", 1.0)])


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_backprop_values_equal_nnlib_layers(activation):
    params = viz.small_network(seed=4)
    x = np.array([0.7, -1.3])
    v = viz.backprop_values(params, x, 1, activation)
    layer = {"relu": nl.ReLU, "tanh": nl.Tanh, "sigmoid": nl.Sigmoid}[activation]
    model = nl.Sequential(nl.Dense(2, 3, dtype=np.float64), layer(),
                          nl.Dense(3, 2, dtype=np.float64))
    for key, value in params.items():
        model.parameters()[{"W1": "0.W", "b1": "0.b", "W2": "2.W", "b2": "2.b"}[key]].data[...] \
            = value
    loss_fn = nl.CrossEntropyLoss()
    loss = loss_fn.forward(model.forward(x[None]), np.array([1]))
    dx = model.backward(loss_fn.backward())
    grads = {k: p.grad for k, p in model.parameters().items()}
    assert v["loss"] == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(v["dx"], dx[0], atol=1e-14)
    for mine, theirs in (("dW1", "0.W"), ("db1", "0.b"), ("dW2", "2.W"), ("db2", "2.b")):
        np.testing.assert_allclose(v[mine], grads[theirs], atol=1e-14)
    assert v["check"] < 1e-6


def test_backprop_network_writes_values_and_blocks_dead_relu_paths():
    params = viz.small_network(seed=3)
    fig, ax = viz.new_figure()
    viz.plot_backprop_network(ax, params, np.array([1.0, -0.5]), 0, "relu", "weights")
    v = viz.backprop_values(params, np.array([1.0, -0.5]), 0, "relu")
    texts = [t.get_text() for t in ax.texts]
    assert "1.00" in texts and "-0.50" in texts and "+1.00" in texts   # x and dL/dL
    assert (v["z1"] < 0).any()                       # this seed has a dead unit...
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(dashed) == int((v["z1"] <= 0).sum())  # ...drawn as a blocked path
    assert "largest relative error" in ax.get_title()
    fig, ax = viz.new_figure()
    viz.plot_backprop_network(ax, params, np.array([1.0, -0.5]), 0, "relu", "weight gradients")
    texts = [t.get_text() for t in ax.texts]
    assert sum(t.startswith(("+", "-")) for t in texts) >= 12 + 8   # 12 edges + gradients
    with pytest.raises(ValueError, match="show"):
        viz.plot_backprop_network(ax, params, np.zeros(2), 0, "relu", "biases")


def test_difference_errors_show_truncation_slopes_round_off_and_kinks():
    h = np.logspace(-4, -2, 5)
    forward = viz.difference_errors("sin(x)", 1.0, h, np.float64, "forward")
    central = viz.difference_errors("sin(x)", 1.0, h, np.float64, "central")
    assert np.polyfit(np.log10(h), np.log10(forward), 1)[0] == pytest.approx(1, abs=0.05)
    assert np.polyfit(np.log10(h), np.log10(central), 1)[0] == pytest.approx(2, abs=0.05)
    h = np.logspace(-12, -1, 45)
    best64 = viz.difference_errors("sin(x)", 1.0, h, np.float64, "central").min()
    best32 = viz.difference_errors("sin(x)", 1.0, h, np.float32, "central").min()
    assert best64 < 1e-9 and best32 > 1e-8                      # float32 cannot get close
    kink = viz.difference_errors("relu(x)", 0.0, h, np.float64, "central")
    np.testing.assert_allclose(kink, 0.5)   # straddles the kink: (h - 0) / 2h vs 0
    with pytest.raises(ValueError, match="scheme"):
        viz.difference_errors("sin(x)", 1.0, h, np.float64, "backward")


def test_step_error_plot_floors_exact_zeros_and_draws_guides():
    h = np.logspace(-8, 0, 9)
    fig, ax = viz.new_figure()
    artists = viz.plot_step_errors(ax, h, {"central, float64": np.zeros(9),
                                           "forward, float32": h}, guides=[(1, 1e-2, 1e-2)])
    assert artists[0].get_ydata().min() == 1e-17 and artists[2].get_linestyle() == "--"
    assert ax.get_xscale() == "log" and "slope 1" in [t.get_text() for t in ax.texts]


# ------------------------------------------------------------------- views respond

# For each view, a new value for every control; each is set on a fresh view, so every
# control is shown to change the picture from the default selection.
CONTROLS = {
    "loss_explorer": {"prediction": 0.7, "target": 0.4, "space": "logit z", "losses": "BCE"},
    "backprop_explorer": {"x1": -1.2, "x2": 1.5, "target": 1, "activation": "tanh",
                          "seed": 5, "show": "weight gradients"},
    "step_size_explorer": {"function": "relu(x)", "x0": 0.3, "schemes": "central",
                           "dtypes": "float32"},
}


@pytest.mark.parametrize(("factory", "control"),
                         [(f, c) for f, controls in CONTROLS.items() for c in controls])
def test_every_control_changes_the_picture(factory, control):
    view = getattr(viz, factory)()
    assert set(view.controls) == set(CONTROLS[factory])   # no control left untested
    before, redraws = bytes(view.image.value), view.redraws
    assert before.startswith(b"\x89PNG") and view.artists and view.error is None
    view.controls[control].value = CONTROLS[factory][control]
    assert view.redraws == redraws + 1 and view.error is None
    assert bytes(view.image.value) != before


def test_loss_explorer_moves_the_marker_and_switches_the_axis():
    view = viz.loss_explorer(prediction=0.2)
    marker = [a for a in view.artists if a.get_marker() == "o"][0]
    assert marker.get_xdata()[0] == pytest.approx(0.2)
    view.controls["space"].value = "logit z"
    marker = [a for a in view.artists if a.get_marker() == "o"][0]
    assert marker.get_xdata()[0] == pytest.approx(np.log(0.2 / 0.8))
    view.controls["losses"].value = "MSE"
    assert len([a for a in view.artists if a.get_marker() == "o"]) == 2   # loss + gradient


def test_step_size_explorer_relu_kink_error_appears_when_h_straddles_it():
    view = viz.step_size_explorer(function="relu(x)", x0=0.5, schemes="central",
                                  dtypes="float64")
    curve = view.artists[0]
    h, err = curve.get_xdata(), curve.get_ydata()
    exact = (h > 1e-6) & (h < 0.45)       # truncation-free (relu is linear there), no round-off
    assert err[exact].max() <= 1e-9 and err[h > 0.6].min() > 1e-2
