"""Meta-tests of the exercise checker: for every id, a correct solution passes, a stub is
"not attempted", and at least two realistic bugs are caught (with the matching hint where
the checker has one)."""

import numpy as np
import pytest
from scipy import signal, special
from test_checks_attention import CASES as ATTENTION_CASES  # chapter 13's own meta-tests
from test_checks_autograd import CASES as AUTOGRAD_CASES  # chapter 14's own meta-tests

from nnlib.checks import EXERCISES, check
from nnlib.checks.core import run_check

# ------------------------------------------------------------------ reference solutions


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def numerical_gradient(fn, x, eps=1e-6):
    g = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = fn(x)
        x[i] = old - eps
        minus = fn(x)
        x[i] = old
        g[i] = (plus - minus) / (2 * eps)
    return g


def two_layer_net(X, y, W1, b1, W2, b2, grad_scale=1.0, relu_backward=True):
    n = len(X)
    a = X @ W1 + b1
    h = np.maximum(a, 0)
    z = h @ W2 + b2
    p = softmax(z)
    loss = -np.mean(np.log(p[np.arange(n), y]))
    dz = p.copy()
    dz[np.arange(n), y] -= 1
    dz /= n / grad_scale
    dh = dz @ W2.T
    da = dh * (a > 0) if relu_backward else dh
    return loss, {"W1": X.T @ da, "b1": da.sum(0), "W2": h.T @ dz, "b2": dz.sum(0)}


def im2col(x, kh, kw, stride, order="c_first"):
    n, c, h, w = x.shape
    ho, wo = (h - kh) // stride + 1, (w - kw) // stride + 1
    cols = np.empty((n, ho, wo, c, kh, kw))
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, :, i, j] = x[:, :, i:i + stride * ho:stride,
                                       j:j + stride * wo:stride].transpose(0, 2, 3, 1)
    if order == "c_last":
        return cols.transpose(0, 1, 2, 4, 5, 3).reshape(n * ho * wo, -1)
    return cols.reshape(n * ho * wo, -1)


def conv_forward(x, W, b, stride, pad, flip=False):
    if flip:
        W = W[:, :, ::-1, ::-1]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    f, _, kh, kw = W.shape
    n, _, hp, wp = xp.shape
    ho, wo = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    out = im2col(xp, kh, kw, stride) @ W.reshape(f, -1).T + b
    return out.reshape(n, ho, wo, f).transpose(0, 3, 1, 2)


def conv_backward(dout, x, W, stride, pad, db_mean=False):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    f, c, kh, kw = W.shape
    dxp, dW = np.zeros_like(xp), np.zeros_like(W)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            dW += np.einsum("nf,nchw->fchw", dout[:, :, i, j], window)
            dxp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += np.einsum(
                "nf,fchw->nchw", dout[:, :, i, j], W)
    db = dout.mean(axis=(0, 2, 3)) if db_mean else dout.sum(axis=(0, 2, 3))
    return dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dW, db


def windows(x, size, stride):
    ho, wo = (x.shape[2] - size) // stride + 1, (x.shape[3] - size) // stride + 1
    for i in range(ho):
        for j in range(wo):
            yield i, j, (slice(None), slice(None), slice(i * stride, i * stride + size),
                         slice(j * stride, j * stride + size))


def pool_forward(x, size, stride, reduce=np.max):
    ho, wo = (x.shape[2] - size) // stride + 1, (x.shape[3] - size) // stride + 1
    out = np.empty(x.shape[:2] + (ho, wo))
    for i, j, win in windows(x, size, stride):
        out[:, :, i, j] = reduce(x[win], axis=(2, 3))
    return out


