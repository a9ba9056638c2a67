"""A small tensor autograd on NumPy: every layer's backward, derived once per operation.

A :class:`Tensor` wraps an ndarray. Each operation on tensors computes its value at once
(the forward pass) and records, in the result, its inputs and one *vector-Jacobian
product* (VJP) per input: a function that turns dL/d(result) into dL/d(input). Those
records form a graph of the whole computation. ``loss.backward()`` visits it in reverse
topological order and sums, at every tensor, what each of its uses sends back::

    >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> b = Tensor([0.5, -1.0], requires_grad=True)
    >>> loss = ((x * b).sum(axis=1) ** 2).mean()
    >>> loss.backward()
    >>> b.grad                      # b was broadcast over 2 rows: its gradient is summed
    array([ -9., -13.])

Binary operations broadcast as NumPy does and :func:`unbroadcast` sums each gradient
back to its operand's shape. Gradients accumulate in ``.grad`` (an ndarray, the dtype of
the data) for every tensor that requires one, intermediate results included; call
``zero_grad()`` before the next backward. Inside ``with no_grad():`` nothing is recorded.

Derived in chapters/14_autograd.ipynb, "The tape: a graph recorded during the forward
pass", where an MLP trained with it matches
``nl.Sequential`` step for step, and the test suite rebuilds every layer of nnlib from
these operations to audit their hand-written backward passes.
"""

from __future__ import annotations

import contextlib

import numpy as np
from scipy import special

from ._validation import ShapeError, shape_str

__all__ = ["Tensor", "concatenate", "no_grad", "is_grad_enabled", "unbroadcast"]

_grad_enabled = True


@contextlib.contextmanager
def no_grad():
    """Inside ``with no_grad():`` operations record nothing and return tensors that do
    not require gradients (evaluation, parameter updates). Nests; restores on exit."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled():
    """False inside :func:`no_grad`."""
    return _grad_enabled


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the VJP of NumPy broadcasting.

    Broadcasting copies an operand along the axes it lacks (leading axes) and along its
    axes of size 1; each copy received a gradient, and the operand's gradient is their
    sum. Derived in chapters/14_autograd.ipynb, "Broadcasting needs un-broadcasting".

    Parameters
    ----------
    grad : ndarray, the gradient of the broadcast result
    shape : tuple, the operand's shape (it broadcasts to ``grad.shape``)

    Returns
    -------
    ndarray of shape ``shape``, the dtype of ``grad``
    """
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))         # axes broadcasting added
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)    # axes of size 1 it stretched
    return grad


