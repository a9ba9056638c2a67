"""Every layer: float64 gradient check of dx and each parameter (rel error < 1e-6),
dtype kept, arguments never mutated, gradients accumulated, naive references agree."""

import numpy as np
import pytest
from helpers import away_from_zero

import nnlib as nl


def make_layers():
    return {
        "Dense": (lambda: nl.Dense(3, 5, rng=0), (4, 3)),
        "Dense he_normal": (lambda: nl.Dense(6, 2, init="he_normal", rng=1), (7, 6)),
        "ReLU": (nl.ReLU, (4, 5)),
        "LeakyReLU": (lambda: nl.LeakyReLU(0.2), (4, 5)),
        "ELU": (lambda: nl.ELU(0.7), (4, 5)),
        "Sigmoid": (nl.Sigmoid, (4, 5)),
        "Tanh": (nl.Tanh, (4, 5)),
        "Softmax": (nl.Softmax, (4, 5)),
        "Flatten": (nl.Flatten, (2, 3, 2, 2)),
        "Dropout eval": (lambda: nl.Dropout(0.5, rng=0).eval(), (3, 4)),
        "Residual": (lambda: nl.Residual(nl.Dense(4, 4, rng=2), nl.Tanh(), nl.Dense(4, 4, rng=3)),
                     (5, 4)),
        "Sequential": (lambda: nl.Sequential(nl.Dense(3, 6, rng=4), nl.ReLU(),
                                             nl.Dense(6, 2, rng=5), nl.Softmax()), (5, 3)),
        "Conv2D": (lambda: nl.Conv2D(2, 3, 3, stride=2, padding="same", rng=6), (2, 2, 5, 6)),
        "MaxPool2D": (lambda: nl.MaxPool2D(2), (2, 3, 4, 5)),
        "AvgPool2D": (lambda: nl.AvgPool2D(3, stride=1), (2, 2, 5, 4)),
        "RNN": (lambda: nl.RNN(3, 4, rng=7), (2, 5, 3)),
        "LSTM": (lambda: nl.LSTM(3, 4, rng=8), (2, 4, 3)),
        "LastTimeStep": (nl.LastTimeStep, (2, 3, 4)),
        "GELU": (nl.GELU, (4, 5)),
        "GELU tanh": (lambda: nl.GELU(approximate="tanh"), (3, 2, 4)),
        "BatchNorm1D": (lambda: nl.BatchNorm1D(3, momentum=0.2), (6, 3)),
        "BatchNorm1D eval": (lambda: _with_running_stats(nl.BatchNorm1D(3)).eval(), (4, 3)),
        "BatchNorm2D": (lambda: nl.BatchNorm2D(2), (3, 2, 3, 2)),
        "BatchNorm2D eval": (lambda: _with_running_stats(nl.BatchNorm2D(2)).eval(),
                             (2, 2, 3, 3)),
        "LayerNorm": (lambda: nl.LayerNorm(5), (2, 3, 5)),
        "LayerNorm 2-D shape": (lambda: nl.LayerNorm((2, 3), eps=1e-3), (4, 2, 3)),
        "PositionalEmbedding": (lambda: nl.PositionalEmbedding(6, 4, rng=9), (2, 5, 4)),
        "PositionalEmbedding sinusoidal": (
            lambda: nl.PositionalEmbedding(6, 4, kind="sinusoidal"), (2, 6, 4)),
        "Dense on sequences": (lambda: nl.Dense(4, 3, rng=10), (2, 5, 4)),
        "MultiHeadAttention": (lambda: nl.MultiHeadAttention(6, 2, rng=11), (2, 4, 6)),
        "MultiHeadAttention causal": (
            lambda: nl.MultiHeadAttention(6, 3, causal=True, rng=12), (2, 5, 6)),
        "TransformerBlock": (lambda: nl.TransformerBlock(8, 2, rng=13), (2, 3, 8)),
        "TransformerBlock causal": (
            lambda: nl.TransformerBlock(8, 4, 2, causal=True, gelu="none", rng=14), (2, 4, 8)),
    }


