"""The audit: every layer and loss of nnlib runs once through its own hand-written
``forward`` / ``backward`` and once rebuilt from nnlib.autograd operations, and the two
must give the same output and the same gradients (float64, up to rounding: relative
error below 1e-9 on every entry of dx and of every parameter gradient).

The autograd side never calls a layer: it is the layer's formula written with
``Tensor`` operations, whose vector-Jacobian products are tested on their own against
central differences (tests/test_autograd.py). So a wrong ``backward`` anywhere in the
library -- a missing transpose, a gradient not summed over a fan-out, a mask applied
to the wrong element -- shows up here, with the layer's name and the gradient.

**Adding a layer** (say ``nl.LayerNorm``) takes two things, and the first test below fails
until both exist:

1. a function that writes its forward with ``Tensor`` operations, registered for the
   class: ``@rebuilds(nl.LayerNorm)`` over ``def layer_norm(layer, x, p)``, where ``x``
   is a Tensor (a list of them for ``multi_input`` layers) and ``p`` maps the names of
   ``layer.parameters()`` to Tensors; read hyperparameters from ``layer``;
2. one or more rows in ``CASES``: ``"LayerNorm": (lambda: nl.LayerNorm(6, dtype=F64),
   (4, 6))``, a float64 factory and the input shape (a list of shapes for several inputs).

A loss takes a ``@rebuilds_loss`` function ``(loss, pred, target) -> scalar Tensor`` and a
row in ``LOSS_CASES``. Containers (``Sequential``, ``Residual``, graph ``Model``) rebuild
their children through the same table, so a new layer also works inside them.
"""

import numpy as np
import pytest

import nnlib as nl
from nnlib.autograd import Tensor, concatenate
from nnlib.functional.conv import pad_amounts

F64 = np.float64
RTOL = 1e-9

# ----------------------------------------------------------------- layers, rebuilt

REBUILD = {}        # layer class -> function(layer, x, p) -> Tensor
REBUILD_LOSS = {}   # loss class -> function(loss, pred, target) -> scalar Tensor


def rebuilds(*classes):
    def register(fn):
        for cls in classes:
            REBUILD[cls] = fn
        return fn
    return register


def rebuilds_loss(*classes):
    def register(fn):
        for cls in classes:
            REBUILD_LOSS[cls] = fn
        return fn
    return register


def rebuild(layer, x, p):
    """``layer``'s forward pass on Tensor ``x`` with parameter Tensors ``p``. Exact class
    lookup: a subclass has its own formula, or no row."""
    fn = REBUILD.get(type(layer))
    if fn is None:
        raise KeyError(f"no autograd rebuild of {type(layer).__name__}: add a function "
                       f"decorated @rebuilds(nl.{type(layer).__name__}) to {__name__}.")
    return fn(layer, x, p)


def children_params(p, index):
    """The parameters of child ``index`` of a container: "0.W" -> "W"."""
    prefix = f"{index}."
    return {name[len(prefix):]: t for name, t in p.items() if name.startswith(prefix)}


@rebuilds(nl.Dense)
def dense(layer, x, p):
    return x @ p["W"] + p["b"]


@rebuilds(nl.ReLU)
def relu(layer, x, p):
    return x.relu()


@rebuilds(nl.LeakyReLU)
def leaky_relu(layer, x, p):
    return x.relu() - layer.alpha * (-x).relu()          # x > 0: x; x < 0: alpha x


@rebuilds(nl.ELU)
def elu(layer, x, p):
    return x.relu() + layer.alpha * ((-(-x).relu()).exp() - 1)   # x < 0: alpha (e^x - 1)


@rebuilds(nl.Sigmoid)
def sigmoid(layer, x, p):
    return x.sigmoid()


@rebuilds(nl.Tanh)
def tanh(layer, x, p):
    return x.tanh()


@rebuilds(nl.Softmax)
def softmax(layer, x, p):
    e = (x - x.max(axis=-1, keepdims=True)).exp()
    return e / e.sum(axis=-1, keepdims=True)


