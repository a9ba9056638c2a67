"""Attention layers: ``MultiHeadAttention`` (self-attention on sequences) and the pre-norm
``TransformerBlock`` built from it. Derived in chapters/13_attention_transformers.ipynb,
"Multi-head attention" and "The transformer block"; the kernels are in
:mod:`nnlib.functional.attention`.
"""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from .._validation import (
    ShapeError,
    check_choice,
    check_float,
    check_int,
    check_size,
    reject_unknown_kwargs,
    shape_str,
)
from ..functional import attention as F
from ..utils import as_rng
from .activations import GELU
from .base import Layer, Parameter
from .dense import Dense
from .normalization import LayerNorm

__all__ = ["MultiHeadAttention", "TransformerBlock"]


def _check_sequence(name, layer, x, d):
    if isinstance(x, np.ndarray) and x.ndim != 3:
        fix = (" One sequence? x[None]. Token ids? Embed them first with nl.Embedding."
               if x.ndim == 2 else " Sequences are (batch, time, features).")
        raise ShapeError(f"{name} expected input (N, T, {d}), got {shape_str(x.shape)}.{fix}")
    layer._check_input(x, ndim=3, expected=f"(N, T, {d})")
    if x.shape[2] != d:
        raise ShapeError(f"{name} expected input (N, T, {d}), got {shape_str(x.shape)}: "
                         f"embed_dim is {d}. Build the layer with embed_dim={x.shape[2]}, or "
                         f"project the input to {d} features first.")


