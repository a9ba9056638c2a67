"""Layer classes, one module per topic. Each layer is a small class with ``forward``,
``backward``, ``parameters``, ``buffers`` and ``get_config`` (the protocol of
:class:`nnlib.layers.base.Layer`); the math lives in :mod:`nnlib.functional`.

=================  ===============================================================
module             layers
=================  ===============================================================
``base``           ``Parameter``, ``Layer`` (the protocol)
``dense``          ``Dense``
``activations``    ``ReLU``, ``LeakyReLU``, ``ELU``, ``GELU``, ``Sigmoid``,
                   ``Tanh``, ``Softmax``, ``Pointwise``
``reshape``        ``Flatten``, ``Reshape``
``dropout``        ``Dropout``
``conv``           ``Conv2D``
``pooling``        ``MaxPool2D``, ``AvgPool2D``
``recurrent``      ``RNN``, ``LSTM``, ``LastTimeStep``
``merge``          ``Merge``, ``Add``, ``Multiply``, ``Concatenate`` (several inputs)
``normalization``  ``BatchNorm1D``, ``BatchNorm2D``, ``LayerNorm``
``embedding``      ``Embedding``, ``PositionalEmbedding``
``attention``      ``MultiHeadAttention``, ``TransformerBlock``
=================  ===============================================================

Layers made of layers (``Sequential``, ``Residual``, graph ``Model``) are in
:mod:`nnlib.models`.
"""

from .activations import ELU, GELU, LeakyReLU, Pointwise, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiHeadAttention, TransformerBlock
from .base import Layer, Parameter
from .conv import Conv2D
from .dense import Dense
from .dropout import Dropout
from .embedding import Embedding, PositionalEmbedding
from .merge import Add, Concatenate, Merge, Multiply
from .normalization import BatchNorm1D, BatchNorm2D, LayerNorm
from .pooling import AvgPool2D, MaxPool2D
from .recurrent import LSTM, RNN, LastTimeStep
from .reshape import Flatten, Reshape

__all__ = [
    "Parameter", "Layer", "Dense",
    "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Softmax", "Pointwise",
    "Flatten", "Reshape", "Dropout", "Conv2D", "MaxPool2D", "AvgPool2D",
    "RNN", "LSTM", "LastTimeStep", "Merge", "Add", "Multiply", "Concatenate", "GELU",
    "BatchNorm1D", "BatchNorm2D", "LayerNorm", "Embedding", "PositionalEmbedding",
    "MultiHeadAttention", "TransformerBlock",
]
