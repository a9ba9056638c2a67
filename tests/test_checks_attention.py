"""Meta-tests of the chapter 13 oracles (nnlib/checks/ex_attention.py): a correct solution
passes, a stub reads "not attempted", and each known mistake is caught with its hint.
The solutions here are written independently of the oracles and of nnlib."""

import math

import numpy as np
import pytest

from nnlib.checks import EXERCISES
from nnlib.checks.core import run_check

# ------------------------------------------------------------------ reference solutions


def softmax(s, axis=-1):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def attention(q, k, v, mask=None, scale=True, axis=-1, after=False, fill=-np.inf,
              stable=True, invert=False):
    s = q @ np.swapaxes(k, -1, -2)
    if scale:
        s = s * q.shape[-1] ** -0.5
    if mask is not None and invert:
        mask = ~mask
    if mask is not None and not after:
        s = np.where(mask, s, fill)
    w = softmax(s, axis) if stable else np.exp(s) / np.exp(s).sum(axis=axis, keepdims=True)
    if mask is not None and after:
        w = w * mask
    return w @ v, w


def attention_3d_only(q, k, v, mask=None):
    """Right for (N, T, d), but k.transpose(0, 2, 1) fails on (N, H, T, d)."""
    s = q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    w = softmax(s)
    return w @ v, w


def attention_backward(dout, q, k, v, mask=None, scale_back=True, diagonal=False):
    d = q.shape[-1]
    _, w = attention(q, k, v, mask)
    dv = np.swapaxes(w, -1, -2) @ dout
    dw = dout @ np.swapaxes(v, -1, -2)
    ds = dw * w * (1 - w) if diagonal else w * (dw - np.sum(dw * w, axis=-1, keepdims=True))
    if scale_back:
        ds = ds / math.sqrt(d)
    return ds @ k, np.swapaxes(ds, -1, -2) @ q, dv


def layer_norm(x, gamma, beta, eps=1e-5, axis=-1, ddof=0, eps_inside=True):
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True, ddof=ddof)
    denom = np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps
    return gamma * (x - mean) / denom + beta


def layer_norm_backward(dout, x, gamma, eps=1e-5, constant_stats=False, dgamma_raw=False):
    mean = x.mean(axis=-1, keepdims=True)
    inv = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    xhat = (x - mean) * inv
    g = dout * gamma
    if constant_stats:
        dx = g * inv
    else:
        dx = inv * (g - g.mean(-1, keepdims=True) - xhat * (g * xhat).mean(-1, keepdims=True))
    dgamma = (dout * (x if dgamma_raw else xhat)).sum(axis=0)
    return dx, dgamma, dout.sum(axis=0)


