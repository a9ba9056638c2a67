"""The expression-graph view of chapter 14 under Agg: the graph it walks is the one
autograd recorded, the gradients it writes are autograd's and central differences', the
step-by-step replay adds up fan-out, and every control changes what it draws."""

import os

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")
os.environ.setdefault("MPLBACKEND", "Agg")

from nnlib import viz  # noqa: E402
from nnlib.autograd import Tensor  # noqa: E402
from nnlib.gradcheck import numerical_gradient  # noqa: E402


def leaves(x=2.0, y=-3.0):
    return Tensor(x, requires_grad=True, name="x"), Tensor(y, requires_grad=True, name="y")


def texts(ax):
    return [t.get_text() for t in ax.texts]


@pytest.mark.parametrize("name", viz.EXPRESSIONS)
def test_graph_is_topological_and_replayed_gradients_are_autograds(name):
    x, y = leaves(0.7, -1.3)
    root = viz.EXPRESSIONS[name](x, y)
    nodes, edges, depth = viz.expression_graph(root)
    assert nodes[-1] is root and {id(x), id(y)} <= {id(n) for n in nodes}
    assert all(i < j and depth[i] < depth[j] for i, j, _ in edges)
    visit, sent, grads = viz.backward_steps(root)
    assert visit[0] == len(nodes) - 1 and len(visit) == sum(n.requires_grad for n in nodes)
    assert x.grad is None and y.grad is None           # the replay touches no .grad
    root.backward()
    for k, node in enumerate(nodes):
        if node.requires_grad:
            np.testing.assert_allclose(grads[k], node.grad, rtol=1e-12)
            arrived = sum(sent[e] for e, (i, _, _) in enumerate(edges) if i == k)
            np.testing.assert_allclose(grads[k], 1.0 if k == len(nodes) - 1 else arrived)

    def value(v):
        return float(viz.EXPRESSIONS[name](Tensor(v[0]), Tensor(v[1])).data)

    numeric = numerical_gradient(value, np.array([0.7, -1.3]))
    np.testing.assert_allclose([x.grad, y.grad], numeric, rtol=1e-6, atol=1e-9)


def test_the_picture_shows_values_gradients_and_fan_out_sums():
    fig, ax = viz.new_figure(width=11, height=4.6)
    x, y = leaves()
    root = (x * y + x) ** 2            # chapter 06: L = 16, dL/dx = 16, dL/dy = -16
    viz.plot_expression_graph(ax, root)
    shown = texts(ax)
    assert "x\n2" in shown and "**2\n16" in shown
    assert shown.count("grad 16") == 1 and "grad -16" in shown and "grad 1" in shown
    assert "\u2190 24" in shown and "\u2190 -8" in shown    # x's two gradients: 24 + (-8)
    assert "5 of 5 nodes visited (done)" in ax.get_title()
    fig, ax = viz.new_figure(width=11, height=4.6)
    viz.plot_expression_graph(ax, (x * y + x) ** 2, step=2)   # root and + visited
    shown = texts(ax)
    assert "so far -8" in shown and "grad ?" in shown and "next: *" in ax.get_title()
    fig, ax = viz.new_figure(width=11, height=4.6)
    viz.plot_expression_graph(ax, (x * y + x) ** 2, step=3)   # * visited too
    assert "so far 16" in texts(ax)                           # -8 + 24, not yet final


def test_an_operation_using_one_input_twice_shows_both_gradients():
    fig, ax = viz.new_figure()
    x, _ = leaves(3.0)
    viz.plot_expression_graph(ax, x * x)
    assert "\u2190 3 + 3" in texts(ax) and "grad 6" in texts(ax)


def test_constants_are_drawn_without_a_gradient():
    fig, ax = viz.new_figure()
    x, _ = leaves()
    viz.plot_expression_graph(ax, x * 1.5)
    shown = texts(ax)
    assert "const\n1.5" in shown and len([t for t in shown if t.startswith("grad")]) == 2


def test_a_root_that_is_not_a_number_is_refused():
    fig, ax = viz.new_figure()
    with pytest.raises(ValueError, match=r"single number.*\(2,\).*\.sum\(\)"):
        viz.plot_expression_graph(ax, Tensor(np.ones(2), requires_grad=True) * 2)


# ------------------------------------------------------------------- views respond

CONTROLS = {"expression": "tanh(x*y) + x*y", "x": -1.1, "y": 0.6, "step": 2}


@pytest.mark.parametrize("control", CONTROLS)
def test_every_control_changes_the_picture(control):
    view = viz.autograd_explorer()
    assert set(view.controls) == set(CONTROLS)     # no control left untested
    before, redraws = bytes(view.image.value), view.redraws
    assert before.startswith(b"\x89PNG") and view.artists and view.error is None
    view.controls[control].value = CONTROLS[control]
    assert view.redraws > redraws and view.error is None
    assert bytes(view.image.value) != before


@pytest.mark.parametrize("name", viz.EXPRESSIONS)
def test_x_and_y_matter_in_every_expression_and_step_spans_the_graph(name):
    view = viz.autograd_explorer(expression=name, x=0.8, y=-1.7)
    step = view.controls["step"]
    x, y = leaves()
    assert step.value == step.max == len(viz.backward_steps(viz.EXPRESSIONS[name](x, y))[0])
    for control, value in (("x", -0.4), ("y", 1.2)):
        before = bytes(view.image.value)
        view.controls[control].value = value
        assert bytes(view.image.value) != before, (name, control)


def test_choosing_an_expression_resets_the_step_to_the_whole_pass():
    view = viz.autograd_explorer(step=1)
    view.controls["expression"].value = "relu(x - y) / (y*y + 1)"
    assert view.controls["step"].value == view.controls["step"].max == 7
    assert "7 of 7 nodes visited" in view.artists[0].axes.get_title()
