"""The gradient checker itself must be right, or every other gradient test is void."""

import numpy as np
import pytest

from nnlib.gradcheck import numerical_gradient, rel_error


def test_numerical_gradient_of_known_functions(rng):
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v ** 3), x), 3 * x ** 2,
                               rtol=1e-6)
    a = rng.standard_normal((4, 2))
    dout = rng.standard_normal((3, 2))
    np.testing.assert_allclose(numerical_gradient(lambda v: v @ a, x, dout), dout @ a.T,
                               rtol=1e-6)


def test_numerical_gradient_restores_x(rng):
    x = rng.standard_normal(5)
    before = x.copy()
    numerical_gradient(lambda v: float(np.sum(np.sin(v))), x)
    np.testing.assert_array_equal(x, before)


def test_rel_error():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0
    assert rel_error(np.array([1.0]), np.array([1.1])) == pytest.approx(0.1 / 2.1)
    assert rel_error(np.array([0.0]), np.array([1e-12])) < 1e-3  # both ~0: no blow-up
    assert rel_error(np.array([np.nan]), np.array([1.0])) == np.inf  # NaN never passes
    with pytest.raises(ValueError, match="one shape"):
        rel_error(np.zeros(2), np.zeros(3))
