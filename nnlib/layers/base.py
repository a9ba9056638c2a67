"""The two building blocks: ``Parameter`` (a value and its gradient) and ``Layer``.

The protocol is deliberately small (after micrograd): a layer has ``forward(x) -> y``,
``backward(dout) -> dx`` and ``parameters() -> dict[str, Parameter]``. Backward
*accumulates* into ``Parameter.grad``; ``zero_grad()`` resets it. State that is not
trained (running statistics) lives in ``buffers()``. Each layer rebuilds itself from
``get_config()`` with ``from_config``, which is all that saving and loading need.

``Layer`` also guards the protocol for every subclass, learners' layers included: it
records the shape of what ``forward`` returns, and ``backward`` refuses a ``dout`` of
any other shape before the subclass's code runs (so no ``.grad`` changes), and refuses
to run before any forward.
Derived in chapters/06_backpropagation.ipynb, "From numbers to arrays: vector–Jacobian
products"; nnlib/README.md says how to add a layer.
"""

from __future__ import annotations

import functools
import types

import numpy as np

from .._validation import (
    ShapeError,
    check_array,
    check_dtype,
    float_dtype,
    reject_unknown_kwargs,
    shape_str,
)
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


#: What forward recorded when its output was not an array (or a list of arrays): a
#: layer of yours that returns something else gets no dout check.
_UNCHECKED = "unchecked"


def _output_shapes(y):
    """The shape of a forward's output, a list of shapes for a list of outputs (graph
    models with several outputs), or _UNCHECKED for anything else."""
    if isinstance(y, np.ndarray):
        return y.shape
    if isinstance(y, (list, tuple)) and y and all(isinstance(v, np.ndarray) for v in y):
        return [v.shape for v in y]
    return _UNCHECKED


def _recording_forward(forward):
    """``forward`` that records its output's shape in ``self._out_shape`` for the dout
    check of backward. Only the outermost call records: a subclass calling
    ``super().forward(x)`` records what *it* returns."""

    @functools.wraps(forward)
    def recorded(self, *args, **kwargs):
        if self.__dict__.get("_in_forward"):
            return forward(self, *args, **kwargs)
        self._in_forward = True
        try:
            y = forward(self, *args, **kwargs)
        finally:
            self._in_forward = False
        self._out_shape = _output_shapes(y)
        return y

    recorded._records_shape = True
    return recorded


def _checked_backward(backward):
    """``backward`` (or ``backward_params``) that checks ``dout`` before the layer's own
    code runs, so a bad dout changes no ``.grad``. Calls nested inside it (``backward``
    calling ``backward_params``, or ``super().backward``) are not checked again."""

    @functools.wraps(backward)
    def checked(self, dout, *args, **kwargs):
        if self.__dict__.get("_in_backward"):
            return backward(self, dout, *args, **kwargs)
        self._check_dout(dout)
        self._in_backward = True
        try:
            return backward(self, dout, *args, **kwargs)
        finally:
            self._in_backward = False

    checked._checks_dout = True
    return checked


