"""Oracles for chapters 07-08: optimizer steps, mini-batches, regularization."""

from __future__ import annotations

import numpy as np

from .core import _kind, exercise

W0 = np.array([[0.5, -1.2], [2.0, 0.3]])
DW = np.array([[0.1, -0.4], [0.25, 1e-6]])  # one tiny gradient: eps placement shows there


@exercise("optim.sgd_momentum", chapter="07_training", signature="f(w, dw, v, lr, momentum)")
def _sgd_momentum(t):
    v0 = np.array([[0.05, 0.0], [-0.1, 0.2]])
    lr, mu = 0.1, 0.9
    v_exp = mu * v0 + DW
    inputs = f"w = {W0.tolist()}, dw = {DW.tolist()}, v = {v0.tolist()}, lr=0.1, momentum=0.9"
    w_new, v_new = t.unpack(t.call(W0, DW, v0, lr, mu), 2, ("w_new", "v_new"),
                            like=(W0 - lr * v_exp, v_exp), inputs=inputs)
    t.expect(v_new, v_exp, inputs=inputs, what="velocity", hints=[
        (mu * v0 - lr * DW, "PyTorch's convention keeps lr out of the velocity: lr scales "
                            "only the step."),
        (mu * v0 + (1 - mu) * DW, "no (1 - momentum) factor on dw: that is an exponential "
                                  "average, not PyTorch's momentum."),
    ])
    t.expect(w_new, W0 - lr * v_exp, inputs=inputs, what="weights", hints=[
        (W0 - lr * DW, "step along the velocity, not along the raw gradient dw."),
        (W0 + lr * v_exp, "the sign: the step goes against the velocity (downhill)."),
    ])


@exercise("optim.rmsprop", chapter="07_training", signature="f(w, dw, s, lr, rho, eps)")
def _rmsprop(t):
    s0 = np.array([[0.01, 0.02], [0.0, 0.0]])
    lr, rho, eps = 0.01, 0.9, 1e-8
    s_exp = rho * s0 + (1 - rho) * DW ** 2
    inputs = f"w, dw = {DW.tolist()} (one tiny entry), s = {s0.tolist()}, lr=0.01, rho=0.9"
    w_new, s_new = t.unpack(t.call(W0, DW, s0, lr, rho, eps), 2, ("w_new", "s_new"),
                            like=(W0 - lr * DW / (np.sqrt(s_exp) + eps), s_exp), inputs=inputs)
    t.expect(s_new, s_exp, inputs=inputs, what="square average", hints=[
        (rho * s0 + DW ** 2, "weight the new term by (1 - rho)."),
        (rho * s0 + (1 - rho) * np.abs(DW), "average the SQUARED gradient."),
    ])
    t.expect(w_new, W0 - lr * DW / (np.sqrt(s_exp) + eps), inputs=inputs, what="weights",
             rtol=1e-9, hints=[
                 (W0 - lr * DW / np.sqrt(s_exp + eps),
                  "eps goes outside the square root (it matters for tiny gradients, as the "
                  "last entry here)."),
                 (W0 - lr * DW / (s_exp + eps), "divide by the ROOT of the average."),
             ])


@exercise("optim.adam", chapter="07_training",
          signature="f(w, dw, m, v, t, lr, beta1, beta2, eps)")
