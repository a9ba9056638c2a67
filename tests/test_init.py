"""Initialisers: the right distribution, the right scale, the right fans."""

import numpy as np
import pytest

from nnlib import init

FAN_IN, FAN_OUT = 300, 500  # non-square on purpose


@pytest.mark.parametrize("name, bound", [
    ("glorot_uniform", np.sqrt(6 / (FAN_IN + FAN_OUT))),
    ("he_uniform", np.sqrt(6 / FAN_IN)),
    ("lecun_uniform", np.sqrt(3 / FAN_IN)),
])
def test_uniform_initialisers(name, bound):
    w = init.get(name)((FAN_IN, FAN_OUT), np.random.default_rng(0))
    assert w.shape == (FAN_IN, FAN_OUT) and w.dtype == np.float32
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.99 * bound          # fills the whole interval
    assert w.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)  # var of U(-a, a) = a^2/3


@pytest.mark.parametrize("name, std", [
    ("glorot_normal", np.sqrt(2 / (FAN_IN + FAN_OUT))),
    ("he_normal", np.sqrt(2 / FAN_IN)),
    ("lecun_normal", np.sqrt(1 / FAN_IN)),
])
def test_normal_initialisers(name, std):
    w = init.get(name)((FAN_IN, FAN_OUT), np.random.default_rng(0))
    assert w.std() == pytest.approx(std, rel=0.02)
    assert abs(w.mean()) < 0.01 * std * 10


def test_aliases_are_the_same_functions():
    assert init.xavier_uniform is init.glorot_uniform
    assert init.xavier_normal is init.glorot_normal
    assert init.kaiming_uniform is init.he_uniform
    assert init.kaiming_normal is init.he_normal


def test_fans_for_dense_and_conv_layouts():
    assert init.fans((784, 128)) == (784, 128)
    assert init.fans((16, 8, 3, 3)) == (8 * 9, 16 * 9)   # (F, C, kh, kw)
    with pytest.raises(ValueError, match="at least 2"):
        init.fans((10,))


def test_seeded_and_dtype():
    a = init.he_normal((4, 5), np.random.default_rng(3), np.float64)
    b = init.he_normal((4, 5), 3, np.float64)
    assert a.dtype == np.float64
    np.testing.assert_array_equal(a, b)
    assert not init.zeros((3, 2)).any()


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="'he_normal'"):
        init.get("he")