def maxpool_backward(dout, x, size, stride, mask_all=False, last=False, assign=False):
    dx = np.zeros_like(x)
    for i, j, win in windows(x, size, stride):
        block = x[win]
        n, c = block.shape[:2]
        flat = block.reshape(n, c, -1)
        if mask_all:
            mask = (flat == flat.max(axis=2, keepdims=True))
        else:
            mask = np.zeros_like(flat, dtype=bool)
            pick = flat.argmax(axis=2) if not last else \
                flat.shape[2] - 1 - flat[:, :, ::-1].argmax(axis=2)
            np.put_along_axis(mask, pick[:, :, None], True, axis=2)
        share = (mask * dout[:, :, i, j][:, :, None]).reshape(block.shape)
        if assign:
            dx[win] = share
        else:
            dx[win] += share
    return dx


def avgpool_backward(dout, x, size, stride, scale=True, assign=False):
    dx = np.zeros_like(x)
    for i, j, win in windows(x, size, stride):
        share = dout[:, :, i, j][:, :, None, None] / (size * size if scale else 1)
        if assign:
            dx[win] = share
        else:
            dx[win] += share
    return dx


def rnn_step_backward(dh, x, h_prev, Wx, Wh, b, through_tanh=True, mistake=None):
    h = np.tanh(x @ Wx + h_prev @ Wh + b)
    da = dh * ((1 - h) if mistake == "1-h" else (1 - h ** 2)) if through_tanh else dh
    dx, dh_prev, dWx, dWh, db = da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(0)
    if mistake == "db mean":
        db = da.mean(0)
    if mistake == "dWh transposed":
        dWh = dWh.T
    if mistake == "Wh not transposed":
        dh_prev = da @ Wh
    return dx, dh_prev, dWx, dWh, db


def lstm_step(x, h_prev, c_prev, Wx, Wh, b, order="ifgo", g_squash=np.tanh, forget=True):
    blocks = dict(zip(order, np.split(x @ Wx + h_prev @ Wh + b, 4, axis=1), strict=True))
    i, f, o = (special.expit(blocks[k]) for k in "ifo")
    g = g_squash(blocks["g"])
    c = (f if forget else 1) * c_prev + i * g
    return o * np.tanh(c), c


def early_stopping(losses, patience, tie_is_best=False):
    best, best_epoch = np.inf, 0
    for e, v in enumerate(losses):
        if v < best or (tie_is_best and v == best):
            best, best_epoch = v, e
        elif e - best_epoch >= patience:
            return best_epoch, e
    return best_epoch, len(losses) - 1


def minibatches(n, batch_size, rng, shuffle=True, drop_last=False):
    order = rng.permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    return [order[i:i + batch_size] for i in range(0, stop, batch_size)]


def adam(w, dw, m, v, t, lr, b1, b2, eps, correct=True, eps_inside=False):
    m = b1 * m + (1 - b1) * dw
    v = b2 * v + (1 - b2) * dw ** 2
    mh, vh = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if correct else (m, v)
    denom = np.sqrt(vh + eps) if eps_inside else np.sqrt(vh) + eps
    return w - lr * mh / denom, m, v


def bce(p, y, clip=True, grad_size=True):
    pc = np.clip(p, 1e-12, 1 - 1e-12) if clip else p
    loss = -np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc))
    grad = (pc - y) / (pc * (1 - pc))
    return loss, grad / p.size if grad_size else grad


def cross_entropy(z, y, divide=True, stable=True):
    n = len(z)
    if stable:
        shifted = z - z.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    else:
        logp = np.log(np.exp(z) / np.exp(z).sum(1, keepdims=True))
    p = np.exp(logp)
    loss = -np.mean(logp[np.arange(n), y])
    d = p.copy()
    d[np.arange(n), y] -= 1
    return loss, d / n if divide else d


def dropout_forward(x, p, rng, inverted=True, keep_p=False):
    keep = rng.random(x.shape) >= (1 - p if keep_p else p)
    mask = keep / (1 - p) if inverted else keep.astype(float)
    return x * mask, mask