def _with_running_stats(layer):
    """A batch-norm layer whose running statistics are not the initial 0 and 1."""
    rng = np.random.default_rng(3)
    layer.running_mean[...] = rng.standard_normal(layer.running_mean.shape)
    layer.running_var[...] = rng.uniform(0.5, 2.0, layer.running_var.shape)
    return layer


# Attention rows. Softmax weights near 0 or 1 make some gradient entries 1e-5 of the
# largest, and central differences carry ~1e-9 of rounding noise, so those entries cannot
# reach an elementwise relative error of 1e-6 however right the backward is. These rows
# are checked against the scale of each gradient instead (max |analytic - numeric| /
# max |numeric| < 1e-7). The key bias's gradient is zero by the math -- softmax ignores
# the constant q . bk added to every score of a row -- and is checked to be ~0.
SCALED_CHECK = {"MultiHeadAttention": {"bk"}, "MultiHeadAttention causal": {"bk"},
                "TransformerBlock": {"attn.bk"}, "TransformerBlock causal": {"attn.bk"}}


def scaled_gradient_errors(layer, x):
    """max |analytic - numeric| / max |numeric| per gradient (float64, random dout)."""
    layer = layer.astype(np.float64)
    out = layer.forward(x)
    dout = np.random.default_rng(0).standard_normal(out.shape)
    layer.zero_grad()
    grads = {"x": layer.backward(dout),
             **{k: p.grad.copy() for k, p in layer.parameters().items()}}
    values = {"x": x, **{k: p.data for k, p in layer.parameters().items()}}
    errors = {}
    for key, value in values.items():
        numeric = nl.numerical_gradient(lambda _: layer.forward(x), value, dout)
        scale = np.abs(numeric).max()
        errors[key] = (np.abs(grads[key] - numeric).max() / scale if scale > 1e-7
                       else np.abs(grads[key]).max())
    return errors


LAYERS = make_layers()

# Layers with several inputs (multi_input): their shape is a list of input shapes.
MERGES = {
    "Add": (nl.Add, [(3, 4), (3, 4), (3, 4)]),
    "Multiply": (nl.Multiply, [(3, 2, 2), (3, 2, 2)]),
    "Concatenate": (nl.Concatenate, [(3, 2), (3, 5)]),
    "Concatenate axis 1": (lambda: nl.Concatenate(axis=1), [(2, 1, 3, 3), (2, 2, 3, 3)]),
}


@pytest.mark.parametrize("name", LAYERS)
def test_gradient_check_float64(name, rng):
    factory, shape = LAYERS[name]
    layer = factory()
    x = away_from_zero(rng, shape)
    if name in SCALED_CHECK:
        errors = scaled_gradient_errors(layer, x)
        assert set(errors) == {"x", *layer.parameters()}
        assert max(errors.values()) < 1e-7, errors
        for key in SCALED_CHECK[name]:          # zero by the math, and ~0 numerically
            assert errors[key] < 1e-12
        return
    report = nl.check_layer(layer, x)
    assert set(report.errors) == {"x", *layer.parameters()}
    assert report.passed, str(report)
    assert max(err for err, _ in report.errors.values()) < 1e-6


@pytest.mark.parametrize("name", MERGES)
def test_merge_gradient_check_float64_with_list_inputs(name, rng):
    factory, shapes = MERGES[name]
    layer = factory()
    report = nl.check_layer(layer, [away_from_zero(rng, s) for s in shapes])
    assert set(report.errors) == {f"x{i}" for i in range(len(shapes))}
    assert report.passed, str(report)


@pytest.mark.parametrize("name", MERGES)
def test_merge_float32_in_float32_out_and_nothing_mutated(name, rng):
    factory, shapes = MERGES[name]
    layer = factory()
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    before = [x.copy() for x in xs]
    y = layer.forward(xs)
    dxs = layer.backward(np.ones_like(y))
    assert y.dtype == np.float32 and len(dxs) == len(xs)
    for x, b, dx in zip(xs, before, dxs, strict=True):
        assert dx.dtype == np.float32 and dx.shape == x.shape
        np.testing.assert_array_equal(x, b)


