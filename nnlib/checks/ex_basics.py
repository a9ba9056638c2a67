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

#: Rows added to A (or B) to see whether the work grows with them: a Python loop over rows
#: runs at least one more line per row; vectorised code runs the same few lines.
LOOP_ROWS = 200


def _no_row_loop(t):
    """Fail if the Python steps of one call grow with the rows of A or of B."""
    rng = np.random.default_rng(RNG_SEED + 1)
    small, big = rng.standard_normal((2, 3)), rng.standard_normal((2 + LOOP_ROWS, 3))
    for name, few_args, many_args in (("A", (small, small[:1]), (big, small[:1])),
                                      ("B", (small[:1], small), (small[:1], big))):
        _, few = t.steps(*few_args)
        if few is None:            # a runner that cannot count (none of ours): no verdict
            return
        many = min(t.steps(*many_args)[1], t.steps(*many_args)[1])   # 2nd call: warm
        if many - few >= LOOP_ROWS // 2:
            m, n = (len(a) for a in many_args)
            t.fail(f"a Python loop over the rows of {name}",
                   f"input: A ({m}, 3), B ({n}, 3) against {LOOP_ROWS} fewer rows of {name}",
                   f"{LOOP_ROWS} more rows of {name} made your function run {many - few:,} more "
                   f"Python lines and calls: its work grows row by row, so it loops over them "
                   f"in Python (the task asks for none).",
                   "hint: let broadcasting form all n x m row differences in one expression "
                   "(a new axis on each input), or expand the square into terms that are "
                   "matrix products.")
    t.ok("no Python loop over rows")


@exercise("numpy.pairwise_sq_dists", chapter="01_numpy", signature="f(A, B)")
def _pairwise(t):
    rng = _rng()
    A, B = rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    expected = ((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=2)      # (3, 4)
    sq_a, sq_b, cross = (A ** 2).sum(1)[:, None], (B ** 2).sum(1)[None, :], A @ B.T
    t.expect(t.call(A, B), expected, inputs="A (3, 2), B (4, 2)", hints=[
        (np.sqrt(expected), "you took the square root: return SQUARED distances."),
        (expected.T, "rows should index A and columns B: the result is (n, m)."),
        (sq_a - cross + sq_b, "the factor 2 is missing: the cross term a.b appears twice when "
                              "|a - b|^2 is expanded."),
        (sq_a + 2 * cross + sq_b, "the cross term's sign: |a - b|^2 subtracts it."),
        ((A[:, None, :] - B[None, :, :]).sum(axis=2) ** 2,
         "you squared the sum of the differences: square each coordinate's difference, "
         "then sum."),
    ])
    A5, B5 = rng.standard_normal((5, 7)), rng.standard_normal((2, 7))
    t.expect(t.call(A5, B5), ((A5[:, None] - B5[None]) ** 2).sum(2), inputs="A (5, 7), B (2, 7)")
    t.ok("non-square n != m and d > 2")
    t.keeps_dtype((A5.astype(np.float32), B5.astype(np.float32)), ("values",),
                  "float32 A (5, 7), B (2, 7)")
    _no_row_loop(t)


#: Columns: ordinary, ordinary, exactly constant, and six 0.1s -- constant too, but the
#: rounded mean of six 0.1s is not 0.1, so their std is 1.4e-17 rather than 0.
STANDARDIZE_X = np.array([[1.0, 10.0, 3.0, 0.1], [2.0, 20.0, 3.0, 0.1], [4.0, 60.0, 3.0, 0.1],
                          [5.0, 30.0, 3.0, 0.1], [3.0, 40.0, 3.0, 0.1], [7.0, 50.0, 3.0, 0.1]])


@exercise("numpy.standardize", chapter="01_numpy", signature="f(X)")
def _standardize(t):
    X = STANDARDIZE_X
    mean, std = X.mean(axis=0), X.std(axis=0)
    constant = X.max(axis=0) == X.min(axis=0)
    expected = np.where(constant, 0.0, (X - mean) / np.where(constant, 1, std))
    std1 = X.std(axis=0, ddof=1)
    noise = (X - mean) / np.where(std > 0, std, 1)          # what a `std > 0` test gives
    t.expect(t.call(X), expected, inputs="X (6, 4): column 2 all 3.0, column 3 all 0.1",
             hints=[
                 *(((X - mean) / np.where(guard, std1, 1),
                    "use the population std (ddof=0, NumPy's default), not ddof=1.")
                   for guard in (~constant, std1 > 0)),
                 (((X.T - X.mean(axis=1)) / X.std(axis=1)).T,
                  "standardise each COLUMN (axis=0): every feature separately."),
                 (noise, f"column 3 is constant, but after rounding its std is {std[3]:.1e}, "
                         f"not 0: a `std > 0` (or `std == 0`) test lets it through and "
                         f"divides rounding noise by rounding noise. A column is constant "
                         f"when its max equals its min."),
             ],
             nan_hint="0 / 0: a constant column has std 0 and every deviation from its mean "
                      "is 0. A constant column carries no information: make it 0.")
    t.ok("mean 0 / std 1 per column")
    t.ok("constant columns (max == min) -> 0, no NaN")
    t.keeps_dtype((X.astype(np.float32),), ("values",), "float32 X (6, 4)")


# ---------------------------------------------------------------------------- chapter 02

@exercise("dense.forward", chapter="02_neurons_dense", signature="f(x, W, b)",
          names=("dense_forward", "forward"))
def _dense_forward(t):
    rng = _rng()
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)
    t.expect(t.call(x, W, b), x @ W + b, inputs="x (4, 3), W (3, 5), b (5,)", hints=[
        (x @ W, "add the bias b (it broadcasts over the rows)."),
        (x @ W - b, "the bias is added, not subtracted."),
        ((x @ W + b).T, "that is (H, N) = (5, 4), one column per sample: in this course rows "
                        "are samples, so the output is (N, H) = (4, 5)."),
    ])
    t.ok("x @ W + b on (N, D) x (D, H)")
    t.keeps_dtype((x.astype(np.float32), W.astype(np.float32), b.astype(np.float32)),
                  ("values",), "float32 x, W, b")


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
               "hint: the rng's uniform and normal draws are floats; do not round or cast them.")
    if w.dtype != np.float64:
        t.fail("wrong dtype", inputs, f"returned {w.dtype}; the rng draws float64 and the "
               "weights keep that dtype (there is no dtype argument)",
               "hint: drop the cast. nnlib's initialisers take a dtype= argument for that "
               "(float32 by default); this exercise does not.")
    if not np.all(np.isfinite(w)):
        t.fail("NaN or inf in your weights", inputs)
    return w