#: Pointwise layers hold NumPy functions; the audit knows the Tensor twin of these.
POINTWISE = {np.tanh: Tensor.tanh, np.exp: Tensor.exp}


@rebuilds(nl.Pointwise)
def pointwise(layer, x, p):
    return POINTWISE[layer.f](x)


@rebuilds(nl.Flatten)
def flatten(layer, x, p):
    return x.reshape(x.shape[0], -1)


@rebuilds(nl.Reshape)
def reshape(layer, x, p):
    return x.reshape(x.shape[0], *layer.shape)


@rebuilds(nl.Dropout)
def dropout(layer, x, p):
    # the mask the layer drew in its forward pass is a constant of the function
    return x if layer._mask is None else x * layer._mask


def pad2d(x, rows, cols):
    """Zero padding of (N, C, H, W) by concatenating zero blocks: (top, bottom), (left,
    right)."""
    n, c, h, w = x.shape
    zeros = np.zeros
    x = concatenate([zeros((n, c, rows[0], w)), x, zeros((n, c, rows[1], w))], axis=2)
    return concatenate([zeros((n, c, h + sum(rows), cols[0])), x,
                        zeros((n, c, h + sum(rows), cols[1]))], axis=3)


def windows(x, kh, kw, stride):
    """(N, C, H, W) -> (N, C, H_out, W_out, kh, kw) by integer-array indexing. Windows
    overlap when stride < k: an element picked by several windows gets all their
    gradients summed -- the indexing VJP *is* col2im."""
    _, _, h, w = x.shape
    ho, wo = (h - kh) // stride + 1, (w - kw) // stride + 1
    rows = (stride * np.arange(ho))[:, None, None, None] + np.arange(kh)[None, None, :, None]
    cols = (stride * np.arange(wo))[None, :, None, None] + np.arange(kw)[None, None, None, :]
    return x[:, :, rows, cols]


@rebuilds(nl.Conv2D)
def conv2d(layer, x, p):
    (kh, kw), s = layer.kernel_size, layer.stride
    n, _, h, w = x.shape
    x = pad2d(x, pad_amounts(h, kh, s, layer.padding), pad_amounts(w, kw, s, layer.padding))
    patches = windows(x, kh, kw, s)                           # (N, C, Ho, Wo, kh, kw)
    _, c, ho, wo, _, _ = patches.shape
    cols = patches.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)
    out = cols @ p["W"].reshape(layer.out_channels, -1).T + p["b"]   # (N Ho Wo, F)
    return out.reshape(n, ho, wo, layer.out_channels).transpose(0, 3, 1, 2)


@rebuilds(nl.MaxPool2D)
def maxpool(layer, x, p):
    k = layer.pool_size
    patches = windows(x, k, k, layer.stride)
    return patches.reshape(*patches.shape[:4], k * k).max(axis=-1)


@rebuilds(nl.AvgPool2D)
def avgpool(layer, x, p):
    k = layer.pool_size
    patches = windows(x, k, k, layer.stride)
    return patches.reshape(*patches.shape[:4], k * k).mean(axis=-1)


@rebuilds(nl.RNN)
def rnn(layer, x, p):
    n, t, _ = x.shape
    h, states = Tensor(np.zeros((n, layer.hidden_size))), []
    for step in range(t):
        h = (x[:, step] @ p["Wx"] + h @ p["Wh"] + p["b"]).tanh()
        states.append(h.reshape(n, 1, -1))
    return concatenate(states, axis=1)


@rebuilds(nl.LSTM)
def lstm(layer, x, p):
    n, t, _ = x.shape
    H = layer.hidden_size
    h = c = Tensor(np.zeros((n, H)))
    states = []
    for step in range(t):
        a = x[:, step] @ p["Wx"] + h @ p["Wh"] + p["b"]       # (N, 4H): i, f, g, o
        i, f = a[:, :H].sigmoid(), a[:, H:2 * H].sigmoid()
        g, o = a[:, 2 * H:3 * H].tanh(), a[:, 3 * H:].sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        states.append(h.reshape(n, 1, H))
    return concatenate(states, axis=1)