def _adam(t):
    m0 = np.array([[0.01, -0.02], [0.03, 0.0]])
    v0 = np.array([[1e-4, 2e-4], [5e-5, 0.0]])
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
    for step in (1, 3):
        m_exp = b1 * m0 + (1 - b1) * DW
        v_exp = b2 * v0 + (1 - b2) * DW ** 2
        m_hat, v_hat = m_exp / (1 - b1 ** step), v_exp / (1 - b2 ** step)
        inputs = f"t={step}, lr=1e-3, beta1=0.9, beta2=0.999, dw with one tiny entry"
        got = t.unpack(t.call(W0, DW, m0, v0, step, lr, b1, b2, eps), 3,
                       ("w_new", "m_new", "v_new"),
                       like=(W0 - lr * m_hat / (np.sqrt(v_hat) + eps), m_exp, v_exp),
                       inputs=inputs)
        t.expect(got[1], m_exp, inputs=inputs, what="first moment (raw)", hints=[
            (m_hat, "return the raw moment m; bias-correct only a copy for the step."),
            (b1 * m0 + DW, "weight the new gradient by (1 - beta1)."),
        ])
        t.expect(got[2], v_exp, inputs=inputs, what="second moment (raw)", hints=[
            (v_hat, "return the raw moment v; bias-correct only a copy for the step."),
        ])
        t.expect(got[0], W0 - lr * m_hat / (np.sqrt(v_hat) + eps), inputs=inputs,
                 what="weights", rtol=1e-9, hints=[
                     (W0 - lr * m_exp / (np.sqrt(v_exp) + eps),
                      "bias correction missing: the step uses the moments corrected for "
                      "their start at 0 (the correction depends on t)."),
                     (W0 - lr * m_hat / np.sqrt(v_hat + eps), "eps goes outside the sqrt."),
                 ])
    t.ok("t = 1 and t = 3")


def _batches(t, batches, n, bs):
    if not isinstance(batches, (list, tuple)) or not all(
            isinstance(b, np.ndarray) and b.ndim == 1 and b.dtype.kind in "iu" for b in batches):
        odd = next((b for b in batches if not (isinstance(b, np.ndarray) and b.ndim == 1 and
                                               b.dtype.kind in "iu")), None) \
            if isinstance(batches, (list, tuple)) else None
        t.fail("wrong type", f"input: n={n}, batch_size={bs}",
               f"expected a list of 1-D integer arrays, got {_kind(batches)}"
               + (f" holding {_kind(odd)}" if odd is not None else ""),
               *(["hint: index arrays hold ints: a permutation of range(n) gives them, and "
                  "slicing keeps them."] if odd is not None else []))
    if not batches:
        t.fail("no batches", f"input: n={n}, batch_size={bs}", "your function returned an "
               "empty list.")
    return batches