def _check_uses_rng(t, fan_in, fan_out):
    a, b, c = (_valid_weights(t, t.call(fan_in, fan_out, np.random.default_rng(seed)), fan_in,
                              fan_out) for seed in (1, 1, 2))
    if not np.array_equal(a, b) or np.array_equal(a, c):
        t.fail("not reproducible from rng", "the same seed must give the same weights and "
               "another seed other weights.", "hint: draw from the rng argument, not from "
               "np.random.")
    t.ok("draws from rng")


def _centred(t, w, scale, fan_in, fan_out, family):
    """Fail unless the mean is ~0 (checked first: a shifted draw also looks too wide)."""
    mean = w.mean()
    if abs(mean) > 0.05 * scale:
        if w.min() >= 0:
            hint = f"all your values are >= 0: {family} is symmetric around 0."
        elif family.startswith("a normal") and abs(mean - scale) < 0.1 * scale:
            hint = ("your mean equals the intended std: a normal draw takes the mean (loc) "
                    "first and the std (scale) second.")
        else:
            hint = f"{family} is symmetric around 0."
        t.fail("not centred on 0", f"input: fan_in={fan_in}, fan_out={fan_out}",
               f"mean {mean:.5f}, expected about 0 (the spread is {scale:.5f})", f"hint: {hint}")


def _beyond(w, k):
    """Fraction of values more than ``k`` of their own standard deviations from the mean:
    a uniform distribution has none beyond sqrt(3), a normal 8.3 % (and 4.6 % beyond 2)."""
    return float(np.mean(np.abs(w - w.mean()) > k * w.std()))