@rebuilds(nl.LastTimeStep)
def last_time_step(layer, x, p):
    return x[:, -1]


@rebuilds(nl.Add)
def add(layer, xs, p):
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


@rebuilds(nl.Multiply)
def multiply(layer, xs, p):
    out = xs[0]
    for x in xs[1:]:
        out = out * x
    return out


@rebuilds(nl.Concatenate)
def concat(layer, xs, p):
    return concatenate(xs, axis=layer.axis)


def normalise(x, axes, eps):
    """(x - mean) / sqrt(var + eps) over ``axes``, the biased variance (divide by the
    count), as batch and layer normalisation use it."""
    centred = x - x.mean(axis=axes, keepdims=True)
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return centred * (var + eps) ** -0.5


@rebuilds(nl.BatchNorm1D, nl.BatchNorm2D)
def batch_norm(layer, x, p):
    """Training: the batch's statistics (per feature / channel); evaluation: the running
    statistics, constants of the function."""
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
    if layer.training:
        xhat = normalise(x, (0,) if x.ndim == 2 else (0, 2, 3), layer.eps)
    else:
        xhat = (x - layer.running_mean.reshape(shape)) * \
            ((layer.running_var + layer.eps) ** -0.5).reshape(shape)
    return xhat * p["gamma"].reshape(*shape) + p["beta"].reshape(*shape)


@rebuilds(nl.LayerNorm)
def layer_norm(layer, x, p):
    k = len(layer.normalized_shape)
    return normalise(x, tuple(range(x.ndim - k, x.ndim)), layer.eps) * p["gamma"] + p["beta"]


#: Gauss-Legendre nodes and weights on [-1, 1]: Phi(x) = 1/2 + x/2 sum_i w_i phi(x (s_i + 1)/2)
#: integrates the normal density from 0 to x; the integrand is smooth, so 40 nodes give
#: Phi (and its derivative) to rounding for the |x| < 5 of the audit's inputs.
GAUSS_NODES, GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(40)


@rebuilds(nl.GELU)
def gelu(layer, x, p):
    if layer.approximate == "tanh":
        c = np.sqrt(2 / np.pi)
        return 0.5 * x * (1 + (c * (x + 0.044715 * x * x * x)).tanh())
    # exact: x Phi(x), Phi written as a quadrature of exp (autograd has no erf)
    t = x.reshape(*x.shape, 1) * ((GAUSS_NODES + 1) / 2)          # (..., 40) points in [0, x]
    density = (t * t * -0.5).exp() * (GAUSS_WEIGHTS / np.sqrt(2 * np.pi))
    return x * (0.5 + 0.5 * x * density.sum(axis=-1))


@rebuilds(nl.Embedding)
def embedding(layer, x, p):
    return p["W"][x.data]                    # integer ids pick rows; repeats add up


@rebuilds(nl.PositionalEmbedding)
def positional_embedding(layer, x, p):
    t = x.shape[1]
    table = p["P"] if layer.kind == "learned" else layer.P      # sinusoidal: a constant
    return x + table[:t]


@rebuilds(nl.MultiHeadAttention)
def multi_head_attention(layer, x, p):
    n, t, d = x.shape
    h = layer.num_heads
    dh = d // h

    def heads(a):                            # (N, T, D) -> (N, H, T, dh)
        return a.reshape(n, t, h, dh).transpose(0, 2, 1, 3)

    q, k, v = (heads(x @ p[f"W{c}"] + p[f"b{c}"]) for c in "qkv")
    scores = q @ k.transpose(0, 1, 3, 2) * (1 / np.sqrt(dh))       # (N, H, T, T)
    e = (scores - scores.max(axis=-1, keepdims=True)).exp()
    if layer.causal:                         # a masked weight is 0: multiply by the mask
        e = e * np.tril(np.ones((t, t)))
    weights = e / e.sum(axis=-1, keepdims=True)
    merged = (weights @ v).transpose(0, 2, 1, 3).reshape(n, t, d)
    return merged @ p["Wo"] + p["bo"]


