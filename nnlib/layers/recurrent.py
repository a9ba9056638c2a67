"""Recurrent layers for sequences ``(N, T, D)``: ``RNN``, ``LSTM`` and ``LastTimeStep``.
Backpropagation through time is derived in chapters/11_residual_recurrent.ipynb.

Both layers return every hidden state, ``(N, T, H)``. The input projection of all time
steps is one GEMM before the time loop, and the weight gradients are one GEMM each after
the backward loop; only the recurrence itself (``h @ Wh``) runs step by step.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .. import init as initializers
from .._validation import ShapeError, check_int, reject_unknown_kwargs, shape_str
from ..utils import as_rng
from .base import Layer, Parameter

__all__ = ["RNN", "LSTM", "LastTimeStep"]


class _Recurrent(Layer):
    """Shared checks: 3-D input with ``input_size`` features, initial states ``(N, H)``."""

    gates = 1

    @reject_unknown_kwargs
    def __init__(self, input_size, hidden_size, *, rng=None, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        self.input_size = check_int(name, "input_size", input_size, low=1)
        self.hidden_size = check_int(name, "hidden_size", hidden_size, low=1)
        self._set_dtype(dtype)
        rng = as_rng(rng)
        d, h, g = self.input_size, self.hidden_size, self.gates
        self.Wx = Parameter(initializers.glorot_uniform((d, g * h), rng, self.dtype))
        self.Wh = Parameter(np.concatenate([initializers.orthogonal((h, h), rng, self.dtype)
                                            for _ in range(g)], axis=1))
        self.b = Parameter(np.zeros(g * h, dtype=self.dtype))
        self._x = None

    def _check_sequence(self, x):
        name, d = type(self).__name__, self.input_size
        if isinstance(x, np.ndarray) and x.ndim != 3:
            fix = (" A univariate series? x[:, :, None]. One time step? x[:, None, :]."
                   if x.ndim == 2 else " Sequences are (batch, time, features).")
            raise ShapeError(f"{name} expected input (N, T, {d}), got {shape_str(x.shape)}.{fix}")
        self._check_input(x, ndim=3, expected=f"(N, T, {d})")
        if x.shape[2] != d:
            raise ShapeError(f"{name} expected input (N, T, {d}), got {shape_str(x.shape)}. "
                             f"Use {name}({x.shape[2]}, {self.hidden_size}) or fix the data.")

    def _initial(self, state, n, what):
        shape = (n, self.hidden_size)
        if state is None:
            return np.zeros(shape, dtype=self.dtype)
        if not isinstance(state, np.ndarray) or state.shape != shape:
            got = shape_str(state.shape) if isinstance(state, np.ndarray) else type(state)
            raise ShapeError(f"{type(self).__name__} expected {what} of shape (N, H) = "
                             f"{shape_str(shape)}, got {got}. One row per sequence in the "
                             f"batch, hidden_size columns.")
        return state.astype(self.dtype, copy=False)

    def parameters(self):
        return {"Wx": self.Wx, "Wh": self.Wh, "b": self.b}

    def output_shape(self, input_shape):
        t, d = input_shape
        if d != self.input_size:
            raise ShapeError(f"{type(self).__name__} expected per-sample input (T, "
                             f"{self.input_size}), got {shape_str(input_shape)}.")
        return (t, self.hidden_size)

    def get_config(self):
        return {"input_size": self.input_size, "hidden_size": self.hidden_size,
                "dtype": self.dtype.name}

    def __repr__(self):
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    def _weight_grads(self, dpre, h_prev):
        """Accumulate dWx, dWh and db from the pre-activation gradients of all steps (one
        GEMM each) and return dx (N, T, D), one more GEMM.

        Parameters
        ----------
        dpre : ndarray of shape (N, T, G H), dL/d(pre-activation), G gates
        h_prev : ndarray of shape (N, T, H), the state each step started from
        """
        n, t, gh = dpre.shape
        d2 = dpre.reshape(n * t, gh)
        self.Wx.grad += self._x.reshape(n * t, -1).T @ d2
        self.Wh.grad += h_prev.reshape(n * t, -1).T @ d2
        self.b.grad += d2.sum(axis=0)
        return (d2 @ self.Wx.data.T).reshape(n, t, -1)   # dx (N, T, D)


class RNN(_Recurrent):
    """Elman RNN: h_t = tanh(x_t Wx + h_{t-1} Wh + b), h_0 = 0 unless given.

    Parameters
    ----------
    input_size D, hidden_size H : int
    rng : None, int or numpy.random.Generator
    dtype : np.float32 (default) or np.float64

    Shapes
    ------
    Wx (D, H), Wh (H, H) (orthogonal at the start), b (H,).
    ``forward(x, h0=None)``: x (N, T, D), h0 (N, H) or None for zeros -> every state
    (N, T, H). ``backward(dout)``: dout (N, T, H) -> dx (N, T, D); afterwards ``dh0``
    (N, H) holds the gradient of the initial state.
    """

    def forward(self, x, h0=None):
        self._check_sequence(x)
        n, t, _ = x.shape
        h = self._h0 = self._initial(h0, n, "h0")
        xw = (x.reshape(n * t, -1) @ self.Wx.data).reshape(n, t, -1)  # (N, T, H)
        xw += self.b.data
        hs = np.empty((n, t, self.hidden_size), dtype=self.dtype)
        for step in range(t):
            h = np.tanh(xw[:, step] + h @ self.Wh.data)
            hs[:, step] = h
        self._x, self._hs = x, hs
        return hs

    def backward(self, dout):
        self._require_forward()
        hs = self._hs
        dpre = np.empty_like(hs)
        dh_next = np.zeros_like(self._h0)
        for step in reversed(range(hs.shape[1])):
            da = (dout[:, step] + dh_next) * (1 - hs[:, step] ** 2)  # through tanh
            dpre[:, step] = da
            dh_next = da @ self.Wh.data.T
        self.dh0 = dh_next
        h_prev = np.concatenate([self._h0[:, None], hs[:, :-1]], axis=1)  # (N, T, H)
        return self._weight_grads(dpre, h_prev)


class LSTM(_Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), gates in PyTorch's order.

    a = x_t Wx + h_{t-1} Wh + b split into four blocks of H: i, f, g, o;
    i, f, o = sigmoid(...), g = tanh(...); c_t = f c_{t-1} + i g; h_t = o tanh(c_t).

    Parameters
    ----------
    input_size D, hidden_size H : int
    rng : None, int or numpy.random.Generator
    dtype : np.float32 (default) or np.float64

    Shapes
    ------
    Wx (D, 4H), Wh (H, 4H), b (4H,), each in blocks i, f, g, o; the forget-gate bias
    starts at 1 (Jozefowicz et al., 2015) so that memory is kept early in training.
    ``forward(x, h0=None, c0=None)``: x (N, T, D), h0 and c0 (N, H) or None for zeros ->
    every hidden state (N, T, H). ``backward(dout)``: dout (N, T, H) -> dx (N, T, D);
    afterwards ``dh0`` and ``dc0`` (N, H) hold the initial states' gradients.
    """

    gates = 4

    @reject_unknown_kwargs
    def __init__(self, input_size, hidden_size, *, rng=None, dtype=np.float32):
        super().__init__(input_size, hidden_size, rng=rng, dtype=dtype)
        self.b.data[self.hidden_size:2 * self.hidden_size] = 1.0

    def forward(self, x, h0=None, c0=None):
        self._check_sequence(x)
        n, t, _ = x.shape
        hid = self.hidden_size
        h = self._h0 = self._initial(h0, n, "h0")
        c = self._c0 = self._initial(c0, n, "c0")
        xw = (x.reshape(n * t, -1) @ self.Wx.data).reshape(n, t, 4 * hid)  # (N, T, 4H)
        xw += self.b.data
        gates = np.empty((n, t, 4 * hid), dtype=self.dtype)  # activated i, f, g, o
        cs = np.empty((n, t, hid), dtype=self.dtype)
        hs = np.empty((n, t, hid), dtype=self.dtype)
        for step in range(t):
            a = xw[:, step] + h @ self.Wh.data
            z = gates[:, step]
            z[:, :2 * hid] = special.expit(a[:, :2 * hid])          # i, f
            z[:, 2 * hid:3 * hid] = np.tanh(a[:, 2 * hid:3 * hid])  # g
            z[:, 3 * hid:] = special.expit(a[:, 3 * hid:])          # o
            i, f, g, o = np.split(z, 4, axis=1)
            c = f * c + i * g
            h = o * np.tanh(c)
            cs[:, step], hs[:, step] = c, h
        self._x, self._gates, self._cs, self._hs = x, gates, cs, hs
        return hs

    def backward(self, dout):
        self._require_forward()
        gates, cs, hs = self._gates, self._cs, self._hs
        dpre = np.empty_like(gates)
        dh_next = np.zeros_like(self._h0)
        dc_next = np.zeros_like(self._c0)
        for step in reversed(range(hs.shape[1])):
            i, f, g, o = np.split(gates[:, step], 4, axis=1)
            c_prev = cs[:, step - 1] if step else self._c0
            tanh_c = np.tanh(cs[:, step])
            dh = dout[:, step] + dh_next
            dc = dc_next + dh * o * (1 - tanh_c ** 2)
            da = dpre[:, step]
            da_i, da_f, da_g, da_o = np.split(da, 4, axis=1)  # views: writes land in dpre
            da_i[...] = dc * g * i * (1 - i)
            da_f[...] = dc * c_prev * f * (1 - f)
            da_g[...] = dc * i * (1 - g ** 2)
            da_o[...] = dh * tanh_c * o * (1 - o)
            dc_next = dc * f
            dh_next = da @ self.Wh.data.T
        self.dh0, self.dc0 = dh_next, dc_next
        h_prev = np.concatenate([self._h0[:, None], hs[:, :-1]], axis=1)
        return self._weight_grads(dpre, h_prev)


class LastTimeStep(Layer):
    """(N, T, H) -> (N, H): the last hidden state, e.g. between an LSTM and a Dense
    classifier. Backward puts the gradient at the last step and zeros elsewhere."""

    def forward(self, x):
        self._check_input(x, ndim=3, expected="(N, T, H)")
        self._shape = x.shape
        return x[:, -1]

    def backward(self, dout):
        self._require_forward("_shape")
        dx = np.zeros(self._shape, dtype=dout.dtype)
        dx[:, -1] = dout
        return dx

    def output_shape(self, input_shape):
        return tuple(input_shape[1:])
