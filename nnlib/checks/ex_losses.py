"""Oracles for chapters 04-06: losses, softmax and cross-entropy, backpropagation."""

from __future__ import annotations

import functools

import numpy as np
from scipy import special

from ..gradcheck import numerical_gradient
from .core import _kind, exercise


def _num_grad(f, x):
    """Central differences of an oracle's own formula, on a float64 copy of ``x``."""
    return numerical_gradient(f, x.astype(np.float64))


def _rng():
    return np.random.default_rng(4)


# ---------------------------------------------------------------------------- chapter 04

@exercise("losses.mse", chapter="04_losses", signature="f(y_pred, y_true)")
def _mse(t):
    rng = _rng()
    p, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    diff = p - y
    loss, grad = t.unpack(t.call(p, y), 2, ("loss", "dy_pred"),
                          like=(np.mean(diff ** 2), 2 * diff / diff.size),
                          inputs="y_pred, y_true of shape (4, 3)")
    t.expect(loss, np.mean(diff ** 2), inputs="y_pred, y_true of shape (4, 3)", what="loss",
             hints=[(np.sum(diff ** 2), "average over ALL elements: np.mean, not np.sum."),
                    (np.sum(diff ** 2) / 4, "average over all 12 elements, not over the 4 rows."),
                    (np.mean(np.abs(diff)), "square the differences.")])
    t.expect(grad, 2 * diff / diff.size, inputs="y_pred, y_true of shape (4, 3)",
             what="gradient", hints=[
                 (diff / diff.size, "the factor 2 is missing: differentiating the square "
                                    "brings down a 2."),
                 (2 * diff, "divide the gradient by the number of elements (the mean's 1/n)."),
                 (diff, "two factors are missing: the 2 that differentiating the square "
                        "brings down, and the mean's 1 / (number of elements)."),
                 (diff / 4, "the factor 2 is missing (differentiating the square brings down "
                            "a 2), and the mean is over all 12 elements, not the 4 rows."),
                 (-2 * diff / diff.size, "the sign is flipped: differentiate with respect to "
                                         "y_pred, not y_true."),
                 (2 * diff / 4, "divide by all 12 elements, as the loss does."),
             ])
    t.keeps_dtype((p.astype(np.float32), y.astype(np.float32)), ("loss", "dy_pred"),
                  "float32 y_pred, y_true", which=("dy_pred",))


@exercise("losses.binary_cross_entropy", chapter="04_losses", signature="f(p, y)")
def _bce(t):
    p = np.array([[0.9, 0.2, 0.6], [0.3, 0.75, 0.05]])
    y = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])

    def loss_of(q):
        qc = np.clip(q, 1e-12, 1 - 1e-12)
        return -np.mean(y * np.log(qc) + (1 - y) * np.log(1 - qc))

    expected = (p - y) / (p * (1 - p)) / p.size
    inputs = f"p = {p.tolist()}, y = {y.tolist()}"
    loss, grad = t.unpack(t.call(p, y), 2, ("loss", "dp"), like=(loss_of(p), expected),
                          inputs=inputs)
    t.expect(loss, loss_of(p), inputs=inputs, what="loss",
             hints=[(-loss_of(p), "the sign is flipped: log p is negative, so the loss has a "
                                  "leading minus."),
                    (loss_of(p) * p.size, "take the mean, not the sum.")])
    t.expect(grad, expected, inputs=inputs, what="gradient",
             hints=[((p - y) / (p * (1 - p)), "divide the gradient by p.size (the mean)."),
                    ((p - y) / p.size, "(p - y) / n is the gradient with respect to the LOGIT "
                                       "z (BCE fused with the sigmoid, chapter 04); this "
                                       "function takes probabilities p: differentiate the "
                                       "loss with respect to p itself."),
                    (p - y, "(p - y) is the gradient with respect to the LOGIT z (BCE fused "
                            "with the sigmoid) and without the mean's 1 / n; this function "
                            "takes probabilities p: differentiate with respect to p."),
                    (-expected, "the sign of the gradient is flipped.")])
    edge_p = np.array([0.0, 1.0, 0.0, 1.0])
    edge_y = np.array([0.0, 1.0, 1.0, 0.0])
    edge = "p = [0, 1, 0, 1], y = [0, 1, 1, 0]"
    loss, grad = t.unpack(t.call(edge_p, edge_y), 2, ("loss", "dp"))
    pc = np.clip(edge_p, 1e-12, 1 - 1e-12)
    t.expect(loss, -np.mean(edge_y * np.log(pc) + (1 - edge_y) * np.log(1 - pc)),
             inputs=edge, what="loss at p in {0, 1}", rtol=1e-4,
             hints=_clip_hints(lambda c: _edge_bce(c)[0]),
             nan_hint="clip p to [1e-12, 1 - 1e-12] first: log(0) = -inf.")
    t.expect(grad, (pc - edge_y) / (pc * (1 - pc)) / 4, inputs=edge,
             what="gradient at p in {0, 1}", rtol=1e-4,
             hints=_clip_hints(lambda c: _edge_bce(c)[1]),
             nan_hint="use the clipped p in the gradient too: p (1 - p) is 0 at p in {0, 1}.")
    t.keeps_dtype((p.astype(np.float32), y.astype(np.float32)), ("loss", "dp"),
                  "float32 p, y", which=("dp",))