@rebuilds(nl.TransformerBlock)
def transformer_block(layer, x, p):
    def part(name, a):
        return rebuild(getattr(layer, name), a, children_params(p, name))

    x = x + part("attn", part("ln1", x))
    return x + part("fc2", part("act", part("fc1", part("ln2", x))))


@rebuilds(nl.Sequential)
def chain(layer, x, p):
    for i, child in enumerate(layer.layers):
        x = rebuild(child, x, children_params(p, i))
    return x


@rebuilds(nl.Residual)
def residual(layer, x, p):
    return x + chain(layer, x, p)


@rebuilds(nl.Model)
def graph_model(layer, xs, p):
    """Walk the nodes in order; a layer used at two nodes uses the same parameter
    Tensors twice, and autograd sums both gradients (fan-out)."""
    values = {id(node): x for node, x in zip(layer.inputs, xs, strict=True)}
    index = {id(child): i for i, child in enumerate(layer.layers)}
    for node in layer.nodes:
        if node.layer is None:
            continue
        args = [values[id(parent)] for parent in node.parents]
        values[id(node)] = rebuild(node.layer, args if node.layer.multi_input else args[0],
                                   children_params(p, index[id(node.layer)]))
    outs = [values[id(node)] for node in layer.outputs]
    return outs[0] if len(outs) == 1 else outs


# ------------------------------------------------------------------------ the cases

def shared_graph_model():
    """Two inputs, a Dense layer shared by both paths, a concatenation and an Add."""
    a, b = nl.Input((3,)), nl.Input((3,))
    shared = nl.Dense(3, 4, rng=10, dtype=F64)
    ha, hb = nl.Tanh()(shared(a)), shared(b)
    merged = nl.Concatenate()([ha, nl.Multiply()([ha, hb])])
    out = nl.Add()([nl.Dense(8, 2, rng=11, dtype=F64)(merged),
                    nl.Dense(3, 2, rng=12, dtype=F64)(b)])
    return nl.Model(inputs=[a, b], outputs=[out])


class TokenIds(tuple):
    """The input of a row whose first layer is an Embedding: integer ids of this shape in
    [0, vocab). They have no gradient; the layer's backward returns None for them."""

    def __new__(cls, shape, vocab):
        ids = super().__new__(cls, shape)
        ids.vocab = vocab
        return ids


def trained_stats(layer, shape):
    """A batch-norm layer whose running statistics moved away from (0, 1) in a few
    training steps, then switched to evaluation mode."""
    rng = np.random.default_rng(30)
    for _ in range(3):
        layer.forward(1.5 * rng.standard_normal(shape) + 0.7)
    return layer.eval()