def batch_norm_forward(x, gamma, beta, rm, rv, training, momentum=0.1, eps=1e-5, *,
                       axis=0, flip=False, biased_running=False, eval_batch=False,
                       eps_outside=False, eval_updates=False):
    if eval_updates and not training:                 # evaluation that still updates them
        out = batch_norm_forward(x, gamma, beta, rm, rv, False, momentum, eps)[0]
        return (out,) + batch_norm_forward(x, gamma, beta, rm, rv, True, momentum, eps)[1:]
    if training or eval_batch:                    # axis=1: the output's statistics only
        mean, var = x.mean(axis, keepdims=True), x.var(axis, keepdims=True)
        batch_var = x.var(0) if biased_running else x.var(0, ddof=1)
        a, b = (momentum, 1 - momentum) if flip else (1 - momentum, momentum)
        if training:
            rm, rv = a * rm + b * x.mean(0), a * rv + b * batch_var
    else:
        mean, var = rm, rv
    std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    return gamma * (x - mean) / std + beta, rm, rv


def batch_norm_backward(dout, x, gamma, eps=1e-5, *, through_stats=True, axis=0,
                        dgamma_x=False, through_mean=True, through_var=True):
    mean, var = x.mean(axis, keepdims=True), x.var(axis, keepdims=True)
    inv = 1 / np.sqrt(var + eps)
    xhat = (x - mean) * inv
    g = dout * gamma
    dx = (g - through_mean * g.mean(axis, keepdims=True)
          - through_var * xhat * (g * xhat).mean(axis, keepdims=True)) * inv \
        if through_stats else g * inv
    return dx, np.sum(dout * (x if dgamma_x else xhat), axis=0), dout.sum(axis=0)