#: Clip epsilons other courses and libraries use (Keras 1e-7, PyTorch's log clamp ~1e-12...).
OTHER_CLIPS = (1e-7, 1e-8, 1e-15, 1e-10, 1e-6, 1e-5, 1e-16, 1e-9, 1e-3, 1e-4)


def _edge_bce(c):
    """(loss, dp) at p = [0, 1, 0, 1], y = [0, 1, 1, 0] with p clipped to [c, 1 - c]."""
    edge_p, edge_y = np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0, 0.0])
    pc = np.clip(edge_p, c, 1 - c)
    return (-np.mean(edge_y * np.log(pc) + (1 - edge_y) * np.log(1 - pc)),
            (pc - edge_y) / (pc * (1 - pc)) / 4)


def _clip_hints(result):
    return [(result(c), f"that is the result of clipping p to [{_power(c)}, 1 - {_power(c)}]: "
                        f"the exercise clips to [1e-12, 1 - 1e-12].") for c in OTHER_CLIPS]


def _power(c):
    return f"1e-{round(-np.log10(c))}"


# ---------------------------------------------------------------------------- chapter 05

@exercise("softmax.softmax", chapter="05_softmax_cross_entropy", signature="f(z)")
def _softmax(t):
    z = np.array([[1.0, 2.0, 3.0, 0.5], [-1.0, 0.0, 2.0, 2.0], [0.3, 0.3, 0.3, 0.3]])
    t.expect(t.call(z), special.softmax(z, axis=1), inputs=f"z = {z.tolist()}", hints=[
        (special.softmax(z, axis=0), "normalise each ROW (axis=1): rows are samples."),
        (special.softmax(z), "normalise each row separately, not the whole array."),
        (np.exp(z), "divide by the row sums so each row adds up to 1."),
        (np.exp(z - z.max(axis=1, keepdims=True)) / np.exp(z - z.max(axis=1, keepdims=True)).sum(),
         "e.sum() adds up the whole batch: divide each row by its own sum."),
    ])
    big = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 0.0]])
    t.expect(t.call(big), special.softmax(big, axis=1), inputs=f"z = {big.tolist()}",
             what="values at +-1000", nan_hint="exp(1000) overflows to inf / inf, and a row "
             "of -1000s shifted by the batch's max underflows to 0 / 0. Softmax does not "
             "change when a row is shifted: shift each row by its own maximum before "
             "exponentiating.")
    mixed = np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0]])
    t.expect(t.call(mixed), special.softmax(mixed, axis=1), inputs=f"z = {mixed.tolist()}",
             what="a batch mixing +1000 and -1000 rows", nan_hint="shift each row by its OWN "
             "maximum, not by the maximum of the whole batch: the -1000 row underflows to "
             "0 / 0.")
    t.ok("rows sum to 1")


@exercise("softmax.softmax_jacobian", chapter="05_softmax_cross_entropy", signature="f(s)")
def _softmax_jacobian(t):
    s = special.softmax(np.array([0.5, -1.0, 2.0, 0.0]))
    expected = np.diag(s) - np.outer(s, s)
    t.expect(t.call(s), expected, inputs=f"s = {np.round(s, 4).tolist()}", hints=[
        (-expected, "the sign is flipped."),
        (np.diag(s), "the off-diagonal entries are missing: every output depends on every "
                     "input."),
        (np.diag(s * (1 - s)), "the off-diagonal entries are not 0: every output depends on "
                               "every input."),
        (np.outer(s, s), "that is the outer-product term alone: the diagonal term is missing "
                         "and the sign is flipped."),
        (np.diag(s) - s @ s, "s @ s.T of a 1-D s is a number (the dot product: .T does "
                             "nothing to a 1-D array); the Jacobian needs the (C, C) outer "
                             "product."),
    ])
    t.ok("(C, C), symmetric")
    t.keeps_dtype((s.astype(np.float32),), ("J",), "float32 s")


@exercise("softmax.cross_entropy", chapter="05_softmax_cross_entropy",
          signature="f(logits, labels)")