@exercise("training.minibatch_indices", chapter="07_training", signature="f(n, batch_size, rng)")
def _minibatch_indices(t):
    for n, bs in ((10, 4), (12, 3), (7, 10)):
        batches = _batches(t, t.call(n, bs, np.random.default_rng(0)), n, bs)
        sizes = [len(b) for b in batches]
        expected_sizes = [bs] * (n // bs) + ([n % bs] if n % bs else [])
        if sizes != expected_sizes:
            hint = ("hint: keep the last, smaller batch." if sizes == [bs] * (n // bs) else
                    "hint: every batch has batch_size indices except possibly the last.")
            t.fail("wrong batch sizes", f"input: n={n}, batch_size={bs}",
                   f"expected sizes {expected_sizes}, got {sizes}", hint)
        flat = np.concatenate(batches) if batches else np.array([], int)
        if sorted(flat.tolist()) != list(range(n)):
            t.fail("not a partition of range(n)", f"input: n={n}, batch_size={bs}",
                   "every index 0 .. n-1 must appear exactly once.")
    ordered = np.concatenate(_batches(t, t.call(50, 10, np.random.default_rng(1)), 50, 10))
    if np.array_equal(ordered, np.arange(50)):
        t.fail("not shuffled", "input: n=50, batch_size=10", "the indices come out in order.",
               "hint: shuffle the indices first, with the rng argument.")
    again = np.concatenate(_batches(t, t.call(50, 10, np.random.default_rng(1)), 50, 10))
    if not np.array_equal(ordered, again):
        t.fail("not reproducible", "the same rng seed must give the same batches.",
               "hint: shuffle with the rng argument, not np.random.")
    t.ok("shuffled partition")
    t.ok("n not divisible by batch_size")


@exercise("regularization.l2_penalty", chapter="08_generalization", signature="f(weights, lam)")
def _l2(t):
    weights = [np.array([[1.0, -2.0], [0.5, 0.0]]), np.array([[3.0], [-1.0], [2.0]])]
    lam = 0.1
    total = sum(float(np.sum(w ** 2)) for w in weights)
    penalty, grads = t.unpack(t.call(weights, lam), 2, ("penalty", "grads"),
                              like=(0.5 * lam * total, [lam * w for w in weights]),
                              inputs="two weight matrices, lam=0.1")
    t.expect(penalty, 0.5 * lam * total, inputs="two weight matrices, lam=0.1",
             what="penalty", hints=[(lam * total, "the factor 0.5 is missing (it is there to "
                                                  "cancel the 2 of the derivative)."),
                                    (0.5 * lam * np.sqrt(total), "sum the SQUARES (no root).")])
    if not isinstance(grads, (list, tuple)) or len(grads) != 2:
        t.fail("wrong grads (element 2 of the (penalty, grads) you returned)",
               f"expected a list with one gradient per weight matrix (2), got {_kind(grads)}")
    for k, (w, g) in enumerate(zip(weights, grads, strict=True)):
        t.expect(g, lam * w, inputs="lam=0.1", what=f"gradient grads[{k}]",
                 hints=[(2 * lam * w, "twice too large: the penalty's 0.5 cancels the 2 that "
                                      "differentiating the square brings down.")])
    penalty, grads = t.unpack(t.call([w.astype(np.float32) for w in weights], lam), 2,
                              ("penalty", "grads"))
    if not isinstance(grads, (list, tuple)) or not all(
            isinstance(g, np.ndarray) and g.dtype == np.float32 for g in grads):
        t.fail("dtype changed: grads", "input: float32 weights, lam=0.1",
               "every gradient must keep its weight's dtype (float32 in, float32 out).")
    t.ok("float32 kept")


def _only(a, values):
    """Whether array ``a`` holds nothing but ``values`` (rounded to 9 digits)."""
    return isinstance(a, np.ndarray) and a.dtype.kind in "biuf" and a.size > 0 and \
        set(np.unique(np.round(a.astype(np.float64), 9)).tolist()) <= values


@exercise("regularization.dropout_forward", chapter="08_generalization",
          signature="f(x, p, rng)")
def _dropout_forward(t):
    x = np.random.default_rng(5).uniform(0.5, 1.5, (200, 250))   # never 0: out != mask
    for p in (0.3, 0.6):
        out, mask = t.unpack(t.call(x, p, np.random.default_rng(0)), 2, ("out", "mask"))
        scale = round(1 / (1 - p), 9)
        if _only(out, {0.0, scale}) and not _only(mask, {0.0, scale}):
            t.fail("elements in the wrong order", f"input: x (200, 250), p={p}",
                   f"element 1 of the (out, mask) you returned should be out (x times the "
                   f"mask), got something that looks like the mask (only 0 and {scale:g})",
                   "hint: return out, mask, in that order.")
        if not isinstance(mask, np.ndarray) or mask.shape != x.shape:
            t.fail("wrong mask (element 2 of the (out, mask) you returned)", f"input: p={p}",
                   f"expected a float array of shape {x.shape}, got {_kind(mask)}")
        if mask.dtype.kind != "f":
            t.fail("wrong mask dtype (element 2 of the (out, mask) you returned)",
                   f"input: p={p}", f"returned a {mask.dtype} mask; the mask holds the floats "
                   f"0 and 1/(1 - p) in x's dtype",
                   "hint: turn the kept/dropped booleans into floats of x's dtype: 0 where "
                   "dropped, 1/(1 - p) where kept."
                   if mask.dtype.kind == "b" else "hint: build the mask from floats.")
        values = np.unique(np.round(mask, 9))
        if not set(values.tolist()) <= {0.0, round(1 / (1 - p), 9)}:
            shown = values[:4].tolist()
            t.fail("wrong mask values", f"input: p={p}",
                   f"mask values should be 0 and 1/(1 - p) = {1 / (1 - p):.4f}, got {shown}",
                   *(["hint: inverted dropout scales the kept units by 1/(1 - p)."]
                     if set(values.tolist()) <= {0.0, 1.0} else []))
        dropped = float(np.mean(mask == 0))
        if abs(dropped - p) > 0.02:
            t.fail("wrong drop rate", f"input: p={p}", f"{dropped:.1%} of units dropped, "
                   f"expected about {p:.0%}",
                   *(["hint: p is the probability of DROPPING a unit."]
                     if abs(dropped - (1 - p)) < 0.02 else []))
        t.expect(out, x * mask, inputs=f"p={p}", what="out = x * mask")
    out, mask = t.unpack(t.call(x[:3, :3], 0.0, np.random.default_rng(0)), 2, ("out", "mask"))
    t.expect(out, x[:3, :3], inputs="p=0", what="p = 0 keeps everything")
    t.ok("drop rate ~ p, survivors scaled by 1/(1-p)")


@exercise("regularization.dropout_backward", chapter="08_generalization",
          signature="f(dout, mask)")
def _dropout_backward(t):
    rng = np.random.default_rng(3)
    dout = rng.standard_normal((4, 5))
    mask = (rng.random((4, 5)) > 0.4) / 0.6
    t.expect(t.call(dout, mask), dout * mask, inputs="dout (4, 5), mask in {0, 1/0.6}", hints=[
        (dout * mask * 0.6, "the mask already holds the 1/(1 - p) scale: use it as it is."),
        (dout * mask / 0.6, "the mask already holds the 1/(1 - p) scale: use it as it is."),
        (dout * (mask > 0), "the mask already holds the 1/(1 - p) scale: use it as it is."),
    ])
    t.keeps_dtype((dout.astype(np.float32), mask.astype(np.float32)), ("dx",),
                  "float32 dout, mask")


def _early_stopping_reference(losses, patience):
    best, best_epoch = np.inf, 0
    for epoch, value in enumerate(losses):
        if value < best:
            best, best_epoch = value, epoch
        elif epoch - best_epoch >= patience:
            return best_epoch, epoch
    return best_epoch, len(losses) - 1


@exercise("regularization.early_stopping", chapter="08_generalization",
          signature="f(val_losses, patience)")
def _early_stopping(t):
    cases = [
        ([1.0, 0.8, 0.7, 0.72, 0.71, 0.75, 0.6], 3),   # stops at 5
        ([1.0, 0.8, 0.8, 0.8, 0.9], 2),                # a tie is not a new best: stops at 3
        ([1.0, 0.9, 0.8, 0.7, 0.6], 2),                # never stops
        ([0.5, 0.6, 0.4, 0.45, 0.41, 0.42, 0.43], 2),  # new best resets the count
        ([0.5, 0.6, 0.7], 5),                          # patience longer than the run
    ]
    for losses, patience in cases:
        expected = _early_stopping_reference(losses, patience)
        got = t.unpack(t.call(list(losses), patience), 2, ("best_epoch", "stop_epoch"),
                       like=expected, inputs=f"val_losses={losses}, patience={patience}")
        for name, v in zip(("best_epoch", "stop_epoch"), got, strict=True):
            if not isinstance(v, (int, np.integer)) or isinstance(v, (bool, np.bool_)):
                t.fail(f"wrong type for {name}", f"input: val_losses={losses}, "
                       f"patience={patience}", f"expected an int epoch, got {_kind(v)}")
        if tuple(int(v) for v in got) != expected:
            tie = [v for v in losses if losses.count(v) > 1]
            t.fail("wrong epochs", f"input: val_losses={losses}, patience={patience}",
                   f"expected (best_epoch, stop_epoch) = {expected}, got {tuple(got)}",
                   *(["hint: a tie is not a new best: only a strictly lower loss counts."]
                     if tie else []),
                   *(["hint: if it never stops, stop_epoch is the last epoch."]
                     if expected[1] == len(losses) - 1 else []))
    t.ok("ties, resets, runs that never stop")
