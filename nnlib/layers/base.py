"""The two building blocks: ``Parameter`` (a value and its gradient) and ``Layer``.

The protocol is deliberately small (after micrograd): a layer has ``forward(x) -> y``,
``backward(dout) -> dx`` and ``parameters() -> dict[str, Parameter]``. Backward
*accumulates* into ``Parameter.grad``; ``zero_grad()`` resets it. State that is not
trained (running statistics) lives in ``buffers()``. Each layer rebuilds itself from
``get_config()`` with ``from_config``, which is all that saving and loading need.
Defined in chapters/06_backpropagation.ipynb; nnlib/README.md says how to add a layer.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_array, check_dtype, float_dtype, reject_unknown_kwargs
from ..nodes import connect, is_node

__all__ = ["Parameter", "Layer"]


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


class Layer:
    """Base class of every layer: subclasses implement ``forward`` and ``backward``.

    Rows are samples: ``x`` has shape ``(N, ...)``. What forward stores for backward goes
    in attributes named with a leading underscore (``self._x``), never in tuples: a graph
    model that uses one layer at several nodes keeps a copy of them per call
    (:meth:`save_cache`). Hyperparameters are keyword arguments of ``__init__`` and are
    returned by :meth:`get_config`.
    """

    #: float dtype of the layer's parameters (None for parameter-free layers, which
    #: follow their input's dtype).
    dtype = None
    #: True for layers whose ``forward`` takes a list of arrays and whose ``backward``
    #: returns a list of gradients, one per input (the merge layers: ``Add``, ...).
    multi_input = False
    #: Attributes with a leading underscore that are not part of the forward cache:
    #: buffers reused across calls (see ``Conv2D``).
    _not_cached = ("_workspace",)

    @reject_unknown_kwargs
    def __init__(self, *, dtype=None):
        self.training = True
        if dtype is not None:  # a parameter-free layer with a dtype insists on it
            self._set_dtype(dtype)

    def _set_dtype(self, dtype):
        self.dtype = float_dtype(type(self).__name__, dtype)

    # --- the protocol -------------------------------------------------------------------
    def forward(self, x):
        """The layer's output for a batch.

        Parameters
        ----------
        x : ndarray of shape (N, ...) -- or, when ``multi_input``, a list of them

        Returns
        -------
        y : ndarray of shape (N, ...), the dtype of ``x``

        Stores what ``backward`` needs (``self._x`` ...) and updates buffers in training
        mode.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, dout):
        """Backpropagate through the last ``forward``.

        Parameters
        ----------
        dout : ndarray, the shape of forward's output: dL/dy

        Returns
        -------
        dx : ndarray, the shape of forward's input: dL/dx (a list, one per input, when
            ``multi_input``)

        Adds dL/dp to every ``Parameter.grad`` (accumulates, never overwrites), so that a
        layer used twice receives both contributions. Never modifies ``dout``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def backward_params(self, dout):
        """Accumulate the parameter gradients only, when nobody needs dx (the first
        trainable layer during ``fit``). Layers whose dx costs a GEMM override this to
        skip it; the default runs ``backward`` and drops dx."""
        self.backward(dout)

    def __call__(self, x):
        """On arrays, ``forward(x)``. On graph nodes (``nl.Input`` or another layer's
        output), a new node: this is how graph models are wired (see nnlib.nodes)."""
        return connect(self, x) if is_node(x) else self.forward(x)

    def parameters(self) -> dict[str, Parameter]:
        """The trainable arrays by name, e.g. ``{"W": self.W, "b": self.b}``; the names are
        the attribute names. Optimizers update exactly these. Empty by default."""
        return {}

    def buffers(self) -> dict[str, np.ndarray]:
        """State that is not trained but belongs to the model (running statistics), by
        attribute name: saved and loaded with the parameters and cast by ``astype``, but
        never touched by optimizers. Update buffers in place (``self.running_mean *=
        ...``) in ``forward``. Empty by default."""
        return {}

    def children(self) -> list[Layer]:
        """The layers this one is made of (containers and models); empty by default."""
        return []

    def zero_grad(self):
        """Reset the gradient of every parameter to 0."""
        for p in self.parameters().values():
            p.zero_grad()

    def train(self):
        """Training mode (dropout active, buffers updated). Returns self."""
        self.training = True
        return self

    def eval(self):
        """Evaluation mode (dropout is the identity, buffers are read). Returns self."""
        self.training = False
        return self

    # --- shapes, config, dtype ----------------------------------------------------------
    def output_shape(self, input_shape):
        """Per-sample output shape (no batch axis) for a per-sample ``input_shape`` (a
        list of shapes when ``multi_input``). Raises ShapeError for an input the layer
        cannot take; graph models call it when they are wired."""
        return tuple(input_shape)

    def get_config(self) -> dict:
        """JSON-able constructor keywords that rebuild this layer: ``cls(**config)``.
        Weights are not part of it (``save`` stores them separately)."""
        return {} if self.dtype is None else {"dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config, children=()):
        """A new layer (fresh weights) from :meth:`get_config`'s output. ``children``
        are the rebuilt :meth:`children`; layers made of other layers override this."""
        if children:
            raise TypeError(f"{cls.__name__} has no child layers, got {len(children)}.")
        return cls(**config)

    def astype(self, dtype):
        """Cast every parameter (value and gradient) and every float buffer to ``dtype``
        in place; returns self. ``gradcheck.check_layer`` uses this to check in float64."""
        dt = float_dtype(type(self).__name__, dtype)
        for p in self.parameters().values():
            p.data = p.data.astype(dt)
            p.grad = p.grad.astype(dt)
        for name, value in self.buffers().items():
            if np.issubdtype(value.dtype, np.floating):
                setattr(self, name, value.astype(dt))
        if self.dtype is not None:
            self.dtype = dt
        return self

    # --- the forward cache, for layers shared by several graph nodes ---------------------
    def save_cache(self) -> dict:
        """A copy of what the last forward stored for backward: every attribute with a
        leading underscore except ``_not_cached`` ones. Buffers are public attributes,
        so they are not in it: the updates of every call are kept."""
        return {k: (v.copy() if isinstance(v, np.ndarray) else v)
                for k, v in vars(self).items()
                if k.startswith("_") and k not in self._not_cached}

    def load_cache(self, cache):
        """Put back what :meth:`save_cache` returned, before that call's backward."""
        vars(self).update(cache)

    # --- helpers for subclasses -----------------------------------------------------------
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
