"""Backward refuses a bad ``dout`` (issue 14, item 1): every public layer, container and
model checks that ``dout`` has the shape of forward's output *before* anything changes,
and refuses a backward before any forward.

NumPy would broadcast a (N, 1) dout against (N, D) and return a wrong gradient with no
error; a dout one column short would leave Conv2D reading a stale workspace column. The
check lives once in ``Layer`` (``_check_dout``), so every layer gets it.

A new layer joins by adding a row to ``ROWS``: a factory and its input shape (a list of
shapes for a layer with several inputs). ``test_every_public_layer_has_a_row`` fails
until it does.
"""

import re

import numpy as np
import pytest

import nnlib as nl
from nnlib._validation import shape_str


def small_graph():
    x = nl.Input((3,))
    return nl.Model(inputs=x, outputs=nl.Tanh()(nl.Dense(3, 4, rng=0)(x)))


# name -> (factory, per-batch input shape, or a list of them for several inputs)
ROWS = {
    "Dense": (lambda: nl.Dense(3, 2, rng=0), (4, 3)),
    "ReLU": (nl.ReLU, (4, 5)),
    "LeakyReLU": (lambda: nl.LeakyReLU(0.1), (4, 5)),
    "ELU": (nl.ELU, (4, 5)),
    "Sigmoid": (nl.Sigmoid, (4, 5)),
    "Tanh": (nl.Tanh, (4, 5)),
    "Softmax": (nl.Softmax, (4, 5)),
    "Pointwise": (lambda: nl.Pointwise(np.sin, np.cos), (4, 5)),
    "Flatten": (nl.Flatten, (4, 2, 3, 2)),
    "Reshape": (lambda: nl.Reshape((3, 2)), (4, 6)),
    "Dropout": (lambda: nl.Dropout(0.5, rng=0), (4, 5)),
    "Dropout eval": (lambda: nl.Dropout(0.5, rng=0).eval(), (4, 5)),
    "Conv2D": (lambda: nl.Conv2D(2, 3, 3, padding="same", rng=0), (2, 2, 5, 6)),
    "Conv2D strided": (lambda: nl.Conv2D(1, 2, 3, stride=2, rng=0), (2, 1, 7, 7)),
    "MaxPool2D": (nl.MaxPool2D, (2, 3, 4, 6)),
    "AvgPool2D": (nl.AvgPool2D, (2, 3, 4, 6)),
    "RNN": (lambda: nl.RNN(3, 4, rng=0), (2, 5, 3)),
    "LSTM": (lambda: nl.LSTM(3, 4, rng=0), (2, 5, 3)),
    "LastTimeStep": (nl.LastTimeStep, (2, 5, 3)),
    "Add": (nl.Add, [(4, 3), (4, 3)]),
    "Multiply": (nl.Multiply, [(4, 3), (4, 3), (4, 3)]),
    "Concatenate": (nl.Concatenate, [(4, 2), (4, 3)]),
    "Residual": (lambda: nl.Residual(nl.Dense(3, 3, rng=0), nl.Tanh()), (4, 3)),
    "Sequential": (lambda: nl.Sequential(nl.Dense(3, 4, rng=0), nl.ReLU(),
                                         nl.Dense(4, 2, rng=1)), (4, 3)),
    "Model": (small_graph, (4, 3)),
    "BatchNorm1D": (lambda: nl.BatchNorm1D(3), (4, 3)),
    "BatchNorm1D eval": (lambda: nl.BatchNorm1D(3).eval(), (4, 3)),
    "BatchNorm2D": (lambda: nl.BatchNorm2D(2), (3, 2, 4, 5)),
    "LayerNorm": (lambda: nl.LayerNorm(5), (4, 3, 5)),
    "GELU": (nl.GELU, (4, 5)),
    "Embedding": (lambda: nl.Embedding(7, 5, rng=0), (4, 3)),
    "PositionalEmbedding": (lambda: nl.PositionalEmbedding(6, 5, rng=0), (4, 3, 5)),
    "MultiHeadAttention": (lambda: nl.MultiHeadAttention(6, 2, rng=0), (4, 3, 6)),
    "TransformerBlock": (lambda: nl.TransformerBlock(4, 2, causal=True, rng=0), (4, 3, 4)),
}

