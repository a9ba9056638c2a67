"""The pure kernels: every derivative against central differences (float64), stability
at extreme inputs, and agreement with SciPy where SciPy has the same function."""

import numpy as np
import pytest
from helpers import away_from_zero
from scipy import special

import nnlib.functional as F
from nnlib.gradcheck import numerical_gradient, rel_error

ACTIVATIONS = [
    ("sigmoid", F.sigmoid, F.sigmoid_grad),
    ("tanh", F.tanh, F.tanh_grad),
    ("relu", F.relu, F.relu_grad),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.07), lambda x: F.leaky_relu_grad(x, 0.07)),
    ("elu", lambda x: F.elu(x, 1.3), lambda x: F.elu_grad(x, 1.3)),
]


@pytest.mark.parametrize("name, fn, grad", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_derivative_matches_central_differences(name, fn, grad, rng):
    x = away_from_zero(rng, (4, 5))
    dout = rng.standard_normal(x.shape)
    numeric = numerical_gradient(fn, x, dout)
    assert rel_error(grad(x) * dout, numeric) < 1e-6


@pytest.mark.parametrize("name, fn, grad", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_keeps_dtype_and_input(name, fn, grad, rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    before = x.copy()
    assert fn(x).dtype == np.float32
    assert grad(x).dtype == np.float32
    np.testing.assert_array_equal(x, before)


def test_activation_reference_values():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(F.sigmoid(x), 1 / (1 + np.exp(-x)))
    np.testing.assert_array_equal(F.relu(x), [0, 0, 0, 0.5, 2])
    np.testing.assert_array_equal(F.relu_grad(x), [0, 0, 0, 1, 1])  # 0 at exactly 0
    np.testing.assert_allclose(F.leaky_relu(x, 0.1), [-0.2, -0.05, 0, 0.5, 2])
    np.testing.assert_allclose(F.elu(x, 2.0), [2 * (np.exp(-2) - 1), 2 * (np.exp(-0.5) - 1),
                                               0, 0.5, 2])
    np.testing.assert_allclose(F.elu_grad(x, 2.0)[:2], 2 * np.exp([-2, -0.5]))


def test_sigmoid_and_elu_are_finite_at_extremes():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        s = F.sigmoid(x)
        e = F.elu(x)
        g = F.elu_grad(x)
    assert np.all(np.isfinite(s)) and s[0] == 0 and s[-1] == 1
    assert np.all(np.isfinite(e)) and np.all(np.isfinite(g))


def test_softmax_matches_scipy_and_is_stable(rng):
    z = rng.standard_normal((6, 4)) * 3
    np.testing.assert_allclose(F.softmax(z), special.softmax(z, axis=1), rtol=1e-12)
    big = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        s = F.softmax(big)
    np.testing.assert_allclose(s, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]], atol=1e-300)
    np.testing.assert_allclose(F.logsumexp(big), special.logsumexp(big, axis=1))
    np.testing.assert_allclose(F.log_softmax(big), special.log_softmax(big, axis=1))


def test_softmax_jacobian_and_backward_match_finite_differences(rng):
    z = rng.standard_normal(5)
    numeric = np.stack([numerical_gradient(lambda v, i=i: F.softmax(v)[i], z.copy())
                        for i in range(5)])
    assert rel_error(F.softmax_jacobian(F.softmax(z)), numeric) < 1e-6
    zb = rng.standard_normal((3, 5))
    dout = rng.standard_normal((3, 5))
    assert rel_error(F.softmax_backward(F.softmax(zb), dout),
                     numerical_gradient(F.softmax, zb, dout)) < 1e-6


LOSSES = {
    "mse": (F.mse, lambda r: (r.standard_normal((4, 3)), r.standard_normal((4, 3)))),
    "bce": (F.binary_cross_entropy,
            lambda r: (r.uniform(0.05, 0.95, (4, 3)), r.integers(0, 2, (4, 3)).astype(float))),
    "bce_logits": (F.binary_cross_entropy_with_logits,
                   lambda r: (r.standard_normal((4, 3)) * 3, r.uniform(0, 1, (4, 3)))),
    "ce_labels": (F.cross_entropy, lambda r: (r.standard_normal((5, 4)), r.integers(0, 4, 5))),
    "ce_onehot": (F.cross_entropy,
                  lambda r: (r.standard_normal((5, 4)), F.one_hot(r.integers(0, 4, 5), 4,
                                                                   np.float64))),
}


@pytest.mark.parametrize("name", LOSSES)
def test_loss_gradient_matches_central_differences(name, rng):
    fn, make = LOSSES[name]
    pred, target = make(rng)
    _, analytic = fn(pred, target)
    numeric = numerical_gradient(lambda p: fn(p, target)[0], pred)
    assert rel_error(analytic, numeric) < 1e-6


def test_loss_values_against_definitions(rng):
    p, y = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    assert F.mse(p, y)[0] == pytest.approx(np.sum((p - y) ** 2) / 6)
    z = rng.standard_normal((4, 3))
    labels = np.array([0, 2, 1, 2])
    probs = special.softmax(z, axis=1)
    expected = -np.mean(np.log(probs[np.arange(4), labels]))
    assert F.cross_entropy(z, labels)[0] == pytest.approx(expected, rel=1e-12)
    q = special.expit(z)
    t = (z > 0).astype(float)
    bce = -np.mean(t * np.log(q) + (1 - t) * np.log(1 - q))
    assert F.binary_cross_entropy(q, t)[0] == pytest.approx(bce, rel=1e-10)
    assert F.binary_cross_entropy_with_logits(z, t)[0] == pytest.approx(bce, rel=1e-10)


def test_cross_entropy_gradient_is_p_minus_y_over_n(rng):
    z = rng.standard_normal((6, 5))
    labels = rng.integers(0, 5, 6)
    _, dz = F.cross_entropy(z, labels)
    np.testing.assert_allclose(dz, (special.softmax(z, axis=1) - np.eye(5)[labels]) / 6)


def test_cross_entropy_stable_at_1000():
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss, dz = F.cross_entropy(z, np.array([1, 0]))
    # row 0: -log softmax = 1000 - (-1000) = 2000; row 1: 2000 + log 2
    assert loss == pytest.approx((2000 + 2000 + np.log(2)) / 2)
    assert np.all(np.isfinite(dz))
    np.testing.assert_allclose(dz, [[0.5, -0.5, 0], [-0.5, 0.25, 0.25]], atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_finite_at_probabilities_0_and_1(dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0], dtype=dtype)
    y = np.array([0.0, 1.0, 1.0, 0.0], dtype=dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss, dp = F.binary_cross_entropy(p, y)
    assert np.isfinite(loss) and np.all(np.isfinite(dp))
    assert dp.dtype == dtype
    assert dp[2] < 0 < dp[3]  # pushes the wrong predictions the right way


def test_bce_with_logits_exact_at_500():
    z = np.array([500.0, -500.0, 500.0, -500.0])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss, dz = F.binary_cross_entropy_with_logits(z, y)
    assert loss == pytest.approx((0 + 0 + 500 + 500) / 4)
    np.testing.assert_allclose(dz, [0, 0, 0.25, -0.25], atol=1e-12)
