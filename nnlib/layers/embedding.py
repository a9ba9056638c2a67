"""Token and position embeddings: ``Embedding`` (a trainable table looked up by integer
index) and ``PositionalEmbedding`` (adds a code for each position of a sequence).
Derived in chapters/13_attention_transformers.ipynb, "Tokens and embeddings" and
"Attention ignores order — positional encodings"; the math is in
:mod:`nnlib.functional.embedding`.
"""

from __future__ import annotations

import numpy as np

from .._validation import (
    ShapeError,
    check_choice,
    check_int,
    check_size,
    reject_unknown_kwargs,
    shape_str,
)
from ..functional import embedding as F
from ..utils import as_rng
from .base import Layer, Parameter

__all__ = ["Embedding", "PositionalEmbedding"]


class Embedding(Layer):
    """A table of ``num_embeddings`` trainable vectors, looked up by integer index:
    ``y = W[idx]``, the product of one-hot rows with ``W`` without building them.

    Backward adds each position's row of ``dout`` to the row of ``W.grad`` its index
    picked, so an index used several times accumulates every contribution. The integer
    input has no gradient: ``backward`` returns None. ``fit`` and ``predict`` keep the
    integer inputs of a model whose first layer is an Embedding.

    Parameters
    ----------
    num_embeddings : int, V (the vocabulary size)
    embedding_dim : int, D
    rng : None, int or numpy.random.Generator (W starts N(0, 1), as PyTorch's)
    dtype : np.float32 (default) or np.float64

    Shapes
    ------
    idx : integer array of any shape S (e.g. (N, T)), values in [0, V) -> y : S + (D,);
    W : (V, D)
    """

    #: The input is integer indices: ``fit``/``predict`` must not convert it to floats.
    takes_indices = True

    @reject_unknown_kwargs
    def __init__(self, num_embeddings, embedding_dim, *, rng=None, dtype=np.float32):
        super().__init__()
        self.num_embeddings = check_int("Embedding", "num_embeddings", num_embeddings, low=1)
        self.embedding_dim = check_int("Embedding", "embedding_dim", embedding_dim, low=1)
        self._set_dtype(dtype)
        check_size(f"Embedding({self.num_embeddings}, {self.embedding_dim})",
                   "an embedding table W", (self.num_embeddings, self.embedding_dim),
                   self.dtype, fix="num_embeddings is the vocabulary size (one row per "
                                   "token id) and embedding_dim the vector length.")
        self.W = Parameter(as_rng(rng).standard_normal(
            (self.num_embeddings, self.embedding_dim)).astype(self.dtype))
        self._idx = None

    def forward(self, idx):
        if not isinstance(idx, np.ndarray):
            raise TypeError(f"Embedding expected a NumPy array of integer indices, got "
                            f"{type(idx).__name__}. Convert it: np.asarray(idx, dtype=np.int64).")
        if not np.issubdtype(idx.dtype, np.integer):
            whole = np.issubdtype(idx.dtype, np.floating) and bool(
                np.all(np.isfinite(idx)) and np.all(idx == np.round(idx)))
            fix = ("They are whole numbers: pass idx.astype(np.int64)." if whole else
                   "Map each token to its integer id first (a vocabulary lookup).")
            raise TypeError(f"Embedding expected integer indices, got {idx.dtype}. {fix}")
        if idx.ndim == 0:
            raise ShapeError("Embedding expected indices of shape (N, ...), got a scalar. "
                             "Rows are samples: pass np.array([[i]]) for one token.")
        if idx.size:
            lo, hi = int(idx.min()), int(idx.max())
            if lo < 0 or hi >= self.num_embeddings:
                bad = lo if lo < 0 else hi
                raise ValueError(f"Embedding({self.num_embeddings}, {self.embedding_dim}) got "
                                 f"index {bad}, but indices must be in [0, "
                                 f"{self.num_embeddings - 1}]. Make the table larger "
                                 f"(num_embeddings >= {hi + 1}) or fix the vocabulary.")
        self._idx = idx
        return F.embedding(self.W.data, idx)

    def backward(self, dout):
        self._require_forward("_idx")
        expected = (*self._idx.shape, self.embedding_dim)
        if getattr(dout, "shape", None) != expected:
            raise ShapeError(f"Embedding.backward expected dout of shape "
                             f"{shape_str(expected)}, got {shape_str(np.shape(dout))}.")
        F.embedding_backward(dout, self._idx, self.num_embeddings, out=self.W.grad)
        return None  # integer indices have no gradient

    def parameters(self):
        return {"W": self.W}

    def output_shape(self, input_shape):
        return (*input_shape, self.embedding_dim)

    def get_config(self):
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "dtype": self.dtype.name}

    def __repr__(self):
        extra = "" if self.dtype == np.float32 else f", dtype=np.{self.dtype.name}"
        return f"Embedding({self.num_embeddings}, {self.embedding_dim}{extra})"