# id -> (reference, [(buggy, expected hint fragment or None), ...])
CASES = {
    "numpy.pairwise_sq_dists": (
        lambda A, B: ((A[:, None] - B[None]) ** 2).sum(-1),
        [(lambda A, B: np.sqrt(((A[:, None] - B[None]) ** 2).sum(-1)), "square root"),
         (lambda A, B: ((B[:, None] - A[None]) ** 2).sum(-1), "rows should index A")]),
    "numpy.standardize": (
        lambda X: (X - X.mean(0)) / np.where(np.ptp(X, 0) == 0, 1, X.std(0)),
        [(lambda X: (X - X.mean(0)) / X.std(0), "0 / 0: a constant column"),
         (lambda X: (X - X.mean(0)) / np.where(X.std(0, ddof=1) > 0, X.std(0, ddof=1), 1),
          "ddof=0")]),
    "dense.forward": (
        lambda x, W, b: x @ W + b,
        [(lambda x, W, b: x @ W, "add the bias"), (lambda x, W, b: (x @ W).T + b[:, None], None)]),
    "init.glorot_uniform": (
        lambda fi, fo, rng: rng.uniform(-np.sqrt(6 / (fi + fo)), np.sqrt(6 / (fi + fo)), (fi, fo)),
        [(lambda fi, fo, rng: rng.uniform(-np.sqrt(6 / fi), np.sqrt(6 / fi), (fi, fo)), "He's"),
         (lambda fi, fo, rng: rng.normal(0, np.sqrt(2 / (fi + fo)), (fi, fo)), None),
         (lambda fi, fo, rng: np.random.default_rng().uniform(-np.sqrt(6 / (fi + fo)),
                                                              np.sqrt(6 / (fi + fo)), (fi, fo)),
          "rng argument")]),
    "init.he_normal": (
        lambda fi, fo, rng: rng.normal(0, np.sqrt(2 / fi), (fi, fo)),
        [(lambda fi, fo, rng: rng.normal(0, 2 / fi, (fi, fo)), "VARIANCE"),
         (lambda fi, fo, rng: rng.normal(0, np.sqrt(2 / fo), (fi, fo)), "fan_in"),
         (lambda fi, fo, rng: rng.uniform(-np.sqrt(6 / fi), np.sqrt(6 / fi), (fi, fo)),
          "normal")]),
    "activations.sigmoid": (
        special.expit,
        [(lambda x: np.exp(x) / (1 + np.exp(x)), "inf / inf"),
         (lambda x: 1 / (1 + np.exp(x)), "the exponent's sign is flipped"),
         (lambda x: special.expit(x).astype(np.float64), "dtype")]),
    "activations.sigmoid_grad": (
        lambda x: special.expit(x) * (1 - special.expit(x)),
        [(special.expit, "sigmoid itself"),
         (lambda x: special.expit(x) * (1 + special.expit(x)), "one MINUS sigmoid")]),
    "activations.tanh_grad": (
        lambda x: 1 - np.tanh(x) ** 2,
        [(lambda x: 1 - np.tanh(x), "not squared"), (lambda x: 1 - x ** 2, "you squared x")]),
    "activations.relu": (
        lambda x: np.maximum(x, 0),
        [(np.abs, "absolute value"), (lambda x: np.maximum(x, 0).astype(float), "dtype"),
         (lambda x: (x.__setitem__(x < 0, 0), x)[1], "changed its input")]),
    "activations.relu_grad": (
        lambda x: (x > 0).astype(x.dtype),
        [(lambda x: (x >= 0).astype(x.dtype), "at exactly 0"),
         (lambda x: np.maximum(x, 0), "that is relu")]),
    "activations.leaky_relu": (
        lambda x, a: np.where(x > 0, x, a * x),
        [(lambda x, a: np.where(x > 0, x, 0.01 * x), "alpha argument"),
         (lambda x, a: np.where(x > 0, a * x, x), "NEGATIVE part")]),
    "activations.elu": (
        lambda x, a: np.where(x > 0, x, a * np.expm1(np.minimum(x, 0))),
        [(lambda x, a: np.where(x > 0, x, np.expm1(np.minimum(x, 0))), "alpha argument"),
         (lambda x, a: np.where(x > 0, x, a * np.exp(np.minimum(x, 0))), "subtract 1")]),
    "activations.elu_grad": (
        lambda x, a: np.where(x > 0, 1.0, a * np.exp(np.minimum(x, 0))),
        [(lambda x, a: np.where(x > 0, 1.0, a * np.expm1(np.minimum(x, 0))), "that is elu"),
         (lambda x, a: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0))), "by alpha")]),
    "losses.mse": (
        lambda p, y: (np.mean((p - y) ** 2), 2 * (p - y) / p.size),
        [(lambda p, y: (np.sum((p - y) ** 2), 2 * (p - y) / p.size), "np.mean, not np.sum"),
         (lambda p, y: (np.mean((p - y) ** 2), (p - y) / p.size), "factor 2"),
         (lambda p, y: (np.mean((p - y) ** 2), 2 * (p - y)), "number of elements"),
         (lambda p, y: np.mean((p - y) ** 2), "return loss, dy_pred")]),
    "losses.binary_cross_entropy": (
        bce,
        [(lambda p, y: bce(p, y, clip=False), "clip"),
         (lambda p, y: bce(p, y, grad_size=False), "p.size")]),
    "softmax.softmax": (
        softmax,
        [(lambda z: np.exp(z) / np.exp(z).sum(1, keepdims=True), "own max"),
         (lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(1, keepdims=True), "own max"),
         (lambda z: softmax(z.T).T, "each ROW")]),
    "softmax.softmax_jacobian": (
        lambda s: np.diag(s) - np.outer(s, s),
        [(lambda s: np.outer(s, s) - np.diag(s), "the sign"),
         (lambda s: np.diag(s * (1 - s)), "off-diagonal")]),
    "softmax.cross_entropy": (
        cross_entropy,
        [(lambda z, y: cross_entropy(z, y, divide=False), "not divided by N"),
         (lambda z, y: cross_entropy(z, y, stable=False), "log"),
         (lambda z, y: (cross_entropy(z, y)[0], softmax(z) / len(z)), "one-hot")]),
    "backprop.dense_backward": (
        lambda d, x, W: (d @ W.T, x.T @ d, d.sum(0)),
        [(lambda d, x, W: (d @ W.T, d.T @ x, d.sum(0)), "transposed weight gradient"),
         (lambda d, x, W: (d @ W.T, x.T @ d, d.mean(0)), "sums dout")]),
    "backprop.numerical_gradient": (
        numerical_gradient,
        [(lambda fn, x, eps=1e-6: np.array([(fn(x + eps * e.reshape(x.shape)) - fn(x)) / eps
                                            for e in np.eye(x.size)]).reshape(x.shape),
          "forward difference"),
         (lambda fn, x, eps=1e-6: (x.__iadd__(eps), np.zeros_like(x))[1], "changed its input")]),
    "backprop.two_layer_net": (
        two_layer_net,
        [(lambda *a: two_layer_net(*a, grad_scale=len(a[0])), "not divided by N"),
         (lambda *a: two_layer_net(*a, relu_backward=False), None)]),
    "optim.sgd_momentum": (
        lambda w, dw, v, lr, mu: (w - lr * (mu * v + dw), mu * v + dw),
        [(lambda w, dw, v, lr, mu: (w + (mu * v - lr * dw), mu * v - lr * dw), "PyTorch"),
         (lambda w, dw, v, lr, mu: (w - lr * dw, mu * v + dw), "along the velocity")]),
    "optim.rmsprop": (
        lambda w, dw, s, lr, rho, eps: (w - lr * dw / (np.sqrt(rho * s + (1 - rho) * dw ** 2)
                                                       + eps), rho * s + (1 - rho) * dw ** 2),
        [(lambda w, dw, s, lr, rho, eps: (w - lr * dw / np.sqrt(rho * s + (1 - rho) * dw ** 2
                                                                + eps),
                                          rho * s + (1 - rho) * dw ** 2), "outside the square"),
         (lambda w, dw, s, lr, rho, eps: (w, rho * s + dw ** 2), "(1 - rho)")]),
    "optim.adam": (
        adam,
        [(lambda *a: adam(*a, correct=False), "bias correction"),
         (lambda *a: adam(*a, eps_inside=True), "outside the sqrt")]),
    "training.minibatch_indices": (
        minibatches,
        [(lambda n, bs, rng: minibatches(n, bs, rng, shuffle=False), "shuffle"),
         (lambda n, bs, rng: minibatches(n, bs, rng, drop_last=True), "smaller batch")]),
    "regularization.l2_penalty": (
        lambda ws, lam: (0.5 * lam * sum(np.sum(w ** 2) for w in ws), [lam * w for w in ws]),
        [(lambda ws, lam: (lam * sum(np.sum(w ** 2) for w in ws), [lam * w for w in ws]), "0.5"),
         (lambda ws, lam: (0.5 * lam * sum(np.sum(w ** 2) for w in ws), [2 * lam * w for w in ws]),
          "cancels")]),
    "regularization.dropout_forward": (
        dropout_forward,
        [(lambda x, p, rng: dropout_forward(x, p, rng, inverted=False), "1/(1 - p)"),
         (lambda x, p, rng: dropout_forward(x, p, rng, keep_p=True), "DROPPING")]),
    "regularization.dropout_backward": (
        lambda dout, mask: dout * mask,
        [(lambda dout, mask: dout * mask / 0.6, "already holds"),
         (lambda dout, mask: dout, None)]),
    "regularization.early_stopping": (
        early_stopping,
        [(lambda ls, p: early_stopping(ls, p, tie_is_best=True), "tie"),
         (lambda ls, p: early_stopping(ls, p + 1), None)]),
    "regularization.batch_norm_forward": (
        batch_norm_forward,
        [(lambda *a: batch_norm_forward(*a, axis=1), "LayerNorm"),
         (lambda *a: batch_norm_forward(*a, flip=True), "weighs the NEW batch statistic"),
         (lambda *a: batch_norm_forward(*a, biased_running=True), "UNBIASED"),
         (lambda *a: batch_norm_forward(*a, eval_batch=True), "RUNNING mean and variance"),
         (lambda *a: batch_norm_forward(*a, eps_outside=True), "INSIDE the square root"),
         (lambda *a: batch_norm_forward(*a, eval_updates=True), "leaves the running")]),
    "regularization.batch_norm_backward": (
        batch_norm_backward,
        [(lambda *a: batch_norm_backward(*a, through_stats=False), "depend on x too"),
         (lambda *a: batch_norm_backward(*a, axis=1), "axis=1 is LayerNorm"),
         (lambda *a: batch_norm_backward(*a, dgamma_x=True), "not dout * x"),
         (lambda *a: batch_norm_backward(*a, through_var=False), "batch VARIANCE"),
         (lambda *a: batch_norm_backward(*a, through_mean=False), "batch MEAN")]),
    "conv.output_size": (
        lambda n, k, s, p: (n + 2 * p - k) // s + 1,
        [(lambda n, k, s, p: (n + 2 * p - k) // s, "add 1"),
         (lambda n, k, s, p: (n + 2 * p - k) / s + 1, "floor division")]),
    "conv.correlate2d": (
        signal.correlate2d,
        [(signal.convolve2d, "that is the convolution"),
         (lambda im, k, mode: signal.correlate2d(im, k, "full")[
             (k.shape[0] - 1) // 2:(k.shape[0] - 1) // 2 + im.shape[0],
             (k.shape[1] - 1) // 2:(k.shape[1] - 1) // 2 + im.shape[1]]
          if mode == "same" else signal.correlate2d(im, k, mode), "'same' crop")]),
    "conv.convolve2d": (
        signal.convolve2d,
        [(signal.correlate2d, "that is the correlation"),
         (lambda im, k, mode: signal.correlate2d(im, k[::-1, ::-1], mode), "'same' crop")]),
    "conv.im2col": (
        im2col,
        [(lambda *a: im2col(*a).T, "one ROW per output"),
         (lambda *a: im2col(*a, order="c_last"), "(c, di, dj)")]),
    "conv.conv2d_forward": (
        conv_forward,
        [(lambda *a: conv_forward(*a, flip=True), "flipped"),
         (lambda x, W, b, s, p: conv_forward(x, W, 0 * b, s, p), "bias")]),
    "conv.conv2d_backward": (
        conv_backward,
        [(lambda *a: conv_backward(*a, db_mean=True), "sums dout"),
         (lambda *a: (lambda r: (r[0], r[1][:, :, ::-1, ::-1], r[2]))(conv_backward(*a)),
          "flipped")]),
    "pool.maxpool_forward": (
        pool_forward,
        [(lambda x, s, st: pool_forward(x, s, st, np.mean), "average pooling"),
         (lambda x, s, st: pool_forward(x, s, s), None)]),
    "pool.maxpool_backward": (
        maxpool_backward,
        [(lambda *a: maxpool_backward(*a, mask_all=True), "first maximum"),
         (lambda d, x, s, st: np.zeros_like(x), None),
         (lambda *a: maxpool_backward(*a, last=True), "FIRST maximum in row-major order"),
         (lambda *a: maxpool_backward(*a, assign=True), "add them up with dx[...] +=")]),
    "pool.avgpool_forward": (
        lambda x, s, st: pool_forward(x, s, st, np.mean),
        [(lambda x, s, st: pool_forward(x, s, st, np.sum), "size^2"),
         (lambda x, s, st: pool_forward(x, s, st, np.max), None)]),
    "pool.avgpool_backward": (
        avgpool_backward,
        [(lambda *a: avgpool_backward(*a, scale=False), "size^2"),
         (lambda d, x, s, st: avgpool_backward(d, x, s, s), None),
         (lambda *a: avgpool_backward(*a, assign=True), "add them up with dx[...] +=")]),
    "rnn.rnn_step_forward": (
        lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh + b),
        [(lambda x, h, Wx, Wh, b: x @ Wx + h @ Wh + b, "apply tanh"),
         (lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + b), "recurrent term"),
         (lambda x, h, Wx, Wh, b: special.expit(x @ Wx + h @ Wh + b), "not a sigmoid")]),
    "rnn.rnn_step_backward": (
        rnn_step_backward,
        [(lambda *a: rnn_step_backward(*a, through_tanh=False), "through tanh"),
         (lambda *a: rnn_step_backward(*a)[:4], "return value"),
         (lambda *a: rnn_step_backward(*a, mistake="1-h"), "SQUARED"),
         (lambda *a: rnn_step_backward(*a, mistake="db mean"), "not the mean"),
         (lambda *a: rnn_step_backward(*a, mistake="dWh transposed"), "yours is its transpose"),
         (lambda *a: rnn_step_backward(*a, mistake="Wh not transposed"), "uses Wh itself")]),
    "rnn.lstm_step_forward": (
        lstm_step,
        [(lambda *a: lstm_step(*a, order="ifog"), "gate order"),
         (lambda *a: (lambda h, c: (np.tanh(c), c))(*lstm_step(*a)), "output gate"),
         (lambda *a: lstm_step(*a)[::-1], "return h, c, in that order"),
         (lambda *a: lstm_step(*a, g_squash=special.expit), "squashed with tanh"),
         (lambda *a: lstm_step(*a, forget=False), "forget gate")]),
}


