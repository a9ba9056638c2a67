"""The two building blocks: ``Parameter`` (a value and its gradient) and ``Layer``.

The protocol is deliberately small (after micrograd): a layer has ``forward(x) -> y``,
``backward(dout) -> dx`` and ``parameters() -> dict[str, Parameter]``. Backward
*accumulates* into ``Parameter.grad``; ``zero_grad()`` resets it. Defined in
chapters/06_backpropagation.ipynb.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_dtype, float_dtype, reject_unknown_kwargs

__all__ = ["Parameter", "Layer", "as_rng"]


class Parameter:
    """A trainable array and the gradient of the loss with respect to it.

    Attributes
    ----------
    data : ndarray
        The value, updated in place by optimizers.
    grad : ndarray, same shape and dtype as ``data``
        Accumulated by ``backward``; reset by ``zero_grad()``.
    """

    __slots__ = ("data", "grad")

    def __init__(self, data):
        self.data = data
        self.grad = np.zeros_like(data)

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    def zero_grad(self):
        self.grad.fill(0)

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


def as_rng(rng):
    """``None`` -> a fresh ``default_rng()``; an int -> ``default_rng(seed)``; a Generator
    passes through. The only source of randomness in nnlib: no global state."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(
        f"rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}. "
        f"Try rng=np.random.default_rng(0)."
    )


class Layer:
    """Base class: subclasses implement ``forward`` and ``backward``.

    A layer with parameters stores them as ``Parameter`` attributes and lists them in
    ``parameters()``; a layer without parameters inherits the empty dict. What backward
    needs is stored under names (``self._x``), never in tuples.
    """

    #: float dtype of the layer's parameters (None for parameter-free layers, which
    #: follow their input's dtype).
    dtype = None

    @reject_unknown_kwargs
    def __init__(self, *, dtype=None):
        self.training = True
        if dtype is not None:  # a parameter-free layer with a dtype insists on it
            self._set_dtype(dtype)

    def _set_dtype(self, dtype):
        self.dtype = float_dtype(type(self).__name__, dtype)

    # --- the protocol -------------------------------------------------------------------
    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, dout):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def backward_params(self, dout):
        """Accumulate the parameter gradients only, when nobody needs dx (the first
        trainable layer during ``fit``). Layers whose dx costs a GEMM override this to
        skip it; the default runs ``backward`` and drops dx."""
        self.backward(dout)

    def __call__(self, x):
        """On arrays, ``forward(x)``. On graph nodes (``nl.Input`` or another layer's
        output), a new node: this is how graph models are wired (see nnlib.graph)."""
        from .graph import connect, is_node

        return connect(self, x) if is_node(x) else self.forward(x)

    def parameters(self) -> dict[str, Parameter]:
        return {}

    def zero_grad(self):
        for p in self.parameters().values():
            p.zero_grad()

    def train(self):
        """Training mode (dropout active). Returns self so calls can be chained."""
        self.training = True
        return self

    def eval(self):
        """Evaluation mode (dropout is the identity). Returns self."""
        self.training = False
        return self

    # --- shapes, config, dtype ----------------------------------------------------------
    def output_shape(self, input_shape):
        """Per-sample output shape (no batch axis) for a per-sample ``input_shape``."""
        return tuple(input_shape)

    def get_config(self) -> dict:
        """Constructor keywords that rebuild this layer (used by ``save``/``load``)."""
        return {} if self.dtype is None else {"dtype": self.dtype.name}

    def astype(self, dtype):
        """Cast every parameter (value and gradient) to ``dtype`` in place; returns self.
        ``gradcheck.check_layer`` uses this to check in float64."""
        dt = float_dtype(type(self).__name__, dtype)
        for p in self.parameters().values():
            p.data = p.data.astype(dt)
            p.grad = p.grad.astype(dt)
        if self.dtype is not None:
            self.dtype = dt
        return self

    def _check_input(self, x, *, ndim, expected):
        """Structure checks every forward pays for: O(1), no pass over the data."""
        name = type(self).__name__
        check_array(name, x, ndim=ndim, expected=expected)
        if self.dtype is not None:
            check_dtype(name, x, self.dtype)
        elif not np.issubdtype(x.dtype, np.floating):
            raise TypeError(
                f"{name} expected a float input, got {x.dtype}. "
                f"Convert it with x.astype(np.float32)."
            )

    def _require_forward(self, attr="_x"):
        if getattr(self, attr, None) is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward was called before forward. "
                f"Call forward(x) first; backward uses what forward stored."
            )

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
