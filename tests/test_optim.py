"""Optimizers against steps computed by hand with the PyTorch conventions."""

import math

import numpy as np
import pytest

import nnlib as nl


def one_param(w=1.0, g=0.5):
    p = nl.Parameter(np.array([w], dtype=np.float64))
    p.grad[...] = g
    return p


def run(opt_cls, grads, **kw):
    p = one_param(g=grads[0])
    opt = opt_cls({"w": p}, **kw)
    for g in grads:
        p.grad[...] = g
        opt.step()
    return float(p.data[0])


def test_sgd_plain():
    assert run(nl.SGD, [0.5], lr=0.1) == pytest.approx(1 - 0.1 * 0.5)


def test_sgd_momentum_two_steps():
    # v1 = 0.5, w1 = 1 - 0.1 * 0.5 = 0.95; v2 = 0.9 * 0.5 + 0.5 = 0.95, w2 = 0.95 - 0.095
    assert run(nl.SGD, [0.5, 0.5], lr=0.1, momentum=0.9) == pytest.approx(0.855)


def test_sgd_nesterov():
    # v1 = 0.5; step uses g + momentum * v1 = 0.5 + 0.45 = 0.95
    assert run(nl.SGD, [0.5], lr=0.1, momentum=0.9, nesterov=True) == pytest.approx(0.905)


def test_sgd_weight_decay_added_to_gradient_before_momentum():
    # g' = 0.5 + 0.1 * 1.0 = 0.6 -> w = 1 - 0.1 * 0.6; then v2 = 0.9 * 0.6 + (0.5 + 0.1 * 0.94)
    w1 = 1 - 0.1 * 0.6
    v2 = 0.9 * 0.6 + (0.5 + 0.1 * w1)
    assert run(nl.SGD, [0.5, 0.5], lr=0.1, momentum=0.9, weight_decay=0.1) == \
        pytest.approx(w1 - 0.1 * v2)


def test_rmsprop_one_step():
    s = 0.1 * 0.5 ** 2
    assert run(nl.RMSProp, [0.5], lr=0.01, rho=0.9) == \
        pytest.approx(1 - 0.01 * 0.5 / (math.sqrt(s) + 1e-8))


def test_adam_two_steps():
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
    m = v = 0.0
    w = 1.0
    for t, g in enumerate([0.5, 0.25], start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w -= lr * (m / (1 - b1 ** t)) / (math.sqrt(v / (1 - b2 ** t)) + eps)
    assert run(nl.Adam, [0.5, 0.25], lr=lr) == pytest.approx(w, rel=1e-12)
    # the first Adam step has size ~lr whatever the gradient's scale
    assert run(nl.Adam, [123.0], lr=lr) == pytest.approx(1 - lr, rel=1e-6)


def test_eps_is_outside_the_square_root():
    g = 1e-6  # tiny gradient: eps placement changes the step by a factor of ~100
    assert 1 - run(nl.Adam, [g], lr=1.0) == pytest.approx(g / (g + 1e-8), rel=1e-9)
    s = 0.1 * g * g
    assert 1 - run(nl.RMSProp, [g], lr=1.0) == pytest.approx(g / (math.sqrt(s) + 1e-8),
                                                             rel=1e-9)


@pytest.mark.parametrize("make", [
    lambda p: nl.SGD(p, 0.1, momentum=0.9),
    lambda p: nl.SGD(p, 0.1, momentum=0.9, nesterov=True),
    lambda p: nl.RMSProp(p, 0.01),
    lambda p: nl.Adam(p, 0.05),
])
def test_minimises_an_ill_conditioned_quadratic(make):
    a = np.array([1.0, 10.0])
    p = nl.Parameter(np.array([3.0, -2.0]))
    opt = make({"w": p})
    for _ in range(500):
        opt.zero_grad()
        p.grad += a * p.data           # gradient of 0.5 * sum(a w^2)
        opt.step()
    assert np.abs(p.data).max() < 1e-2


def test_float32_parameters_stay_float32():
    p = nl.Parameter(np.ones(3, dtype=np.float32))
    p.grad[...] = 0.1
    for opt in (nl.SGD({"w": p}, 0.1, momentum=0.5, weight_decay=0.01), nl.RMSProp({"w": p}, 0.1),
                nl.Adam({"w": p})):
        opt.step()
        assert p.data.dtype == np.float32


@pytest.mark.parametrize("make", [lambda ps: nl.SGD(ps, lr=0.1),
                                  lambda ps: nl.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: nl.Adam(ps, lr=0.1),
                                  lambda ps: nl.RMSProp(ps, lr=0.1)])
def test_a_parameter_listed_twice_is_refused(make):
    """Two models sharing a layer, their parameters merged: the shared weight would be
    stepped twice. The optimizer names both keys instead."""
    shared = nl.Dense(3, 2, rng=0)
    a, b = nl.Sequential(shared, nl.ReLU()), nl.Sequential(shared, nl.Dense(2, 1, rng=1))
    merged = {**{f"a.{k}": p for k, p in a.parameters().items()},
              **{f"b.{k}": p for k, p in b.parameters().items()}}
    with pytest.raises(ValueError, match=r"same Parameter twice, as 'a\.0\.W' and 'b\.0\.W'"):
        make(merged)
    once = {k: p for k, p in merged.items() if not k.startswith("b.0.")}
    make(once)  # each parameter once: accepted