def _cross_entropy(t):
    z = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.2], [1.0, 1.0, 3.0], [0.0, -1.0, 0.5]])
    labels = np.array([0, 1, 2, 1])
    n = len(z)
    p = special.softmax(z, axis=1)
    onehot = np.eye(3)[labels]
    expected_loss = -np.mean(np.log(p[np.arange(n), labels]))
    loss, grad = t.unpack(t.call(z, labels), 2, ("loss", "dlogits"),
                          like=(expected_loss, (p - onehot) / n),
                          inputs=f"logits = {z.tolist()}, labels = {labels.tolist()}")
    log_p = np.log(p)
    t.expect(loss, expected_loss, inputs=f"logits = {z.tolist()}, labels = {labels.tolist()}",
             what="loss", hints=[(expected_loss * n, "average over the batch: divide by N."),
                                 (-expected_loss, "the loss is -log p of the true class."),
                                 (-np.mean(log_p[:, labels]),
                                  "log_p[:, labels] picks an (N, N) block (every row at every "
                                  "label); you need one entry per row, its own label's: index "
                                  "the rows and the labels together."),
                                 (-np.mean(log_p), "average -log p of the TRUE class only, "
                                                   "one entry per row."),
                                 (expected_loss / 3, "average over the N samples, not over all "
                                                     "N x C entries of the one-hot product.")])
    t.expect(grad, (p - onehot) / n, inputs=f"logits = {z.tolist()}, labels = "
             f"{labels.tolist()}", what="gradient", hints=[
                 (p - onehot, "gradient not divided by N: the loss is a mean over the batch."),
                 (p / n, "the one-hot labels are not subtracted: the true class's entry "
                         "loses 1."),
                 ((onehot - p) / n, "the sign is flipped."),
             ])
    big = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]])
    loss, grad = t.unpack(t.call(big, np.array([1, 0])), 2, ("loss", "dlogits"))
    t.expect(loss, (2000 + 2000 + np.log(2)) / 2, inputs=f"logits = {big.tolist()}, labels "
             "= [1, 0]", what="loss at +-1000", nan_hint="log(softmax) underflows to "
             "log(0) = -inf: compute the log-probabilities directly from the shifted logits "
             "(log-sum-exp), never as the log of a probability.")
    t.expect(grad, np.array([[0.5, -0.5, 0.0], [-0.5, 0.25, 0.25]]),
             inputs=f"logits = {big.tolist()}, labels = [1, 0]", what="gradient at +-1000",
             nan_hint="shift each row by its own maximum before exponentiating.")
    t.keeps_dtype((z.astype(np.float32), labels), ("loss", "dlogits"), "float32 logits",
                  which=("dlogits",))


# ---------------------------------------------------------------------------- chapter 06

@exercise("backprop.dense_backward", chapter="06_backpropagation", signature="f(dout, x, W)")
def _dense_backward(t):
    rng = _rng()
    x, W = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    dout = rng.standard_normal((4, 5))
    inputs = "dout (4, 5), x (4, 3), W (3, 5)"
    dx, dW, db = t.unpack(t.call(dout, x, W), 3, ("dx", "dW", "db"),
                          like=(dout @ W.T, x.T @ dout, dout.sum(axis=0)), inputs=inputs)
    t.expect(dx, dout @ W.T, inputs=inputs, what="dx",
             hints=[(dout @ W.T / 4, "dx is not averaged: dout already carries the loss's "
                                     "1/N.")])
    t.expect(dW, x.T @ dout, inputs=inputs, what="dW", hints=[
        ((x.T @ dout).T, "transposed weight gradient: dW has W's shape (3, 5)."),
        (x.T @ dout / 4, "no division by N here: dout already carries the loss's 1/N."),
    ])
    t.expect(db, dout.sum(axis=0), inputs=inputs, what="db", hints=[
        (dout.mean(axis=0), "db sums dout over the batch (each row added b once)."),
        (dout.sum(axis=1), "sum over the batch axis (axis=0): db has shape (H,)."),
    ])
    t.keeps_dtype((dout.astype(np.float32), x.astype(np.float32), W.astype(np.float32)),
                  ("dx", "dW", "db"), "float32 dout, x, W")


def _cubic(v):
    """sum(x^3): the function the learner's numerical gradient differentiates (module
    level, so it can be sent to the process that runs the learner's code)."""
    return float(np.sum(v ** 3))


def _steep(v):
    return float(np.sum(np.exp(3 * v)))


@exercise("backprop.numerical_gradient", chapter="06_backpropagation",
          signature="f(fn, x, eps=1e-6)")