class PositionalEmbedding(Layer):
    """Adds a vector per position to a sequence of embeddings: ``y[:, t] = x[:, t] + P[t]``.
    Attention by itself ignores order (permuting the tokens permutes its outputs); this is
    how a transformer learns where each token is.

    Parameters
    ----------
    max_len : int, the longest sequence the layer takes
    embed_dim : int, D
    kind : "learned" (default; P is a trainable parameter, N(0, 1) at the start) or
        "sinusoidal" (the fixed sines and cosines of
        :func:`nnlib.functional.embedding.sinusoidal_positions`; no parameters)
    rng : None, int or numpy.random.Generator
    dtype : np.float32 (default) or np.float64

    Shapes
    ------
    x : (N, T, D) with T <= max_len -> y : (N, T, D); P : (max_len, D)
    """

    @reject_unknown_kwargs
    def __init__(self, max_len, embed_dim, *, kind="learned", rng=None, dtype=np.float32):
        super().__init__()
        self.max_len = check_int("PositionalEmbedding", "max_len", max_len, low=1)
        self.embed_dim = check_int("PositionalEmbedding", "embed_dim", embed_dim, low=1)
        self.kind = check_choice("PositionalEmbedding", "kind", kind, ("learned", "sinusoidal"))
        self._set_dtype(dtype)
        check_size(f"PositionalEmbedding({self.max_len}, {self.embed_dim})",
                   "a position table P", (self.max_len, self.embed_dim), self.dtype,
                   fix="max_len is the longest sequence (time steps T), not the number of "
                       "samples or tokens in the data set.",
                   budgeted=self.kind == "learned")   # a sinusoidal table is not saved
        if self.kind == "learned":
            self.P = Parameter(as_rng(rng).standard_normal(
                (self.max_len, self.embed_dim)).astype(self.dtype))
        else:  # a fixed table, rebuilt from the config (so neither saved nor trained)
            self.P = F.sinusoidal_positions(self.max_len, self.embed_dim, dtype=self.dtype)
        self._t = None

    def _table(self):
        return self.P.data if self.kind == "learned" else self.P

    def forward(self, x):
        d, name = self.embed_dim, "PositionalEmbedding"
        self._check_input(x, ndim=3, expected=f"(N, T, {d})")
        if x.shape[2] != d or x.shape[1] > self.max_len:
            fix = (f"Sequences may have at most max_len = {self.max_len} positions: cut them "
                   f"or build the layer with max_len={x.shape[1]}." if x.shape[2] == d else
                   f"Use PositionalEmbedding({self.max_len}, {x.shape[2]}).")
            raise ShapeError(f"{name} expected input (N, T <= {self.max_len}, {d}), got "
                             f"{shape_str(x.shape)}. {fix}")
        self._t = x.shape[1]
        return x + self._table()[:self._t]

    def backward(self, dout):
        self._require_forward("_t")
        if self.kind == "learned":
            self.P.grad[:self._t] += dout.sum(axis=0)
        return dout

    def parameters(self):
        return {"P": self.P} if self.kind == "learned" else {}

    def astype(self, dtype):
        super().astype(dtype)
        if self.kind == "sinusoidal":   # not a parameter, so the base class skips it
            self.P = self.P.astype(self.dtype)
        return self

    def output_shape(self, input_shape):
        if len(input_shape) != 2 or input_shape[1] != self.embed_dim or (
                input_shape[0] > self.max_len):
            raise ShapeError(f"PositionalEmbedding expected per-sample input (T <= "
                             f"{self.max_len}, {self.embed_dim}), got {shape_str(input_shape)}.")
        return tuple(input_shape)

    def get_config(self):
        return {"max_len": self.max_len, "embed_dim": self.embed_dim, "kind": self.kind,
                "dtype": self.dtype.name}

    def __repr__(self):
        extra = "" if self.kind == "learned" else ", kind='sinusoidal'"
        extra += "" if self.dtype == np.float32 else f", dtype=np.{self.dtype.name}"
        return f"PositionalEmbedding({self.max_len}, {self.embed_dim}{extra})"