# row id -> (float64 factory, input shape or list of shapes)
CASES = {
    "Dense": (lambda: nl.Dense(3, 5, rng=0, dtype=F64), (4, 3)),
    "ReLU": (nl.ReLU, (4, 5)),
    "LeakyReLU": (lambda: nl.LeakyReLU(0.2), (4, 5)),
    "ELU": (lambda: nl.ELU(0.7), (4, 5)),
    "Sigmoid": (nl.Sigmoid, (4, 5)),
    "Tanh": (nl.Tanh, (3, 2, 4)),
    "Softmax": (nl.Softmax, (4, 5)),
    "Pointwise exp": (lambda: nl.Pointwise(np.exp, np.exp), (3, 4)),
    "Flatten": (nl.Flatten, (2, 3, 2, 2)),
    "Reshape": (lambda: nl.Reshape((3, 4)), (2, 12)),
    "Dropout train": (lambda: nl.Dropout(0.4, rng=3), (5, 6)),
    "Dropout eval": (lambda: nl.Dropout(0.4, rng=3).eval(), (5, 6)),
    "Conv2D valid": (lambda: nl.Conv2D(2, 3, 3, rng=1, dtype=F64), (2, 2, 5, 6)),
    "Conv2D same stride 2": (lambda: nl.Conv2D(2, 3, (3, 2), stride=2, padding="same", rng=2,
                                               dtype=F64), (2, 2, 5, 6)),
    "Conv2D full": (lambda: nl.Conv2D(1, 2, 2, padding="full", rng=3, dtype=F64),
                    (1, 1, 4, 3)),
    "Conv2D pad 1 stride 2": (lambda: nl.Conv2D(3, 2, 3, stride=2, padding=1, rng=4,
                                                dtype=F64), (2, 3, 6, 5)),
    "MaxPool2D": (lambda: nl.MaxPool2D(2), (2, 3, 4, 5)),
    "MaxPool2D overlapping": (lambda: nl.MaxPool2D(3, stride=2), (2, 2, 7, 7)),
    "AvgPool2D": (lambda: nl.AvgPool2D(2), (2, 2, 5, 4)),
    "AvgPool2D overlapping": (lambda: nl.AvgPool2D(3, stride=1), (2, 2, 5, 4)),
    "RNN": (lambda: nl.RNN(3, 4, rng=5, dtype=F64), (2, 5, 3)),
    "LSTM": (lambda: nl.LSTM(3, 4, rng=6, dtype=F64), (2, 4, 3)),
    "LastTimeStep": (nl.LastTimeStep, (2, 3, 4)),
    "Add": (nl.Add, [(3, 4), (3, 4), (3, 4)]),
    "Multiply": (nl.Multiply, [(3, 2, 2), (3, 2, 2)]),
    "Concatenate": (nl.Concatenate, [(3, 2), (3, 5)]),
    "Concatenate axis 1": (lambda: nl.Concatenate(axis=1), [(2, 1, 3, 3), (2, 2, 3, 3)]),
    "Residual": (lambda: nl.Residual(nl.Dense(4, 4, rng=7, dtype=F64), nl.Tanh(),
                                     nl.Dense(4, 4, rng=8, dtype=F64)), (5, 4)),
    "Sequential CNN": (lambda: nl.Sequential(
        nl.Conv2D(1, 2, 3, padding="same", rng=9, dtype=F64), nl.ReLU(), nl.MaxPool2D(2),
        nl.Flatten(), nl.Dense(8, 3, rng=10, dtype=F64), nl.Softmax()), (2, 1, 4, 4)),
    "Sequential LSTM": (lambda: nl.Sequential(nl.LSTM(2, 3, rng=11, dtype=F64),
                                              nl.LastTimeStep(),
                                              nl.Dense(3, 2, rng=12, dtype=F64)), (3, 4, 2)),
    "Model shared layer": (shared_graph_model, [(4, 3), (4, 3)]),
    "BatchNorm1D train": (lambda: nl.BatchNorm1D(5, dtype=F64), (6, 5)),
    "BatchNorm1D eval": (lambda: trained_stats(nl.BatchNorm1D(5, dtype=F64), (6, 5)), (6, 5)),
    "BatchNorm2D train": (lambda: nl.BatchNorm2D(3, dtype=F64), (2, 3, 4, 3)),
    "BatchNorm2D eval": (lambda: trained_stats(nl.BatchNorm2D(3, dtype=F64), (2, 3, 4, 3)),
                         (2, 3, 4, 3)),
    "LayerNorm": (lambda: nl.LayerNorm(6, dtype=F64), (4, 6)),
    "LayerNorm sequence, 2 axes": (lambda: nl.LayerNorm((3, 4), dtype=F64), (2, 3, 4)),
    "GELU exact": (lambda: nl.GELU(dtype=F64), (4, 5)),
    "GELU tanh": (lambda: nl.GELU(approximate="tanh", dtype=F64), (4, 5)),
    "Embedding": (lambda: nl.Embedding(7, 3, rng=13, dtype=F64), TokenIds((4, 5), 7)),
    "PositionalEmbedding learned": (lambda: nl.PositionalEmbedding(6, 4, rng=14, dtype=F64),
                                    (3, 5, 4)),
    "PositionalEmbedding sinusoidal": (lambda: nl.PositionalEmbedding(
        6, 4, kind="sinusoidal", dtype=F64), (3, 5, 4)),
    "MultiHeadAttention": (lambda: nl.MultiHeadAttention(6, 2, rng=15, dtype=F64), (2, 4, 6)),
    "MultiHeadAttention causal": (lambda: nl.MultiHeadAttention(4, 1, causal=True, rng=16,
                                                                dtype=F64), (3, 5, 4)),
    "TransformerBlock": (lambda: nl.TransformerBlock(4, 2, mlp_ratio=2, rng=17, dtype=F64),
                         (2, 3, 4)),
    "TransformerBlock causal exact GELU": (lambda: nl.TransformerBlock(
        6, 3, causal=True, gelu="none", rng=18, dtype=F64), (2, 4, 6)),
    "Sequential tiny language model": (lambda: nl.Sequential(
        nl.Embedding(9, 4, rng=19, dtype=F64), nl.PositionalEmbedding(5, 4, rng=20, dtype=F64),
        nl.TransformerBlock(4, 2, causal=True, rng=21, dtype=F64), nl.LayerNorm(4, dtype=F64),
        nl.Dense(4, 9, rng=22, dtype=F64)), TokenIds((3, 5), 9)),
}