class MultiHeadAttention(Layer):
    """Multi-head self-attention (Vaswani et al., 2017) on sequences ``(N, T, D)``.

    q = x Wq + bq, k = x Wk + bk, v = x Wv + bv (the course's ``x @ W + b``); each is
    split along the features into ``num_heads`` contiguous blocks of dh = D / heads (head
    h takes features h dh ... (h + 1) dh - 1); each head attends,
    ``softmax(q_h k_h^T / sqrt(dh)) v_h``; the heads' outputs are put side by side again
    and projected, ``y = concat(heads) Wo + bo``. With ``causal=True`` position t attends
    to positions <= t only (a language model must not see the future).

    This is PyTorch's ``nn.MultiheadAttention(D, heads, batch_first=True)`` called as
    ``mha(x, x, x)`` with ``in_proj_weight = [Wq^T; Wk^T; Wv^T]``, ``in_proj_bias =
    [bq; bk; bv]``, ``out_proj.weight = Wo^T`` and ``out_proj.bias = bo`` (PyTorch stores
    weights transposed: it computes x W^T + b).

    Parameters
    ----------
    embed_dim : int, D
    num_heads : int, divides D
    causal : bool, default False
    rng : None, int or numpy.random.Generator (weights Glorot-uniform, biases 0)
    dtype : np.float32 (default) or np.float64

    Shapes
    ------
    x : (N, T, D) -> y : (N, T, D); Wq, Wk, Wv, Wo : (D, D); bq, bk, bv, bo : (D,).
    After a forward, ``attention`` holds the weights A : (N, heads, T, T), each row a
    distribution over the keys.
    """

    @reject_unknown_kwargs
    def __init__(self, embed_dim, num_heads, *, causal=False, rng=None, dtype=np.float32):
        super().__init__()
        name = "MultiHeadAttention"
        self.embed_dim = check_int(name, "embed_dim", embed_dim, low=1)
        self.num_heads = check_int(name, "num_heads", num_heads, low=1)
        if self.embed_dim % self.num_heads:
            raise ValueError(f"MultiHeadAttention splits embed_dim into num_heads equal blocks: "
                             f"{self.embed_dim} is not divisible by {self.num_heads}. Choose "
                             f"num_heads among the divisors of {self.embed_dim}.")
        if not isinstance(causal, (bool, np.bool_)):
            raise ValueError(f"The 'causal' parameter of MultiHeadAttention must be True or "
                             f"False. Got {causal!r} instead.")
        self.causal = bool(causal)
        self._set_dtype(dtype)
        rng = as_rng(rng)
        d = self.embed_dim
        for what in ("a query weight Wq", "a key weight Wk", "a value weight Wv",
                     "an output weight Wo"):
            check_size(f"MultiHeadAttention({d}, {self.num_heads})", what, (d, d), self.dtype,
                       fix="embed_dim is the feature size D of each token, not the sequence "
                           "length or the vocabulary size.")
        for w in ("Wq", "Wk", "Wv", "Wo"):
            setattr(self, w, Parameter(initializers.glorot_uniform((d, d), rng, self.dtype)))
        for b in ("bq", "bk", "bv", "bo"):
            setattr(self, b, Parameter(np.zeros(d, dtype=self.dtype)))
        self._x = None

    @property
    def head_dim(self):
        return self.embed_dim // self.num_heads

    @property
    def attention(self):
        """The attention weights of the last forward, (N, heads, T, T); None before."""
        return getattr(self, "_A", None)

    def forward(self, x):
        d, h = self.embed_dim, self.num_heads
        _check_sequence("MultiHeadAttention", self, x, d)
        n, t, _ = x.shape
        x2 = x.reshape(n * t, d)
        # the three projections as one GEMM: x (N T, D) @ [Wq | Wk | Wv] (D, 3D)
        w = np.concatenate([self.Wq.data, self.Wk.data, self.Wv.data], axis=1)
        qkv = x2 @ w
        qkv += np.concatenate([self.bq.data, self.bk.data, self.bv.data])
        # (N T, 3D) -> (3, N, H, T, dh): contiguous, so each head's matmul runs in BLAS
        qkv = np.ascontiguousarray(qkv.reshape(n, t, 3, h, d // h).transpose(2, 0, 3, 1, 4))
        q, k, v = qkv
        mask = F.causal_mask(t) if self.causal else None
        out, self._A = F.scaled_dot_product_attention(q, k, v, mask)   # (N, H, T, dh)
        merged = F.merge_heads(out).reshape(n * t, d)                     # (N T, D)
        y = merged @ self.Wo.data
        y += self.bo.data
        self._x, self._qkv, self._merged = x2, qkv, merged
        return y.reshape(n, t, d)

    def backward(self, dout):
        self._require_forward()
        n, hh, t, dh = self._qkv.shape[1:]
        d = self.embed_dim
        if getattr(dout, "shape", None) != (n, t, d):
            raise ShapeError(f"MultiHeadAttention.backward expected dout of shape "
                             f"{shape_str((n, t, d))}, got {shape_str(np.shape(dout))}.")
        d2 = dout.reshape(n * t, d)
        self.Wo.grad += self._merged.T @ d2
        self.bo.grad += d2.sum(axis=0)
        dmerged = F.split_heads((d2 @ self.Wo.data.T).reshape(n, t, d), hh)   # (N, H, T, dh)
        q, k, v = self._qkv
        dq, dk, dv = F.scaled_dot_product_attention_backward(
            np.ascontiguousarray(dmerged), q, k, v, self._A)
        # (3, N, H, T, dh) -> (N T, 3D), the layout of the fused projection
        dqkv = np.stack([dq, dk, dv]).transpose(1, 3, 0, 2, 4).reshape(n * t, 3 * d)
        dw = self._x.T @ dqkv                                                 # (D, 3D)
        db = dqkv.sum(axis=0)
        for i, (w, b) in enumerate(((self.Wq, self.bq), (self.Wk, self.bk), (self.Wv, self.bv))):
            w.grad += dw[:, i * d:(i + 1) * d]
            b.grad += db[i * d:(i + 1) * d]
        w = np.concatenate([self.Wq.data, self.Wk.data, self.Wv.data], axis=1)
        return (dqkv @ w.T).reshape(n, t, d)

    def parameters(self):
        return {"Wq": self.Wq, "Wk": self.Wk, "Wv": self.Wv, "Wo": self.Wo,
                "bq": self.bq, "bk": self.bk, "bv": self.bv, "bo": self.bo}

    def output_shape(self, input_shape):
        if len(input_shape) != 2 or input_shape[1] != self.embed_dim:
            raise ShapeError(f"MultiHeadAttention expected per-sample input (T, "
                             f"{self.embed_dim}), got {shape_str(input_shape)}.")
        return tuple(input_shape)

    def get_config(self):
        return {"embed_dim": self.embed_dim, "num_heads": self.num_heads,
                "causal": self.causal, "dtype": self.dtype.name}

    def __repr__(self):
        extra = ", causal=True" if self.causal else ""
        extra += "" if self.dtype == np.float32 else f", dtype=np.{self.dtype.name}"
        return f"MultiHeadAttention({self.embed_dim}, {self.num_heads}{extra})"


class TransformerBlock(Layer):
    """A pre-norm transformer block (as GPT-2 and PyTorch's
    ``TransformerEncoderLayer(norm_first=True)``):

        x = x + MultiHeadAttention(LayerNorm(x))
        y = x + MLP(LayerNorm(x)),   MLP(h) = GELU(h W1 + b1) W2 + b2.

    Both sub-layers are residual, so the gradient reaches the input unchanged through
    the identity paths however many blocks are stacked. Its parts are attributes:
    ``ln1``, ``attn``, ``ln2``, ``fc1``, ``act``, ``fc2``; parameters are named after them
    (``"attn.Wq"``, ``"fc1.W"``, ``"ln2.gamma"`` ...).

    Parameters
    ----------
    embed_dim : int, D
    num_heads : int, divides D
    mlp_ratio : int, the MLP's hidden width is ``mlp_ratio * D`` (default 4)
    causal : bool, causal self-attention (default False)
    gelu : "tanh" (default, the fast form GPT-2 uses) or "none" (exact x Phi(x))
    eps : float, LayerNorm's eps (default 1e-5)
    rng : None, int or numpy.random.Generator
    dtype : np.float32 (default) or np.float64

    Shapes
    ------
    x : (N, T, D) -> y : (N, T, D)
    """

    @reject_unknown_kwargs
    def __init__(self, embed_dim, num_heads, mlp_ratio=4, *, causal=False, gelu="tanh",
                 eps=1e-5, rng=None, dtype=np.float32):
        super().__init__()
        name = "TransformerBlock"
        self.embed_dim = check_int(name, "embed_dim", embed_dim, low=1)
        self.num_heads = check_int(name, "num_heads", num_heads, low=1)
        self.mlp_ratio = check_int(name, "mlp_ratio", mlp_ratio, low=1)
        self.gelu = check_choice(name, "gelu", gelu, ("tanh", "none"))
        self.eps = check_float(name, "eps", eps, low=0, low_open=True)
        self._set_dtype(dtype)
        rng = as_rng(rng)
        d, hidden = self.embed_dim, self.mlp_ratio * self.embed_dim
        self.ln1 = LayerNorm(d, eps=self.eps, dtype=self.dtype)
        self.attn = MultiHeadAttention(d, self.num_heads, causal=causal, rng=rng,
                                       dtype=self.dtype)
        self.ln2 = LayerNorm(d, eps=self.eps, dtype=self.dtype)
        self.fc1 = Dense(d, hidden, rng=rng, dtype=self.dtype)
        self.act = GELU(approximate=self.gelu, dtype=self.dtype)
        self.fc2 = Dense(hidden, d, rng=rng, dtype=self.dtype)

    @property
    def causal(self):
        return self.attn.causal

    def _parts(self):
        return {"ln1": self.ln1, "attn": self.attn, "ln2": self.ln2, "fc1": self.fc1,
                "act": self.act, "fc2": self.fc2}

    def forward(self, x):
        _check_sequence("TransformerBlock", self, x, self.embed_dim)
        x = x + self.attn.forward(self.ln1.forward(x))
        mlp = self.fc2.forward(self.act.forward(self.fc1.forward(self.ln2.forward(x))))
        self._ran = True
        return x + mlp

    def backward(self, dout):
        self._require_forward("_ran")
        dh = self.fc1.backward(self.act.backward(self.fc2.backward(dout)))
        dx = dout + self.ln2.backward(dh)         # the residual adds the identity path
        return dx + self.ln1.backward(self.attn.backward(dx))

    def parameters(self):
        return {f"{part}.{name}": p for part, layer in self._parts().items()
                for name, p in layer.parameters().items()}

    def train(self):
        for layer in self._parts().values():
            layer.train()
        return super().train()

    def eval(self):
        for layer in self._parts().values():
            layer.eval()
        return super().eval()

    def astype(self, dtype):
        for layer in self._parts().values():
            layer.astype(dtype)
        self.dtype = self.attn.dtype
        return self

    def save_cache(self):
        return {"own": super().save_cache(),
                "parts": {k: layer.save_cache() for k, layer in self._parts().items()}}

    def load_cache(self, cache):
        super().load_cache(cache["own"])
        for k, layer in self._parts().items():
            layer.load_cache(cache["parts"][k])

    def output_shape(self, input_shape):
        return self.attn.output_shape(input_shape)

    def get_config(self):
        return {"embed_dim": self.embed_dim, "num_heads": self.num_heads,
                "mlp_ratio": self.mlp_ratio, "causal": self.causal, "gelu": self.gelu,
                "eps": self.eps, "dtype": self.dtype.name}

    def __repr__(self):
        extra = "" if self.mlp_ratio == 4 else f", mlp_ratio={self.mlp_ratio}"
        extra += ", causal=True" if self.causal else ""
        extra += "" if self.gelu == "tanh" else f", gelu={self.gelu!r}"
        extra += "" if self.eps == 1e-5 else f", eps={self.eps!r}"
        extra += "" if self.dtype == np.float32 else f", dtype=np.{self.dtype.name}"
        return f"TransformerBlock({self.embed_dim}, {self.num_heads}{extra})"
