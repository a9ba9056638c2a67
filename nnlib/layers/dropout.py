"""``Dropout``, the regularisation layer of chapters/08_generalization.ipynb."""

from __future__ import annotations

from .._validation import check_float, reject_unknown_kwargs
from ..utils import as_rng
from .base import Layer

__all__ = ["Dropout"]


class Dropout(Layer):
    """Inverted dropout: in training, zero each element with probability ``p`` and scale
    the survivors by 1 / (1 - p), so eval mode is the plain identity.

    Parameters
    ----------
    p : float in [0, 1), the probability of dropping an element
    rng : None, int or numpy.random.Generator, the source of the masks

    Shapes
    ------
    x : (N, ...) -> y : same shape; backward multiplies ``dout`` by the same mask
    """

    @reject_unknown_kwargs
    def __init__(self, p=0.5, *, rng=None, dtype=None):
        super().__init__(dtype=dtype)
        self.p = check_float("Dropout", "p", p, low=0, high=1, high_open=True)
        self.rng = as_rng(rng)
        self._mask = None

    def forward(self, x):
        self._check_input(x, ndim=None, expected=None)
        if not self.training or self.p == 0:
            self._mask = None
            return x
        keep = self.rng.random(x.shape, dtype=x.dtype) >= self.p
        self._mask = keep * x.dtype.type(1 / (1 - self.p))  # values in {0, 1/(1-p)}
        return x * self._mask

    def backward(self, dout):
        return dout if self._mask is None else dout * self._mask

    def get_config(self):
        return {**super().get_config(), "p": self.p}