@exercise("init.glorot_uniform", chapter="02_neurons_dense", signature="f(fan_in, fan_out, rng)")
def _glorot_uniform(t):
    fan_in, fan_out = 300, 500
    inputs = f"input: fan_in={fan_in}, fan_out={fan_out}"
    a = np.sqrt(6 / (fan_in + fan_out))
    w = _init_sample(t, "glorot_uniform", fan_in, fan_out)
    _centred(t, w, a, fan_in, fan_out, "U(-a, a)")
    tail = _beyond(w, np.sqrt(3))
    if tail > 0.03:
        t.fail("not uniform", inputs,
               f"{tail:.1%} of your values lie beyond sqrt(3) standard deviations from the "
               f"mean; a uniform distribution has none there, a normal one 8.3%.",
               "hint: that looks like a normal (bell-shaped) draw: Glorot UNIFORM draws "
               "evenly from an interval (the normal variant is glorot_normal).")
    top = np.abs(w).max()
    if abs(top - a) > 0.02 * a:
        bounds = {np.sqrt(6 / fan_in): "that is He's bound, sqrt(6 / fan_in): Glorot's uses "
                                       "fan_in + fan_out.",
                  np.sqrt(6 / fan_out): "Glorot's bound uses fan_in + fan_out, not fan_out "
                                        "alone.",
                  np.sqrt(2 / (fan_in + fan_out)): "that is Glorot's STANDARD DEVIATION used "
                                                   "as the bound: a uniform on [-a, a] has "
                                                   "std a / sqrt(3), so its bound is larger.",
                  6 / (fan_in + fan_out): "the square root is missing.",
                  np.sqrt(3 / (fan_in + fan_out)): "the 6 in the bound comes from 2 (the "
                                                   "variance) x 3 (uniform's a^2 / 3)."}
        hint = next((h for b, h in bounds.items() if abs(top - b) < 0.03 * b), None)
        t.fail("wrong bound", inputs,
               f"a = sqrt(6 / (fan_in + fan_out)) = {a:.5f}, but your values reach +-{top:.5f}",
               *([f"hint: {hint}"] if hint else []))
    if abs(w.std() - a / np.sqrt(3)) > 0.03 * a / np.sqrt(3):
        t.fail("wrong spread", inputs,
               f"U(-a, a) with a = {a:.5f} has std a / sqrt(3) = {a / np.sqrt(3):.5f}; yours "
               f"has std {w.std():.5f}.", "hint: draw every value evenly from the whole "
               "interval.")
    t.ok("shape (fan_in, fan_out), float64")
    t.ok("uniform on [-a, a], a = sqrt(6 / (fan_in + fan_out))")
    _check_uses_rng(t, 20, 30)


@exercise("init.he_normal", chapter="02_neurons_dense", signature="f(fan_in, fan_out, rng)")
def _he_normal(t):
    fan_in, fan_out = 300, 500
    inputs = f"input: fan_in={fan_in}, fan_out={fan_out}"
    std = np.sqrt(2 / fan_in)
    w = _init_sample(t, "he_normal", fan_in, fan_out)
    _centred(t, w, std, fan_in, fan_out, "a normal distribution with mean 0")
    tail = _beyond(w, 2)                                 # a normal: 4.55 % beyond 2 std
    if not 0.03 < tail < 0.06:
        t.fail("not normally distributed", inputs,
               f"{tail:.1%} of your values lie beyond 2 standard deviations from the mean; a "
               f"normal distribution has 4.6% there, a uniform one none.",
               *(["hint: that looks like a uniform draw (flat and bounded): He NORMAL draws "
                  "from a normal (Gaussian) distribution."] if tail < 0.01 else []))
    got = w.std()
    if abs(got - std) > 0.03 * std:
        hints = {2 / fan_in: "2 / fan_in is the VARIANCE: the std is its square root.",
                 np.sqrt(2 / fan_out): "He uses fan_in, not fan_out.",
                 np.sqrt(2 / (fan_in + fan_out)): "that is Glorot's scale, with both fans; "
                                                  "He's uses fan_in only.",
                 np.sqrt(1 / fan_in): "that is LeCun's scale: He's variance has a 2 (for "
                                      "ReLU, which zeroes half the inputs).",
                 1.0: "that is a standard normal: scale it to He's std."}
        hint = next((h for s, h in hints.items() if abs(got - s) < 0.05 * s), None)
        t.fail("wrong spread", inputs,
               f"expected std sqrt(2 / fan_in) = {std:.5f}, got {got:.5f}",
               *([f"hint: {hint}"] if hint else []))
    t.ok("shape (fan_in, fan_out), float64")
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
        (1 / (1 + np.exp(GRID)), "the exponent's sign is flipped: yours is sigmoid(-x), the "
                                 "curve mirrored."),
    ])
    t.expect(t.call(EXTREME), special.expit(EXTREME), inputs="x = [-1000, -50, 0, 50, 1000]",
             what="values at +-1000", nan_hint="e^x / (1 + e^x) is inf / inf = NaN at x = 1000. "
             "Divided through by e^x it becomes the form with e^-x, which stays finite: an "
             "overflowing exponential there only sends the result to 0 (with a warning).")
    _keeps_float32(t)


