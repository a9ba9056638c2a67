"""Shared layers are exact (issue 14, item 2): every way of using one layer more than
once in a forward pass -- at several graph nodes, twice in a chain, inside a container
that is itself used twice, both at a node and inside a container, recurrent layers
reused -- matches central differences in float64, and ``parameters()`` lists each
Parameter once, so an optimizer steps it once and ``save`` stores it once.

How it works: every call that runs a layer another call of the same pass also runs
saves that layer's forward cache (a container's cache holds its children's), and
backward, which visits the calls in reverse, puts each call's cache back first
(``calls_sharing_layers`` in nnlib/models/containers.py).
"""

import numpy as np
import pytest
from helpers import away_from_zero

import nnlib as nl
from nnlib.gradcheck import numerical_gradient, rel_error

F64 = {"dtype": np.float64}


def worst_error(model, xs, seed=0):
    """Worst relative error of the input and parameter gradients of ``model`` (a layer,
    Sequential or graph Model) on inputs ``xs`` (a list, one per model input), against
    central differences (h = 1e-5: the best balance of truncation and rounding error for
    these sizes) of sum(outputs * douts) with random douts."""
    rng = np.random.default_rng(seed)
    arg = xs if len(xs) > 1 else xs[0]

    def outputs():
        out = model.forward(arg)
        return out if isinstance(out, list) else [out]

    douts = [rng.standard_normal(o.shape) for o in outputs()]

    def total(_):
        return sum(float(np.sum(o * d)) for o, d in zip(outputs(), douts, strict=True))

    model.zero_grad()
    outputs()
    grads = model.backward(douts if len(douts) > 1 else douts[0])
    grads = grads if isinstance(grads, list) else [grads]
    analytic = {k: p.grad.copy() for k, p in model.parameters().items()}
    errors = {f"x{i}": rel_error(g, numerical_gradient(total, x, eps=1e-5))
              for i, (g, x) in enumerate(zip(grads, xs, strict=True))}
    errors.update({k: rel_error(analytic[k], numerical_gradient(total, p.data, eps=1e-5))
                   for k, p in model.parameters().items()})
    return max(errors.values()), errors


def assert_listed_once(model, expected_count):
    params = list(model.parameters().values())
    assert len({id(p) for p in params}) == len(params) == expected_count, \
        list(model.parameters())


def block(seed):
    return nl.Sequential(nl.Dense(3, 3, rng=seed, **F64), nl.Tanh())


# --- graph nodes -----------------------------------------------------------------------------

def test_a_container_used_at_two_nodes(rng):
    shared = block(0)
    a, b = nl.Input((3,)), nl.Input((3,))
    model = nl.Model(inputs=[a, b], outputs=nl.Add()([shared(a), shared(b)]))
    err, errors = worst_error(model, [rng.standard_normal((4, 3)),
                                      rng.standard_normal((4, 3))])
    assert err < 1e-6, errors
    assert_listed_once(model, 2)


def test_a_container_applied_to_its_own_output(rng):
    shared = block(1)
    a = nl.Input((3,))
    once = shared(a)
    model = nl.Model(inputs=a, outputs=nl.Multiply()([once, shared(once)]))
    err, errors = worst_error(model, [rng.standard_normal((4, 3))])
    assert err < 1e-6, errors
    assert_listed_once(model, 2)


def test_a_layer_at_a_node_and_inside_a_container(rng):
    # the case no per-layer use count saw: d runs at node 1 and inside the Sequential
    d = nl.Dense(3, 3, rng=2, **F64)
    inner = nl.Sequential(d, nl.Tanh())
    a = nl.Input((3,))
    model = nl.Model(inputs=a, outputs=nl.Add()([d(a), inner(nl.Sigmoid()(a))]))
    err, errors = worst_error(model, [rng.standard_normal((4, 3))])
    assert err < 1e-6, errors
    assert_listed_once(model, 2)
    assert "total parameters: 12" in model.summary()


def test_one_layer_inside_two_containers_of_a_graph(rng):
    d = nl.Dense(3, 3, rng=3, **F64)
    left = nl.Sequential(d, nl.Tanh())
    right = nl.Residual(nl.Sigmoid(), d)
    a = nl.Input((3,))
    model = nl.Model(inputs=a, outputs=nl.Concatenate()([left(a), right(left(a))]))
    err, errors = worst_error(model, [rng.standard_normal((4, 3))])
    assert err < 1e-6, errors
    assert_listed_once(model, 2)


