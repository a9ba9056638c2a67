"""``Sequential``: layers applied in order, with ``fit``, ``evaluate`` and ``predict``
(from :mod:`nnlib.training`), ``summary`` and ``save``/``load``. First trained in
chapters/07_training.ipynb, "7 · An MLP on real digits, with a live dashboard".
"""

from __future__ import annotations

from .._validation import check_array, check_finite, shape_str
from ..serialization import Saveable
from ..training import Trainable
from ..utils import table
from .containers import Container

__all__ = ["Sequential"]


class Sequential(Trainable, Saveable, Container):
    """Layers applied one after the other: ``Sequential(Dense(2, 16), ReLU(), Dense(16, 3))``.

    ``forward``/``backward`` run the chain; ``parameters()`` names each parameter by the
    layer's position (``"0.W"``). Training, evaluation and saving are methods below.
    """

    def __init__(self, *layers):
        super().__init__(*layers)
        dtypes = {(i, layer.dtype) for i, layer in enumerate(self.layers)
                  if layer.dtype is not None}
        if len({dt for _, dt in dtypes}) > 1:
            listed = ", ".join(f"layer {i} is {dt.name}" for i, dt in sorted(dtypes))
            raise TypeError(f"Sequential layers must share one dtype, but {listed}. Pass the "
                            f"same dtype= to every layer (np.float32 is the default).")
        self.dtype = next((dt for _, dt in sorted(dtypes)), None)
        self._input_shape = None

    # --- forward / backward ---------------------------------------------------------------
    def forward(self, x):
        """Run every layer in order. ``x`` must be finite: NaN stops here, not 5 layers on."""
        check_array("Sequential", x)
        check_finite("Sequential", x)
        self._input_shape = x.shape[1:]
        return self._forward_chain(x)

    def backward(self, dout, *, input_grad=True):
        """Backpropagate ``dout`` through every layer in reverse; returns dx.

        ``input_grad=False`` (what ``fit`` uses) skips the gradient with respect to the
        input, which training never needs, and returns None: for an MLP on MNIST that
        saves the largest GEMM of the backward pass.
        """
        return self._backward_chain(dout, input_grad)

    # --- the hooks of the shared training loop (nnlib.training.Trainable) ------------------
    def _index_inputs(self):
        return [bool(self.layers) and self.layers[0].takes_indices]

    def _forward_many(self, xs):
        return [self._forward_chain(xs[0])]

    def _backward_many(self, douts):
        self._backward_chain(douts[0], input_grad=False)

    def _remember_input_shapes(self, xs):
        self._input_shape = xs[0].shape[1:]

    # --- inspection and files ---------------------------------------------------------------
    def summary(self, input_shape=None):
        """A table of layers, per-sample output shapes and parameter counts.

        ``input_shape`` is per sample (no batch axis), e.g. ``(784,)`` or ``(1, 28, 28)``;
        by default the shape of the last input seen, or the first Dense layer's.
        """
        in_shape = tuple(input_shape or self._input_shape or self._guess_input_shape())
        shape = in_shape
        rows = [("#", "layer", "output shape", "params")]
        first = {}  # a layer used twice is counted at its first position only
        for i, layer in enumerate(self.layers):
            shape = layer.output_shape(shape)
            label, count = repr(layer), 0
            if id(layer) in first:
                label += f" (shared with layer {first[id(layer)]})"
            else:
                first[id(layer)] = i
                count = sum(p.size for p in layer.parameters().values())
            rows.append((str(i), label, shape_str(("N", *shape)), f"{count:,}"))
        total = sum(p.size for p in self.parameters().values())  # each parameter once
        dtype = self.dtype.name if self.dtype is not None else "float32"
        return table(rows, title=f"Sequential, input {shape_str(('N', *in_shape))}",
                     footer=f"total parameters: {total:,} ({dtype})", right=(3,))

    def _guess_input_shape(self):
        hint = self.layers[0].input_shape_hint() if self.layers else None
        if hint is not None:
            return tuple(hint)
        raise ValueError("summary() needs the per-sample input shape: call "
                         "model.summary(input_shape=(784,)) or run the model once first.")