def _axes(axis, ndim):
    """``axis`` (None, an int or a tuple) as a tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(int(a) % ndim if ndim else 0 for a in axes)


def _matmul_vjp(g, a, b, operand):
    """dL/da (``operand`` 0) or dL/db (1) for ``out = a @ b`` under NumPy's matmul
    rules: a 1-D ``a`` is a row and a 1-D ``b`` a column whose added axis ``out`` drops,
    and stacks of matrices broadcast over their leading axes."""
    A = a[None, :] if a.ndim == 1 else a                  # (..., n, k)
    B = b[:, None] if b.ndim == 1 else b                  # (..., k, m)
    G = g[..., None] if b.ndim == 1 else g                # the dropped axes put back:
    G = np.expand_dims(G, -2) if a.ndim == 1 else G       # (..., n, m)
    if operand == 0:
        return unbroadcast(G @ np.swapaxes(B, -1, -2), A.shape).reshape(a.shape)
    return unbroadcast(np.swapaxes(A, -1, -2) @ G, B.shape).reshape(b.shape)


class Tensor:
    """An ndarray that remembers how it was computed.

    Parameters
    ----------
    data : array_like, kept as given (no copy of an ndarray; a float32 array stays float32)
    requires_grad : bool, whether ``backward`` computes dL/d(this tensor); float only
    name : str, optional, a label for pictures of the graph

    Attributes
    ----------
    data : ndarray
    grad : ndarray of the shape and dtype of ``data``, or None before any backward
        reached this tensor
    op : str, the operation that made it ("" for a tensor you created)
    """

    # NumPy hands ``ndarray + Tensor`` to Tensor.__radd__ instead of broadcasting the
    # Tensor as an object array.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, *, name=""):
        self.data = data if isinstance(data, np.ndarray) else np.asarray(data)
        if requires_grad and not np.issubdtype(self.data.dtype, np.floating):
            raise TypeError(f"Only float tensors can require gradients, got dtype "
                            f"{self.data.dtype}: a gradient of integers would round every "
                            f"step to 0. Use Tensor(x.astype(np.float64), requires_grad=True).")
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.name, self.op = name, ""
        self._edges = ()        # (input tensor, vjp) pairs: the record for backward

    # --- what it is --------------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    T = property(lambda self: self.transpose())

    def __len__(self):
        return len(self.data)

    @property
    def inputs(self):
        """The tensors this one was computed from (empty for tensors you created)."""
        return [parent for parent, _ in self._edges]

    def item(self):
        return self.data.item()

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        op = f", op={self.op!r}" if self.op else ""
        return f"Tensor({np.array2string(self.data, precision=4, threshold=20)}{grad}{op})"

    def detach(self):
        """The same data (shared, not copied) as a new tensor outside the graph."""
        return Tensor(self.data)

    def zero_grad(self):
        """Set ``.grad`` to zeros: gradients accumulate across ``backward`` calls."""
        self.grad = np.zeros_like(self.data)

    # --- recording an operation --------------------------------------------------------
    def _lift(self, other):
        """``other`` as a Tensor; a Python number takes this tensor's float dtype."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float)) and np.issubdtype(self.dtype, np.floating):
            return Tensor(np.asarray(other, dtype=self.dtype))
        return Tensor(other)

    @staticmethod
    def _result(data, op, *edges):
        """The tensor ``data`` made by ``op`` from the ``(input, vjp)`` pairs ``edges``;
        recorded only when gradients are on and some input requires one."""
        out = Tensor(data)
        out.op = op
        if _grad_enabled and any(parent.requires_grad for parent, _ in edges):
            out.requires_grad = True
            out._edges = edges
        return out

    def _broadcast(self, other, op):
        try:
            return np.broadcast_shapes(self.shape, other.shape)
        except ValueError:
            raise ShapeError(f"Tensor {op}: shapes {shape_str(self.shape)} and "
                             f"{shape_str(other.shape)} do not broadcast (trailing axes must "
                             f"be equal or 1). Reshape one operand, e.g. b.reshape(1, -1) or "
                             f"b.reshape(-1, 1).") from None

    # --- arithmetic: NumPy broadcasting, gradients summed back to each shape -----------
    def __add__(self, other):
        other = self._lift(other)
        self._broadcast(other, "+")
        a, b = self.shape, other.shape
        return self._result(self.data + other.data, "+",
                            (self, lambda g: unbroadcast(g, a)),
                            (other, lambda g: unbroadcast(g, b)))

    def __sub__(self, other):
        other = self._lift(other)
        self._broadcast(other, "-")
        a, b = self.shape, other.shape
        return self._result(self.data - other.data, "-",
                            (self, lambda g: unbroadcast(g, a)),
                            (other, lambda g: unbroadcast(-g, b)))

    def __mul__(self, other):
        other = self._lift(other)
        self._broadcast(other, "*")
        a, b = self.data, other.data
        return self._result(a * b, "*",
                            (self, lambda g: unbroadcast(g * b, a.shape)),
                            (other, lambda g: unbroadcast(g * a, b.shape)))

    def __truediv__(self, other):
        other = self._lift(other)
        self._broadcast(other, "/")
        a, b = self.data, other.data
        return self._result(a / b, "/",
                            (self, lambda g: unbroadcast(g / b, a.shape)),
                            (other, lambda g: unbroadcast(-g * a / (b * b), b.shape)))

    def __radd__(self, other):
        return self._lift(other) + self

    def __rsub__(self, other):
        return self._lift(other) - self

    def __rmul__(self, other):
        return self._lift(other) * self

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __neg__(self):
        return self._result(-self.data, "neg", (self, lambda g: -g))

    def __pow__(self, p):
        if not isinstance(p, (int, float)):
            raise TypeError(f"Tensor ** takes a Python number as the exponent, got "
                            f"{type(p).__name__}. For x ** y with a tensor y, write "
                            f"(y * x.log()).exp().")
        x = self.data
        return self._result(x ** p, f"**{p:g}", (self, lambda g: g * p * x ** (p - 1)))

    def __matmul__(self, other):
        other = self._lift(other)
        a, b = self.data, other.data
        if a.ndim == 0 or b.ndim == 0 or a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ShapeError(f"Tensor @: cannot multiply {shape_str(a.shape)} by "
                             f"{shape_str(b.shape)}; the last axis of the left operand must "
                             f"equal the {'first' if b.ndim == 1 else 'second-to-last'} axis "
                             f"of the right one. Transposed weights? Try .T on one of them.")
        return self._result(a @ b, "@", (self, lambda g: _matmul_vjp(g, a, b, 0)),
                            (other, lambda g: _matmul_vjp(g, a, b, 1)))

    def __rmatmul__(self, other):
        return self._lift(other) @ self

    # --- reductions --------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (None: all). Each summed element gets the gradient of its sum."""
        axes, shape = _axes(axis, self.ndim), self.shape

        def vjp(g):
            return np.broadcast_to(g if keepdims else np.expand_dims(g, axes), shape)

        return self._result(self.data.sum(axis=axes, keepdims=keepdims), "sum", (self, vjp))

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis``: the sum divided by the number of elements summed."""
        axes = _axes(axis, self.ndim)
        count = int(np.prod([self.shape[a] for a in axes]))
        return self.sum(axis=axes, keepdims=keepdims) / count

    def max(self, axis=None, keepdims=False):
        """Largest element over ``axis``. Its gradient goes to the maximum; tied maxima
        share it equally (the derivative does not exist there; any split is a valid
        subgradient, and this one is symmetric)."""
        axes, x = _axes(axis, self.ndim), self.data
        top = x.max(axis=axes, keepdims=True)
        winners = (x == top).astype(x.dtype)
        share = winners / winners.sum(axis=axes, keepdims=True)     # 1 / (number of ties)

        def vjp(g):
            return share * (g if keepdims else np.expand_dims(g, axes))

        out = top if keepdims else top.reshape([n for i, n in enumerate(x.shape)
                                                if i not in axes])
        return self._result(out, "max", (self, vjp))

    # --- elementwise functions: dout times the local derivative ------------------------
    def exp(self):
        y = np.exp(self.data)
        return self._result(y, "exp", (self, lambda g: g * y))

    def log(self):
        x = self.data
        return self._result(np.log(x), "log", (self, lambda g: g / x))

    def tanh(self):
        y = np.tanh(self.data)
        return self._result(y, "tanh", (self, lambda g: g * (1 - y * y)))

    def sigmoid(self):
        y = special.expit(self.data)       # 1 / (1 + e^-x) without overflow
        return self._result(y, "sigmoid", (self, lambda g: g * y * (1 - y)))

    def relu(self):
        x = self.data
        return self._result(np.maximum(x, 0), "relu", (self, lambda g: g * (x > 0)))

    # --- shapes and indexing: gradients are put back where the values came from -------
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        old = self.shape
        return self._result(self.data.reshape(shape), "reshape",
                            (self, lambda g: g.reshape(old)))

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        axes = tuple(axes) if axes else tuple(reversed(range(self.ndim)))
        inverse = tuple(np.argsort(axes))
        return self._result(self.data.transpose(axes), "transpose",
                            (self, lambda g: g.transpose(inverse)))

    def __getitem__(self, index):
        """``t[index]`` with NumPy's indexing (slices, integer arrays, masks). An element
        picked k times gets k gradients, summed: ``np.add.at``, not ``grad[index] = g``."""
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        shape, dtype = self.shape, self.dtype

        def vjp(g):
            full = np.zeros(shape, dtype=dtype)
            np.add.at(full, index, g)
            return full

        return self._result(self.data[index], "index", (self, vjp))

    # --- backward ----------------------------------------------------------------------
    def backward(self, grad=None):
        """Add dL/d(t) to ``t.grad`` for every tensor ``t`` this one depends on that
        requires a gradient, this one included.

        Parameters
        ----------
        grad : array_like of this tensor's shape, dL/d(this tensor); may be omitted for
            a single number (a loss), where it is 1

        The graph is walked in reverse topological order with an explicit stack, never
        recursion, so a graph a million operations deep works.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require gradients: no "
                               "input of its computation had requires_grad=True (or it ran "
                               "inside no_grad()). Create the parameters with "
                               "Tensor(..., requires_grad=True).")
        if grad is None:
            if self.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a single number (a "
                                   f"loss); this tensor has shape {shape_str(self.shape)}. "
                                   f"Reduce it first (.sum() or .mean()) or pass "
                                   f"backward(grad) with an array of that shape.")
            grad = np.ones_like(self.data)
        grad = np.asarray(grad, dtype=self.dtype)
        if grad.shape != self.shape:
            raise ShapeError(f"backward(grad): grad has shape {shape_str(grad.shape)} but the "
                             f"tensor has shape {shape_str(self.shape)}; they must be equal.")
        pending = {id(self): grad}      # gradients summed so far, for tensors not yet visited
        for node in reversed(self.topological_order()):
            g = pending.pop(id(node))
            if node.grad is None:
                node.grad = g.astype(node.dtype, copy=True)   # never a view of another array
            else:
                node.grad += g                                  # accumulate, in its own dtype
            for parent, vjp in node._edges:
                if parent.requires_grad:
                    contribution = vjp(g)
                    key = id(parent)    # fan-out: a tensor used twice gets both gradients
                    pending[key] = contribution if key not in pending else (
                        pending[key] + contribution)

    def topological_order(self):
        """Every tensor that requires a gradient and leads to this one, each after all
        of its inputs (this one last); ``backward`` walks it in reverse. Depth-first: a
        tensor is appended once its inputs are, with an explicit stack, not recursion.

        Returns
        -------
        list of Tensor
        """
        order, visited = [], set()
        stack = [(self, False)]
        while stack:
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
                continue
            if id(node) in visited:      # reached again by another path (fan-out)
                continue
            visited.add(id(node))
            stack.append((node, True))   # popped again after all it pushes below
            for parent, _ in node._edges:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
        return order


def concatenate(tensors, axis=0):
    """Join tensors along ``axis`` (as ``np.concatenate``); backward cuts the gradient
    back into the pieces."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    data = np.concatenate([t.data for t in tensors], axis=axis)
    axis = axis % data.ndim
    edges, start = [], 0
    for t in tensors:
        piece = (slice(None),) * axis + (slice(start, start + t.shape[axis]),)
        edges.append((t, lambda g, piece=piece: g[piece]))
        start += t.shape[axis]
    return Tensor._result(data, "concatenate", *edges)