def _numerical_gradient(t):
    # "x unchanged afterwards (up to rounding)": restoring x[i] with += eps / -= eps leaves
    # an error of a few ulps of |x| + eps (relative 1e-16, or 1e-22 absolute next to 0).
    t.inplace_rtol, t.inplace_atol = 1e-12, 1e-13
    t.inplace_hint = ("probing x[i] + eps and x[i] - eps in place is fine, but put the saved "
                      "value back after each probe (or probe a copy of x), so that x is as it "
                      "was when your function returns.")
    # 3e-12 next to eps = 1e-6: a += / -= restore changes it by rounding (accepted).
    x = np.array([[0.3, -0.7, 1.1], [0.0, 2.0, 3e-12]])
    t.expect(t.call(_cubic, x), 3 * x ** 2, inputs="fn = sum(x^3), x (2, 3)", rtol=1e-6,
             atol=1e-6)
    y = np.array([0.2, -0.4, 0.9])
    exact = 3 * np.exp(3 * y)
    forward = (np.array([_steep(y + 1e-6 * e) for e in np.eye(3)]) - _steep(y)) / 1e-6
    t.expect(t.call(_steep, y), exact, inputs="fn = sum(exp(3x)), x = [0.2, -0.4, 0.9]",
             rtol=1e-7, atol=0, what="central-difference accuracy", hints=[
                 (forward, "that is a forward difference (a step to one side only), accurate "
                  "only to O(eps): central differences step to both sides of x and are "
                  "accurate to O(eps^2).")])
    # Central differences of x^3 are exact up to rounding: 3 x^2 + eps^2. With eps = 0.1
    # that is 0.01 away from 3 x^2, so an answer that ignores eps shows.
    t.expect(t.call(_cubic, x, 0.1), 3 * x ** 2 + 0.01, inputs="fn = sum(x^3), x (2, 3), "
             "eps=0.1", rtol=1e-9, atol=1e-9, what="eps argument", hints=[
                 (3 * x ** 2, "that is the result for a tiny step, not for eps=0.1: use the "
                              "eps argument (the 1e-6 is only its default)."),
             ])
    t.ok("x restored afterwards")


def _two_layer_reference(X, y, W1, b1, W2, b2):
    h = np.maximum(X @ W1 + b1, 0)
    z = h @ W2 + b2
    logp = z - special.logsumexp(z, axis=1, keepdims=True)
    return -np.mean(logp[np.arange(len(y)), y])


@functools.cache
def _two_layer_case():
    """Fixture and central-difference gradients, computed once per process."""
    rng = _rng()
    X = rng.standard_normal((5, 4))
    y = np.array([0, 2, 1, 2, 0])
    params = {"W1": rng.standard_normal((4, 6)) * 0.5, "b1": rng.standard_normal(6) * 0.1,
              "W2": rng.standard_normal((6, 3)) * 0.5, "b2": rng.standard_normal(3) * 0.1}
    numerics = {name: _num_grad(lambda v, name=name: _two_layer_reference(
        X, y, **{**params, name: v}), value) for name, value in params.items()}
    return X, y, params, numerics


@exercise("backprop.two_layer_net", chapter="06_backpropagation",
          signature="f(X, y, W1, b1, W2, b2)")
def _two_layer_net(t):
    X, y, params, numerics = _two_layer_case()
    expected = _two_layer_reference(X, y, **params)
    loss, grads = t.unpack(t.call(X, y, *params.values()), 2, ("loss", "grads"),
                           like=(expected, dict(numerics)),
                           inputs="X (5, 4), y (5,), W1 (4, 6), W2 (6, 3)")
    t.expect(loss, expected, inputs="X (5, 4), y (5,), W1 (4, 6), W2 (6, 3)", what="loss",
             hints=[(expected * 5, "average the loss over the batch.")])
    if not isinstance(grads, dict) or set(grads) != set(params):
        t.fail("wrong grads (element 2 of the (loss, grads) you returned)",
               "expected a dict with keys W1, b1, W2, b2, got "
               + (f"keys {sorted(map(repr, grads))}" if isinstance(grads, dict)
                  else _kind(grads)))
    for name in params:
        numeric = numerics[name]
        hints = [(numeric * 5, "gradients not divided by N.")]
        if numeric.ndim == 2:
            hints.append((numeric.T, "transposed: each gradient has its parameter's shape."))
        t.expect(grads[name], numeric, inputs="X (5, 4), y (5,)", what=f"d{name}", rtol=1e-5,
                 atol=1e-7, hints=hints)
    t.ok("gradients = central differences")
    _, grads = t.unpack(t.call(X.astype(np.float32), y, *(v.astype(np.float32)
                                                         for v in params.values())),
                        2, ("loss", "grads"))
    if not isinstance(grads, dict) or not all(
            isinstance(grads.get(k), np.ndarray) and grads[k].dtype == np.float32
            for k in params):
        t.fail("dtype changed: grads", "input: float32 X, W1, b1, W2, b2",
               "every gradient must keep its parameter's dtype (float32 in, float32 out).")
    t.ok("float32 kept")