def test_every_exercise_id_has_meta_tests():
    assert set(CASES) | set(ATTENTION_CASES) | set(AUTOGRAD_CASES) == set(EXERCISES)
    assert len(CASES) == 44
    assert len(EXERCISES) == len(CASES) + len(ATTENTION_CASES) + len(AUTOGRAD_CASES)


#: Every chapter's cases: chapters 01-11 here, 13 and 14 in their own files.
ALL_CASES = {**CASES, **ATTENTION_CASES, **AUTOGRAD_CASES}


@pytest.mark.parametrize("exercise_id", ALL_CASES)
def test_reference_solution_passes(exercise_id):
    result = run_check(exercise_id, ALL_CASES[exercise_id][0])
    assert result.passed, result.message
    assert result.message.startswith(f"✓ {exercise_id}: passed (")


@pytest.mark.parametrize("exercise_id", ALL_CASES)
def test_stub_reads_not_attempted(exercise_id):
    def stub(*args, **kwargs):
        raise NotImplementedError

    result = run_check(exercise_id, stub)
    assert result.status == "not attempted" and not result.passed
    assert "not attempted yet" in result.message


BUGS = [(eid, i) for eid, (_, bugs) in CASES.items() for i in range(len(bugs))]

#: Answers a hint must never spell out as code: it names the mistake and the idea.
ANSWER_CODE = ["keepdims=True)", "1 - tanh(x)^2", "1 - tanh^2", "np.arange(N), labels]",
               "max(0, x)", "s (1 - s)", "transpose(0, 3, 1, 2)", "[::-1, ::-1]", "rng.uniform(",
               "rng.normal(", "rng.permutation(", "dout @ W.T", "x.T @ dout", "f(x + h)",
               "for x >= 0", "(1 + e^x) for", "lr * v", "momentum * v + dw", "beta1^t",
               "sqrt(s) + eps", "(1 - h^2)", "o * tanh(c)", "dxp[", "(p - y) / N", "2 (p - y)",
               "np.outer(s, s)", "/ (1 - p), then", "dx = dout * mask", "diag(s) - s s^T",
               "h_prev.T @ da", "da @ Wh.T", "f * c_prev", "1 - h**2", "1 - h ** 2"]