def test_a_residual_block_used_at_two_nodes(rng):
    res = nl.Residual(nl.Dense(3, 3, rng=4, **F64), nl.Tanh())
    a = nl.Input((3,))
    model = nl.Model(inputs=a, outputs=res(nl.Tanh()(res(a))))
    err, errors = worst_error(model, [rng.standard_normal((4, 3))])
    assert err < 1e-6, errors


def test_a_convolution_block_used_at_two_nodes(rng):
    # Conv2D keeps its columns in a workspace reused by every call: each call's own
    # columns must come back for its backward
    conv_block = nl.Sequential(nl.Conv2D(1, 2, 3, padding="same", rng=5, **F64), nl.Tanh())
    a, b = nl.Input((1, 4, 5)), nl.Input((1, 4, 5))
    model = nl.Model(inputs=[a, b], outputs=nl.Add()([conv_block(a), conv_block(b)]))
    err, errors = worst_error(model, [rng.standard_normal((2, 1, 4, 5)),
                                      rng.standard_normal((2, 1, 4, 5))])
    assert err < 1e-6, errors


def test_a_shared_layer_at_nodes_of_different_shapes(rng):
    # each call's output shape is part of its cache: both douts pass the dout check
    act = nl.Tanh()
    a, b = nl.Input((3,)), nl.Input((2, 2))
    model = nl.Model(inputs=[a, b], outputs=[act(a), act(b)])
    xa, xb = rng.standard_normal((4, 3)), rng.standard_normal((4, 2, 2))
    ya, yb = model.forward([xa, xb])
    da, db = model.backward([np.ones_like(ya), np.ones_like(yb)])
    np.testing.assert_allclose(da, 1 - np.tanh(xa) ** 2)
    np.testing.assert_allclose(db, 1 - np.tanh(xb) ** 2)


def test_dropout_at_two_nodes_backpropagates_each_calls_own_mask():
    drop = nl.Dropout(0.5, rng=0)
    a, b = nl.Input((50,)), nl.Input((50,))
    model = nl.Model(inputs=[a, b], outputs=[drop(a), drop(b)])
    ones = np.ones((20, 50), np.float32)
    ya, yb = model.forward([ones, ones])
    assert (ya != yb).any()  # two calls, two masks
    da, db = model.backward([ones, ones])
    np.testing.assert_array_equal(da, ya)  # x = 1: y is the mask, and so is dx
    np.testing.assert_array_equal(db, yb)


# --- the same layer twice in a chain ------------------------------------------------------

def test_the_same_dense_twice_in_a_chain(rng):
    d = nl.Dense(3, 3, rng=6, **F64)
    model = nl.Sequential(d, nl.Tanh(), d)
    err, errors = worst_error(model, [rng.standard_normal((4, 3))])
    assert err < 1e-6, errors
    assert list(model.parameters()) == ["0.W", "0.b"]
    report = nl.check_layer(model, rng.standard_normal((4, 3)))
    assert report.passed, str(report)


def test_the_same_chain_backward_without_input_grad(rng):
    # what fit runs: backward_params on the first trainable layer, which is shared
    d = nl.Dense(3, 3, rng=7, **F64)
    model = nl.Sequential(d, nl.Tanh(), d)
    x, dout = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    model.forward(x)
    model.backward(dout)
    expected = d.W.grad.copy()
    model.zero_grad()
    model.forward(x)
    assert model.backward(dout, input_grad=False) is None
    np.testing.assert_allclose(d.W.grad, expected)


def test_a_container_twice_in_a_chain_and_a_conv_twice(rng):
    inner = block(8)
    model = nl.Sequential(inner, nl.Dense(3, 3, rng=9, **F64), inner)
    err, errors = worst_error(model, [rng.standard_normal((4, 3))])
    assert err < 1e-6, errors
    assert_listed_once(model, 4)
    conv = nl.Conv2D(2, 2, 3, padding="same", rng=10, **F64)
    model = nl.Sequential(conv, nl.Tanh(), conv)
    err, errors = worst_error(model, [rng.standard_normal((2, 2, 4, 4))])
    assert err < 1e-6, errors