# Rows whose input is integer token ids in [0, vocab) (no gradient: dx is None).
TOKEN_IDS = {"Embedding": 7}

# Public Layer classes that are bases, never used as they are.
ABSTRACT = {nl.Layer, nl.Merge, nl.LayerGroup, nl.Container}


def test_every_public_layer_has_a_row():
    public = {getattr(nl, n) for n in nl.__all__
              if isinstance(getattr(nl, n), type) and issubclass(getattr(nl, n), nl.Layer)}
    covered = {type(factory()) for factory, _ in ROWS.values()}
    missing = sorted(cls.__name__ for cls in public - ABSTRACT - covered)
    assert not missing, f"add a row to ROWS for {missing}"


def make(name, seed=0):
    """The layer of row ``name``, its input and its output after one forward."""
    factory, shape = ROWS[name]
    rng = np.random.default_rng(seed)
    layer = factory()
    if name in TOKEN_IDS:
        x = rng.integers(0, TOKEN_IDS[name], shape)
    else:
        x = ([rng.standard_normal(s).astype(np.float32) for s in shape]
             if isinstance(shape, list) else rng.standard_normal(shape).astype(np.float32))
    return layer, x, layer.forward(x)


def bad_shapes(shape):
    """Shapes a careless dout has for an output of ``shape``, by what went wrong."""
    n, *rest = shape
    return {
        "a column that broadcasts": (n, *rest[:-1], 1),
        "one column short": (n, *rest[:-1], rest[-1] - 1),
        "one row more": (n + 1, *rest),
        "one sample": tuple(rest),
        "flattened": (int(np.prod(shape)),),
    }


CASES = [(name, why) for name in ROWS for why in bad_shapes((4, 3, 5))]


@pytest.mark.parametrize("name, why", CASES)
def test_a_dout_of_another_shape_is_refused_and_changes_nothing(name, why):
    layer, x, y = make(name)
    layer.backward(np.ones_like(y))  # gradients are non-zero before the bad call
    before = {k: p.grad.copy() for k, p in layer.parameters().items()}
    bad = np.ones(bad_shapes(y.shape)[why], dtype=y.dtype)
    cls = type(layer).__name__
    message = (rf"{cls}\.backward expected dout of shape {re.escape(shape_str(y.shape))} "
               rf"\(the shape of forward's output\), got {re.escape(shape_str(bad.shape))}\. "
               rf".*np\.ones_like\(y\)")
    with pytest.raises(nl.ShapeError, match=message):
        layer.backward(bad)
    for k, p in layer.parameters().items():
        np.testing.assert_array_equal(p.grad, before[k], err_msg=f"{name}: {k}.grad changed")
    # the layer is not left broken: the right dout still works
    dx = layer.backward(np.ones_like(y))
    if isinstance(x, list):
        assert [g.shape for g in dx] == [v.shape for v in x]
    elif name in TOKEN_IDS:
        assert dx is None      # integer ids have no gradient
    else:
        assert dx.shape == x.shape


@pytest.mark.parametrize("name", ROWS)
def test_a_dout_that_is_not_an_array_is_refused(name):
    layer, _, y = make(name)
    cls = type(layer).__name__
    for bad in (np.ones_like(y).tolist(), 1.0):
        with pytest.raises(TypeError, match=rf"{cls}\.backward expected dout as a NumPy array "
                                            rf"of shape {re.escape(shape_str(y.shape))}, got "
                                            rf"{type(bad).__name__}"):
            layer.backward(bad)


@pytest.mark.parametrize("name", ROWS)
def test_backward_before_forward_is_refused(name):
    factory, _ = ROWS[name]
    layer = factory()
    cls = type(layer).__name__
    with pytest.raises(RuntimeError, match=rf"{cls}\.backward was called before forward\. "
                                           rf"Call forward\(x\) first"):
        layer.backward(np.ones((4, 3), dtype=np.float32))