def assert_no_answer_code(message):
    hints = [ln for ln in message.splitlines() if ln.strip().startswith("hint:")]
    for line in hints:
        for code in ANSWER_CODE:
            assert code not in line, f"{code!r} spells out an answer in:\n{line}"


@pytest.mark.parametrize("exercise_id, index", BUGS, ids=[f"{e}-{i}" for e, i in BUGS])
def test_buggy_versions_are_caught_with_their_hint(exercise_id, index):
    buggy, hint = CASES[exercise_id][1][index]
    result = run_check(exercise_id, buggy)
    assert result.status == "failed", result.message
    assert result.message.startswith(f"✗ {exercise_id}: ")
    if hint is not None:
        assert hint in result.message, result.message
    assert_no_answer_code(result.message)


@pytest.mark.parametrize("exercise_id", ["activations.relu", "softmax.cross_entropy",
                                         "conv.output_size", "optim.adam"])
def test_exceptions_wrong_types_and_nan_are_contained(exercise_id):
    def raises(*args):
        return [1, 2][5]

    result = run_check(exercise_id, raises)
    assert result.status == "failed"
    assert "IndexError: list index out of range" in result.message
    assert "return [1, 2][5]" in result.message  # the learner's line
    wrong_type = run_check(exercise_id, lambda *a: "hello")
    assert wrong_type.status == "failed"
    nan = run_check(exercise_id, lambda *a: np.full((2, 2), np.nan))
    assert nan.status == "failed"