def test_a_second_backward_after_one_forward_gives_the_same_gradients(rng):
    # backward may use a cache as scratch space (Conv2D does): the saved caches stay intact
    conv = nl.Conv2D(2, 2, 3, padding="same", rng=11, **F64)
    model = nl.Sequential(conv, nl.Tanh(), conv)
    x, dout = rng.standard_normal((2, 2, 4, 4)), rng.standard_normal((2, 2, 4, 4))
    model.forward(x)
    dx1 = model.backward(dout)
    g1 = conv.W.grad.copy()
    model.zero_grad()
    dx2 = model.backward(dout)
    np.testing.assert_allclose(dx2, dx1, rtol=1e-12)
    np.testing.assert_allclose(conv.W.grad, g1, rtol=1e-12)


def test_an_optimizer_steps_a_shared_parameter_once(rng):
    d = nl.Dense(3, 3, rng=12, **F64)
    model = nl.Sequential(d, nl.Tanh(), d)
    model.forward(rng.standard_normal((4, 3)))
    model.backward(rng.standard_normal((4, 3)))
    before, grad = d.W.data.copy(), d.W.grad.copy()
    nl.SGD(model.parameters(), lr=0.1).step()
    np.testing.assert_allclose(d.W.data, before - 0.1 * grad)


def test_a_shared_chain_trains_and_saves_with_its_sharing(tmp_path):
    x, y = nl.data.spirals(30, 2, rng=0)
    d = nl.Dense(8, 8, rng=13)
    model = nl.Sequential(nl.Dense(2, 8, rng=14), nl.Tanh(), d, nl.Tanh(), d, nl.Tanh(),
                          nl.Dense(8, 2, rng=15))
    history = model.fit(x, y, loss="cross_entropy", optimizer=nl.Adam(model.parameters(),
                                                                      lr=0.02),
                        epochs=15, batch_size=16, seed=0, verbose=False)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert "(shared with layer 2)" in model.summary()
    model.save(tmp_path / "shared.npz")
    loaded = nl.Sequential.load(tmp_path / "shared.npz")
    assert loaded.layers[2] is loaded.layers[4]
    assert list(loaded.parameters()) == list(model.parameters())
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_a_graph_with_a_layer_in_and_out_of_a_container_saves_its_sharing(tmp_path, rng):
    d = nl.Dense(3, 3, rng=16)
    a = nl.Input((3,))
    model = nl.Model(inputs=a, outputs=nl.Add()([d(a), nl.Sequential(d, nl.Tanh())(a)]))
    model.save(tmp_path / "graph.npz")
    loaded = nl.Model.load(tmp_path / "graph.npz")
    assert loaded.layers[1].layers[0] is loaded.layers[0]
    x = rng.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


# --- recurrent layers reused -----------------------------------------------------------------

@pytest.mark.parametrize("cls", [nl.RNN, nl.LSTM])
def test_a_recurrent_layer_at_two_nodes(cls, rng):
    # one encoder for two sequences (a siamese pair)
    encoder = cls(3, 4, rng=17, **F64)
    a, b = nl.Input((5, 3)), nl.Input((5, 3))
    last = nl.LastTimeStep()
    model = nl.Model(inputs=[a, b], outputs=nl.Multiply()([last(encoder(a)),
                                                           last(encoder(b))]))
    xs = [away_from_zero(rng, (2, 5, 3)), away_from_zero(rng, (2, 5, 3))]
    err, errors = worst_error(model, xs)
    assert err < 1e-6, errors
    assert_listed_once(model, 3)


@pytest.mark.parametrize("cls", [nl.RNN, nl.LSTM])
def test_a_recurrent_layer_twice_in_a_chain(cls, rng):
    cell = cls(3, 3, rng=18, **F64)
    model = nl.Sequential(cell, nl.Tanh(), cell, nl.LastTimeStep())
    err, errors = worst_error(model, [rng.standard_normal((2, 4, 3))])
    assert err < 1e-6, errors
    assert_listed_once(model, 3)


def test_a_recurrent_block_used_at_two_nodes(rng):
    encoder = nl.Sequential(nl.RNN(3, 4, rng=19, **F64), nl.LastTimeStep())
    a, b = nl.Input((4, 3)), nl.Input((6, 3))  # sequences of different lengths
    model = nl.Model(inputs=[a, b], outputs=nl.Concatenate()([encoder(a), encoder(b)]))
    err, errors = worst_error(model, [rng.standard_normal((2, 4, 3)),
                                      rng.standard_normal((2, 6, 3))])
    assert err < 1e-6, errors
