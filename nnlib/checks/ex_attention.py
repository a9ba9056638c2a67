"""Oracles for chapter 13: attention, layer normalisation, heads, positions, embeddings.

Forward passes are checked against formulas written here from the definitions (softmax
through ``scipy.special``, explicit loops for the positions); backward passes against
central differences of those formulas. Each oracle also tries the edge cases where the
known mistakes show: scores large enough to overflow ``exp``, a mask that forbids most
keys, non-square score matrices (Tq != Tk), 4-D inputs (batch and heads), a row of
nearly equal values for LayerNorm's eps, and repeated token indices.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .core import exercise
from .ex_losses import _num_grad

CHAPTER = "13_attention_transformers"


def _rng():
    return np.random.default_rng(13)


def _attention(q, k, v, mask=None, *, scale=True, axis=-1, mask_after=False, fill=-np.inf):
    """The reference, and (through the keywords) the known wrong versions."""
    s = q @ np.swapaxes(k, -1, -2)
    if scale:
        s = s / np.sqrt(q.shape[-1])
    if mask is not None and not mask_after:
        s = np.where(mask, s, fill)
    w = special.softmax(s, axis=axis)
    if mask is not None and mask_after:
        w = w * mask
    return w @ v, w


def _keeps_float32(t, args, names, inputs):
    """float32 in, float32 out, with the usual culprit of attention named: np.sqrt(d)
    of an int is a float64 scalar, and NumPy 2 lets it turn float32 arrays into float64."""
    got = t.call(*args)
    outputs = t.unpack(got, len(names), names) if len(names) > 1 else (got,)
    for name, out in zip(names, outputs, strict=True):
        if isinstance(out, np.ndarray) and out.dtype == np.float64:
            t.fail(f"dtype changed: {name}", f"input: {inputs}",
                   "returned float64; keep the input's dtype (float32 in, float32 out).",
                   "hint: np.sqrt(d) is a float64 scalar that promotes float32 arrays: scale by "
                   "d ** -0.5 or 1 / math.sqrt(d) (Python floats keep float32).")
    t.keeps_dtype(args, names, inputs)


# ------------------------------------------------------------ scaled dot-product attention

@exercise("attention.scaled_dot_product", chapter=CHAPTER,
          signature="f(q, k, v, mask=None)")
def _scaled_dot_product(t):
    rng = _rng()
    q, k = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    v = rng.standard_normal((2, 5, 2))
    inputs = "q (2, 3, 4), k (2, 5, 4), v (2, 5, 2), mask=None"
    out, w = t.unpack(t.call(q, k, v), 2, ("out", "weights"))
    ref_out, ref_w = _attention(q, k, v)
    no_scale = _attention(q, k, v, scale=False)
    hints_w = [(no_scale[1], "scale the scores by 1 / sqrt(d) (d = 4 here) before the softmax."),
               (_attention(q * np.sqrt(4) ** -1, k, v)[1],
                "divide the scores by sqrt(d), not by d."),
               (special.softmax(q @ np.swapaxes(k, -1, -2) / 2, axis=1),
                "softmax over the KEYS (the last axis): each query's weights sum to 1.")]
    t.expect(w, ref_w, inputs=inputs, what="weights", hints=hints_w)
    t.expect(out, ref_out, inputs=inputs, what="out", hints=[
        (no_scale[0], "scale the scores by 1 / sqrt(d) before the softmax.")])
    t.ok("rows of the weights sum to 1")

    # a causal mask, Tq = Tk: masked scores go to -inf BEFORE the softmax
    q, k, v = (rng.standard_normal((2, 4, 3)) for _ in range(3))
    mask = np.tri(4, dtype=bool)
    inputs = "q, k, v (2, 4, 3), mask = np.tri(4, dtype=bool) (True = may attend)"
    out, w = t.unpack(t.call(q, k, v, mask), 2, ("out", "weights"))
    ref_out, ref_w = _attention(q, k, v, mask)
    t.expect(w, ref_w, inputs=inputs, what="masked weights", hints=[
        (_attention(q, k, v, mask, mask_after=True)[1],
         "mask BEFORE the softmax (scores = -inf where mask is False): zeroing the weights "
         "afterwards leaves rows that no longer sum to 1."),
        (_attention(q, k, v, mask, fill=0.0)[1],
         "a masked score must become -inf, not 0: exp(0) = 1 still gives it weight."),
        (_attention(q, k, v, ~mask | np.eye(4, dtype=bool))[1],
         "True in the mask means MAY attend; you blocked those positions instead."),
        (_attention(q, k, v)[1], "apply the mask: query i may only see keys j <= i here."),
        (_attention(q, k, v, mask, scale=False)[1], "scale the scores by 1 / sqrt(d)."),
    ], nan_hint="a row whose keys are ALL blocked gives 0 / 0: True in the mask means MAY "
                "attend (row 3 of np.tri(4) allows every key); masked scores become -inf "
                "before the softmax.")
    t.expect(out, ref_out, inputs=inputs, what="masked out")
    t.ok("masked before the softmax")

    # batch and heads: (N, H, T, d), and scores that overflow exp
    q, k, v = (rng.standard_normal((2, 2, 3, 4)) for _ in range(3))
    q = q * 300
    inputs = "q, k, v (2, 2, 3, 4) (batch and heads), q scaled so scores reach ~1000"
    out, w = t.unpack(t.call(q, k, v), 2, ("out", "weights"))
    ref_out, ref_w = _attention(q, k, v)
    t.expect(w, ref_w, inputs=inputs, what="weights for large scores, 4-D", nan_hint=(
        "subtract each row's max score (keepdims=True) before np.exp: exp(1000) overflows."))
    t.expect(out, ref_out, inputs=inputs, what="out for 4-D inputs")
    t.ok("4-D inputs (batch, heads)")
    t.ok("stable for scores ~1000")
    f32 = tuple(a[0].astype(np.float32) / 300 ** (i == 0) for i, a in enumerate((q, k, v)))
    _keeps_float32(t, f32, ("out", "weights"), "float32 q, k, v (2, 3, 4)")


# ------------------------------------------------------------ its backward

@exercise("attention.scaled_dot_product_backward", chapter=CHAPTER,
          signature="f(dout, q, k, v, mask=None)")
def _scaled_dot_product_backward(t):
    rng = _rng()
    q, k = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    v = rng.standard_normal((2, 5, 2))
    dout = rng.standard_normal((2, 3, 2))
    for mask, label in ((None, "mask=None"), (rng.random((3, 5)) < 0.5, "a random mask")):
        if mask is not None:
            mask[:, 1] = True                               # every query sees a key
        inputs = f"dout (2, 3, 2), q (2, 3, 4), k (2, 5, 4), v (2, 5, 2), {label}"
        got = t.unpack(t.call(dout, q, k, v, mask), 3, ("dq", "dk", "dv"))
        w = _attention(q, k, v, mask)[1]
        for name, arg, g in zip(("dq", "dk", "dv"), (q, k, v), got, strict=True):
            def f(a, name=name, mask=mask):
                args = {"q": q, "k": k, "v": v, name[1]: a}
                return _attention(args["q"], args["k"], args["v"], mask)[0]

            numeric = _num_grad(lambda a, f=f: np.sum(f(a) * dout), arg)
            hints = [(numeric * np.sqrt(4), f"{name}: the scores were divided by sqrt(d) in "
                      f"the forward, so their gradient is too.")]
            if mask is not None:
                unmasked = _num_grad(lambda a, name=name: np.sum(_attention(
                    *[a if n == name[1] else x for n, x in zip("qkv", (q, k, v), strict=True)]
                )[0] * dout), arg)
                hints.append((unmasked, "use the mask in the forward you differentiate: the "
                              "weights of masked keys are 0."))
            if name in ("dq", "dk"):
                d_w = dout @ np.swapaxes(v, -1, -2)
                ds_diag = d_w * w * (1 - w) / 2
                wrong = ds_diag @ k if name == "dq" else np.swapaxes(ds_diag, -1, -2) @ q
                hints.append((wrong, "the softmax Jacobian is not diagonal: dS = A * (dA - "
                              "sum(dA * A, axis=-1, keepdims=True)), as in chapter 05."))
            t.expect(g, numeric, inputs=inputs, what=name, rtol=1e-5, atol=1e-7, hints=hints)
    t.ok("dq, dk, dv = central differences, with and without a mask")
    _keeps_float32(t, tuple(a.astype(np.float32) for a in (dout, q, k, v)), ("dq", "dk", "dv"),
                   "float32 dout, q, k, v")


# ------------------------------------------------------------ layer normalisation

def _layer_norm(x, gamma, beta, eps, *, axis=-1, ddof=0, eps_inside=True):
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True, ddof=ddof)
    xhat = (x - mean) / (np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps)
    return gamma * xhat + beta


@exercise("attention.layer_norm", chapter=CHAPTER, signature="f(x, gamma, beta, eps=1e-5)")
def _layer_norm_check(t):
    rng = _rng()
    x = rng.standard_normal((4, 5)) * 3 + 1
    gamma, beta = rng.standard_normal(5), rng.standard_normal(5)
    inputs = "x (4, 5), gamma (5,), beta (5,), eps=1e-5"
    expected = _layer_norm(x, gamma, beta, 1e-5)
    t.expect(t.call(x, gamma, beta, 1e-5), expected, inputs=inputs, hints=[
        (gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5) + beta,
         "LayerNorm normalises each ROW (a sample's features, axis=-1); over the batch "
         "(axis=0) is batch normalisation."),
        (_layer_norm(x, gamma, beta, 1e-5, ddof=1), "use the biased variance (ddof=0, "
         "divide by D), as the definition and PyTorch do."),
        (_layer_norm(x, gamma, beta, 1e-5, eps_inside=False), "eps goes INSIDE the square "
         "root: (x - mean) / sqrt(var + eps)."),
        (_layer_norm(x, np.ones(5), np.zeros(5), 1e-5), "scale by gamma and shift by beta."),
        (expected - beta, "add beta."),
    ])
    flat = np.array([[1.0, 1.001, 0.999, 1.0005, 1.0], [0.0, 2.0, -1.0, 4.0, 3.0]])
    inputs = f"x = {flat.tolist()} (a row of nearly equal values), gamma = 1, beta = 0"
    t.expect(t.call(flat, np.ones(5), np.zeros(5), 1e-5),
             _layer_norm(flat, np.ones(5), np.zeros(5), 1e-5), inputs=inputs,
             what="a nearly constant row", hints=[
                 (_layer_norm(flat, np.ones(5), np.zeros(5), 1e-5, eps_inside=False),
                  "eps goes INSIDE the square root: (x - mean) / sqrt(var + eps).")],
             nan_hint="add eps to the variance inside the square root.")
    seq = rng.standard_normal((2, 3, 5))
    t.expect(t.call(seq, gamma, beta, 1e-3), _layer_norm(seq, gamma, beta, 1e-3),
             inputs="x (2, 3, 5) (a batch of sequences), eps=1e-3", what="(N, T, D) input",
             hints=[(_layer_norm(seq, gamma, beta, 1e-5), "use the eps argument.")])
    t.ok("each position over its own features")
    t.keeps_dtype(tuple(a.astype(np.float32) for a in (x, gamma, beta)) + (1e-5,), ("y",),
                  "float32 x, gamma, beta")


@exercise("attention.layer_norm_backward", chapter=CHAPTER,
          signature="f(dout, x, gamma, eps=1e-5)")
def _layer_norm_backward(t):
    rng = _rng()
    x = rng.standard_normal((4, 6)) * 2 + 0.5
    gamma = rng.standard_normal(6)
    dout = rng.standard_normal((4, 6))
    eps = 1e-5
    inputs = "dout (4, 6), x (4, 6), gamma (6,), eps=1e-5"
    dx, dgamma, dbeta = t.unpack(t.call(dout, x, gamma, eps), 3, ("dx", "dgamma", "dbeta"))
    xhat = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + eps)
    inv_std = 1 / np.sqrt(x.var(1, keepdims=True) + eps)
    numeric = _num_grad(lambda a: np.sum(_layer_norm(a, gamma, 0.0, eps) * dout), x)
    t.expect(dx, numeric, inputs=inputs, what="dx", rtol=1e-5, atol=1e-7, hints=[
        (dout * gamma * inv_std, "the mean and the variance depend on x too: dx = (g - "
         "mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps), with g = dout * gamma."),
        (_num_grad(lambda a: np.sum(_layer_norm(a, 1.0, 0.0, eps) * dout), x),
         "multiply dout by gamma first: the gradient reaching xhat is dout * gamma."),
    ])
    t.expect(dgamma, np.sum(dout * xhat, axis=0), inputs=inputs, what="dgamma", hints=[
        (np.sum(dout * x, axis=0), "dgamma sums dout * xhat (the normalised x), not dout * x."),
        (np.mean(dout * xhat, axis=0), "dgamma SUMS over the batch: every row used gamma."),
    ])
    t.expect(dbeta, dout.sum(axis=0), inputs=inputs, what="dbeta", hints=[
        (dout.mean(axis=0), "dbeta sums dout over the batch (axis=0)."),
        (dout.sum(axis=1), "sum over the batch (axis=0): dbeta has gamma's shape (6,)."),
    ])
    t.ok("dx = central differences")
    t.keeps_dtype(tuple(a.astype(np.float32) for a in (dout, x, gamma)) + (eps,),
                  ("dx", "dgamma", "dbeta"), "float32 dout, x, gamma")


# ------------------------------------------------------------ heads, positions, embeddings

@exercise("attention.split_heads", chapter=CHAPTER, signature="f(x, num_heads)")
def _split_heads(t):
    x = np.arange(2 * 3 * 8, dtype=np.float64).reshape(2, 3, 8)
    n, tt, d, h = 2, 3, 8, 4
    expected = x.reshape(n, tt, h, d // h).transpose(0, 2, 1, 3)
    t.expect(t.call(x, h), expected, inputs="x = np.arange(48.).reshape(2, 3, 8), num_heads=4",
             what="heads", hints=[
                 (x.reshape(n, h, tt, d // h), "reshape alone mixes positions into heads: "
                  "reshape to (N, T, H, D/H) first, then transpose to (N, H, T, D/H)."),
                 (x.reshape(n, tt, d // h, h).transpose(0, 3, 1, 2), "heads are CONTIGUOUS "
                  "blocks of features (head 0 = features 0, 1), not every H-th feature."),
                 (x.reshape(n, tt, h, d // h), "transpose to (N, H, T, D/H): heads before "
                  "positions."),
             ])
    t.ok("(N, H, T, D/H), head h = features h D/H ... (h + 1) D/H - 1")


def _positions(n, d, *, halves=False, pair=2, swap=False):
    P = np.zeros((n, d))
    for p in range(n):
        for i in range(d // 2):
            angle = p / 10000 ** (pair * i / d)
            a, b = (np.cos(angle), np.sin(angle)) if swap else (np.sin(angle), np.cos(angle))
            if halves:
                P[p, i], P[p, d // 2 + i] = a, b
            else:
                P[p, 2 * i], P[p, 2 * i + 1] = a, b
    return P


@exercise("attention.positional_encoding", chapter=CHAPTER, signature="f(T, D)")
def _positional_encoding(t):
    for n, d in ((6, 8), (50, 16)):
        expected = _positions(n, d)
        t.expect(t.call(n, d), expected, inputs=f"T={n}, D={d}", what=f"P for T={n}, D={d}",
                 hints=[
                     (_positions(n, d, halves=True), "interleave: sines in the EVEN columns "
                      "(0, 2, 4, ...), cosines in the odd ones, not in two halves."),
                     (_positions(n, d, pair=1), "the exponent is 2i / D: the frequency of "
                      "column pair i is 1 / 10000^(2i/D)."),
                     (_positions(n, d, swap=True), "sine in column 2i, cosine in 2i + 1."),
                 ])
    t.ok("sin in even columns, cos in odd, frequencies 1 / 10000^(2i/D)")


@exercise("attention.embedding_backward", chapter=CHAPTER,
          signature="f(dout, idx, num_embeddings)")
def _embedding_backward(t):
    rng = _rng()
    idx = np.array([[1, 3, 1, 0], [3, 3, 2, 1]])
    dout = rng.standard_normal((2, 4, 3))
    expected = np.zeros((5, 3))
    for pos in np.ndindex(idx.shape):
        expected[idx[pos]] += dout[pos]
    last_wins = np.zeros((5, 3))
    last_wins[idx.reshape(-1)] += dout.reshape(-1, 3)
    t.expect(t.call(dout, idx, 5), expected, inputs=f"dout (2, 4, 3), idx = {idx.tolist()}, "
             f"num_embeddings=5", what="dW", hints=[
                 (last_wins, "dW[idx] += dout keeps only ONE contribution per repeated index "
                  "(NumPy buffers fancy-index assignment): use np.add.at, or one-hot rows."),
             ])
    t.ok("repeated indices accumulate; unused rows stay 0")
    t.keeps_dtype((dout.astype(np.float32), idx, 5), ("dW",), "float32 dout, int idx")