def test_check_layer_says_when_a_merge_gets_one_array(rng):
    with pytest.raises(TypeError, match=r"Add\(\) takes a list of arrays, got one array"):
        nl.check_layer(nl.Add(), rng.standard_normal((2, 3)))
    with pytest.raises(TypeError, match=r"Dense\(3, 2\) takes one array, got a list"):
        nl.check_layer(nl.Dense(3, 2), [rng.standard_normal((2, 3))])


def test_concatenate_is_a_merge_and_layers_declare_multiple_inputs():
    assert isinstance(nl.Concatenate(), nl.Merge)
    assert all(factory().multi_input for factory, _ in MERGES.values())
    assert not any(factory().multi_input for factory, _ in LAYERS.values())


@pytest.mark.parametrize("name", LAYERS)
def test_float32_in_float32_out_and_nothing_mutated(name, rng):
    factory, shape = LAYERS[name]
    layer = factory()
    x = rng.standard_normal(shape).astype(np.float32)
    x_before = x.copy()
    y = layer.forward(x)
    dout = rng.standard_normal(y.shape).astype(np.float32)
    dout_before = dout.copy()
    dx = layer.backward(dout)
    assert y.dtype == np.float32 and dx.dtype == np.float32
    assert dx.shape == x.shape
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dout, dout_before)
    for p in layer.parameters().values():
        assert p.data.dtype == np.float32 and p.grad.dtype == np.float32


def test_dense_matches_definition_and_accumulates(rng):
    layer = nl.Dense(3, 2, dtype=np.float64, rng=0)
    x = rng.standard_normal((4, 3))
    np.testing.assert_allclose(layer.forward(x), x @ layer.W.data + layer.b.data)
    dout = rng.standard_normal((4, 2))
    layer.backward(dout)
    np.testing.assert_allclose(layer.W.grad, x.T @ dout)
    np.testing.assert_allclose(layer.b.grad, dout.sum(0))
    layer.backward(dout)  # backward accumulates
    np.testing.assert_allclose(layer.W.grad, 2 * x.T @ dout)
    layer.zero_grad()
    assert not layer.W.grad.any() and not layer.b.grad.any()


def test_dense_parameter_shapes_and_names():
    layer = nl.Dense(784, 10)
    assert layer.W.shape == (784, 10) and layer.b.shape == (10,)
    assert set(layer.parameters()) == {"W", "b"}
    assert layer.W.dtype == np.float32
    assert nl.Dense(2, 3, dtype=np.float64).W.dtype == np.float64


def test_container_parameter_names():
    model = nl.Sequential(nl.Dense(2, 3), nl.ReLU(), nl.Residual(nl.Dense(3, 3)), nl.Dense(3, 1))
    assert list(model.parameters()) == ["0.W", "0.b", "2.0.W", "2.0.b", "3.W", "3.b"]


def test_dropout_statistics_and_modes(rng):
    p = 0.3
    layer = nl.Dropout(p, rng=np.random.default_rng(0))
    x = np.ones((200, 500), dtype=np.float32)
    y = layer.forward(x)
    kept = y != 0
    assert abs(kept.mean() - (1 - p)) < 0.01          # ~70% kept
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)  # inverted scaling
    assert abs(y.mean() - 1) < 0.01                   # expectation preserved
    dout = rng.standard_normal(x.shape).astype(np.float32)
    np.testing.assert_array_equal(layer.backward(dout), dout * y)  # same mask backward
    layer.eval()
    np.testing.assert_array_equal(layer.forward(x), x)
    np.testing.assert_array_equal(layer.backward(dout), dout)


def test_dropout_is_seeded():
    x = np.ones((10, 10), dtype=np.float32)
    a = nl.Dropout(0.5, rng=7).forward(x)
    b = nl.Dropout(0.5, rng=7).forward(x)
    np.testing.assert_array_equal(a, b)


def test_residual_is_x_plus_f(rng):
    inner = nl.Dense(4, 4, rng=0, dtype=np.float64)
    block = nl.Residual(inner)
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(block.forward(x), x + x @ inner.W.data + inner.b.data)


