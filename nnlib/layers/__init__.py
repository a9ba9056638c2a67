"""Layer classes, one module per topic. Each layer is a small class with ``forward``,
``backward``, ``parameters``, ``buffers`` and ``get_config`` (the protocol of
:class:`nnlib.layers.base.Layer`); the math lives in :mod:`nnlib.functional`.

=================  ===============================================================
module             layers
=================  ===============================================================
``base``           ``Parameter``, ``Layer`` (the protocol)
``dense``          ``Dense``
``activations``    ``ReLU``, ``LeakyReLU``, ``ELU``, ``Sigmoid``, ``Tanh``,
                   ``Softmax``, ``Pointwise``
``reshape``        ``Flatten``, ``Reshape``
``dropout``        ``Dropout``
``conv``           ``Conv2D``
``pooling``        ``MaxPool2D``, ``AvgPool2D``
``recurrent``      ``RNN``, ``LSTM``, ``LastTimeStep``
``merge``          ``Merge``, ``Add``, ``Multiply``, ``Concatenate`` (several inputs)
=================  ===============================================================

Layers made of layers (``Sequential``, ``Residual``, graph ``Model``) are in
:mod:`nnlib.models`.
"""

from .activations import ELU, LeakyReLU, Pointwise, ReLU, Sigmoid, Softmax, Tanh
from .base import Layer, Parameter
from .conv import Conv2D
from .dense import Dense
from .dropout import Dropout
from .merge import Add, Concatenate, Merge, Multiply
from .pooling import AvgPool2D, MaxPool2D
from .recurrent import LSTM, RNN, LastTimeStep
from .reshape import Flatten, Reshape

__all__ = [
    "Parameter", "Layer", "Dense",
    "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Softmax", "Pointwise",
    "Flatten", "Reshape", "Dropout", "Conv2D", "MaxPool2D", "AvgPool2D",
    "RNN", "LSTM", "LastTimeStep", "Merge", "Add", "Multiply", "Concatenate",
]