class Layer:
    """Base class of every layer: subclasses implement ``forward`` and ``backward``.

    Rows are samples: ``x`` has shape ``(N, ...)``. What forward stores for backward goes
    in attributes named with a leading underscore (``self._x``), never in tuples: a
    model that calls one layer several times (at several graph nodes, or twice in a
    chain) keeps a copy of them per call (:meth:`save_cache`). Hyperparameters are
    keyword arguments of ``__init__`` and are returned by :meth:`get_config`.

    Every subclass's ``forward``, ``backward`` and ``backward_params`` are wrapped when
    the class is defined (:meth:`__init_subclass__`): forward records the shape of its
    output in ``self._out_shape``, and backward checks ``dout`` against it first
    (:meth:`_check_dout`: O(1), no pass over the data). A subclass writes neither.
    """

    #: float dtype of the layer's parameters (None for parameter-free layers, which
    #: follow their input's dtype).
    dtype = None
    #: True for layers whose ``forward`` takes a list of arrays and whose ``backward``
    #: returns a list of gradients, one per input (the merge layers: ``Add``, ...).
    multi_input = False
    #: True for layers whose input is integer indices (``Embedding``): ``fit`` and
    #: ``predict`` pass such inputs on as integers instead of converting them to floats.
    takes_indices = False
    #: Attributes with a leading underscore that are not part of the forward cache:
    #: buffers reused across calls (see ``Conv2D``).
    _not_cached = ("_workspace",)

    def __init_subclass__(cls, **kwargs):
        """Wrap the subclass's own ``forward`` (records the output shape) and
        ``backward`` / ``backward_params`` (check ``dout`` first): one check for every
        layer, written once, here."""
        super().__init_subclass__(**kwargs)
        for name, wrap, mark in (("forward", _recording_forward, "_records_shape"),
                                 ("backward", _checked_backward, "_checks_dout"),
                                 ("backward_params", _checked_backward, "_checks_dout")):
            method = cls.__dict__.get(name)
            if isinstance(method, types.FunctionType) and not getattr(method, mark, False):
                setattr(cls, name, wrap(method))

    @reject_unknown_kwargs
    def __init__(self, *, dtype=None):
        self.training = True
        self._out_shape = None  # set by every forward, checked by backward
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
        layer used twice receives both contributions. Never modifies ``dout``. A
        ``dout`` whose shape is not forward's output's is refused before anything
        changes (:meth:`_check_dout`).
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

    def input_shape_hint(self):
        """The per-sample input shape this layer implies on its own (``Dense(784, 10)``:
        ``(784,)``), or None when it takes many (convolutions, activations). What
        ``Sequential.summary()`` uses when no input has been seen."""
        return None

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
        """Put back what :meth:`save_cache` returned, before that call's backward. The
        arrays are copied again: backward may reuse its cache as scratch space
        (``Conv2D`` does), and ``cache`` must stay as saved for a second backward."""
        vars(self).update({k: (v.copy() if isinstance(v, np.ndarray) else v)
                           for k, v in cache.items()})

    # --- helpers for subclasses -----------------------------------------------------------
    def _check_input(self, x, *, ndim, expected):
        """Structure checks every forward pays for: O(1), no pass over the data."""
        name = type(self).__name__
        check_array(name, x, ndim=ndim, expected=expected)
        if self.dtype is not None:
            check_dtype(name, x, self.dtype)
        elif x.dtype.kind != "f":  # not a float dtype
            raise TypeError(
                f"{name} expected a float input, got {x.dtype}. "
                f"Convert it with x.astype(np.float32)."
            )

    def _check_dout(self, dout):
        """Refuse a ``dout`` that is not an array of the shape forward returned (a list
        of them, one per output, for a model with several outputs), and a backward
        before any forward. NumPy would broadcast a (N, 1) dout against (N, D) and give
        a wrong gradient with no error; a stale dout would reuse another batch's cache.
        O(1): shapes only, never the values."""
        name = type(self).__name__
        expected = self.__dict__.get("_out_shape")
        if expected is None:
            raise RuntimeError(
                f"{name}.backward was called before forward. Call forward(x) first; "
                f"backward uses what forward stored.")
        if expected is _UNCHECKED:
            return
        if isinstance(expected, list):
            if not isinstance(dout, (list, tuple)) or len(dout) != len(expected):
                got = (f"{len(dout)} arrays" if isinstance(dout, (list, tuple))
                       else type(dout).__name__)
                raise ValueError(
                    f"{name}.backward expected a list of {len(expected)} gradients, one per "
                    f"output ({', '.join(shape_str(s) for s in expected)}), got {got}. Pass "
                    f"them in the order of the outputs forward returned.")
            for i, (g, shape) in enumerate(zip(dout, expected, strict=True)):
                self._check_dout_array(g, shape, f"dout[{i}]")
        else:
            self._check_dout_array(dout, expected, "dout")

    def _check_dout_array(self, dout, expected, what):
        name = type(self).__name__
        if not isinstance(dout, np.ndarray):
            raise TypeError(
                f"{name}.backward expected {what} as a NumPy array of shape "
                f"{shape_str(expected)}, got {type(dout).__name__}. Pass dL/dy as an array "
                f"shaped like forward's output y, e.g. np.ones_like(y).")
        if dout.shape != expected:
            raise ShapeError(
                f"{name}.backward expected {what} of shape {shape_str(expected)} (the shape "
                f"of forward's output), got {shape_str(dout.shape)}. {what} is dL/dy: one "
                f"entry per output element, e.g. np.ones_like(y) for y.sum(); NumPy would "
                f"broadcast a smaller array silently, so nnlib refuses it. If you ran "
                f"forward again since, backward belongs to that latest forward.")

    def _require_forward(self, attr="_x"):
        if getattr(self, attr, None) is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward was called before forward. "
                f"Call forward(x) first; backward uses what forward stored."
            )

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