def test_flatten_round_trip(rng):
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    layer = nl.Flatten()
    assert layer.forward(x).shape == (2, 60)
    assert layer.backward(np.ones((2, 60), np.float32)).shape == x.shape


def test_check_layer_catches_a_wrong_backward(rng):
    class BadDense(nl.Dense):
        def backward(self, dout):
            self.W.grad += self._x.T @ dout
            self.b.grad += dout.mean(axis=0)      # bug: mean instead of sum
            return dout @ self.W.data.T

    report = nl.check_layer(BadDense(3, 2, rng=0), rng.standard_normal((4, 3)))
    assert not report.passed
    assert report.worst[0] == "b"
    assert "BAD" in str(report)


def test_check_layer_leaves_the_layer_untouched(rng):
    layer = nl.Dense(3, 2, rng=0)
    before = layer.W.data.copy()
    nl.check_layer(layer, rng.standard_normal((4, 3)))
    assert layer.W.dtype == np.float32
    np.testing.assert_array_equal(layer.W.data, before)
    assert not layer.W.grad.any()


def test_every_layer_takes_dtype_and_a_parameter_free_one_insists_on_it(tmp_path):
    relu = nl.ReLU(dtype=np.float64)
    assert relu.forward(np.ones((1, 2))).dtype == np.float64
    with pytest.raises(TypeError, match="ReLU expected input of dtype float64, got float32"):
        relu.forward(np.ones((1, 2), np.float32))
    for layer in (nl.LeakyReLU(0.1, dtype=np.float64), nl.Flatten(dtype=np.float64),
                  nl.Dropout(0.1, dtype=np.float64), nl.MaxPool2D(2, dtype=np.float64),
                  nl.Concatenate(dtype=np.float64), nl.LastTimeStep(dtype=np.float64)):
        assert layer.dtype == np.float64
    assert nl.ReLU().dtype is None  # by default it follows its input
    model = nl.Sequential(nl.Dense(2, 2, dtype=np.float64), nl.LeakyReLU(0.3, dtype=np.float64))
    model.save(tmp_path / "m.npz")
    loaded = nl.Sequential.load(tmp_path / "m.npz")
    assert loaded.layers[1].dtype == np.float64 and loaded.layers[1].alpha == 0.3
    with pytest.raises(TypeError, match=r"ReLU got an unexpected keyword argument 'alpha'\. "
                                        r"Valid keywords: dtype\."):
        nl.ReLU(alpha=0.1)


@pytest.mark.parametrize("make", [
    lambda a: a,                                          # C order
    lambda a: np.asfortranarray(a),
    lambda a: a.transpose(1, 0, 2, 3),                    # channel-major, as after Conv2D
    lambda a: a[:, :, :, :28],                            # strided view with gaps
    lambda a: a[::-1, :, ::2],                            # negative and step strides
    lambda a: a[:, :, ::-1].transpose(0, 3, 1, 2),        # negative, permuted, compact
    lambda a: a.reshape(-1),                              # 1-D
    lambda a: a.reshape(-1, 1),                           # rows of one element
    lambda a: a[:1, :1],                                  # small: the plain road
    lambda a: a[:0],                                      # empty
    lambda a: a[0, 0, 0, 0],                              # 0-d
], ids=["C", "F", "channel-major", "gaps", "negative-strides", "negative-permuted", "1-D",
        "column", "small", "empty", "0-d"])
def test_relu_forward_equals_the_kernel_for_any_layout(make, rng):
    """ReLU's fast forward (the maximum against a row of zeros, a strided x copied first)
    gives what the readable kernel gives, in the same memory layout, and leaves x
    untouched."""
    a = rng.standard_normal((8, 16, 28, 30)).astype(np.float32)  # above the size cut
    a[0, 0, 0, :3] = [np.nan, np.inf, -np.inf]
    x = make(a)
    before = np.array(x, copy=True)
    y = nl.ReLU().forward(np.asarray(x))
    expected = nl.functional.relu(np.asarray(x))
    np.testing.assert_array_equal(y, expected)
    assert y.dtype == expected.dtype and y.shape == expected.shape
    assert y.strides == expected.strides
    np.testing.assert_array_equal(x, before)
