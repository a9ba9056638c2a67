"""Oracles for chapters 09-11: convolution, pooling, recurrent steps.

Convolutions are checked against ``scipy.signal``; backward passes against central
differences of a SciPy-based forward; pooling against explicit window loops.
"""

from __future__ import annotations

import numpy as np
from scipy import signal, special

from .core import exercise
from .ex_losses import _num_grad


def _rng():
    return np.random.default_rng(9)


@exercise("conv.output_size", chapter="09_convolution", signature="f(n, k, stride, pad)")
def _output_size(t):
    for n, k, s, p in ((28, 5, 1, 0), (7, 3, 2, 0), (28, 3, 1, 1), (8, 3, 2, 1), (5, 2, 3, 2)):
        got = t.call(n, k, s, p)
        expected = (n + 2 * p - k) // s + 1
        if not isinstance(got, (int, np.integer)):
            t.fail("wrong type", f"input: n={n}, k={k}, stride={s}, pad={p}",
                   f"expected an int, got {type(got).__name__} {got!r}",
                   "hint: floor division // keeps it an int.")
        if got != expected:
            hints = {(n + 2 * p - k) // s: "add 1: a window at position 0 counts too.",
                     (n + p - k) // s + 1: "padding goes on both sides: n + 2 pad.",
                     -(-(n + 2 * p - k) // s) + 1: "round DOWN: floor((n + 2p - k) / s) + 1."}
            t.fail("wrong size", f"input: n={n}, k={k}, stride={s}, pad={p}",
                   f"expected {expected}, got {got}",
                   *([f"hint: {hints[got]}"] if got in hints else []))
    t.ok("stride > 1 and pad > 0")


def _modes_check(t, fn_scipy, other, word):
    rng = _rng()
    image = rng.standard_normal((6, 7))
    for shape in ((3, 3), (2, 2), (2, 3), (4, 1)):
        kernel = rng.standard_normal(shape)
        for mode in ("full", "same", "valid"):
            expected = fn_scipy(image, kernel, mode)
            kh, kw = shape
            full = fn_scipy(image, kernel, "full")
            hints = [(other(image, kernel, mode),
                      f"that is the {word}: correlation slides the kernel as it is, convolution "
                      f"flips it in both axes first.")]
            if mode == "same":
                for top, left in (((kh - 1) // 2, (kw - 1) // 2), (kh // 2, kw // 2)):
                    crop = full[top:top + 6, left:left + 7]
                    start = "k // 2" if fn_scipy is signal.correlate2d else "(k - 1) // 2"
                    if not np.allclose(crop, expected):
                        hints.append((crop, f"the 'same' crop for even kernels: SciPy starts it "
                                            f"at {start} of the full output."))
            t.expect(t.call(image, kernel, mode), expected,
                     inputs=f"image (6, 7), kernel {shape}, mode={mode!r}", hints=hints)
    t.ok("full / same / valid, odd and even kernels = SciPy")


@exercise("conv.correlate2d", chapter="09_convolution", signature="f(image, kernel, mode)")
def _correlate2d(t):
    _modes_check(t, signal.correlate2d, signal.convolve2d, "convolution")


@exercise("conv.convolve2d", chapter="09_convolution", signature="f(image, kernel, mode)")
def _convolve2d(t):
    _modes_check(t, signal.convolve2d, signal.correlate2d, "correlation")


def _im2col_reference(x, kh, kw, stride):
    n, c, h, w = x.shape
    ho, wo = (h - kh) // stride + 1, (w - kw) // stride + 1
    rows = []
    for s in range(n):
        for i in range(ho):
            for j in range(wo):
                rows.append(x[s, :, i * stride:i * stride + kh, j * stride:j * stride + kw].ravel())
    return np.array(rows)


@exercise("conv.im2col", chapter="09_convolution", signature="f(x, kh, kw, stride)")
def _im2col(t):
    x = _rng().standard_normal((2, 3, 5, 6))
    for kh, kw, stride in ((3, 3, 1), (2, 3, 2)):
        expected = _im2col_reference(x, kh, kw, stride)
        swapped = _im2col_reference(x.transpose(0, 2, 3, 1).reshape(2, 5, 6, 3)
                                    .transpose(0, 3, 1, 2), kh, kw, stride)
        n_rows, n_cols = expected.shape
        reordered = expected.reshape(n_rows, 3, kh, kw).transpose(0, 2, 3, 1).reshape(n_rows, -1)
        t.expect(t.call(x, kh, kw, stride), expected,
                 inputs=f"x (2, 3, 5, 6), kh={kh}, kw={kw}, stride={stride}", hints=[
                     (expected.T, "one ROW per output position: (N H_out W_out, C kh kw)."),
                     (reordered, "order the columns (c, di, dj): channel first, so that "
                                 "cols @ W.reshape(F, -1).T is the convolution."),
                     (swapped, "order the columns (c, di, dj)."),
                 ])
    t.ok("rows (n, i, j), columns (c, di, dj)")
    t.ok("stride > 1, C > 1, N > 1")


def _conv_reference(x, W, b, stride, pad):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, f = x.shape[0], W.shape[0]
    out = []
    for s in range(n):
        maps = [sum(signal.correlate2d(xp[s, c], W[k, c], "valid") for c in range(x.shape[1]))
                [::stride, ::stride] + b[k] for k in range(f)]
        out.append(maps)
    return np.array(out)


CONV_CASES = ((1, 0), (1, 1), (2, 1), (2, 0))


@exercise("conv.conv2d_forward", chapter="09_convolution", signature="f(x, W, b, stride, pad)")
def _conv2d_forward(t):
    rng = _rng()
    x = rng.standard_normal((2, 3, 6, 5))
    W, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    for stride, pad in CONV_CASES:
        expected = _conv_reference(x, W, b, stride, pad)
        t.expect(t.call(x, W, b, stride, pad), expected,
                 inputs=f"x (2, 3, 6, 5), W (4, 3, 3, 3), stride={stride}, pad={pad}", hints=[
                     (_conv_reference(x, W[:, :, ::-1, ::-1], b, stride, pad),
                      "the kernel is flipped: layers compute a cross-correlation."),
                     (_conv_reference(x, W, np.zeros(4), stride, pad), "add the bias b[f]."),
                 ])
    t.ok("stride > 1, pad > 0 = SciPy")


@exercise("conv.conv2d_backward", chapter="09_convolution", signature="f(dout, x, W, stride, pad)")
def _conv2d_backward(t):
    rng = _rng()
    x = rng.standard_normal((2, 2, 5, 4))
    W, b = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    for stride, pad in ((1, 1), (2, 0)):
        dout = rng.standard_normal(_conv_reference(x, W, b, stride, pad).shape)
        dx, dW, db = t.unpack(t.call(dout, x, W, stride, pad), 3, ("dx", "dW", "db"))
        inputs = f"x (2, 2, 5, 4), W (3, 2, 3, 3), stride={stride}, pad={pad}"

        def total(arg, which, stride=stride, pad=pad, dout=dout):
            args = {"x": x, "W": W}
            args[which] = arg
            return float(np.sum(_conv_reference(args["x"], args["W"], b, stride, pad) * dout))

        t.expect(dx, _num_grad(lambda v: total(v, "x"), x), inputs=inputs, what="dx",
                 rtol=1e-5, atol=1e-7)
        num_dW = _num_grad(lambda v: total(v, "W"), W)
        t.expect(dW, num_dW, inputs=inputs, what="dW", rtol=1e-5, atol=1e-7, hints=[
            (num_dW[:, :, ::-1, ::-1], "dW comes out flipped: correlate x with dout, "
                                        "do not convolve."),
            (num_dW.transpose(1, 0, 2, 3), "dW has W's shape (F, C, kh, kw)."),
        ])
        t.expect(db, dout.sum(axis=(0, 2, 3)), inputs=inputs, what="db", hints=[
            (dout.mean(axis=(0, 2, 3)), "db sums dout over N, H_out and W_out."),
        ])
    t.ok("dx, dW, db = central differences")


def _pool_reference(x, size, stride, reduce):
    n, c, h, w = x.shape
    ho, wo = (h - size) // stride + 1, (w - size) // stride + 1
    out = np.empty((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            out[:, :, i, j] = reduce(x[:, :, i * stride:i * stride + size,
                                       j * stride:j * stride + size], axis=(2, 3))
    return out


POOL_CASES = ((2, 2), (3, 2), (2, 1))


def _pool_backward_cases(t, reduce, hint):
    """dx of a pooling backward against central differences of the loop reference, for
    stride = size, overlapping windows and sizes that do not divide the input."""
    rng = _rng()
    x = rng.standard_normal((2, 2, 6, 5))
    for size, stride in POOL_CASES:
        dout = rng.standard_normal(_pool_reference(x, size, stride, reduce).shape)
        numeric = _num_grad(lambda v, size=size, stride=stride, dout=dout: float(np.sum(
            _pool_reference(v, size, stride, reduce) * dout)), x)
        t.expect(t.call(dout, x, size, stride), numeric, rtol=1e-5, atol=1e-7,
                 inputs=f"x (2, 2, 6, 5), size={size}, stride={stride}",
                 hints=[(numeric * size * size, hint)] if hint else ())


def _pool_forward_cases(t, reduce, wrong, hint):
    """A pooling forward against the loop reference; ``wrong`` is a known mistake."""
    x = _rng().standard_normal((2, 3, 7, 6))
    for size, stride in POOL_CASES:
        t.expect(t.call(x, size, stride), _pool_reference(x, size, stride, reduce),
                 inputs=f"x (2, 3, 7, 6), size={size}, stride={stride}",
                 hints=[(_pool_reference(x, size, stride, wrong), hint)])
    t.ok("stride < size, sizes that do not divide the input")


@exercise("pool.maxpool_forward", chapter="10_pooling_cnns", signature="f(x, size, stride)")
def _maxpool_forward(t):
    _pool_forward_cases(t, np.max, np.mean, "that is average pooling.")


@exercise("pool.maxpool_backward", chapter="10_pooling_cnns", signature="f(dout, x, size, stride)")
def _maxpool_backward(t):
    _pool_backward_cases(t, np.max, hint=None)
    tied = np.zeros((1, 1, 4, 4))
    tied[0, 0, 2:, 2:] = [[1.0, 1.0], [0.5, 1.0]]
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    got = t.call(dout, tied, 2, 2)
    if not isinstance(got, np.ndarray) or got.shape != tied.shape:
        t.fail("wrong shape", f"expected {tied.shape}")
    for i in range(2):
        for j in range(2):
            window = got[0, 0, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
            values = tied[0, 0, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
            total, nonzero = window.sum(), np.count_nonzero(window)
            on_max = np.all(values[window != 0] == values.max())
            if not (np.isclose(total, dout[0, 0, i, j]) and nonzero == 1 and on_max):
                t.fail("tied maxima", "input: windows whose maximum appears several times",
                       f"window ({i}, {j}) = {values.tolist()} got gradient {window.tolist()}",
                       f"expected all of dout = {dout[0, 0, i, j]} on ONE of its maxima",
                       "hint: a mask x == max gives every tied maximum the gradient; send it "
                       "to the first maximum only (np.argmax over the window).")
    t.ok("ties: one element per window")


@exercise("pool.avgpool_forward", chapter="10_pooling_cnns", signature="f(x, size, stride)")
def _avgpool_forward(t):
    _pool_forward_cases(t, np.mean, np.sum, "divide by size^2: a mean.")


@exercise("pool.avgpool_backward", chapter="10_pooling_cnns", signature="f(dout, x, size, stride)")
def _avgpool_backward(t):
    _pool_backward_cases(t, np.mean, hint="share dout equally: divide by size^2.")
    t.ok("overlapping windows add up")


def _rnn_inputs():
    rng = _rng()
    return (rng.standard_normal((3, 4)), rng.standard_normal((3, 5)),
            rng.standard_normal((4, 5)) * 0.5, rng.standard_normal((5, 5)) * 0.5,
            rng.standard_normal(5) * 0.1)


@exercise("rnn.rnn_step_forward", chapter="11_residual_recurrent",
          signature="f(x, h_prev, Wx, Wh, b)")
def _rnn_step_forward(t):
    x, h, Wx, Wh, b = _rnn_inputs()
    pre = x @ Wx + h @ Wh + b
    t.expect(t.call(x, h, Wx, Wh, b), np.tanh(pre), inputs="x (3, 4), h_prev (3, 5), "
             "Wx (4, 5), Wh (5, 5), b (5,)", hints=[
                 (pre, "apply tanh to the pre-activation."),
                 (np.tanh(x @ Wx + b), "add the recurrent term h_prev @ Wh."),
             ])


@exercise("rnn.rnn_step_backward", chapter="11_residual_recurrent",
          signature="f(dh, x, h_prev, Wx, Wh, b)")
def _rnn_step_backward(t):
    x, h, Wx, Wh, b = _rnn_inputs()
    dh = _rng().standard_normal((3, 5))
    got = t.unpack(t.call(dh, x, h, Wx, Wh, b), 5, ("dx", "dh_prev", "dWx", "dWh", "db"))
    args = {"x": x, "h_prev": h, "Wx": Wx, "Wh": Wh, "b": b}

    def total(v, name):
        a = {**args, name: v}
        return float(np.sum(np.tanh(a["x"] @ a["Wx"] + a["h_prev"] @ a["Wh"] + a["b"]) * dh))

    no_tanh = {"x": dh @ Wx.T, "h_prev": dh @ Wh.T, "Wx": x.T @ dh, "Wh": h.T @ dh,
               "b": dh.sum(0)}
    for value, name in zip(got, ("x", "h_prev", "Wx", "Wh", "b"), strict=True):
        numeric = _num_grad(lambda v, name=name: total(v, name), args[name])
        t.expect(value, numeric, inputs="x (3, 4), h_prev (3, 5), Wx (4, 5), Wh (5, 5)",
                 what=f"d{name}", rtol=1e-5, atol=1e-7, hints=[
                     (no_tanh[name], "go through tanh first: da = dh * (1 - h^2).")])


@exercise("rnn.lstm_step_forward", chapter="11_residual_recurrent",
          signature="f(x, h_prev, c_prev, Wx, Wh, b)")
def _lstm_step_forward(t):
    rng = _rng()
    H = 3
    x, h, c = rng.standard_normal((2, 4)), rng.standard_normal((2, H)), rng.standard_normal((2, H))
    Wx, Wh = rng.standard_normal((4, 4 * H)) * 0.5, rng.standard_normal((H, 4 * H)) * 0.5
    b = rng.standard_normal(4 * H) * 0.1
    a = x @ Wx + h @ Wh + b

    def cell(order):
        blocks = dict(zip(order, np.split(a, 4, axis=1), strict=True))
        i, f = special.expit(blocks["i"]), special.expit(blocks["f"])
        g, o = np.tanh(blocks["g"]), special.expit(blocks["o"])
        c_new = f * c + i * g
        return o * np.tanh(c_new), c_new

    h_exp, c_exp = cell("ifgo")
    h_got, c_got = t.unpack(t.call(x, h, c, Wx, Wh, b), 2, ("h", "c"))
    inputs = "x (2, 4), h_prev (2, 3), c_prev (2, 3), Wx (4, 12), Wh (3, 12)"
    wrong_order = {order: cell(order) for order in ("ifog", "fiog", "ifgo"[::-1])}
    t.expect(c_got, c_exp, inputs=inputs, what="c", hints=[
        (c_wrong, f"gate order along the 4H axis is i, f, g, o (yours looks like "
                  f"{', '.join(order)}).") for order, (_, c_wrong) in wrong_order.items()])
    t.expect(h_got, h_exp, inputs=inputs, what="h", hints=[
        (np.tanh(c_exp), "h = o * tanh(c): multiply by the output gate."),
        (special.expit(np.split(a, 4, axis=1)[3]) * c_exp, "h = o * tanh(c): squash c first.")])
    t.ok("gates i, f, g, o")