def split_heads(x, h, transpose=True, interleave=False):
    n, t, d = x.shape
    if interleave:
        return x.reshape(n, t, d // h, h).transpose(0, 3, 1, 2)
    if not transpose:
        return x.reshape(n, h, t, d // h)
    return x.reshape(n, t, h, d // h).transpose(0, 2, 1, 3)


def positional_encoding(t, d, halves=False, exponent=2, swap=False):
    pos = np.arange(t)[:, None]
    freq = 1 / 10000 ** (exponent * np.arange(d // 2) / d)
    s, c = np.sin(pos * freq), np.cos(pos * freq)
    if swap:
        s, c = c, s
    if halves:
        return np.concatenate([s, c], axis=1)
    P = np.empty((t, d))
    P[:, 0::2], P[:, 1::2] = s, c
    return P


def embedding_backward(dout, idx, v, buffered=False):
    dW = np.zeros((v, dout.shape[-1]), dtype=dout.dtype)
    if buffered:
        dW[idx.reshape(-1)] += dout.reshape(-1, dout.shape[-1])
    else:
        np.add.at(dW, idx.reshape(-1), dout.reshape(-1, dout.shape[-1]))
    return dW


CASES = {
    "attention.scaled_dot_product": (
        attention,
        [(lambda q, k, v, mask=None: attention(q, k, v, mask, scale=False), "1 / sqrt(d)"),
         (lambda q, k, v, mask=None: attention(q, k, v, mask, after=True), "BEFORE the softmax"),
         (lambda q, k, v, mask=None: attention(q, k, v, mask, fill=0.0), "-inf, not 0"),
         (lambda q, k, v, mask=None: attention(q, k, v, mask, axis=1), "over the KEYS"),
         (lambda q, k, v, mask=None: attention(q, k, v, mask, stable=False), "row's max"),
         (lambda q, k, v, mask=None: attention(q, k, v, mask, invert=True), "MAY attend"),
         (lambda q, k, v, mask=None: attention(q, k, v), "apply the mask"),
         (lambda q, k, v, mask=None: attention(q / math.sqrt(q.shape[-1]), k, v, mask),
          "not by d"),
         (lambda q, k, v, mask=None: attention(q * np.sqrt(1.0), k, v, mask), "np.sqrt(d)"),
         (lambda q, k, v, mask=None: attention_3d_only(q, k, v, mask), "ValueError")]),
    "attention.scaled_dot_product_backward": (
        attention_backward,
        [(lambda *a: attention_backward(*a, scale_back=False), "divided by sqrt(d)"),
         (lambda *a: attention_backward(*a, diagonal=True), "not diagonal"),
         (lambda dout, q, k, v, mask=None: attention_backward(dout, q, k, v), "use the mask"),
         (lambda *a: attention_backward(*a)[:2], "return dq, dk, dv")]),
    "attention.layer_norm": (
        layer_norm,
        [(lambda x, g, b, eps=1e-5: layer_norm(x, g, b, eps, axis=0), "ROW"),
         (lambda x, g, b, eps=1e-5: layer_norm(x, g, b, eps, ddof=1), "biased variance"),
         (lambda x, g, b, eps=1e-5: layer_norm(x, g, b, eps, eps_inside=False), "INSIDE"),
         (lambda x, g, b, eps=1e-5: layer_norm(x, 1.0, 0.0, eps), "scale by gamma"),
         (lambda x, g, b, eps=1e-5: layer_norm(x, g, b), "eps argument"),
         (lambda x, g, b, eps=1e-5: layer_norm(x, g, b, eps).astype(np.float64), "float32")]),
    "attention.layer_norm_backward": (
        layer_norm_backward,
        [(lambda *a: layer_norm_backward(*a, constant_stats=True), "depend on x too"),
         (lambda *a: layer_norm_backward(*a, dgamma_raw=True), "normalised x"),
         (lambda dout, x, g, eps=1e-5: (layer_norm_backward(dout, x, g, eps)[0],
                                        (dout * (x - x.mean(-1, keepdims=True)) / np.sqrt(
                                            x.var(-1, keepdims=True) + eps)).mean(0),
                                        dout.sum(0)), "SUMS over the batch"),
         (lambda dout, x, g, eps=1e-5: layer_norm_backward(dout, x, g, eps)[:2] + (
             dout.sum(1),), "gamma's shape")]),
    "attention.split_heads": (
        split_heads,
        [(lambda x, h: split_heads(x, h, transpose=False), "reshape alone"),
         (lambda x, h: split_heads(x, h, interleave=True), "CONTIGUOUS"),
         (lambda x, h: split_heads(x, h).transpose(0, 2, 1, 3), "heads before")]),
    "attention.positional_encoding": (
        positional_encoding,
        [(lambda t, d: positional_encoding(t, d, halves=True), "interleave"),
         (lambda t, d: positional_encoding(t, d, exponent=1), "2i / D"),
         (lambda t, d: positional_encoding(t, d, swap=True), "sine in column 2i")]),
    "attention.embedding_backward": (
        embedding_backward,
        [(lambda dout, idx, v: embedding_backward(dout, idx, v, buffered=True), "np.add.at"),
         (lambda dout, idx, v: np.zeros((v, dout.shape[-1])), None),
         (lambda dout, idx, v: embedding_backward(dout, idx, v).astype(np.float64), "float32")]),
}


def test_every_chapter_13_id_has_meta_tests():
    ids = {e for e, ex in EXERCISES.items() if ex.chapter == "13_attention_transformers"}
    assert ids == set(CASES) and len(ids) >= 4


# The reference-passes and stub tests of these ids run in tests/test_checks.py, over
# every chapter's cases.

BUGS = [(eid, i) for eid, (_, bugs) in CASES.items() for i in range(len(bugs))]


@pytest.mark.parametrize("exercise_id, index", BUGS, ids=[f"{e}-{i}" for e, i in BUGS])
def test_buggy_versions_are_caught_with_their_hint(exercise_id, index):
    buggy, hint = CASES[exercise_id][1][index]
    result = run_check(exercise_id, buggy)
    assert result.status == "failed", result.message
    assert result.message.startswith(f"✗ {exercise_id}: ")
    if hint is not None:
        assert hint in result.message, result.message


def test_verdict_names_the_output_and_the_input():
    result = run_check("attention.scaled_dot_product",
                       lambda q, k, v, mask=None: attention(q, k, v, mask, scale=False))
    assert "wrong weights" in result.message and "q (2, 3, 4)" in result.message