def test_nan_is_reported_with_its_index():
    def leaky(x):
        out = np.maximum(x, 0)
        out[0, 2] = np.nan
        return out

    result = run_check("activations.relu", leaky)
    assert "NaN at index (0, 2)" in result.message


def test_runaway_code_is_stopped(monkeypatch):
    monkeypatch.setenv("NNLIB_CHECK_TIMEOUT", "0.5")

    def forever(x):
        while True:
            pass

    result = run_check("activations.relu", forever)
    assert result.status == "failed" and "stopped after 0.5 s" in result.message


def test_unknown_id_lists_the_valid_ones():
    with pytest.raises(KeyError, match=r"Did you mean 'activations.relu'\?.*Valid ids: "):
        run_check("activation.relu", np.abs)


def test_passing_the_result_instead_of_the_function():
    result = run_check("activations.relu", np.array([1.0]))
    assert result.status == "failed" and "pass the name without calling it" in result.message


def test_check_prints_records_and_strict_mode_raises(tmp_path, monkeypatch, capsys):
    from nnlib.checks import ExerciseFailed, progress

    record = tmp_path / "progress.json"
    monkeypatch.setenv("NNLIB_PROGRESS", str(record))
    monkeypatch.delenv("NNLIB_STRICT", raising=False)
    assert check("activations.relu", lambda x: np.maximum(x, 0)).passed
    assert check("activations.relu_grad", np.abs).status == "failed"
    out = capsys.readouterr().out
    assert "✓ activations.relu: passed" in out and "✗ activations.relu_grad" in out
    table = progress()
    assert "03_activations" in table and "✓ relu" in table and "✗ relu_grad" in table
    assert table.chapters["03_activations"]["activations.relu"] == "passed"
    assert table.chapters["03_activations"]["activations.relu_grad"] == "failed"
    assert "1 passed, 1 failed" in table
    monkeypatch.setenv("NNLIB_STRICT", "1")
    with pytest.raises(ExerciseFailed, match="relu_grad"):
        check("activations.relu_grad", np.abs)


def test_corrupt_or_missing_progress_never_breaks_a_check(tmp_path, monkeypatch):
    from nnlib.checks import progress

    record = tmp_path / "progress.json"
    record.write_text("{not json")
    monkeypatch.setenv("NNLIB_PROGRESS", str(record))
    monkeypatch.delenv("NNLIB_STRICT", raising=False)
    assert check("activations.relu", lambda x: np.maximum(x, 0)).passed
    assert "1 passed" in str(progress())
    assert list(tmp_path.glob("progress.json.corrupt-*"))[0].read_text() == "{not json"
    monkeypatch.setenv("NNLIB_PROGRESS", str(tmp_path / "missing" / "deeper" / "p.json"))
    assert "0 passed" in str(progress())
    assert check("activations.relu", lambda x: np.maximum(x, 0)).passed