@pytest.mark.parametrize("name", ROWS)
def test_backward_follows_the_latest_forward(name):
    # forward on N samples, then on N - 1: a dout for the N is stale, and refused
    layer, x, y = make(name)
    x3 = [v[:-1] for v in x] if isinstance(x, list) else x[:-1]
    y3 = layer.forward(x3)
    with pytest.raises(nl.ShapeError, match=r"backward belongs to that latest forward"):
        layer.backward(np.ones_like(y))
    layer.backward(np.ones_like(y3))


# --- the cases of the probe, one by one ---------------------------------------------------

def test_dense_bad_dout_leaves_w_grad_as_it_was(rng):
    # before: W.grad += x.T @ dout broadcast a (3, 1) into W.grad, then matmul raised
    dense = nl.Dense(3, 2, rng=0, dtype=np.float64)
    dense.forward(rng.standard_normal((4, 3)))
    dense.backward(rng.standard_normal((4, 2)))
    w, b = dense.W.grad.copy(), dense.b.grad.copy()
    with pytest.raises(nl.ShapeError, match=r"expected dout of shape \(4, 2\).*got \(4, 1\)"):
        dense.backward(rng.standard_normal((4, 1)))
    with pytest.raises(nl.ShapeError, match=r"got \(4, 1\)"):
        dense.backward_params(rng.standard_normal((4, 1)))
    np.testing.assert_array_equal(dense.W.grad, w)
    np.testing.assert_array_equal(dense.b.grad, b)


def test_sequential_without_input_grad_refuses_a_broadcasting_dout(rng):
    # before: backward(..., input_grad=False) broadcast a (4, 1) dout into W.grad
    model = nl.Sequential(nl.Dense(3, 5, rng=0), nl.ReLU(), nl.Dense(5, 2, rng=1))
    model.forward(rng.standard_normal((4, 3)).astype(np.float32))
    model.zero_grad()
    with pytest.raises(nl.ShapeError, match=r"Sequential\.backward expected dout of shape "
                                            r"\(4, 2\).*got \(4, 1\)"):
        model.backward(np.ones((4, 1), np.float32), input_grad=False)
    assert not any(p.grad.any() for p in model.parameters().values())
    assert model.backward(np.ones((4, 2), np.float32), input_grad=False) is None
    assert all(p.grad.any() for p in model.parameters().values())


@pytest.mark.parametrize("layer, shape", [
    (nl.ReLU(), (4, 3)),
    (nl.MaxPool2D(2), (4, 2, 4, 4)),
    (nl.RNN(3, 3, rng=0), (4, 5, 3)),
], ids=["ReLU", "MaxPool2D", "RNN"])
def test_layers_that_broadcast_a_column_dout_silently_now_refuse_it(layer, shape, rng):
    y = layer.forward(rng.standard_normal(shape).astype(np.float32))
    column = np.ones((*y.shape[:-1], 1), np.float32)
    np.broadcast_shapes(column.shape, y.shape)  # NumPy alone would accept it
    with pytest.raises(nl.ShapeError, match=r"got \(4, "):
        layer.backward(column)
    if y.ndim == 2:
        with pytest.raises(nl.ShapeError, match=r"got \(4, 1\)"):
            layer.backward(np.ones((4, 1), np.float32))