def away_from_kinks(rng, shape):
    x = rng.standard_normal(shape)
    x[np.abs(x) < 1e-3] += 2e-3
    return x


def layer_classes_in_case(make):
    layer, found, stack = make(), set(), [make()]
    while stack:
        current = stack.pop()
        found.add(type(current))
        stack.extend(current.children())
    return type(layer), found


def public(base):
    """The classes of nnlib's public API that derive from ``base``."""
    names = set(nl.__all__) | set(nl.layers.__all__) | set(nl.models.__all__)
    modules = {name: getattr(nl, name, None) or getattr(nl.layers, name, None)
               or getattr(nl.models, name) for name in names}
    return {obj for obj in modules.values() if isinstance(obj, type) and issubclass(obj, base)}


def concrete_layers():
    """Public layers that compute something: ``forward`` is their own, not the base's
    (``Layer``, ``Merge``, ``LayerGroup``, ``Container`` are bases)."""
    return {cls for cls in public(nl.Layer) if cls.forward is not nl.Layer.forward}


def concrete_losses():
    return {cls for cls in public(nl.Loss) if hasattr(cls, "_compute")}


# ---------------------------------------------------------------------- coverage first

def test_every_public_layer_and_loss_has_a_rebuild_and_a_row():
    tops = {layer_classes_in_case(make)[0] for make, _ in CASES.values()}
    missing = []
    for cls in sorted(concrete_layers(), key=lambda c: c.__name__):
        if cls not in REBUILD:
            missing.append(f"nl.{cls.__name__} has no autograd rebuild: add "
                           f"@rebuilds(nl.{cls.__name__}) def ...(layer, x, p)")
        if cls not in tops:
            missing.append(f"nl.{cls.__name__} has no row in CASES: add "
                           f'"{cls.__name__}": (factory, input shape)')
    for cls in sorted(concrete_losses(), key=lambda c: c.__name__):
        if cls not in REBUILD_LOSS:
            missing.append(f"nl.{cls.__name__} has no @rebuilds_loss function")
        if not any(isinstance(make(), cls) and type(make()) is cls
                   for make, *_ in LOSS_CASES.values()):
            missing.append(f"nl.{cls.__name__} has no row in LOSS_CASES")
    assert not missing, ("the autograd audit (tests/test_autograd_audit.py) does not cover "
                         "every public layer and loss:\n  " + "\n  ".join(missing))


def test_the_coverage_check_sees_layers_bases_and_losses():
    layers = concrete_layers()
    assert {nl.Dense, nl.Conv2D, nl.LSTM, nl.Concatenate, nl.Sequential, nl.Model,
            nl.Residual} <= layers
    assert not {nl.Layer, nl.Merge, nl.Container, nl.LayerGroup} & layers
    assert concrete_losses() == {nl.MSELoss, nl.BCELoss, nl.BCEWithLogitsLoss,
                                 nl.CrossEntropyLoss}
    assert set(REBUILD) == layers, "a rebuild for a class that is not a public layer"


# ------------------------------------------------------------------------ the audit

