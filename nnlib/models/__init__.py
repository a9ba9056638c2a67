"""Models: layers made of layers. ``Sequential`` (a chain) and ``Residual`` (x + f(x))
are containers; ``Model`` wires layers into any directed acyclic graph of
:mod:`nnlib.nodes`. ``Sequential`` and ``Model`` also train (:mod:`nnlib.training`) and
save (:mod:`nnlib.serialization`)."""

from .containers import Container, LayerGroup, Residual
from .graph import Model
from .sequential import Sequential

__all__ = ["LayerGroup", "Container", "Residual", "Sequential", "Model"]
