"""Oracles for chapters 09-11: convolution, pooling, recurrent steps.

Convolutions are checked against ``scipy.signal``; backward passes against central
differences of a SciPy-based forward; pooling against explicit window loops.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import signal, special

from .core import _kind, exercise
from .ex_losses import _num_grad


def _rng():
    return np.random.default_rng(9)


@exercise("conv.output_size", chapter="09_convolution", signature="f(n, k, stride, pad)")
def _output_size(t):
    for n, k, s, p in ((28, 5, 1, 0), (7, 3, 2, 0), (28, 3, 1, 1), (8, 3, 2, 1), (5, 2, 3, 2)):
        got = t.call(n, k, s, p)
        expected = (n + 2 * p - k) // s + 1
        if not isinstance(got, (int, np.integer)) or isinstance(got, (bool, np.bool_)):
            t.fail("wrong type", f"input: n={n}, k={k}, stride={s}, pad={p}",
                   f"expected an int, got {_kind(got)}",
                   "hint: floor division // keeps it an int.")
        if got != expected:
            hints = {(n + 2 * p - k) // s: "add 1: a window at position 0 counts too.",
                     (n + p - k) // s + 1: "padding goes on both sides: n + 2 pad.",
                     -(-(n + 2 * p - k) // s) + 1: "round DOWN: a window that would stick "
                                                   "out past the padding does not count."}
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
            if fn_scipy is signal.convolve2d:
                hints += [(signal.correlate2d(image, kernel[::-1, :], mode),
                           "you flipped only the rows: convolution flips the kernel in both "
                           "axes."),
                          (signal.correlate2d(image, kernel[:, ::-1], mode),
                           "you flipped only the columns: convolution flips the kernel in "
                           "both axes.")]
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
        n_rows, n_cols = expected.shape
        ho, wo = (5 - kh) // stride + 1, (6 - kw) // stride + 1
        swapped = _im2col_reference(x.transpose(0, 2, 3, 1).reshape(2, 5, 6, 3)
                                    .transpose(0, 3, 1, 2), kh, kw, stride)
        reordered = expected.reshape(n_rows, 3, kh, kw).transpose(0, 2, 3, 1).reshape(n_rows, -1)
        by_position = expected.reshape(2, ho, wo, -1)
        no_stride = _im2col_reference(x, kh, kw, 1)
        first_windows = no_stride.reshape(2, 5 - kh + 1, 6 - kw + 1, -1)[:, :ho, :wo]
        t.expect(t.call(x, kh, kw, stride), expected,
                 inputs=f"x (2, 3, 5, 6), kh={kh}, kw={kw}, stride={stride}", hints=[
                     (expected.T, "one ROW per output position: (N H_out W_out, C kh kw)."),
                     (reordered, "order the columns (c, di, dj): channel first, in the "
                                 "order a (F, C, kh, kw) weight flattens in."),
                     (swapped, "order the columns (c, di, dj)."),
                     (by_position.transpose(1, 2, 0, 3).reshape(n_rows, -1),
                      "order the rows (n, i, j): all positions of sample 0 first, then "
                      "sample 1 (yours are ordered (i, j, n))."),
                     (by_position.transpose(0, 2, 1, 3).reshape(n_rows, -1),
                      "order the rows (n, i, j): i (the output row) before j (yours go "
                      "column by column)."),
                     (first_windows.reshape(n_rows, -1),
                      "the windows start at (i * stride, j * stride): step by stride."),
                     (no_stride, f"that is the result for stride 1: with stride={stride} the "
                                 f"windows start every {stride} pixels ({ho} x {wo} per image)."),
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
                     (expected.transpose(0, 2, 3, 1).reshape(expected.shape),
                      "the matrix product has one row per (n, i, j) and one column per filter, "
                      "so it is laid out (N, H_out, W_out, F): move the filter axis to "
                      "position 1 before returning (N, F, H_out, W_out)."),
                     *([(_conv_reference(x, W, b, stride, 0),
                         f"that is the result without padding: pad x with pad={pad} zeros on "
                         f"each side first (np.pad on the last two axes).")] if pad else []),
                     *([(_conv_reference(x, W, b, 1, pad),
                         f"that is the result for stride 1: take every {stride}-th window "
                         f"position.")] if stride > 1 else []),
                 ])
    t.ok("stride > 1, pad > 0 = SciPy")


def _conv_backward_variant(dout, x, W, stride, pad, assign=False, by_position=False,
                           ignore_stride=False):
    """Known wrong backward passes (the hints' models): dx written with = instead of +=
    over overlapping windows, or windows taken at stride 1."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dW = np.zeros_like(xp), np.zeros_like(W)
    _, _, kh, kw = W.shape
    ho, wo = dout.shape[2:]
    step = 1 if ignore_stride else stride
    if by_position:
        for i in range(ho):
            for j in range(wo):
                win = (slice(None), slice(None), slice(i * step, i * step + kh),
                       slice(j * step, j * step + kw))
                dW += np.einsum("nf,nchw->fchw", dout[:, :, i, j], xp[win])
                part = np.einsum("nf,fchw->nchw", dout[:, :, i, j], W)
                if assign:
                    dxp[win] = part
                else:
                    dxp[win] += part
    else:
        for di in range(kh):
            for dj in range(kw):
                win = (slice(None), slice(None), slice(di, di + step * ho, step),
                       slice(dj, dj + step * wo, step))
                dW[:, :, di, dj] = np.einsum("nfhw,nchw->fc", dout, xp[win])
                part = np.einsum("nfhw,fc->nchw", dout, W[:, :, di, dj])
                if assign:
                    dxp[win] = part
                else:
                    dxp[win] += part
    return dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dW


@functools.cache
def _conv_backward_case(stride, pad):
    """Fixture, expected gradients (central differences of the SciPy forward) and the
    known wrong answers, computed once per process: they do not depend on the learner."""
    rng = np.random.default_rng(90 + 10 * stride + pad)
    x = rng.standard_normal((2, 2, 5, 4))
    W, b = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    dout = rng.standard_normal(_conv_reference(x, W, b, stride, pad).shape)

    def total(arg, which):
        args = {"x": x, "W": W}
        args[which] = arg
        return float(np.sum(_conv_reference(args["x"], args["W"], b, stride, pad) * dout))

    variants = {"assign": _conv_backward_variant(dout, x, W, stride, pad, assign=True),
                "assign_pos": _conv_backward_variant(dout, x, W, stride, pad, assign=True,
                                                     by_position=True)}
    if stride > 1:
        variants["stride"] = _conv_backward_variant(dout, x, W, stride, pad, ignore_stride=True)
    return (x, W, dout, _num_grad(lambda v: total(v, "x"), x),
            _num_grad(lambda v: total(v, "W"), W), variants)


@exercise("conv.conv2d_backward", chapter="09_convolution", signature="f(dout, x, W, stride, pad)")
def _conv2d_backward(t):
    for stride, pad in ((1, 1), (2, 0)):
        x, W, dout, num_dx, num_dW, variants = _conv_backward_case(stride, pad)
        inputs = f"x (2, 2, 5, 4), W (3, 2, 3, 3), stride={stride}, pad={pad}"
        dx, dW, db = t.unpack(t.call(dout, x, W, stride, pad), 3, ("dx", "dW", "db"),
                              like=(num_dx, num_dW, dout.sum(axis=(0, 2, 3))), inputs=inputs)
        overwrite = "overlapping windows add up: accumulate dx with += (with = each window " \
                    "overwrites what the previous one wrote)."
        no_stride = f"the forward stepped by stride={stride}: the windows start every " \
                    f"{stride} pixels, so the positions a kernel entry meets do too."
        n, c, h, w = x.shape
        t.expect(dx, num_dx, inputs=inputs, what="dx", rtol=1e-5, atol=1e-7, hints=[
            (variants["assign"][0], overwrite), (variants["assign_pos"][0], overwrite),
            *([(variants["stride"][0], no_stride)] if stride > 1 else []),
            *([(np.zeros((n, c, h + 2 * pad, w + 2 * pad)),
                "dx has x's shape: crop the padding off the gradient.")]
              if pad else [(np.zeros((n, c, 0, 0)),
                            "pad:-pad is an empty slice when pad = 0 (-0 is 0): end the crop "
                            "counting from the start, not from the end.")]),
        ])
        t.expect(dW, num_dW, inputs=inputs, what="dW", rtol=1e-5, atol=1e-7, hints=[
            (num_dW[:, :, ::-1, ::-1], "dW comes out flipped: correlate x with dout, "
                                        "do not convolve."),
            (num_dW.transpose(1, 0, 2, 3), "dW has W's shape (F, C, kh, kw)."),
            *([(variants["stride"][1], no_stride)] if stride > 1 else []),
        ])
        t.expect(db, dout.sum(axis=(0, 2, 3)), inputs=inputs, what="db", hints=[
            (dout.mean(axis=(0, 2, 3)), "db sums dout over N, H_out and W_out."),
            (dout.sum(axis=(2, 3)).sum(0) / dout.shape[0], "db is not averaged over N."),
        ])
    t.ok("dx, dW, db = central differences")
    x, W, dout = (a.astype(np.float32) for a in _conv_backward_case(1, 0)[:3])
    t.keeps_dtype((dout, x, W, 1, 0), ("dx", "dW", "db"), "float32 dout, x, W, stride=1, pad=0")


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


@functools.cache
def _pool_backward_case(size, stride, reduce):
    """Fixture and expected dx (central differences of the loop reference), once."""
    rng = np.random.default_rng(100 + 10 * size + stride)
    x = rng.standard_normal((2, 2, 6, 5))
    dout = rng.standard_normal(_pool_reference(x, size, stride, reduce).shape)
    numeric = _num_grad(lambda v: float(np.sum(_pool_reference(v, size, stride, reduce) * dout)),
                        x)
    return x, dout, numeric


def _pool_backward_cases(t, reduce, hint):
    """dx of a pooling backward against central differences of the loop reference, for
    stride = size, overlapping windows and sizes that do not divide the input."""
    for size, stride in POOL_CASES:
        x, dout, numeric = _pool_backward_case(size, stride, reduce)
        t.expect(t.call(dout, x, size, stride), numeric, rtol=1e-5, atol=1e-7,
                 inputs=f"x (2, 2, 6, 5), size={size}, stride={stride}",
                 hints=[(numeric * size * size, hint)] if hint else ())
    x, dout, _ = _pool_backward_case(2, 2, reduce)
    t.keeps_dtype((dout.astype(np.float32), x.astype(np.float32), 2, 2), ("dx",),
                  "float32 dout, x, size=2, stride=2")


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
    if not isinstance(got, np.ndarray) or got.shape != tied.shape or got.dtype.kind != "f":
        t.fail("wrong dx", "input: windows whose maximum appears several times",
               f"expected a float array of shape {tied.shape}, got {_kind(got)}")
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
    args = {"x": x, "h_prev": h, "Wx": Wx, "Wh": Wh, "b": b}

    def total(v, name):
        a = {**args, name: v}
        return float(np.sum(np.tanh(a["x"] @ a["Wx"] + a["h_prev"] @ a["Wh"] + a["b"]) * dh))

    numerics = [_num_grad(lambda v, name=name: total(v, name), args[name]) for name in args]
    got = t.unpack(t.call(dh, x, h, Wx, Wh, b), 5, ("dx", "dh_prev", "dWx", "dWh", "db"),
                   like=numerics, inputs="x (3, 4), h_prev (3, 5), Wx (4, 5), Wh (5, 5)")
    no_tanh = {"x": dh @ Wx.T, "h_prev": dh @ Wh.T, "Wx": x.T @ dh, "Wh": h.T @ dh,
               "b": dh.sum(0)}
    for value, name, numeric in zip(got, args, numerics, strict=True):
        hints = [(no_tanh[name], "go through tanh first: multiply dh by tanh's derivative at "
                                 "the new state.")]
        if numeric.ndim == 2 and numeric.shape[0] != numeric.shape[1]:
            hints.append((numeric.T, f"d{name} has {name}'s shape {numeric.shape}."))
        t.expect(value, numeric, inputs="x (3, 4), h_prev (3, 5), Wx (4, 5), Wh (5, 5)",
                 what=f"d{name}", rtol=1e-5, atol=1e-7, hints=hints)
    t.keeps_dtype(tuple(a.astype(np.float32) for a in (dh, x, h, Wx, Wh, b)),
                  ("dx", "dh_prev", "dWx", "dWh", "db"), "float32 inputs")


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
    inputs = "x (2, 4), h_prev (2, 3), c_prev (2, 3), Wx (4, 12), Wh (3, 12)"
    h_got, c_got = t.unpack(t.call(x, h, c, Wx, Wh, b), 2, ("h", "c"), like=(h_exp, c_exp),
                            inputs=inputs)
    wrong_order = {order: cell(order) for order in ("ifog", "fiog", "ifgo"[::-1])}
    t.expect(c_got, c_exp, inputs=inputs, what="c", hints=[
        (c_wrong, f"gate order along the 4H axis is i, f, g, o (yours looks like "
                  f"{', '.join(order)}).") for order, (_, c_wrong) in wrong_order.items()])
    t.expect(h_got, h_exp, inputs=inputs, what="h", hints=[
        (np.tanh(c_exp), "the output gate o is missing from h."),
        (special.expit(np.split(a, 4, axis=1)[3]) * c_exp, "squash c with tanh before the "
                                                          "output gate.")])
    t.ok("gates i, f, g, o")