def audit(make, xs, rng):
    """Run the layer ``make()`` both ways on ``xs`` (an array or a list of arrays);
    return {gradient name: (by the layer's backward, by autograd)}, "y" included."""
    layer, twin = make(), make()      # a seeded factory: the same weights and random state
    for name, p in twin.parameters().items():
        np.testing.assert_array_equal(p.data, layer.parameters()[name].data,
                                      err_msg="the row's factory must be seeded (rng=...)")
    layer.zero_grad()
    y = layer.forward(xs)
    dout = rng.standard_normal(y.shape)
    dx = layer.backward(dout)
    many = isinstance(xs, list)
    ids = not many and np.issubdtype(xs.dtype, np.integer)   # token ids: no gradient
    tx = [Tensor(x.copy(), requires_grad=True) for x in xs] if many else \
        Tensor(xs.copy(), requires_grad=not ids)
    tp = {name: Tensor(p.data.copy(), requires_grad=True)
          for name, p in layer.parameters().items()}
    ty = rebuild(layer, tx, tp)
    ty.backward(dout)
    pairs = {"y": (y, ty.data)}
    if many:
        pairs.update({f"dx{i}": (d, t.grad) for i, (d, t) in enumerate(zip(dx, tx,
                                                                            strict=True))})
    elif ids:
        assert dx is None, "a layer taking integer ids must return dx = None"
    else:
        pairs["dx"] = (dx, tx.grad)
    for name, p in layer.parameters().items():
        pairs[f"d{name}"] = (p.grad.copy(), tp[name].grad)
    # backward_params (what fit runs for the first layer) must give the same parameter
    # gradients as backward
    twin.zero_grad()
    twin.forward(xs)
    twin.backward_params(dout)
    for name, p in twin.parameters().items():
        pairs[f"d{name} (backward_params)"] = (p.grad, tp[name].grad)
    return pairs


def assert_same(pairs, what):
    for name, (ours, theirs) in pairs.items():
        assert ours.shape == theirs.shape, f"{what} {name}: shape {ours.shape} vs {theirs.shape}"
        err = np.abs(ours - theirs) / np.maximum(np.abs(ours) + np.abs(theirs), 1e-12)
        worst = np.unravel_index(np.argmax(err), err.shape) if err.size else ()
        assert err.size == 0 or err.max() < RTOL, (
            f"{what}: {name} differs from autograd at index {worst}: hand-written "
            f"{ours[worst]:.10g}, autograd {theirs[worst]:.10g} (relative error "
            f"{err.max():.1e})")


@pytest.mark.parametrize("case", CASES)
def test_layer_gradients_equal_autograd(case):
    make, shapes = CASES[case]
    rng = np.random.default_rng(sorted(CASES).index(case))
    if isinstance(shapes, TokenIds):
        xs = rng.integers(0, shapes.vocab, shapes)
    else:
        xs = [away_from_kinks(rng, s) for s in shapes] if isinstance(shapes, list) else \
            away_from_kinks(rng, shapes)
    pairs = audit(make, xs, rng)
    for name in [k for k in pairs if k.split()[0].endswith("bk")]:
        # attention's key bias: its exact gradient is 0 (it adds the same q . bk to every
        # score of a row, and softmax ignores a shift), so both sides are rounding noise;
        # a relative comparison of two noises means nothing: both must be ~0 instead
        ours, theirs = pairs.pop(name)
        assert np.abs(ours).max() < 1e-12 and np.abs(theirs).max() < 1e-12, (case, name)
    assert_same(pairs, case)


def test_the_audit_catches_a_wrong_backward():
    class TanhWithSlip(nl.Tanh):       # a classic slip: 1 - t instead of 1 - t^2
        def backward(self, dout):
            return dout * (1 - self._t)

    class DenseWithMeanBias(nl.Dense):  # db averaged over the batch instead of summed
        def backward(self, dout):
            dx = super().backward(dout)
            self.b.grad -= dout.sum(axis=0) - dout.mean(axis=0)
            return dx

    rng = np.random.default_rng(0)
    REBUILD[TanhWithSlip], REBUILD[DenseWithMeanBias] = tanh, dense
    try:
        with pytest.raises(AssertionError, match=r"slip: dx differs from autograd at index"):
            assert_same(audit(TanhWithSlip, rng.standard_normal((3, 4)), rng), "slip")
        with pytest.raises(AssertionError, match=r"mean bias: db differs"):
            assert_same(audit(lambda: DenseWithMeanBias(3, 2, rng=0, dtype=F64),
                              rng.standard_normal((5, 3)), rng), "mean bias")
    finally:
        del REBUILD[TanhWithSlip], REBUILD[DenseWithMeanBias]