def _fmt_grid():
    return "x = " + str(GRID.tolist())


@exercise("activations.sigmoid_grad", chapter="03_activations", signature="f(x)")
def _sigmoid_grad(t):
    s = special.expit(GRID)
    t.expect(t.call(GRID), s * (1 - s), inputs=_fmt_grid(), hints=[
        (s, "that is sigmoid itself, not its derivative."),
        (s * (1 + s), "a sign: the second factor is one MINUS sigmoid."),
        (1 - s ** 2, "that is the pattern of tanh's derivative (with sigmoid in place of tanh), "
                     "not sigmoid's."),
        (s * (1 - GRID), "the second factor uses x where it needs sigmoid(x): 1 - x, not 1 - s."),
        (np.exp(-GRID) / (1 + np.exp(-GRID)), "that is e^-x / (1 + e^-x), which equals 1 - s: "
                                              "only one of the derivative's two factors."),
    ])
    t.expect(t.call(EXTREME), special.expit(EXTREME) * (1 - special.expit(EXTREME)),
             inputs="x = [-1000, -50, 0, 50, 1000]", what="values at +-1000",
             nan_hint="a NaN here comes from an unstable sigmoid (inf / inf): build the "
                      "derivative on a sigmoid that is finite at +-1000.")
    _keeps_float32(t)


@exercise("activations.tanh_grad", chapter="03_activations", signature="f(x)")
def _tanh_grad(t):
    th = np.tanh(GRID)
    t.expect(t.call(GRID), 1 - th ** 2, inputs=_fmt_grid(), hints=[
        (1 - th, "the tanh is not squared."),
        (th, "that is tanh itself, not its derivative."),
        (1 - GRID ** 2, "you squared x: the derivative squares tanh(x)."),
        (1 / np.cosh(GRID), "that is sech(x) = 1 / cosh(x); the derivative is its square."),
    ])
    _keeps_float32(t)


@exercise("activations.relu", chapter="03_activations", signature="f(x)")
def _relu(t):
    t.expect(t.call(GRID), np.maximum(GRID, 0), inputs=_fmt_grid(), hints=[
        (np.abs(GRID), "negative inputs become 0, not their absolute value."),
        (np.minimum(GRID, 0), "that keeps the negative part; ReLU keeps the positive part."),
        (np.clip(GRID, 0, 1), "np.clip(x, 0, 1) also caps at 1; ReLU has no upper bound."),
        ((GRID > 0).astype(float), "that is ReLU's derivative (0 or 1), not ReLU itself."),
    ])
    _keeps_float32(t)
    t.ok("input untouched")


@exercise("activations.relu_grad", chapter="03_activations", signature="f(x)")
def _relu_grad(t):
    t.expect(t.call(GRID), (GRID > 0).astype(float), inputs=_fmt_grid(), hints=[
        ((GRID >= 0).astype(float), "ReLU's gradient at exactly 0 is taken as 0 here; your "
                                    "comparison counts 0 as positive."),
        (np.maximum(GRID, 0), "that is relu(x) itself, not its derivative."),
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
                     (np.maximum(GRID, 0), "that is ReLU: negative inputs keep a small "
                                           "slope alpha instead of becoming 0."),
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
            (np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0))), "subtract 1 from e^x, so "
             "that elu(0) = 0 and the two pieces meet."),
        ])
    t.ok("alpha not in {0.01, 1}")
    _keeps_float32(t, (1.5,))


@exercise("activations.elu_grad", chapter="03_activations", signature="f(x, alpha)")
def _elu_grad(t):
    for alpha in (1.5, 0.3):
        expected = np.where(GRID > 0, 1.0, alpha * np.exp(np.minimum(GRID, 0)))
        t.expect(t.call(GRID, alpha), expected, inputs=f"{_fmt_grid()}, alpha={alpha}", hints=[
            (np.where(GRID > 0, 1.0, alpha * np.expm1(np.minimum(GRID, 0))),
             "that is elu(x) itself for x < 0, not its derivative (the constant -1 drops "
             "out when you differentiate)."),
            (np.where(GRID > 0, 1.0, np.exp(np.minimum(GRID, 0))), "multiply e^x by alpha."),
            (np.where(GRID >= 0, 1.0, alpha * np.exp(np.minimum(GRID, 0))),
             "at exactly x = 0 the derivative is taken from the left piece (alpha); your "
             "comparison counts 0 as positive."),
        ])
    _keeps_float32(t, (1.5,))
