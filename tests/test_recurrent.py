"""RNN and LSTM: BPTT against central differences, initial-state gradients, the
definition step by step, gradient clipping, errors."""

import numpy as np
import pytest
from scipy import special

import nnlib as nl
from nnlib.gradcheck import numerical_gradient, rel_error


@pytest.mark.parametrize("cls", [nl.RNN, nl.LSTM])
@pytest.mark.parametrize("shape", [(2, 5, 3), (3, 1, 2), (1, 7, 4)])
def test_bptt_gradient_check(cls, shape, rng):
    layer = cls(shape[2], 4, rng=0)
    report = nl.check_layer(layer, rng.standard_normal(shape))
    assert report.passed, str(report)


def test_rnn_matches_its_definition(rng):
    layer = nl.RNN(3, 4, rng=0, dtype=np.float64)
    x = rng.standard_normal((2, 5, 3))
    h = np.zeros((2, 4))
    hs = layer.forward(x)
    for t in range(5):
        h = np.tanh(x[:, t] @ layer.Wx.data + h @ layer.Wh.data + layer.b.data)
        np.testing.assert_allclose(hs[:, t], h)


def test_lstm_matches_its_definition_gate_order_ifgo(rng):
    layer = nl.LSTM(3, 2, rng=0, dtype=np.float64)
    x = rng.standard_normal((2, 4, 3))
    h = c = np.zeros((2, 2))
    hs = layer.forward(x)
    for t in range(4):
        a = x[:, t] @ layer.Wx.data + h @ layer.Wh.data + layer.b.data
        i, f, g, o = special.expit(a[:, :2]), special.expit(a[:, 2:4]), np.tanh(a[:, 4:6]), \
            special.expit(a[:, 6:])
        c = f * c + i * g
        h = o * np.tanh(c)
        np.testing.assert_allclose(hs[:, t], h)
    assert np.all(layer.b.data[2:4] == 1) and np.all(layer.b.data[:2] == 0)  # forget bias 1


@pytest.mark.parametrize("cls", [nl.RNN, nl.LSTM])
def test_initial_state_gradients(cls, rng):
    layer = cls(3, 4, rng=0, dtype=np.float64)
    x = rng.standard_normal((2, 3, 3))
    h0 = rng.standard_normal((2, 4))
    states = {"h0": h0}
    if cls is nl.LSTM:
        states["c0"] = rng.standard_normal((2, 4))
    dout = rng.standard_normal((2, 3, 4))
    layer.forward(x, **states)
    layer.backward(dout)
    for name, value in states.items():
        numeric = numerical_gradient(lambda _: layer.forward(x, **states), value, dout)
        assert rel_error(getattr(layer, "d" + name), numeric) < 1e-6


def test_last_time_step_and_float32(rng):
    model = nl.Sequential(nl.LSTM(2, 5, rng=0), nl.LastTimeStep(), nl.Dense(5, 1, rng=1))
    x = rng.standard_normal((4, 6, 2)).astype(np.float32)
    y = model.forward(x)
    assert y.shape == (4, 1) and y.dtype == np.float32
    dx = model.backward(np.ones_like(y))
    assert dx.shape == x.shape and dx.dtype == np.float32
    assert model.summary(input_shape=(6, 2)).count("(N, 6, 5)") == 1


def test_clip_grad_norm():
    params = {"a": nl.Parameter(np.zeros(2)), "b": nl.Parameter(np.zeros(1))}
    params["a"].grad[...] = [3.0, 0.0]
    params["b"].grad[...] = [4.0]
    assert nl.clip_grad_norm(params, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(params["a"].grad, [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(params["b"].grad, [0.8], rtol=1e-5)
    assert nl.clip_grad_norm(params.values(), 10.0) == pytest.approx(1.0, rel=1e-5)  # unchanged
    np.testing.assert_allclose(params["b"].grad, [0.8], rtol=1e-5)
    params["b"].grad[...] = np.nan
    with pytest.raises(FloatingPointError, match="NaN or inf gradient"):
        nl.clip_grad_norm(params, 1.0)
    with pytest.raises(ValueError, match="'max_norm' parameter of clip_grad_norm"):
        nl.clip_grad_norm(params, 0)


def test_sequences_must_be_3d():
    with pytest.raises(ValueError, match=r"RNN expected input \(N, T, 3\), got \(8, 3\)\. "
                                         r"A univariate series\? x\[:, :, None\]"):
        nl.RNN(3, 4).forward(np.zeros((8, 3), np.float32))
    with pytest.raises(ValueError, match=r"LSTM expected input \(N, T, 3\), got \(8, 5, 2\)"):
        nl.LSTM(3, 4).forward(np.zeros((8, 5, 2), np.float32))


def test_hidden_state_shape_mismatch():
    x = np.zeros((8, 5, 3), np.float32)
    with pytest.raises(ValueError, match=r"RNN expected h0 of shape \(N, H\) = \(8, 4\), got "
                                         r"\(4,\)"):
        nl.RNN(3, 4).forward(x, h0=np.zeros(4, np.float32))
    with pytest.raises(ValueError, match=r"LSTM expected c0 of shape \(N, H\) = \(8, 4\), got "
                                         r"\(8, 5\)"):
        nl.LSTM(3, 4).forward(x, c0=np.zeros((8, 5), np.float32))