def test_conv2d_refuses_a_dout_one_column_short_and_its_workspace_stays_clean(rng):
    # before: the missing column was read from the workspace of the previous backward
    conv = nl.Conv2D(2, 3, 3, padding="same", rng=0, dtype=np.float64)
    x = rng.standard_normal((2, 2, 5, 6))
    dout = rng.standard_normal((2, 3, 5, 6))
    conv.forward(x)
    conv.backward(100 * dout)  # fills the workspace with other numbers
    conv.zero_grad()
    conv.forward(x)
    with pytest.raises(nl.ShapeError, match=r"Conv2D\.backward expected dout of shape "
                                            r"\(2, 3, 5, 6\).*got \(2, 3, 5, 5\)"):
        conv.backward(dout[..., :-1])
    assert not conv.W.grad.any() and not conv.b.grad.any()
    dx = conv.backward(dout)
    fresh = nl.Conv2D(2, 3, 3, padding="same", rng=0, dtype=np.float64)
    fresh.forward(x)
    np.testing.assert_allclose(dx, fresh.backward(dout), rtol=1e-12)
    np.testing.assert_allclose(conv.W.grad, fresh.W.grad, rtol=1e-12)


def test_dropout_backward_before_forward_raises_like_the_other_layers():
    for layer in (nl.Dropout(0.5), nl.Dropout(0.5).eval(), nl.Dropout(0.0)):
        with pytest.raises(RuntimeError, match=r"Dropout\.backward was called before forward"):
            layer.backward(np.ones((2, 3), np.float32))


def test_a_model_with_two_outputs_checks_each_dout(rng):
    x = nl.Input((3,))
    h = nl.Dense(3, 4, rng=0)(x)
    model = nl.Model(inputs=x, outputs=[nl.Dense(4, 2, rng=1)(h), nl.Dense(4, 1, rng=2)(h)])
    model.forward(rng.standard_normal((5, 3)).astype(np.float32))
    good = [np.ones((5, 2), np.float32), np.ones((5, 1), np.float32)]
    with pytest.raises(ValueError, match=r"Model\.backward expected a list of 2 gradients, one "
                                         r"per output \(\(5, 2\), \(5, 1\)\), got 1 arrays"):
        model.backward(good[:1])
    with pytest.raises(ValueError, match=r"expected a list of 2 gradients.*got ndarray"):
        model.backward(good[0])
    with pytest.raises(nl.ShapeError, match=r"Model\.backward expected dout\[1\] of shape "
                                            r"\(5, 1\).*got \(5, 2\)"):
        model.backward([good[0], good[0]])
    assert not any(p.grad.any() for p in model.parameters().values())
    assert model.backward(good).shape == (5, 3)


def test_a_model_with_one_output_takes_the_dout_bare_or_in_a_list(rng):
    model = small_graph()
    x = rng.standard_normal((4, 3)).astype(np.float32)
    model.forward(x)
    a = model.backward(np.ones((4, 4), np.float32))
    model.forward(x)
    np.testing.assert_array_equal(model.backward([np.ones((4, 4), np.float32)]), a)
    with pytest.raises(nl.ShapeError, match=r"got \(4, 1\)"):
        model.backward([np.ones((4, 1), np.float32)])


def test_a_layer_of_your_own_gets_the_check_too(rng):
    class Double(nl.Layer):
        def forward(self, x):
            return 2 * x

        def backward(self, dout):
            return 2 * dout

    class FirstOutput(nl.Dense):
        """Calls super() with another shape: only the outermost call is checked."""

        def forward(self, x):
            return super().forward(x)[:, :1]

        def backward(self, dout):
            full = np.zeros((len(dout), self.out_features), dout.dtype)
            full[:, :1] = dout
            return super().backward(full)

    double = Double()
    double.forward(np.ones((3, 2)))
    with pytest.raises(nl.ShapeError, match=r"Double\.backward expected dout of shape \(3, 2\)"):
        double.backward(np.ones((3, 1)))
    first = FirstOutput(4, 3, rng=0, dtype=np.float64)
    x = rng.standard_normal((5, 4))
    assert first.forward(x).shape == (5, 1)
    dout = rng.standard_normal((5, 1))
    np.testing.assert_allclose(first.backward(dout), dout @ first.W.data[:, :1].T)
    with pytest.raises(nl.ShapeError, match=r"FirstOutput\.backward expected dout of shape "
                                            r"\(5, 1\)"):
        first.backward(rng.standard_normal((5, 3)))