def test_a_layer_without_a_rebuild_is_named():
    class Custom(nl.ReLU):
        pass

    with pytest.raises(KeyError, match=r"no autograd rebuild of Custom.*@rebuilds\(nl.Custom\)"):
        rebuild(Custom(), Tensor(np.ones((2, 2))), {})


# ------------------------------------------------------------------------------ losses

@rebuilds_loss(nl.MSELoss)
def mse(loss, pred, target):
    return ((pred - target) ** 2).mean()


@rebuilds_loss(nl.BCELoss)
def bce(loss, pred, target):
    # nnlib clips p to [1e-12, 1 - 1e-12]; the rows keep p inside, where the clip is the
    # identity
    return -(target * pred.log() + (1 - target) * (1 - pred).log()).mean()


@rebuilds_loss(nl.BCEWithLogitsLoss)
def bce_with_logits(loss, z, target):
    # log(1 + e^-z) + (1 - y) z, written to stay finite: max(z, 0) - z y + log(1 + e^-|z|)
    abs_z = z.relu() + (-z).relu()
    return (z.relu() - z * target + ((-abs_z).exp() + 1).log()).mean()


@rebuilds_loss(nl.CrossEntropyLoss)
def cross_entropy(loss, z, target):
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - shifted.exp().sum(axis=1, keepdims=True).log()      # log-softmax
    if target.ndim == 1:
        return -log_p[np.arange(len(target)), target].mean()
    return -(log_p * target).sum(axis=1).mean()


def soft_rows(rng, n, c):
    e = np.exp(rng.standard_normal((n, c)))
    return e / e.sum(axis=1, keepdims=True)


# row id -> (loss factory, prediction maker, target maker), makers take an rng
LOSS_CASES = {
    "MSELoss": (nl.MSELoss, lambda r: r.standard_normal((4, 3)),
                lambda r: r.standard_normal((4, 3))),
    "BCELoss": (nl.BCELoss, lambda r: r.uniform(0.05, 0.95, (5, 2)),
                lambda r: r.integers(0, 2, (5, 2)).astype(F64)),
    "BCELoss soft targets": (nl.BCELoss, lambda r: r.uniform(0.05, 0.95, (6,)),
                             lambda r: r.uniform(0, 1, (6,))),
    "BCEWithLogitsLoss": (nl.BCEWithLogitsLoss, lambda r: 4 * r.standard_normal((5, 3)),
                          lambda r: r.integers(0, 2, (5, 3)).astype(F64)),
    "CrossEntropyLoss labels": (nl.CrossEntropyLoss, lambda r: 3 * r.standard_normal((6, 4)),
                                lambda r: r.integers(0, 4, 6)),
    "CrossEntropyLoss soft targets": (nl.CrossEntropyLoss, lambda r: r.standard_normal((5, 3)),
                                      lambda r: soft_rows(r, 5, 3)),
}


@pytest.mark.parametrize("case", LOSS_CASES)
def test_loss_gradients_equal_autograd(case):
    make, make_pred, make_target = LOSS_CASES[case]
    rng = np.random.default_rng(sorted(LOSS_CASES).index(case))
    pred, target = make_pred(rng), make_target(rng)
    loss = make()
    value = loss.forward(pred, target)
    tp = Tensor(pred.copy(), requires_grad=True)
    tl = REBUILD_LOSS[type(loss)](loss, tp, target)
    tl.backward()
    assert_same({"loss": (np.array(value), tl.data), "dpred": (loss.backward(), tp.grad)},
                case)
