"""Oracles for chapters 01-03: NumPy, dense layers, initialisation, activations.

Expected values come from hand-written formulas on fixed inputs, SciPy, invariants and
statistics -- never from the solution notebooks.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .core import _kind, exercise

RNG_SEED = 20261123


def _rng():
    return np.random.default_rng(RNG_SEED)


# ---------------------------------------------------------------------------- chapter 01

@exercise("numpy.pairwise_sq_dists", chapter="01_numpy", signature="f(A, B)")
def _pairwise(t):
    rng = _rng()
    A, B = rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    expected = ((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=2)      # (3, 4)
    t.expect(t.call(A, B), expected, inputs="A (3, 2), B (4, 2)", hints=[
        (np.sqrt(expected), "you took the square root: return SQUARED distances."),
        (expected.T, "rows should index A and columns B: the result is (n, m)."),
    ])
    A5, B5 = rng.standard_normal((5, 7)), rng.standard_normal((2, 7))
    t.expect(t.call(A5, B5), ((A5[:, None] - B5[None]) ** 2).sum(2), inputs="A (5, 7), B (2, 7)")
    t.ok("non-square n != m and d > 2")


@exercise("numpy.standardize", chapter="01_numpy", signature="f(X)")
def _standardize(t):
    X = np.array([[1.0, 10.0, 3.0], [2.0, 20.0, 3.0], [4.0, 60.0, 3.0], [5.0, 30.0, 3.0]])
    mean, std = X.mean(axis=0), X.std(axis=0)
    safe = np.where(std > 0, std, 1)
    expected = (X - mean) / safe
    t.expect(t.call(X), expected, inputs=f"X = {X.tolist()} (last column constant)", hints=[
        ((X - mean) / np.where(X.std(axis=0, ddof=1) > 0, X.std(axis=0, ddof=1), 1),
         "use the population std (ddof=0, NumPy's default), not ddof=1."),
        (((X.T - X.mean(axis=1)) / X.std(axis=1)).T,
         "standardise each COLUMN (axis=0): every feature separately."),
    ])
    t.ok("mean 0 / std 1 per column")
    t.ok("constant column -> 0, no NaN")


# ---------------------------------------------------------------------------- chapter 02

@exercise("dense.forward", chapter="02_neurons_dense", signature="f(x, W, b)",
          names=("dense_forward", "forward"))
def _dense_forward(t):
    rng = _rng()
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)
    t.expect(t.call(x, W, b), x @ W + b, inputs="x (4, 3), W (3, 5), b (5,)", hints=[
        (x @ W, "add the bias b (it broadcasts over the rows)."),
    ])
    t.ok("x @ W + b on (N, D) x (D, H)")


def _init_sample(t, name, fan_in, fan_out, seed=0):
    w = t.call(fan_in, fan_out, np.random.default_rng(seed))
    return _valid_weights(t, w, fan_in, fan_out)


def _valid_weights(t, w, fan_in, fan_out):
    inputs = f"input: fan_in={fan_in}, fan_out={fan_out}"
    if not isinstance(w, np.ndarray):
        t.fail("wrong type", inputs, f"expected an array of shape ({fan_in}, {fan_out}), got "
               f"{_kind(w)}")
    if w.shape != (fan_in, fan_out):
        t.fail("wrong shape", inputs, f"expected ({fan_in}, {fan_out}), got {w.shape}",
               *(["hint: the shape is (fan_in, fan_out), as W in x @ W."]
                 if w.shape == (fan_out, fan_in) else []))
    if w.dtype.kind != "f":
        t.fail("wrong dtype", inputs, f"expected float weights, got {w.dtype}",
               "hint: rng.uniform / rng.normal return floats; do not round or cast them.")
    if not np.all(np.isfinite(w)):
        t.fail("NaN or inf in your weights", inputs)
    return w


def _check_uses_rng(t, fan_in, fan_out):
    a, b, c = (_valid_weights(t, t.call(fan_in, fan_out, np.random.default_rng(seed)), fan_in,
                              fan_out) for seed in (1, 1, 2))
    if not np.array_equal(a, b) or np.array_equal(a, c):
        t.fail("not reproducible from rng", "the same seed must give the same weights and "
               "another seed other weights.", "hint: draw from the rng argument "
               "(rng.uniform / rng.normal), not np.random.*.")
    t.ok("draws from rng")


@exercise("init.glorot_uniform", chapter="02_neurons_dense", signature="f(fan_in, fan_out, rng)")
def _glorot_uniform(t):
    fan_in, fan_out = 300, 500
    a = np.sqrt(6 / (fan_in + fan_out))
    w = _init_sample(t, "glorot_uniform", fan_in, fan_out)
    if np.abs(w).max() > a * (1 + 1e-9):
        t.fail("values outside [-a, a]", f"input: fan_in={fan_in}, fan_out={fan_out}",
               f"a = sqrt(6 / (fan_in + fan_out)) = {a:.5f}, but max |w| = "
               f"{np.abs(w).max():.5f}",
               *(["hint: sqrt(6 / fan_in) is He's bound; Glorot uses fan_in + fan_out."]
                 if np.abs(w).max() > 1.5 * a else []))
    if np.abs(w).max() < 0.95 * a or abs(w.std() - a / np.sqrt(3)) > 0.03 * a / np.sqrt(3):
        t.fail("wrong spread", f"input: fan_in={fan_in}, fan_out={fan_out}",
               f"U(-a, a) with a = {a:.5f} has std a / sqrt(3) = {a / np.sqrt(3):.5f}; yours "
               f"has std {w.std():.5f} and max |w| {np.abs(w).max():.5f}.",
               "hint: rng.uniform(-a, a, size=(fan_in, fan_out)).")
    if abs(w.mean()) > 0.05 * a:
        t.fail("not centred on 0", f"mean {w.mean():.4f}; U(-a, a) has mean 0.")
    t.ok("shape (fan_in, fan_out)")
    t.ok("uniform on [-a, a], a = sqrt(6 / (fan_in + fan_out))")
    _check_uses_rng(t, 20, 30)


@exercise("init.he_normal", chapter="02_neurons_dense", signature="f(fan_in, fan_out, rng)")
def _he_normal(t):
    fan_in, fan_out = 300, 500
    std = np.sqrt(2 / fan_in)
    w = _init_sample(t, "he_normal", fan_in, fan_out)
    got = w.std()
    if abs(got - std) > 0.03 * std:
        hints = {2 / fan_in: "2 / fan_in is the VARIANCE: the std is sqrt(2 / fan_in).",
                 np.sqrt(2 / fan_out): "He uses fan_in, not fan_out.",
                 np.sqrt(2 / (fan_in + fan_out)): "that is Glorot's scale; He's is 2 / fan_in.",
                 np.sqrt(1 / fan_in): "that is LeCun's scale; He's variance is 2 / fan_in."}
        hint = next((h for s, h in hints.items() if abs(got - s) < 0.05 * s), None)
        t.fail("wrong spread", f"input: fan_in={fan_in}, fan_out={fan_out}",
               f"expected std sqrt(2 / fan_in) = {std:.5f}, got {got:.5f}",
               *([f"hint: {hint}"] if hint else []))
    tail = np.mean(np.abs(w) > 2 * std)                  # a normal: 4.55 % beyond 2 std
    if not 0.03 < tail < 0.06:
        t.fail("not normally distributed", f"{tail:.1%} of values lie beyond 2 std; a normal "
               f"distribution has 4.6%.", "hint: rng.normal(0, std, size=...), not uniform.")
    if abs(w.mean()) > 0.05 * std:
        t.fail("not centred on 0", f"mean {w.mean():.4f}")
    t.ok("shape (fan_in, fan_out)")
    t.ok("N(0, 2 / fan_in)")
    _check_uses_rng(t, 20, 30)


# ---------------------------------------------------------------------------- chapter 03

GRID = np.array([[-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]])
EXTREME = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])


def _keeps_float32(t, fn_args=()):
    t.keeps_dtype((GRID.astype(np.float32), *fn_args), ("values",),
                  f"float32 array {GRID.tolist()}")


@exercise("activations.sigmoid", chapter="03_activations", signature="f(x)")
def _sigmoid(t):
    t.expect(t.call(GRID), special.expit(GRID), inputs=_fmt_grid(), hints=[
        (1 / (1 + np.exp(GRID)), "the exponent is -x: 1 / (1 + e^-x)."),
    ])
    t.expect(t.call(EXTREME), special.expit(EXTREME), inputs="x = [-1000, -50, 0, 50, 1000]",
             what="values at +-1000", nan_hint="e^x / (1 + e^x) is inf / inf at x = 1000: use "
             "1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0, or scipy.special.expit.")
    _keeps_float32(t)


def _fmt_grid():
    return "x = " + str(GRID.tolist())


@exercise("activations.sigmoid_grad", chapter="03_activations", signature="f(x)")
def _sigmoid_grad(t):
    s = special.expit(GRID)
    t.expect(t.call(GRID), s * (1 - s), inputs=_fmt_grid(), hints=[
        (s, "that is sigmoid itself; its derivative is s (1 - s)."),
        (s * (1 + s), "it is s (1 - s), with a minus."),
        (1 - s ** 2, "1 - s^2 is tanh's derivative pattern; sigmoid's is s (1 - s)."),
        (s * (1 - GRID), "it is s (1 - s): the second factor is 1 - sigmoid(x), not 1 - x."),
        (np.exp(-GRID) / (1 + np.exp(-GRID)), "that is e^-x / (1 + e^-x) = 1 - s; multiply "
                                              "by s: s (1 - s)."),
    ])
    t.expect(t.call(EXTREME), special.expit(EXTREME) * (1 - special.expit(EXTREME)),
             inputs="x = [-1000, -50, 0, 50, 1000]", what="values at +-1000",
             nan_hint="compute s = sigmoid(x) stably first (scipy.special.expit), then "
                      "s * (1 - s).")
    _keeps_float32(t)


@exercise("activations.tanh_grad", chapter="03_activations", signature="f(x)")
def _tanh_grad(t):
    th = np.tanh(GRID)
    t.expect(t.call(GRID), 1 - th ** 2, inputs=_fmt_grid(), hints=[
        (1 - th, "square the tanh: 1 - tanh(x)^2."),
        (th, "that is tanh itself."),
        (1 - GRID ** 2, "square tanh(x), not x."),
        (1 / np.cosh(GRID), "sech(x) is 1 / cosh(x); the derivative is sech^2 = 1 - tanh^2."),
    ])
    _keeps_float32(t)


@exercise("activations.relu", chapter="03_activations", signature="f(x)")
def _relu(t):
    t.expect(t.call(GRID), np.maximum(GRID, 0), inputs=_fmt_grid(), hints=[
        (np.abs(GRID), "negative inputs become 0, not their absolute value."),
        (np.minimum(GRID, 0), "keep the positive part: max(0, x)."),
        (np.clip(GRID, 0, 1), "np.clip(x, 0, 1) also caps at 1; ReLU has no upper bound: "
                              "max(0, x)."),
        ((GRID > 0).astype(float), "that is ReLU's derivative; ReLU itself is max(0, x)."),
    ])
    _keeps_float32(t)
    t.ok("input untouched")


@exercise("activations.relu_grad", chapter="03_activations", signature="f(x)")
def _relu_grad(t):
    t.expect(t.call(GRID), (GRID > 0).astype(float), inputs=_fmt_grid(), hints=[
        ((GRID >= 0).astype(float), "ReLU's gradient at exactly 0: take 0 (x > 0, not x >= 0)."),
        (np.maximum(GRID, 0), "that is relu(x); its derivative is 1 where x > 0, else 0."),
        (np.sign(GRID), "np.sign gives -1 for x < 0; the derivative there is 0."),
    ])
    t.ok("0 at x = 0")
    _keeps_float32(t)


ALPHAS = (0.2, 0.05)


@exercise("activations.leaky_relu", chapter="03_activations", signature="f(x, alpha)")
def _leaky_relu(t):
    for alpha in ALPHAS:
        t.expect(t.call(GRID, alpha), np.where(GRID > 0, GRID, alpha * GRID),
                 inputs=f"{_fmt_grid()}, alpha={alpha}", hints=[
                     (np.where(GRID > 0, GRID, 0.01 * GRID),
                      "use the alpha argument, not a fixed 0.01."),
                     (np.where(GRID > 0, alpha * GRID, GRID), "alpha scales the NEGATIVE part."),
                     (np.maximum(GRID, 0), "that is ReLU: keep alpha * x for x <= 0."),
                 ])
    t.ok("alpha not in {0.01, 1}")
    _keeps_float32(t, (0.2,))


@exercise("activations.elu", chapter="03_activations", signature="f(x, alpha)")
def _elu(t):
    x = np.concatenate([GRID, [[20.0, -20.0]]], axis=1)
    for alpha in (1.5, 0.3):
        expected = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
        t.expect(t.call(x, alpha), expected, inputs=f"x = {x.tolist()}, alpha={alpha}", hints=[
            (np.where(x > 0, x, np.expm1(np.minimum(x, 0))), "multiply by the alpha argument."),
            (np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0))), "it is alpha (e^x - 1): "
             "subtract 1 so that elu(0) = 0."),
        ])
    t.ok("alpha not in {0.01, 1}")
    _keeps_float32(t, (1.5,))


@exercise("activations.elu_grad", chapter="03_activations", signature="f(x, alpha)")
def _elu_grad(t):
    for alpha in (1.5, 0.3):
        expected = np.where(GRID > 0, 1.0, alpha * np.exp(np.minimum(GRID, 0)))
        t.expect(t.call(GRID, alpha), expected, inputs=f"{_fmt_grid()}, alpha={alpha}", hints=[
            (np.where(GRID > 0, 1.0, alpha * np.expm1(np.minimum(GRID, 0))),
             "that is elu(x) for x < 0; its derivative is alpha e^x."),
            (np.where(GRID > 0, 1.0, np.exp(np.minimum(GRID, 0))), "multiply e^x by alpha."),
            (np.where(GRID >= 0, 1.0, alpha * np.exp(np.minimum(GRID, 0))),
             "at x = 0 the derivative is alpha e^0 = alpha (x > 0, not x >= 0)."),
        ])
    _keeps_float32(t, (1.5,))
